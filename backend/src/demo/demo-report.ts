// What the demo reports, read from the store: the models (champion and challenger per kind with
// their metrics), the canary (live or last experiment, per-arm figures, what the policy would do),
// drift (the latest monitor report), retrains (train jobs). Reads only; used for the `--for` JSON
// line and the status line printed while the demo runs.
import type { Db } from '../store/db.ts';
import type { ModelKind } from '../models/types.ts';
import { MODEL_KINDS } from '../models/train-pipeline.ts';
import { currentAliases } from '../registry/aliases.ts';
import { getVersion } from '../registry/versions.ts';
import { CANARY_KIND, canaryStatus } from '../rollout/canary.ts';
import { listExperiments } from '../rollout/experiments.ts';
import { listShadows } from '../rollout/shadow.ts';
import type { Variant } from '../rollout/bucket.ts';
import { listMonitorReports } from '../monitor/monitor.ts';
import { listJobs } from '../jobs/queue.ts';

export interface VersionSummary { version: string; metrics: Record<string, number | null>; trained_at: string }
export interface ModelSummary extends VersionSummary { challenger: VersionSummary | null }

const versionSummary = (db: Db, shop: string, kind: ModelKind, version: string | null): VersionSummary | null => {
  if (!version) return null;
  const v = getVersion(db, shop, kind, version);
  return v ? { version, metrics: v.metrics, trained_at: v.trainedAt } : { version, metrics: {}, trained_at: '' };
};

/** KIND → the champion's version and metrics, and the challenger's if there is one. */
export function modelsSummary(db: Db, shop: string): Partial<Record<ModelKind, ModelSummary>> {
  const out: Partial<Record<ModelKind, ModelSummary>> = {};
  for (const kind of MODEL_KINDS) {
    const a = currentAliases(db, shop, kind);
    const champion = versionSummary(db, shop, kind, a.champion);
    if (champion) out[kind] = { ...champion, challenger: versionSummary(db, shop, kind, a.challenger) };
  }
  return out;
}

export interface ArmSummary { units: number; converters: number; conversions: number; conversion_rate: number; revenue: number; requests: number }

export interface CanarySummary {
  id: number;
  status: string;
  status_reason: string | null;
  live: boolean;
  started_at: string;
  champion_version: string;
  challenger_version: string;
  /** Shares of traffic (0–1). */
  split: Record<Variant, number>;
  arms: Record<Variant, ArmSummary>;
  challenger_vs_champion: { lift: number | null; p: number; cs: { lo: number; hi: number } };
  srm: { p: number; mismatch: boolean } | null;
  /** What the policy would do now (live experiments). */
  next: { action: string; rule: string; reason: string } | null;
  decisions: number;
  /** Earlier experiments of this shop (a retrain that sets a new challenger stops the one before). */
  previous: { id: number; status: string; reason: string | null }[];
}

const finite = (x: number): number | null => (Number.isFinite(x) ? x : null);
const round = (x: number, d = 4) => Number(x.toFixed(d));

export function canarySummary(db: Db, shop: string, now: Date): CanarySummary | null {
  const s = canaryStatus(db, shop, CANARY_KIND, now);
  if (!s) return null;
  const r = s.report;
  const arm = (v: Variant): ArmSummary => {
    const x = r.variants[v];
    return { units: x.units, converters: x.converters, conversions: x.conversions, conversion_rate: round(x.conversion.rate), revenue: round(x.revenue, 2), requests: x.requests };
  };
  const cc = r.challengerVsChampion;
  const base = r.variants.champion.conversion.rate;
  return {
    id: s.experiment.id,
    status: s.experiment.status,
    status_reason: s.experiment.statusReason,
    live: s.live,
    started_at: s.experiment.startedAt,
    champion_version: s.experiment.championVersion,
    challenger_version: s.experiment.challengerVersion,
    split: r.split,
    arms: { holdout: arm('holdout'), champion: arm('champion'), challenger: arm('challenger') },
    challenger_vs_champion: {
      lift: base > 0 ? round(r.variants.challenger.conversion.rate / base - 1) : null,
      p: round(cc.sequential.p),
      cs: { lo: finite(round(cc.sequential.cs.lo)) ?? 0, hi: finite(round(cc.sequential.cs.hi)) ?? 0 },
    },
    srm: r.srm ? { p: round(r.srm.p), mismatch: r.srm.mismatch } : null,
    next: s.next ? { action: s.next.action, rule: s.next.rule, reason: s.next.reason } : null,
    decisions: s.decisions.length,
    previous: listExperiments(db, shop, CANARY_KIND).filter((e) => e.id !== s.experiment.id).map((e) => ({ id: e.id, status: e.status, reason: e.statusReason })),
  };
}

export interface DriftSummary { reports: number; as_of: string; skipped: string | null; judged: number; drifted: number; share: number; dataset_drift: boolean; retrain: string | null }

export function driftSummary(db: Db, shop: string): DriftSummary | null {
  const all = listMonitorReports(db, shop, 1000);
  const r = all[0];
  if (!r) return null;
  return { reports: all.length, as_of: r.asOf, skipped: r.driftSkipped, judged: r.judged, drifted: r.drifted, share: round(r.share), dataset_drift: r.datasetDrift, retrain: r.retrainReason };
}

export interface RetrainSummary { job: number; status: string; reason: string | null; created_at: string; finished_at: string | null; recommend: string | null }

/** Train jobs (the scheduler's retrains), oldest first. */
export function retrainsSummary(db: Db, shop: string): RetrainSummary[] {
  return listJobs(db, { shop, type: 'train', limit: 100 }).reverse().map((j) => {
    const runs = (j.result as { runs?: { kind: string; decision: string | null }[] } | null)?.runs ?? [];
    return { job: j.id, status: j.status, reason: j.reason, created_at: j.createdAt, finished_at: j.finishedAt, recommend: runs.find((r) => r.kind === 'recommend')?.decision ?? null };
  });
}

export interface ShadowSummary { id: number; kind: string; status: string; matures_at: string }

export function shadowsSummary(db: Db, shop: string): ShadowSummary[] {
  return listShadows(db, shop).map((s) => ({ id: s.id, kind: s.kind, status: s.status, matures_at: s.maturesAt }));
}

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

/** One line for the terminal: the canary's arms. */
export function canaryLine(c: CanarySummary | null): string {
  if (!c) return 'canary: none';
  const a = (v: Variant) => `${v} ${c.arms[v].converters}/${c.arms[v].units} (${pct(c.arms[v].conversion_rate)})`;
  const tail = c.live ? (c.next ? `; policy: ${c.next.action}` : '') : ` — ${c.status}${c.status_reason ? `: ${c.status_reason}` : ''}`;
  return `canary #${c.id}: ${a('holdout')} · ${a('champion')} · ${a('challenger')} converters/units${tail}`;
}

/** One line for the terminal: drift. */
export function driftLine(d: DriftSummary | null): string {
  if (!d) return 'drift: no report yet';
  if (d.skipped) return `drift: not judged yet — ${d.skipped}`;
  return `drift: ${d.drifted} of ${d.judged} columns drifted (${pct(d.share)})${d.dataset_drift ? ' — DATASET DRIFT' : ''}${d.retrain ? `; retrain wanted: ${d.retrain}` : ''}`;
}
