// Experiment state: the experiment record per (shop, kind), exposures (once per unit and variant),
// attributed conversions, serving counts for the guardrails, daily aggregates, and the decision
// log. Plain synchronous better-sqlite3 calls: callers that write through the group writer pass
// its transaction's handle. Days are UTC calendar days of the timestamp given.
import { randomBytes } from 'node:crypto';
import type Database from 'better-sqlite3';
import type { Db } from '../store/db.ts';
import { DEFAULT_SPLIT, VARIANTS, assign, validateSplit, variantFor, type Assignment, type Split, type Variant } from './bucket.ts';
import type { Sums } from './stats.ts';

export type ExperimentStatus = 'running' | 'promoted' | 'rolled_back' | 'stopped' | 'broken';
/** Live experiments split traffic; the others are history. */
export const LIVE_STATUSES: readonly ExperimentStatus[] = ['running', 'broken'];

/** Requests slower than this count as slow for the latency guardrail. */
export const SLOW_REQUEST_MS = 250;

/** Policy settings fixed when the experiment starts (see policy.ts for their meaning). */
export interface ExperimentConfig {
  /** Significance of the sequential test (two-sided), default 0.05. */
  alpha: number;
  /** Minimum relative lift of interest; sets τ and the plan. Default 0.2. */
  mdeRel: number;
  /** Conversion rate assumed at start (champion), used for τ and the plan. */
  baselineRate: number;
  /** Mixing standard deviation of the mSPRT, = baselineRate × mdeRel unless given. */
  tau: number;
  /** New units per day assumed by the plan (null if unknown). */
  dailyUnits: number | null;
  /** Planned challenger units (time-to-decision estimate), null if unknown. */
  plannedChallengerUnits: number | null;
  /** Planned days, null if unknown. */
  plannedDays: number | null;
  /** No promotion before this many days (weekly cycles), default 7. */
  minDaysBeforePromote: number;
  /** Relative non-inferiority margin, default 0.05 (challenger at most 5% worse). */
  nonInferiorityMargin: number;
  /** Days after which an undecided experiment stops (challenger not adopted), default 56. */
  maxDays: number;
  /** Guardrails. */
  maxErrorRateExcess: number;
  maxLatencyRatio: number;
  /**
   * The latency guardrail also needs the challenger's mean this many ms above the champion's,
   * default 5: a list computed in 0.8 ms instead of 0.4 is twice as slow and no shopper's problem,
   * and on a busy machine one stall moves a sub-millisecond mean by that much.
   */
  minLatencyExcessMs: number;
  maxSlowShareExcess: number;
  minGuardrailRequests: number;
}

export const DEFAULT_CONFIG: Readonly<Omit<ExperimentConfig, 'tau' | 'dailyUnits' | 'plannedChallengerUnits' | 'plannedDays'>> = Object.freeze({
  alpha: 0.05,
  mdeRel: 0.2,
  baselineRate: 0.02,
  minDaysBeforePromote: 7,
  nonInferiorityMargin: 0.05,
  maxDays: 56,
  maxErrorRateExcess: 0.01,
  maxLatencyRatio: 1.5,
  minLatencyExcessMs: 5,
  maxSlowShareExcess: 0.05,
  minGuardrailRequests: 200,
});

export interface Experiment extends Split {
  id: number;
  shop: string;
  kind: string;
  salt: string;
  championVersion: string;
  challengerVersion: string;
  startedAt: string;
  endedAt: string | null;
  status: ExperimentStatus;
  statusReason: string | null;
  config: ExperimentConfig;
}

interface ExperimentRow {
  id: number; shop: string; kind: string; salt: string; holdout_pct: number; challenger_pct: number;
  champion_version: string; challenger_version: string; started_at: string; ended_at: string | null;
  status: ExperimentStatus; status_reason: string | null; config_json: string;
}

const fromRow = (r: ExperimentRow): Experiment => ({
  id: r.id, shop: r.shop, kind: r.kind, salt: r.salt, holdoutPct: r.holdout_pct, challengerPct: r.challenger_pct,
  championVersion: r.champion_version, challengerVersion: r.challenger_version, startedAt: r.started_at,
  endedAt: r.ended_at, status: r.status, statusReason: r.status_reason, config: { ...DEFAULT_CONFIG, ...(JSON.parse(r.config_json) as Partial<ExperimentConfig>) } as ExperimentConfig,
});

// Prepared statements cached per connection: exposures and conversions are on the request path.
const statements = new WeakMap<Db, Map<string, Database.Statement<unknown[]>>>();
function stmt(db: Db, sql: string): Database.Statement<unknown[]> {
  let m = statements.get(db);
  if (!m) { m = new Map(); statements.set(db, m); }
  let st = m.get(sql);
  if (!st) { st = db.prepare<unknown[]>(sql); m.set(sql, st); }
  return st;
}

const isoAt = (at: string | Date): string => {
  const d = typeof at === 'string' ? new Date(at) : at;
  if (Number.isNaN(d.getTime())) throw new RangeError(`not a timestamp: ${String(at)}`);
  return d.toISOString();
};
/** The UTC day (YYYY-MM-DD) of a timestamp. */
export const dayOf = (at: string | Date): string => isoAt(at).slice(0, 10);

const checkVariant = (v: string): Variant => {
  if (!(VARIANTS as readonly string[]).includes(v)) throw new RangeError(`unknown variant ${v}`);
  return v as Variant;
};

export interface StartExperimentInput {
  shop: string;
  kind: string;
  championVersion: string;
  challengerVersion: string;
  holdoutPct?: number;
  challengerPct?: number;
  /** Hash seed; default a fresh random salt (a new experiment re-randomizes who is in which arm). */
  salt?: string;
  config?: Partial<ExperimentConfig>;
  at?: string | Date;
  actor?: string;
  /** Stored in the decision log with the start (e.g. the time-to-decision estimate). */
  figures?: unknown;
}

export class ExperimentConflictError extends Error {
  readonly shop: string;
  readonly kind: string;
  readonly existingId: number;
  constructor(shop: string, kind: string, existingId: number) {
    super(`a ${kind} experiment is already live for ${shop} (#${existingId}); stop it first`);
    this.name = 'ExperimentConflictError';
    this.shop = shop;
    this.kind = kind;
    this.existingId = existingId;
  }
}

/** Starts an experiment; throws ExperimentConflictError while another is live for (shop, kind). */
export function startExperiment(db: Db, input: StartExperimentInput): Experiment {
  const split: Split = { holdoutPct: input.holdoutPct ?? DEFAULT_SPLIT.holdoutPct, challengerPct: input.challengerPct ?? DEFAULT_SPLIT.challengerPct };
  validateSplit(split);
  if (split.challengerPct <= 0) throw new RangeError('a canary needs a challenger share above 0%');
  if (input.championVersion === input.challengerVersion) throw new RangeError('champion and challenger are the same version');
  const at = isoAt(input.at ?? new Date());
  const c = { ...DEFAULT_CONFIG, ...input.config };
  if (!(c.baselineRate > 0 && c.baselineRate < 1)) throw new RangeError(`baseline conversion rate must be in (0, 1), got ${c.baselineRate}`);
  const config: ExperimentConfig = {
    ...c,
    tau: input.config?.tau ?? c.baselineRate * c.mdeRel,
    dailyUnits: input.config?.dailyUnits ?? null,
    plannedChallengerUnits: input.config?.plannedChallengerUnits ?? null,
    plannedDays: input.config?.plannedDays ?? null,
  };
  const salt = input.salt ?? `${input.kind}:${randomBytes(8).toString('hex')}`;
  return db.transaction(() => {
    const live = activeExperiment(db, input.shop, input.kind);
    if (live) throw new ExperimentConflictError(input.shop, input.kind, live.id);
    const id = Number(db.prepare(`INSERT INTO rollout_experiments (shop, kind, salt, holdout_pct, challenger_pct, champion_version, challenger_version, started_at, status, config_json)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'running', ?)`).run(input.shop, input.kind, salt, split.holdoutPct, split.challengerPct,
      input.championVersion, input.challengerVersion, at, JSON.stringify(config)).lastInsertRowid);
    logDecision(db, { experimentId: id, shop: input.shop, at, action: 'start', reason: `canary of ${input.challengerVersion} against ${input.championVersion}: ${split.holdoutPct}% holdout, ${split.challengerPct}% challenger`, actor: input.actor ?? 'system', figures: input.figures ?? { split, config } });
    return getExperiment(db, id)!;
  })();
}

export function getExperiment(db: Db, id: number): Experiment | null {
  const r = stmt(db, 'SELECT * FROM rollout_experiments WHERE id = ?').get(id) as ExperimentRow | undefined;
  return r ? fromRow(r) : null;
}

/** The live (running or broken) experiment of (shop, kind), if any. */
export function activeExperiment(db: Db, shop: string, kind: string): Experiment | null {
  const r = stmt(db, `SELECT * FROM rollout_experiments WHERE shop = ? AND kind = ? AND status IN ('running', 'broken')`).get(shop, kind) as ExperimentRow | undefined;
  return r ? fromRow(r) : null;
}

/** Experiments of a shop (optionally one kind), newest first. */
export function listExperiments(db: Db, shop: string, kind?: string): Experiment[] {
  const rows = (kind === undefined
    ? db.prepare('SELECT * FROM rollout_experiments WHERE shop = ? ORDER BY id DESC').all(shop)
    : db.prepare('SELECT * FROM rollout_experiments WHERE shop = ? AND kind = ? ORDER BY id DESC').all(shop, kind)) as ExperimentRow[];
  return rows.map(fromRow);
}

/**
 * Moves an experiment to a new status. `broken` keeps it live (traffic still split, no automatic
 * decision); promoted / rolled_back / stopped end it. Ended experiments cannot change again.
 */
export function setExperimentStatus(db: Db, id: number, status: ExperimentStatus, reason: string, at: string | Date = new Date()): Experiment {
  const e = getExperiment(db, id);
  if (!e) throw new RangeError(`no experiment #${id}`);
  if (!LIVE_STATUSES.includes(e.status)) throw new RangeError(`experiment #${id} already ended (${e.status})`);
  if (status === 'running' && e.status === 'broken') throw new RangeError(`experiment #${id} is broken: stop it and start a new one`);
  const ended = LIVE_STATUSES.includes(status) ? null : isoAt(at);
  db.prepare('UPDATE rollout_experiments SET status = ?, status_reason = ?, ended_at = ? WHERE id = ?').run(status, reason, ended, id);
  return getExperiment(db, id)!;
}

/**
 * Which variant a unit gets for (shop, kind) right now. With no live experiment: the holdout of
 * the most recent experiment stays (same salt and holdout share, so a holdout unit keeps its
 * popularity list), the rest is champion, and `experimentId` is null (nothing to log).
 */
export function currentAssignment(db: Db, shop: string, kind: string, unit: string): Assignment & { experimentId: number | null } {
  const live = activeExperiment(db, shop, kind);
  if (live) return { ...assign(live.salt, unit, live), experimentId: live.id };
  const last = listExperiments(db, shop, kind)[0];
  const salt = last?.salt ?? `${kind}:${shop}`;
  return { ...assign(salt, unit, { holdoutPct: last?.holdoutPct ?? DEFAULT_SPLIT.holdoutPct, challengerPct: 0 }), experimentId: null };
}

/**
 * The split serving should apply for (shop, kind), as a pure function unit → variant (a closure
 * over the salt and shares: no query per request). Same rule as currentAssignment. Rebuild it
 * when `experimentGeneration` changes.
 */
export function armsFor(db: Db, shop: string, kind: string): { experimentId: number | null; variantOf: (unit: string) => Variant } {
  const live = activeExperiment(db, shop, kind);
  if (live) {
    const split: Split = { holdoutPct: live.holdoutPct, challengerPct: live.challengerPct };
    return { experimentId: live.id, variantOf: (unit) => variantFor(live.salt, unit, split) };
  }
  const last = listExperiments(db, shop, kind)[0];
  const salt = last?.salt ?? `${kind}:${shop}`;
  const split: Split = { holdoutPct: last?.holdoutPct ?? DEFAULT_SPLIT.holdoutPct, challengerPct: 0 };
  return { experimentId: null, variantOf: (unit) => variantFor(salt, unit, split) };
}

/**
 * Changes whenever an experiment of the shop starts, changes status or logs a decision: serving
 * compares it (one indexed read) to know when to rebuild `armsFor`.
 */
export function experimentGeneration(db: Db, shop: string): number {
  return (stmt(db, 'SELECT max(id) FROM rollout_decisions WHERE shop = ?').pluck().get(shop) as number | null) ?? 0;
}

// ---------------------------------------------------------------- recording

const upsertDaily = (db: Db) => stmt(db, `INSERT INTO rollout_daily (experiment_id, day, variant, shop, units, converters, conversions, revenue, revenue_sq, requests, errors, latency_ms_sum, slow_requests)
  VALUES (@experimentId, @day, @variant, @shop, @units, @converters, @conversions, @revenue, @revenueSq, @requests, @errors, @latencyMsSum, @slowRequests)
  ON CONFLICT (experiment_id, day, variant) DO UPDATE SET
    units = units + excluded.units, converters = converters + excluded.converters, conversions = conversions + excluded.conversions,
    revenue = revenue + excluded.revenue, revenue_sq = revenue_sq + excluded.revenue_sq, requests = requests + excluded.requests,
    errors = errors + excluded.errors, latency_ms_sum = latency_ms_sum + excluded.latency_ms_sum, slow_requests = slow_requests + excluded.slow_requests`);

const ZERO = { units: 0, converters: 0, conversions: 0, revenue: 0, revenueSq: 0, requests: 0, errors: 0, latencyMsSum: 0, slowRequests: 0 };

/** Shopify customer ids are numeric: a numeric unit is taken as a logged-in customer (for redaction). */
const customerOf = (unit: string, customerId: string | null | undefined): string | null =>
  customerId !== undefined ? customerId : /^\d{1,20}$/.test(unit) ? unit : null;

/**
 * Logs that `unit` was shown `variant`. Only the first exposure per (unit, variant) counts (INSERT
 * OR IGNORE); returns true when this call was the first. `customerId`: the logged-in customer the
 * unit stands for (default: the unit itself when it is numeric, as Shopify customer ids are).
 */
export function recordExposure(db: Db, shop: string, experimentId: number, unit: string, variant: Variant, at: string | Date, customerId?: string | null): boolean {
  checkVariant(variant);
  if (!unit) throw new RangeError('unit is empty');
  const ts = isoAt(at);
  const first = stmt(db, `INSERT OR IGNORE INTO rollout_exposures (experiment_id, unit, variant, shop, customer_id, first_seen_at) VALUES (?, ?, ?, ?, ?, ?)`)
    .run(experimentId, unit, variant, shop, customerOf(unit, customerId), ts).changes === 1;
  if (first) upsertDaily(db).run({ ...ZERO, experimentId, day: ts.slice(0, 10), variant, shop, units: 1 });
  return first;
}

export interface ExposureInput {
  shop: string;
  experimentId: number;
  unit: string;
  variant: Variant;
  at: string | Date;
  customerId?: string | null;
}

/** Many exposures in one transaction; returns how many were first exposures. */
export function recordExposures(db: Db, rows: readonly ExposureInput[]): number {
  return db.transaction(() => {
    let n = 0;
    for (const r of rows) if (recordExposure(db, r.shop, r.experimentId, r.unit, r.variant, r.at, r.customerId)) n++;
    return n;
  })();
}

/**
 * An order attributed to `unit` under `variant` (revenue = attributed revenue, ≥ 0). The unit's
 * exposure row is created if the exposure was never logged (attribution implies the unit saw the
 * recommendations). With `orderId`, an order already counted for this experiment is ignored.
 * Returns false when ignored as a duplicate.
 */
export function recordConversion(db: Db, shop: string, experimentId: number, unit: string, variant: Variant, revenue: number, at: string | Date, orderId?: string): boolean {
  checkVariant(variant);
  if (!(Number.isFinite(revenue) && revenue >= 0)) throw new RangeError(`revenue must be a finite amount ≥ 0, got ${revenue}`);
  const ts = isoAt(at);
  return db.transaction(() => {
    if (orderId !== undefined) {
      const fresh = stmt(db, 'INSERT OR IGNORE INTO rollout_conversions (experiment_id, order_id, shop, recorded_at) VALUES (?, ?, ?, ?)').run(experimentId, orderId, shop, ts).changes === 1;
      if (!fresh) return false;
    }
    recordExposure(db, shop, experimentId, unit, variant, ts);
    const before = stmt(db, 'SELECT conversions, revenue FROM rollout_exposures WHERE experiment_id = ? AND unit = ? AND variant = ?').get(experimentId, unit, variant) as { conversions: number; revenue: number };
    stmt(db, 'UPDATE rollout_exposures SET conversions = conversions + 1, revenue = revenue + ? WHERE experiment_id = ? AND unit = ? AND variant = ?').run(revenue, experimentId, unit, variant);
    const after = before.revenue + revenue;
    upsertDaily(db).run({
      ...ZERO, experimentId, day: ts.slice(0, 10), variant, shop,
      converters: before.conversions === 0 ? 1 : 0, conversions: 1, revenue, revenueSq: after * after - before.revenue * before.revenue,
    });
    return true;
  })();
}

export interface ServingCounts {
  requests: number;
  errors: number;
  /** Σ latency of the requests, ms. */
  latencyMsSum: number;
  /** Requests slower than SLOW_REQUEST_MS. */
  slowRequests: number;
}

/** Adds serving counts (batched by the caller, e.g. flushed every few seconds) for the guardrails. */
export function recordServing(db: Db, shop: string, experimentId: number, variant: Variant, counts: ServingCounts, at: string | Date): void {
  checkVariant(variant);
  for (const [k, v] of Object.entries(counts)) if (!(Number.isFinite(v) && v >= 0)) throw new RangeError(`${k} must be ≥ 0, got ${v}`);
  upsertDaily(db).run({ ...ZERO, experimentId, day: dayOf(at), variant, shop, ...counts });
}

/** Serving counts from raw latencies (ms) and an error count, for recordServing. */
export function servingCounts(latenciesMs: readonly number[], errors = 0): ServingCounts {
  let sum = 0, slow = 0;
  for (const l of latenciesMs) { sum += l; if (l > SLOW_REQUEST_MS) slow++; }
  return { requests: latenciesMs.length, errors, latencyMsSum: sum, slowRequests: slow };
}

/** Deletes the exposure rows of one unit (customers/redact also finds them by customer_id). */
export function redactUnit(db: Db, shop: string, unit: string): number {
  return db.prepare('DELETE FROM rollout_exposures WHERE shop = ? AND unit = ?').run(shop, unit).changes;
}

// ---------------------------------------------------------------- reading

export interface VariantTotals {
  units: number;
  converters: number;
  conversions: number;
  revenue: number;
  revenueSq: number;
  requests: number;
  errors: number;
  latencyMsSum: number;
  slowRequests: number;
}

export interface DailyTotals {
  day: string;
  /** Cumulative through the end of `day`. */
  cumulative: Record<Variant, VariantTotals>;
  /** That day alone. */
  daily: Record<Variant, VariantTotals>;
}

const emptyTotals = (): VariantTotals => ({ units: 0, converters: 0, conversions: 0, revenue: 0, revenueSq: 0, requests: 0, errors: 0, latencyMsSum: 0, slowRequests: 0 });
const emptyByVariant = (): Record<Variant, VariantTotals> => ({ holdout: emptyTotals(), challenger: emptyTotals(), champion: emptyTotals() });

/** Daily and cumulative totals per variant, one entry per UTC day with any data, in day order. */
export function dailyTotals(db: Db, experimentId: number): DailyTotals[] {
  const rows = stmt(db, `SELECT day, variant, units, converters, conversions, revenue, revenue_sq AS revenueSq, requests, errors,
      latency_ms_sum AS latencyMsSum, slow_requests AS slowRequests FROM rollout_daily WHERE experiment_id = ? ORDER BY day, variant`).all(experimentId) as (VariantTotals & { day: string; variant: Variant })[];
  const out: DailyTotals[] = [];
  for (const r of rows) {
    let last = out.at(-1);
    if (!last || last.day !== r.day) {
      last = { day: r.day, daily: emptyByVariant(), cumulative: emptyByVariant() };
      out.push(last);
    }
    const { day: _day, variant, ...t } = r;
    last.daily[variant] = t;
  }
  const acc = emptyByVariant();
  for (const d of out) {
    for (const v of VARIANTS) {
      for (const k of Object.keys(acc[v]) as (keyof VariantTotals)[]) acc[v][k] += d.daily[v][k];
      d.cumulative[v] = { ...acc[v] };
    }
  }
  return out;
}

/** Totals per variant since the start. */
export function totals(db: Db, experimentId: number): Record<Variant, VariantTotals> {
  return dailyTotals(db, experimentId).at(-1)?.cumulative ?? emptyByVariant();
}

/** Revenue-per-visitor sufficient statistics from totals. */
export const revenueSums = (t: VariantTotals): Sums => ({ n: t.units, sum: t.revenue, sumSq: t.revenueSq });

// ---------------------------------------------------------------- decision log

export type DecisionAction = 'start' | 'hold' | 'promote' | 'rollback' | 'stop' | 'mark_broken';

export interface DecisionRecord {
  experimentId: number;
  shop: string;
  at: string | Date;
  action: DecisionAction;
  reason: string;
  actor: string;
  figures: unknown;
}

export function logDecision(db: Db, d: DecisionRecord): number {
  return Number(stmt(db, 'INSERT INTO rollout_decisions (experiment_id, shop, at, action, reason, actor, figures_json) VALUES (?, ?, ?, ?, ?, ?, ?)')
    .run(d.experimentId, d.shop, isoAt(d.at), d.action, d.reason, d.actor, JSON.stringify(d.figures ?? null)).lastInsertRowid);
}

export interface LoggedDecision extends Omit<DecisionRecord, 'at'> {
  id: number;
  at: string;
}

export function decisionLog(db: Db, experimentId: number): LoggedDecision[] {
  const rows = db.prepare('SELECT id, experiment_id, shop, at, action, reason, actor, figures_json FROM rollout_decisions WHERE experiment_id = ? ORDER BY id').all(experimentId) as
    { id: number; experiment_id: number; shop: string; at: string; action: DecisionAction; reason: string; actor: string; figures_json: string }[];
  return rows.map((r) => ({ id: r.id, experimentId: r.experiment_id, shop: r.shop, at: r.at, action: r.action, reason: r.reason, actor: r.actor, figures: JSON.parse(r.figures_json) as unknown }));
}
