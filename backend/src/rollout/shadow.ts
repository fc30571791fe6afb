// Shadow evaluation for the kinds with no storefront traffic to split (segment, churn, forecast).
// A challenger the promotion gate accepted is scored beside the champion on the SAME customers or
// products, from the same moment (the challenger's training watermark T), and the two are compared
// once the labels have matured. Until then only the champion writes tags, metafields and Flow
// triggers (those read the champion alias; nothing here writes to the store's customers).
//
//   churn     both artifacts score every customer as of T (scoreChurn); label = ordered in
//             [T, T + horizon). Metric AUC; matured when T + horizon has passed.
//   forecast  each artifact's weekly forecast for the calendar weeks after T that have ended
//             (at least `forecastWeeks`), per product both forecast; metric WAPE
//             (Σ|actual − forecast| / Σ actual).
//   segment   both artifacts assign every customer as of T (assignSegments); label = spend in
//             [T, T + segmentDays). Metric: share of the variance of that spend explained by the
//             segments (η², between-segment / total) — segments that separate what customers do
//             next are the ones worth tagging by.
//
// Verdict: a paired bootstrap (seeded) over the units gives a 95% interval for the difference
// challenger − champion (for WAPE, lower is better: the sign is turned). Promote when the
// interval's lower end is above −margin (not worse by more than the margin); otherwise the
// challenger is cleared (rolled back). Both recorded in the alias history with the figures.
import type { Db } from '../store/db.ts';
import type { ModelKind } from '../models/types.ts';
import { loadArtifact } from '../ml/artifact.ts';
import { auc } from '../ml/stats.ts';
import { createPrng } from '../ml/prng.ts';
import { cleanOrders, type CleanData } from '../features/clean.ts';
import { loadOrders } from '../features/load.ts';
import { customerActivity, customerHistories, DAY_MS } from '../features/customers.ts';
import { scoreChurn, type ChurnArtifact } from '../models/churn/train.ts';
import { assignSegments, type SegmentArtifact } from '../models/segment/train.ts';
import type { ForecastArtifact } from '../models/forecast/train.ts';
import { WEEK_MS } from '../features/products.ts';
import { currentAliases, moveAlias } from '../registry/aliases.ts';
import { getVersion } from '../registry/versions.ts';

export const SHADOW_KINDS: readonly ModelKind[] = ['segment', 'churn', 'forecast'];

export interface ShadowSettings {
  /** Non-inferiority margins: AUC points (churn), η² points (segment), relative WAPE (forecast). */
  churnMargin: number;
  segmentMargin: number;
  forecastMargin: number;
  /** Days of spend after T that segment labels cover. */
  segmentDays: number;
  /** Ended weeks after T before forecasts are compared. */
  forecastWeeks: number;
  /** Fewest units (customers / products) for a verdict. */
  minUnits: number;
  bootstrap: number;
  seed: number;
}

export const DEFAULT_SHADOW_SETTINGS: Readonly<ShadowSettings> = Object.freeze({
  churnMargin: 0.01, segmentMargin: 0.02, forecastMargin: 0.05, segmentDays: 28, forecastWeeks: 4, minUnits: 30, bootstrap: 400, seed: 17,
});

export type ShadowStatus = 'running' | 'promoted' | 'rolled_back' | 'stopped';

export interface Shadow {
  id: number;
  shop: string;
  kind: ModelKind;
  championVersion: string;
  challengerVersion: string;
  /** The challenger's training watermark: both versions are scored from here. */
  asOf: string;
  maturesAt: string;
  startedAt: string;
  status: ShadowStatus;
  endedAt: string | null;
  reason: string | null;
  figures: ShadowComparison | null;
}

interface ShadowRow {
  id: number; shop: string; kind: ModelKind; champion_version: string; challenger_version: string; as_of: string; matures_at: string;
  started_at: string; status: ShadowStatus; ended_at: string | null; reason: string | null; figures_json: string | null;
}

const fromRow = (r: ShadowRow): Shadow => ({
  id: r.id, shop: r.shop, kind: r.kind, championVersion: r.champion_version, challengerVersion: r.challenger_version, asOf: r.as_of,
  maturesAt: r.matures_at, startedAt: r.started_at, status: r.status, endedAt: r.ended_at, reason: r.reason,
  figures: r.figures_json ? (JSON.parse(r.figures_json) as ShadowComparison) : null,
});

export function listShadows(db: Db, shop: string, kind?: ModelKind): Shadow[] {
  const rows = (kind === undefined
    ? db.prepare('SELECT * FROM shadow_evaluations WHERE shop = ? ORDER BY id DESC').all(shop)
    : db.prepare('SELECT * FROM shadow_evaluations WHERE shop = ? AND kind = ? ORDER BY id DESC').all(shop, kind)) as ShadowRow[];
  return rows.map(fromRow);
}

export function activeShadow(db: Db, shop: string, kind: ModelKind): Shadow | null {
  const r = db.prepare(`SELECT * FROM shadow_evaluations WHERE shop = ? AND kind = ? AND status = 'running'`).get(shop, kind) as ShadowRow | undefined;
  return r ? fromRow(r) : null;
}

// ---------------------------------------------------------------- pure comparison

export interface ShadowComparison {
  metric: 'auc' | 'eta_squared' | 'wape';
  /** Higher is better for auc and η²; lower for WAPE. */
  higherIsBetter: boolean;
  units: number;
  champion: number;
  challenger: number;
  /** challenger − champion, signed so that positive means the challenger is better. */
  improvement: number;
  /** Paired-bootstrap 95% interval of `improvement`. */
  interval: { lo: number; hi: number };
  margin: number;
  verdict: 'promote' | 'rollback' | 'undecided';
  detail: string;
}

/** Paired bootstrap: resample units with replacement, recompute both metrics, return the 2.5/97.5% quantiles of the signed difference. */
export function pairedBootstrap(n: number, diff: (idx: Int32Array) => number, rounds: number, seed: number): { lo: number; hi: number } {
  const rng = createPrng(seed);
  const out = new Float64Array(rounds);
  const idx = new Int32Array(n);
  for (let b = 0; b < rounds; b++) {
    for (let i = 0; i < n; i++) idx[i] = rng.below(n);
    out[b] = diff(idx);
  }
  const finite = Float64Array.from(out.filter(Number.isFinite)).sort();
  if (finite.length === 0) return { lo: NaN, hi: NaN };
  const q = (p: number) => finite[Math.min(finite.length - 1, Math.max(0, Math.round(p * (finite.length - 1))))]!;
  return { lo: q(0.025), hi: q(0.975) };
}

function verdictOf(metric: ShadowComparison['metric'], higherIsBetter: boolean, units: number, champion: number, challenger: number,
  interval: { lo: number; hi: number }, margin: number, minUnits: number): ShadowComparison {
  const improvement = higherIsBetter ? challenger - champion : champion - challenger;
  const f = (x: number) => (Number.isFinite(x) ? x.toFixed(4) : 'n/a');
  let verdict: ShadowComparison['verdict'];
  let detail: string;
  if (units < minUnits || !Number.isFinite(interval.lo)) {
    verdict = 'undecided';
    detail = `${units} units with labels: too few to compare (need ${minUnits})`;
  } else if (interval.lo >= -margin) {
    verdict = 'promote';
    detail = `challenger ${metric} ${f(challenger)} vs champion ${f(champion)} over ${units} units: not worse by more than ${margin} (95% interval of the improvement ${f(interval.lo)} … ${f(interval.hi)})`;
  } else {
    verdict = 'rollback';
    detail = `challenger ${metric} ${f(challenger)} vs champion ${f(champion)} over ${units} units: may be worse by more than ${margin} (95% interval of the improvement ${f(interval.lo)} … ${f(interval.hi)})`;
  }
  return { metric, higherIsBetter, units, champion, challenger, improvement, interval, margin, verdict, detail };
}

const pick = (x: ArrayLike<number>, idx: Int32Array) => Float64Array.from(idx, (i) => x[i]!);

/** Churn: AUC of both score vectors on the same labels. */
export function compareAuc(champion: Float64Array, challenger: Float64Array, labels: Uint8Array, s: ShadowSettings): ShadowComparison {
  const a = auc(champion, labels), b = auc(challenger, labels);
  const positives = labels.reduce((t, y) => t + y, 0);
  const units = positives > 0 && positives < labels.length ? labels.length : 0;
  const interval = units === 0 ? { lo: NaN, hi: NaN }
    : pairedBootstrap(labels.length, (idx) => { const y = Uint8Array.from(idx, (i) => labels[i]!); return auc(pick(challenger, idx), y) - auc(pick(champion, idx), y); }, s.bootstrap, s.seed);
  return verdictOf('auc', true, units, a, b, interval, s.churnMargin, s.minUnits);
}

/** η²: between-group sum of squares over total, of `y` grouped by `group`. */
export function etaSquared(group: ArrayLike<number>, y: ArrayLike<number>): number {
  const n = y.length;
  if (n === 0) return NaN;
  let total = 0;
  for (let i = 0; i < n; i++) total += y[i]!;
  const mean = total / n;
  const sums = new Map<number, { s: number; c: number }>();
  let ssTot = 0;
  for (let i = 0; i < n; i++) {
    const g = group[i]!;
    const e = sums.get(g) ?? { s: 0, c: 0 };
    e.s += y[i]!; e.c++;
    sums.set(g, e);
    ssTot += (y[i]! - mean) ** 2;
  }
  if (!(ssTot > 0)) return NaN;
  let ssB = 0;
  for (const { s, c } of sums.values()) ssB += c * (s / c - mean) ** 2;
  return ssB / ssTot;
}

/** Segment: how much of the next-period spend each segmentation explains. */
export function compareSegments(champion: Int32Array, challenger: Int32Array, spend: Float64Array, s: ShadowSettings): ShadowComparison {
  const a = etaSquared(champion, spend), b = etaSquared(challenger, spend);
  const interval = pairedBootstrap(spend.length, (idx) => { const y = pick(spend, idx); return etaSquared(pick(challenger, idx), y) - etaSquared(pick(champion, idx), y); }, s.bootstrap, s.seed);
  return verdictOf('eta_squared', true, spend.length, a, b, interval, s.segmentMargin, s.minUnits);
}

/** Forecast: WAPE of both forecasts (rows = products, same weeks), relative margin. */
export function compareWape(actual: Float64Array[], champion: Float64Array[], challenger: Float64Array[], s: ShadowSettings): ShadowComparison {
  const wape = (f: Float64Array[], idx: ArrayLike<number>) => {
    let err = 0, sum = 0;
    for (let k = 0; k < idx.length; k++) {
      const i = idx[k]!;
      const a = actual[i]!, x = f[i]!;
      for (let w = 0; w < a.length; w++) { err += Math.abs(a[w]! - x[w]!); sum += a[w]!; }
    }
    return sum > 0 ? err / sum : NaN;
  };
  const all = Int32Array.from(actual.keys());
  const a = wape(champion, all), b = wape(challenger, all);
  // Relative improvement (champion − challenger) / champion: the margin is a share of the champion's error.
  const interval = pairedBootstrap(actual.length, (idx) => { const c = wape(champion, idx); return (c - wape(challenger, idx)) / c; }, s.bootstrap, s.seed);
  const r = verdictOf('wape', false, actual.length, a, b, interval, s.forecastMargin, Math.min(s.minUnits, 5));
  return { ...r, improvement: Number.isFinite(a) && a > 0 ? (a - b) / a : NaN };
}

// ---------------------------------------------------------------- store

type FileOf<T> = { kind: string; artifact: T };

function load<T>(dir: string, version: string): T {
  return loadArtifact<FileOf<T>>(dir, version).artifact;
}

function watermarkOf(db: Db, shop: string, kind: ModelKind, version: string): string | null {
  const v = getVersion(db, shop, kind, version);
  if (!v?.snapshotId) return null;
  return (db.prepare('SELECT watermark FROM dataset_snapshots WHERE shop = ? AND snapshot_id = ?').pluck().get(shop, v.snapshotId) as string | undefined) ?? null;
}

function maturityOf(kind: ModelKind, asOfMs: number, artifactsDir: string, challenger: string, s: ShadowSettings): number {
  if (kind === 'churn') return asOfMs + load<ChurnArtifact>(artifactsDir, challenger).horizonDays * DAY_MS;
  if (kind === 'segment') return asOfMs + s.segmentDays * DAY_MS;
  const origin = Date.parse(load<ForecastArtifact>(artifactsDir, challenger).weekStart);
  return origin + (s.forecastWeeks + 1) * WEEK_MS; // week 0 holds sales already seen at training
}

/**
 * Starts (or replaces) the shadow evaluation of the current challenger of (shop, kind). A running
 * one for an older challenger is stopped. Returns null when there is nothing to shadow.
 */
export function startShadow(db: Db, shop: string, kind: ModelKind, now: Date, artifactsDir: string, s: ShadowSettings = DEFAULT_SHADOW_SETTINGS): Shadow | null {
  if (!SHADOW_KINDS.includes(kind)) throw new RangeError(`${kind} is rolled out with a canary, not in shadow`);
  const { champion, challenger } = currentAliases(db, shop, kind);
  return db.transaction((): Shadow | null => {
    const live = activeShadow(db, shop, kind);
    if (live && live.challengerVersion === challenger && live.championVersion === champion) return live;
    if (live) endShadow(db, live.id, 'stopped', `replaced: the challenger is now ${challenger?.slice(0, 12) ?? 'unset'}`, now);
    if (!champion || !challenger) return null;
    const asOf = watermarkOf(db, shop, kind, challenger) ?? now.toISOString();
    const maturesAt = new Date(maturityOf(kind, Date.parse(asOf), artifactsDir, challenger, s)).toISOString();
    const id = Number(db.prepare(`INSERT INTO shadow_evaluations (shop, kind, champion_version, challenger_version, as_of, matures_at, started_at, status)
      VALUES (?, ?, ?, ?, ?, ?, ?, 'running')`).run(shop, kind, champion, challenger, asOf, maturesAt, now.toISOString()).lastInsertRowid);
    return fromRow(db.prepare('SELECT * FROM shadow_evaluations WHERE id = ?').get(id) as ShadowRow);
  })();
}

function endShadow(db: Db, id: number, status: ShadowStatus, reason: string, now: Date, figures?: ShadowComparison): void {
  db.prepare(`UPDATE shadow_evaluations SET status = ?, ended_at = ?, reason = ?, figures_json = coalesce(?, figures_json) WHERE id = ? AND status = 'running'`)
    .run(status, now.toISOString(), reason, figures ? JSON.stringify(figures) : null, id);
}

function shopData(db: Db, shop: string, until: string): CleanData {
  return cleanOrders(loadOrders(db, shop, { asOf: until }));
}

/** Both versions scored on the matured labels (pure apart from reading artifacts and orders). */
export function compareShadow(db: Db, sh: Shadow, artifactsDir: string, now: Date, s: ShadowSettings = DEFAULT_SHADOW_SETTINGS): ShadowComparison {
  const T = Date.parse(sh.asOf);
  if (sh.kind === 'churn') {
    const a = load<ChurnArtifact>(artifactsDir, sh.championVersion), b = load<ChurnArtifact>(artifactsDir, sh.challengerVersion);
    const end = T + b.horizonDays * DAY_MS;
    const data = shopData(db, sh.shop, new Date(end).toISOString());
    const h = customerHistories(data);
    const sa = scoreChurn(a, h, T), sb = scoreChurn(b, h, T); // same histories, same moment → same customers, same order
    const { orders } = customerActivity(h, sb.ids, T, end);
    return compareAuc(sa.orderProbability, sb.orderProbability, Uint8Array.from(orders, (o) => (o > 0 ? 1 : 0)), s);
  }
  if (sh.kind === 'segment') {
    const a = load<SegmentArtifact>(artifactsDir, sh.championVersion), b = load<SegmentArtifact>(artifactsDir, sh.challengerVersion);
    const end = T + s.segmentDays * DAY_MS;
    const h = customerHistories(shopData(db, sh.shop, new Date(end).toISOString()));
    const ga = assignSegments(a, h, T), gb = assignSegments(b, h, T);
    const { spend } = customerActivity(h, gb.ids, T, end);
    return compareSegments(ga.index, gb.index, spend, s);
  }
  const a = load<ForecastArtifact>(artifactsDir, sh.championVersion), b = load<ForecastArtifact>(artifactsDir, sh.challengerVersion);
  const originB = Date.parse(b.weekStart), originA = Date.parse(a.weekStart);
  const offset = Math.round((originB - originA) / WEEK_MS); // champion's week index of the challenger's week 0
  // Weeks 1 … weeks after the challenger's origin: ended, and inside both forecasts' horizons.
  const weeks = Math.max(0, Math.min(b.horizonWeeks - 1, a.horizonWeeks - 1 - offset, Math.floor((now.getTime() - originB) / WEEK_MS) - 1));
  const byA = new Map(a.products.map((p) => [p.productId, p]));
  const rows = b.products.filter((p) => byA.has(p.productId));
  const index = new Map(rows.map((p, i) => [p.productId, i]));
  const actual = rows.map(() => new Float64Array(weeks));
  for (const x of shopData(db, sh.shop, new Date(originB + (weeks + 1) * WEEK_MS).toISOString()).sales) {
    const i = index.get(x.productId);
    if (i === undefined) continue;
    const k = Math.floor((x.time - originB) / WEEK_MS);
    if (k >= 1 && k <= weeks) actual[i]![k - 1]! += x.quantity;
  }
  const fb = rows.map((p) => Float64Array.from(p.weekly.mean.slice(1, weeks + 1)));
  const fa = rows.map((p) => Float64Array.from(byA.get(p.productId)!.weekly.mean.slice(offset + 1, offset + weeks + 1)));
  return compareWape(actual, fa, fb, s);
}

export interface ShadowRun {
  shadow: Shadow;
  comparison: ShadowComparison | null;
  action: 'waiting' | 'promote' | 'rollback' | 'undecided' | 'stopped';
}

/**
 * Evaluates every running shadow that has matured (all shops, or one) and acts: promote (the
 * challenger becomes champion) or roll back (the challenger is cleared), recorded in the alias
 * history with the figures. A shadow whose aliases moved meanwhile is stopped.
 */
/** A comparison computed elsewhere (a worker thread: jobs/loop.ts), or why it could not be. */
export type PrecomputedComparison = ShadowComparison | { error: string };

/** Running shadows whose labels have matured by `now` (what runShadows will compare). */
export function dueShadows(db: Db, now: Date, shop?: string): Shadow[] {
  const rows = (shop === undefined
    ? db.prepare(`SELECT * FROM shadow_evaluations WHERE status = 'running' AND matures_at <= ? ORDER BY id`).all(now.toISOString())
    : db.prepare(`SELECT * FROM shadow_evaluations WHERE shop = ? AND status = 'running' AND matures_at <= ? ORDER BY id`).all(shop, now.toISOString())) as ShadowRow[];
  return rows.map(fromRow);
}

export function getShadow(db: Db, id: number): Shadow | null {
  const r = db.prepare('SELECT * FROM shadow_evaluations WHERE id = ?').get(id) as ShadowRow | undefined;
  return r ? fromRow(r) : null;
}

/** Compares each shadow; an error (e.g. a missing artifact) is returned, not thrown. */
export function compareShadows(db: Db, shadows: readonly Shadow[], artifactsDir: string, now: Date, s: ShadowSettings = DEFAULT_SHADOW_SETTINGS): Record<number, PrecomputedComparison> {
  const out: Record<number, PrecomputedComparison> = {};
  for (const sh of shadows) {
    try {
      out[sh.id] = compareShadow(db, sh, artifactsDir, now, s);
    } catch (err) {
      out[sh.id] = { error: (err as Error).message };
    }
  }
  return out;
}

/**
 * `comparisons`: already computed (by id) — the scheduled job computes them in a worker thread and
 * only the decisions run here; a shadow without one is compared here.
 */
export function runShadows(db: Db, now: Date, artifactsDir: string, o: { shop?: string; settings?: ShadowSettings; actor?: string; comparisons?: Record<number, PrecomputedComparison> } = {}): ShadowRun[] {
  const s = o.settings ?? DEFAULT_SHADOW_SETTINGS;
  const actor = o.actor ?? 'policy';
  const rows = (o.shop === undefined
    ? db.prepare(`SELECT * FROM shadow_evaluations WHERE status = 'running' ORDER BY id`).all()
    : db.prepare(`SELECT * FROM shadow_evaluations WHERE shop = ? AND status = 'running' ORDER BY id`).all(o.shop)) as ShadowRow[];
  const runs: ShadowRun[] = [];
  for (const sh of rows.map(fromRow)) {
    const { champion, challenger } = currentAliases(db, sh.shop, sh.kind);
    if (champion !== sh.championVersion || challenger !== sh.challengerVersion) {
      endShadow(db, sh.id, 'stopped', `aliases moved outside the shadow evaluation (champion ${champion?.slice(0, 12) ?? 'unset'}, challenger ${challenger?.slice(0, 12) ?? 'unset'})`, now);
      runs.push({ shadow: { ...sh, status: 'stopped' }, comparison: null, action: 'stopped' });
      continue;
    }
    if (now.getTime() < Date.parse(sh.maturesAt)) {
      runs.push({ shadow: sh, comparison: null, action: 'waiting' });
      continue;
    }
    const c0 = o.comparisons?.[sh.id] ?? compareShadows(db, [sh], artifactsDir, now, s)[sh.id]!;
    const c = c0 as ShadowComparison;
    if ('error' in c0) {
      // A missing artifact cannot be judged: stop, keep the champion, say why.
      endShadow(db, sh.id, 'stopped', `cannot compare: ${c0.error}`, now);
      runs.push({ shadow: { ...sh, status: 'stopped' }, comparison: null, action: 'stopped' });
      continue;
    }
    if (c.verdict === 'undecided') {
      db.prepare('UPDATE shadow_evaluations SET figures_json = ? WHERE id = ?').run(JSON.stringify(c), sh.id);
      runs.push({ shadow: { ...sh, figures: c }, comparison: c, action: 'undecided' });
      continue;
    }
    const at = now.toISOString();
    const figures = { shadowId: sh.id, ...c };
    db.transaction(() => {
      if (c.verdict === 'promote') {
        moveAlias(db, { shop: sh.shop, kind: sh.kind, alias: 'champion', to: sh.challengerVersion, action: 'promote', reason: `shadow: ${c.detail}`, actor, figures, at, expectFrom: sh.championVersion });
        moveAlias(db, { shop: sh.shop, kind: sh.kind, alias: 'challenger', to: null, action: 'clear', reason: 'promoted to champion after the shadow evaluation', actor, figures, at, expectFrom: sh.challengerVersion });
        endShadow(db, sh.id, 'promoted', c.detail, now, c);
      } else {
        moveAlias(db, { shop: sh.shop, kind: sh.kind, alias: 'challenger', to: null, action: 'rollback', reason: `shadow: ${c.detail}`, actor, figures, at, expectFrom: sh.challengerVersion });
        endShadow(db, sh.id, 'rolled_back', c.detail, now, c);
      }
    })();
    runs.push({ shadow: { ...sh, status: c.verdict === 'promote' ? 'promoted' : 'rolled_back', figures: c }, comparison: c, action: c.verdict });
  }
  return runs;
}
