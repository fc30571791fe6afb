// Models, versions, alias history and training runs of one shop, as the dashboard shows them.
// Reads only: everything comes from registry/ (versions, aliases, runs) so the figures are the
// ones `shopml models list` / `shopml runs compare` print.
import type { Db } from '../../store/db.ts';
import type { ModelKind } from '../../models/types.ts';
import { aliasHistory, currentAliases, moveJson } from '../../registry/aliases.ts';
import { DEFAULT_GATE } from '../../registry/gate.ts';
import { compareRuns, getRun, listRuns, runJson, type RunRecord } from '../../registry/runs.ts';
import { listVersions, REGISTRY_KINDS } from '../../registry/versions.ts';

export interface VersionRow {
  version: string;
  aliases: string[];
  trainedAt: string;
  runId: number | null;
  snapshotId: string | null;
  trainSeconds: number | null;
  tensorBackend: string | null;
  primary: number | null;
  metrics: Record<string, number | null>;
}

export interface KindModels {
  kind: ModelKind;
  primaryMetric: string;
  higherIsBetter: boolean;
  champion: string | null;
  challenger: string | null;
  versions: VersionRow[];
}

/** Per kind: versions newest first, with the gate's primary metric picked out. */
export function modelsView(db: Db, shop: string, maxVersions = 20): KindModels[] {
  return REGISTRY_KINDS.map((kind) => {
    const rule = DEFAULT_GATE[kind];
    const aliases = currentAliases(db, shop, kind);
    const versions = listVersions(db, { shop, kind }).slice(0, maxVersions).map((v): VersionRow => ({
      version: v.version,
      aliases: (['champion', 'challenger'] as const).filter((a) => aliases[a] === v.version),
      trainedAt: v.trainedAt, runId: v.runId, snapshotId: v.snapshotId, trainSeconds: v.trainSeconds, tensorBackend: v.tensorBackend,
      primary: typeof v.metrics[rule.metric] === 'number' ? v.metrics[rule.metric]! : null,
      metrics: v.metrics,
    }));
    return { kind, primaryMetric: rule.metric, higherIsBetter: rule.higherIsBetter, champion: aliases.champion, challenger: aliases.challenger, versions };
  });
}

/**
 * The alias timeline of one kind as step series: x = seconds since epoch of each move (plus
 * `now`), y = the index of the version the alias pointed to then (null: unset), with the
 * versions in order of first appearance so the axis can label them.
 */
export interface AliasTimeline {
  kind: ModelKind;
  versions: string[];
  x: number[];
  champion: (number | null)[];
  challenger: (number | null)[];
}

export function aliasTimelines(db: Db, shop: string, now: Date): AliasTimeline[] {
  const out: AliasTimeline[] = [];
  for (const kind of REGISTRY_KINDS) {
    const moves = aliasHistory(db, shop, kind);
    if (moves.length === 0) continue;
    const versions: string[] = [];
    const idx = (v: string | null) => {
      if (v === null) return null;
      let i = versions.indexOf(v);
      if (i < 0) { versions.push(v); i = versions.length - 1; }
      return i;
    };
    const state: { champion: number | null; challenger: number | null } = { champion: null, challenger: null };
    const t: AliasTimeline = { kind, versions, x: [], champion: [], challenger: [] };
    for (const m of moves) {
      state[m.alias] = idx(m.to);
      const x = Date.parse(m.at) / 1000;
      if (t.x.length > 0 && t.x[t.x.length - 1] === x) {
        // Two moves at the same instant (promote + clear): keep the state after both.
        t.champion[t.champion.length - 1] = state.champion;
        t.challenger[t.challenger.length - 1] = state.challenger;
      } else {
        t.x.push(x);
        t.champion.push(state.champion);
        t.challenger.push(state.challenger);
      }
    }
    const end = Math.max(now.getTime() / 1000, t.x[t.x.length - 1]! + 1);
    t.x.push(end);
    t.champion.push(state.champion);
    t.challenger.push(state.challenger);
    out.push(t);
  }
  return out;
}

/** The latest alias moves of the shop, newest first. */
export function recentMoves(db: Db, shop: string, limit = 40) {
  return aliasHistory(db, shop).map(moveJson).sort((a, b) => (a.at < b.at ? 1 : a.at > b.at ? -1 : b.id - a.id)).slice(0, limit);
}

export function recentRuns(db: Db, shop: string, limit = 30) {
  return listRuns(db, { shop, limit }).map((r) => {
    const { log: _log, ...rest } = runJson(r);
    return rest;
  });
}

/**
 * Runs side by side (deltas against the first). `ids` must be runs of this shop; by default the
 * latest succeeded runs of the kind trained most recently (up to three), oldest first.
 */
export function runComparison(db: Db, shop: string, ids?: readonly number[]) {
  let runs: RunRecord[];
  if (ids && ids.length > 0) {
    runs = ids.map((id) => getRun(db, id)).filter((r): r is RunRecord => r !== null && r.shop === shop);
  } else {
    const latest = listRuns(db, { shop, status: 'succeeded', limit: 1 })[0];
    runs = latest ? listRuns(db, { shop, kind: latest.kind, status: 'succeeded', limit: 3 }).reverse() : [];
  }
  const c = compareRuns(runs);
  return {
    runs: c.runs.map((r) => ({ id: r.id, kind: r.kind, status: r.status, startedAt: r.startedAt, seconds: r.seconds, version: r.version, decision: r.decision, seed: r.seed, snapshotId: r.snapshotId })),
    params: c.params,
    metrics: c.metrics,
    durations: c.durations,
  };
}
