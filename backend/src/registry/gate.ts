// The promotion gate, run after every successful training run (the data-quality gate already
// passed, or the run would not exist): the new version becomes the challenger only if its
// primary offline metric is at least the champion's minus a tolerance (per kind); with no
// champion yet, it becomes the champion. Otherwise it is kept, not deployed, and the run says why.
//
// Same validation data: each version's metrics come from the validation slice cut from the end
// of its own snapshot. When the champion was trained on the same snapshot the two figures are on
// the same validation data and the comparison is exact (`basis: same_snapshot`). When it was
// not, the champion's recorded figure is used (`basis: recorded`, both snapshot ids in the
// figures): re-scoring the champion on the new slice is not sound — its artifact was trained
// through a watermark that falls inside the new validation window (it has seen those labels),
// and an older code version cannot be re-run. docs/registry.md discusses what that means.
import type { Db } from '../store/db.ts';
import type { ModelKind } from '../models/types.ts';
import { currentAliases, moveAlias, promote, type AliasMove } from './aliases.ts';
import { getVersion, REGISTRY_KINDS, RegistryError, type ModelVersion } from './versions.ts';

export interface MetricRule {
  /** Key in the run's `metrics` (validation slice). */
  metric: string;
  higherIsBetter: boolean;
  /** Absolute, in the metric's units: the new version may be this much worse than the champion. */
  tolerance: number;
}

export type GatePolicy = Record<ModelKind, MetricRule>;

/**
 * recall@20 of the personal lists (recommend), AUC of "orders again within the horizon"
 * (churn), mean RMSSE of the chosen forecast strategy (forecast; lower is better), silhouette
 * of the k-means segments (segment).
 */
export const DEFAULT_GATE: GatePolicy = {
  recommend: { metric: 'recall@20', higherIsBetter: true, tolerance: 0.01 },
  churn: { metric: 'validation_auc', higherIsBetter: true, tolerance: 0.01 },
  forecast: { metric: 'validation_rmsse', higherIsBetter: false, tolerance: 0.02 },
  segment: { metric: 'silhouette', higherIsBetter: true, tolerance: 0.05 },
};

/** The default policy with tolerances replaced per kind, e.g. `{ recommend: 0.02 }`. */
export function gatePolicy(tolerances: Partial<Record<ModelKind, number>> = {}): GatePolicy {
  const out = { ...DEFAULT_GATE };
  for (const [k, t] of Object.entries(tolerances)) {
    if (!(REGISTRY_KINDS as readonly string[]).includes(k)) throw new RegistryError('invalid', `promotion tolerance for an unknown kind: ${k}`);
    if (typeof t !== 'number' || !Number.isFinite(t)) throw new RegistryError('invalid', `promotion tolerance for ${k} must be a number`);
    out[k as ModelKind] = { ...out[k as ModelKind], tolerance: t };
  }
  return out;
}

/** SHOPML_PROMOTION_TOLERANCE='{"recommend":0.02,"forecast":0.05}' (JSON; absent = defaults). */
export function gatePolicyFromEnv(env: Record<string, string | undefined>): GatePolicy {
  const raw = env.SHOPML_PROMOTION_TOLERANCE;
  if (!raw) return DEFAULT_GATE;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new RegistryError('invalid', 'SHOPML_PROMOTION_TOLERANCE must be JSON, e.g. {"recommend":0.02}');
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new RegistryError('invalid', 'SHOPML_PROMOTION_TOLERANCE must be a JSON object of kind → tolerance');
  return gatePolicy(parsed as Partial<Record<ModelKind, number>>);
}

export type Decision = 'champion' | 'challenger' | 'kept' | 'unchanged';

export interface GateDecision {
  decision: Decision;
  reason: string;
  figures: Record<string, unknown>;
}

export interface Candidate {
  version: string;
  snapshotId: string | null;
  metrics: Record<string, number | null>;
}

function finite(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}

const fmt = (v: number): string => String(Number(v.toFixed(4)));

/**
 * The gate's verdict, without side effects. `current` are the aliases now; `rolledBackFrom`
 * the last rollback away from this very version, if any (a retrain that reproduces a version
 * someone rolled back is not redeployed automatically).
 */
export function decidePromotion(candidate: Candidate, champion: ModelVersion | null, challenger: string | null, rule: MetricRule,
  rolledBackFrom?: AliasMove | null): GateDecision {
  const value = candidate.metrics[rule.metric];
  const figures: Record<string, unknown> = {
    metric: rule.metric, higher_is_better: rule.higherIsBetter, tolerance: rule.tolerance,
    candidate: finite(value) ? value : null, candidate_snapshot: candidate.snapshotId,
  };
  if (champion?.version === candidate.version) return { decision: 'unchanged', reason: 'already the champion', figures };
  if (rolledBackFrom) {
    return {
      decision: 'kept', figures: { ...figures, rolled_back_at: rolledBackFrom.at, rolled_back_by: rolledBackFrom.actor },
      reason: `rolled back from on ${rolledBackFrom.at} by ${rolledBackFrom.actor} (${rolledBackFrom.reason}); promote it by hand to deploy it again`,
    };
  }
  if (!finite(value)) {
    return { decision: 'kept', figures, reason: `no ${rule.metric} on the validation slice (too little recent data to validate on): cannot show it is not worse${champion ? ' than the champion' : ''}` };
  }
  if (!champion) return { decision: 'champion', figures, reason: `first version (${rule.metric} ${fmt(value)} on its validation slice)` };
  const base = champion.metrics[rule.metric];
  const basis = champion.snapshotId !== null && champion.snapshotId === candidate.snapshotId ? 'same_snapshot' : 'recorded';
  Object.assign(figures, { champion: finite(base) ? base : null, champion_version: champion.version, champion_snapshot: champion.snapshotId, basis });
  const becomes: Decision = challenger === candidate.version ? 'unchanged' : 'challenger';
  if (!finite(base)) return { decision: becomes, figures, reason: `the champion has no ${rule.metric} to compare with; live traffic decides` };
  const delta = value - base;
  figures.delta = delta;
  const ok = rule.higherIsBetter ? value >= base - rule.tolerance : value <= base + rule.tolerance;
  const where = basis === 'same_snapshot' ? 'same validation data' : `champion's figure from snapshot ${String(champion.snapshotId).slice(0, 12)}`;
  const cmp = `${rule.metric} ${fmt(value)} vs champion ${fmt(base)} (${delta >= 0 ? '+' : ''}${fmt(delta)}, tolerance ${fmt(rule.tolerance)}, ${rule.higherIsBetter ? 'higher' : 'lower'} is better; ${where})`;
  if (ok) return { decision: becomes, figures, reason: becomes === 'unchanged' ? `already the challenger: ${cmp}` : cmp };
  return { decision: 'kept', figures, reason: `worse than the champion beyond the tolerance: ${cmp}` };
}

export interface GateInput {
  shop: string;
  kind: ModelKind;
  version: string;
  runId: number | null;
  policy?: GatePolicy;
  /** ISO time of the decision (alias moves are recorded at it). */
  at?: string;
  actor?: string;
}

/**
 * Decides and acts: moves champion or challenger, records the decision on the training run
 * (`training_runs.decision`, `decision_json`) and in the alias history's figures. The version
 * must be registered first.
 */
export function applyPromotionGate(db: Db, g: GateInput): GateDecision & { moves: AliasMove[] } {
  const rule = (g.policy ?? DEFAULT_GATE)[g.kind];
  const actor = g.actor ?? 'train:gate';
  return db.transaction(() => {
    const cand = getVersion(db, g.shop, g.kind, g.version);
    if (!cand) throw new RegistryError('not_found', `register ${g.version} before gating it`);
    const { champion, challenger } = currentAliases(db, g.shop, g.kind);
    const champ = champion ? getVersion(db, g.shop, g.kind, champion) : null;
    const rb = db.prepare(`SELECT id, at, actor, reason FROM alias_history WHERE shop = ? AND kind = ? AND from_version = ? AND action = 'rollback'
      ORDER BY at DESC, id DESC LIMIT 1`).get(g.shop, g.kind, g.version) as { id: number; at: string; actor: string; reason: string } | undefined;
    // A later promotion of this version (by hand) overrides the rollback.
    const lastTo = db.prepare('SELECT max(id) FROM alias_history WHERE shop = ? AND kind = ? AND to_version = ?').pluck().get(g.shop, g.kind, g.version) as number | null;
    const rolledBack = rb && (lastTo === null || lastTo < rb.id) ? { ...rb, shop: g.shop, kind: g.kind, alias: 'champion' as const, from: g.version, to: null, action: 'rollback' as const, figures: null } : null;
    const d = decidePromotion(cand, champ, challenger, rule, rolledBack);
    const figures = { ...d.figures, run_id: g.runId };
    const reason = g.runId === null ? d.reason : `run ${g.runId}: ${d.reason}`;
    const moves: AliasMove[] = [];
    if (d.decision === 'champion' || d.decision === 'challenger') {
      moves.push(...promote(db, { shop: g.shop, kind: g.kind, version: g.version, to: d.decision, action: 'gate', reason, actor, figures, at: g.at }));
    } else if (d.decision === 'kept' && challenger === g.version) {
      // It was the challenger, and against today's champion it no longer passes: withdraw it.
      const m = moveAlias(db, { shop: g.shop, kind: g.kind, alias: 'challenger', to: null, action: 'gate', reason, actor, figures, at: g.at });
      if (m) moves.push(m);
    }
    if (g.runId !== null) {
      db.prepare('UPDATE training_runs SET decision = ?, decision_json = ? WHERE id = ?')
        .run(d.decision, JSON.stringify({ reason: d.reason, ...d.figures }), g.runId);
    }
    return { ...d, moves };
  })();
}
