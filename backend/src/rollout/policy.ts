// Rollout policy: reads an experiment's numbers, decides, and acts.
//
//   report  = figures per variant (conversion with Wilson intervals, revenue per visitor with t
//             intervals, serving health), the SRM check, and three comparisons (challenger vs
//             champion, challenger vs holdout, champion vs holdout), each with the fixed-horizon
//             z test and the anytime-valid mSPRT over daily looks.
//   decide  = pure function of the report and the experiment's config, in this order:
//             1. ended experiment → hold;
//             2. SRM always-valid p < 0.001 → mark_broken (traffic keeps its split; no automatic decision ever
//                again — a person stops or rolls back); already broken → hold;
//             3. guardrail broken (challenger errors, latency, slow share) → rollback;
//             4. challenger conversion significantly worse than champion or holdout (mSPRT) → rollback;
//             5. after minDaysBeforePromote: challenger significantly better than champion → promote;
//             6. after minDaysBeforePromote with enough data (the planned units, else 28 days): the
//                confidence sequence's lower bound ≥ −margin × champion rate → promote (non-inferior);
//             7. maxDays reached → stop (challenger not adopted);
//             8. otherwise hold.
//   apply   = alias moves through an injected `moveAlias` (the registry's alias history stores the
//             same figures), the experiment's status and the decision log: all in one transaction.
import type { Db } from '../store/db.ts';
import { VARIANTS, variantShares, type Variant } from './bucket.ts';
import {
  dailyTotals, decisionLog, getExperiment, LIVE_STATUSES, logDecision, revenueSums, setExperimentStatus,
  type DailyTotals, type DecisionAction, type Experiment, type ExperimentConfig, type VariantTotals,
} from './experiments.ts';
import {
  estimateTimeToDecision, meanInterval, sequentialTest, srmTest, twoProportionZTest, welchTest, wilson,
  type Interval, type MeanEstimate, type Proportion, type SrmResult, type TimeToDecision, type TwoProportionTest, type WelchTest,
} from './stats.ts';

// ---------------------------------------------------------------- report

export interface VariantReport {
  units: number;
  converters: number;
  conversions: number;
  /** Share of units that bought (attributed), with a 95% Wilson interval. */
  conversion: Proportion;
  revenue: number;
  /** Revenue per visitor (unit), with a 95% t interval. */
  revenuePerVisitor: MeanEstimate;
  requests: number;
  errorRate: Proportion;
  meanLatencyMs: number;
  slowShare: Proportion;
}

export interface Comparison {
  /** Reference arm A and compared arm B (differences are B − A). */
  a: Variant;
  b: Variant;
  /** Fixed-horizon two-proportion z test on conversion (for reference; not for peeking). */
  zTest: TwoProportionTest;
  /** Welch test on revenue per visitor (reported, never decides). */
  revenuePerVisitor: WelchTest;
  /** Anytime-valid mSPRT on conversion over the daily looks. */
  sequential: {
    looks: number;
    /** Always-valid p-value. */
    p: number;
    /** Λ at the last look. */
    lambda: number;
    /** 95% (1 − α) confidence sequence for the difference in conversion rate, B − A. */
    cs: Interval;
    reject: boolean;
    direction: -1 | 0 | 1;
    /** Day (YYYY-MM-DD) of the first look at which H0 was rejected. */
    firstRejectDay: string | null;
    tau: number;
    alpha: number;
  };
}

export interface GuardrailCheck {
  name: 'error_rate' | 'latency' | 'slow_share';
  breached: boolean;
  /** Whether there was enough serving data to judge. */
  judged: boolean;
  challenger: number;
  champion: number;
  threshold: number;
  detail: string;
}

export interface ExperimentReport {
  experimentId: number;
  shop: string;
  kind: string;
  status: Experiment['status'];
  championVersion: string;
  challengerVersion: string;
  startedAt: string;
  asOf: string;
  /** Whole days since the start. */
  days: number;
  split: Record<Variant, number>;
  variants: Record<Variant, VariantReport>;
  /** Null until every arm expects ≥ 5 units (the chi-squared approximation needs it). */
  srm: SrmResult | null;
  challengerVsChampion: Comparison;
  challengerVsHoldout: Comparison;
  championVsHoldout: Comparison;
  guardrails: GuardrailCheck[];
  plan: { plannedDays: number | null; plannedChallengerUnits: number | null; progress: number | null };
}

const DAY_MS = 86_400_000;
/** Guardrails look every day too: 99% intervals keep repeated looks from tripping them by chance. */
const GUARDRAIL_LEVEL = 0.99;

function variantReport(t: VariantTotals): VariantReport {
  return {
    units: t.units, converters: t.converters, conversions: t.conversions,
    conversion: wilson(t.converters, t.units),
    revenue: t.revenue,
    revenuePerVisitor: meanInterval(revenueSums(t)),
    requests: t.requests,
    errorRate: wilson(Math.min(t.errors, t.requests), t.requests),
    meanLatencyMs: t.requests > 0 ? t.latencyMsSum / t.requests : NaN,
    slowShare: wilson(Math.min(t.slowRequests, t.requests), t.requests),
  };
}

function compare(daily: readonly DailyTotals[], a: Variant, b: Variant, config: ExperimentConfig): Comparison {
  const last = daily.at(-1)?.cumulative;
  const ta = last?.[a], tb = last?.[b];
  const looks = daily.map((d) => ({ xA: d.cumulative[a].converters, nA: d.cumulative[a].units, xB: d.cumulative[b].converters, nB: d.cumulative[b].units }));
  const seq = sequentialTest(looks, config.tau, config.alpha);
  return {
    a, b,
    zTest: twoProportionZTest(ta?.converters ?? 0, ta?.units ?? 0, tb?.converters ?? 0, tb?.units ?? 0),
    revenuePerVisitor: welchTest(revenueSums(ta ?? zeroTotals()), revenueSums(tb ?? zeroTotals())),
    sequential: {
      looks: looks.length, p: seq.p, lambda: seq.looks.at(-1)?.lambda ?? 1, cs: seq.cs, reject: seq.reject, direction: seq.direction,
      firstRejectDay: seq.firstRejectLook >= 0 ? daily[seq.firstRejectLook]!.day : null, tau: seq.tau, alpha: seq.alpha,
    },
  };
}

const zeroTotals = (): VariantTotals => ({ units: 0, converters: 0, conversions: 0, revenue: 0, revenueSq: 0, requests: 0, errors: 0, latencyMsSum: 0, slowRequests: 0 });

function guardrails(v: Record<Variant, VariantReport>, c: ExperimentConfig): GuardrailCheck[] {
  const ch = v.challenger, ref = v.champion;
  const judged = ch.requests >= c.minGuardrailRequests && ref.requests >= c.minGuardrailRequests;
  const errLo = judged ? wilson(Math.min(ch.errorRate.successes, ch.requests), ch.requests, GUARDRAIL_LEVEL).lo : NaN;
  const errLimit = ref.errorRate.rate + c.maxErrorRateExcess;
  const slowLo = judged ? wilson(Math.min(ch.slowShare.successes, ch.requests), ch.requests, GUARDRAIL_LEVEL).lo : NaN;
  const slowLimit = ref.slowShare.rate + c.maxSlowShareExcess;
  const latLimit = Math.max(ref.meanLatencyMs * c.maxLatencyRatio, ref.meanLatencyMs + c.minLatencyExcessMs);
  return [
    {
      name: 'error_rate', judged, breached: judged && errLo > errLimit, challenger: ch.errorRate.rate, champion: ref.errorRate.rate, threshold: errLimit,
      detail: `challenger error rate ${pct(ch.errorRate.rate)} (99% lower bound ${pct(errLo)}) vs limit ${pct(errLimit)} (champion + ${pct(c.maxErrorRateExcess)})`,
    },
    {
      name: 'latency', judged, breached: judged && ch.meanLatencyMs > latLimit, challenger: ch.meanLatencyMs, champion: ref.meanLatencyMs, threshold: latLimit,
      detail: `challenger mean latency ${ch.meanLatencyMs.toFixed(1)} ms vs limit ${latLimit.toFixed(1)} ms (the larger of ${c.maxLatencyRatio}× champion and champion + ${c.minLatencyExcessMs} ms)`,
    },
    {
      name: 'slow_share', judged, breached: judged && slowLo > slowLimit, challenger: ch.slowShare.rate, champion: ref.slowShare.rate, threshold: slowLimit,
      detail: `challenger slow-request share ${pct(ch.slowShare.rate)} (99% lower bound ${pct(slowLo)}) vs limit ${pct(slowLimit)}`,
    },
  ];
}

const pct = (x: number, digits = 2) => (Number.isFinite(x) ? `${(x * 100).toFixed(digits)}%` : 'n/a');

/** Builds the report from an experiment and its daily totals (pure). */
export function buildReport(e: Experiment, daily: readonly DailyTotals[], asOf: string | Date = new Date()): ExperimentReport {
  const asOfIso = (typeof asOf === 'string' ? new Date(asOf) : asOf).toISOString();
  const last = daily.at(-1)?.cumulative ?? { holdout: zeroTotals(), challenger: zeroTotals(), champion: zeroTotals() };
  const variants = { holdout: variantReport(last.holdout), challenger: variantReport(last.challenger), champion: variantReport(last.champion) };
  const split = variantShares(e);
  const totalUnits = VARIANTS.reduce((s, v) => s + last[v].units, 0);
  const minExpected = Math.min(...VARIANTS.filter((v) => split[v] > 0).map((v) => totalUnits * split[v]));
  // Every day's cumulative units are a look of the sample-ratio check; so is now (the last day).
  const unitLooks = daily.map((d) => VARIANTS.map((v) => d.cumulative[v].units)).filter((l) => l.some((x) => x > 0));
  const srm = minExpected >= 5 ? srmTest(unitLooks, VARIANTS.map((v) => split[v])) : null;
  const days = Math.max(0, Math.floor((Date.parse(asOfIso) - Date.parse(e.startedAt)) / DAY_MS));
  const planned = e.config.plannedChallengerUnits;
  return {
    experimentId: e.id, shop: e.shop, kind: e.kind, status: e.status, championVersion: e.championVersion, challengerVersion: e.challengerVersion,
    startedAt: e.startedAt, asOf: asOfIso, days, split, variants, srm,
    challengerVsChampion: compare(daily, 'champion', 'challenger', e.config),
    challengerVsHoldout: compare(daily, 'holdout', 'challenger', e.config),
    championVsHoldout: compare(daily, 'holdout', 'champion', e.config),
    guardrails: guardrails(variants, e.config),
    plan: { plannedDays: e.config.plannedDays, plannedChallengerUnits: planned, progress: planned ? variants.challenger.units / planned : null },
  };
}

/** The report of an experiment from the store. */
export function experimentReport(db: Db, experimentId: number, asOf: string | Date = new Date()): ExperimentReport {
  const e = getExperiment(db, experimentId);
  if (!e) throw new RangeError(`no experiment #${experimentId}`);
  return buildReport(e, dailyTotals(db, experimentId), asOf);
}

// ---------------------------------------------------------------- decision

export type PolicyAction = Exclude<DecisionAction, 'start'>;

/** The figures that decided: compact, JSON-safe, stored in the decision log and the alias history. */
export interface DecisionFigures {
  experimentId: number;
  asOf: string;
  days: number;
  championVersion: string;
  challengerVersion: string;
  units: Record<Variant, number>;
  converters: Record<Variant, number>;
  conversionRate: Record<Variant, { rate: number; lo: number; hi: number }>;
  revenuePerVisitor: Record<Variant, number>;
  challengerVsChampion: { diff: number; lift: number; cs: Interval; p: number; lambda: number; zTestP: number; tau: number; alpha: number };
  challengerVsHoldout: { diff: number; lift: number; cs: Interval; p: number };
  srm: { chi2: number; chi2P: number; bayesFactor: number; p: number; mismatch: boolean } | null;
  guardrails: { name: string; breached: boolean; judged: boolean; challenger: number; champion: number; threshold: number }[];
  rule: string;
}

export interface Decision {
  action: PolicyAction;
  /** Machine-readable rule that fired. */
  rule: string;
  /** One sentence for the merchant. */
  reason: string;
  figures: DecisionFigures;
}

const finite = (x: number) => (Number.isFinite(x) ? x : null) as number; // JSON has no NaN/Infinity
const interval = (i: Interval): Interval => ({ lo: finite(i.lo), hi: finite(i.hi) });

export function decisionFigures(r: ExperimentReport, rule: string): DecisionFigures {
  const per = <T>(f: (v: VariantReport) => T): Record<Variant, T> => ({ holdout: f(r.variants.holdout), challenger: f(r.variants.challenger), champion: f(r.variants.champion) });
  const cc = r.challengerVsChampion, ch = r.challengerVsHoldout;
  return {
    experimentId: r.experimentId, asOf: r.asOf, days: r.days, championVersion: r.championVersion, challengerVersion: r.challengerVersion,
    units: per((v) => v.units), converters: per((v) => v.converters),
    conversionRate: per((v) => ({ rate: finite(v.conversion.rate), lo: finite(v.conversion.lo), hi: finite(v.conversion.hi) })),
    revenuePerVisitor: per((v) => finite(v.revenuePerVisitor.mean)),
    challengerVsChampion: { diff: finite(cc.zTest.diff), lift: finite(cc.zTest.lift), cs: interval(cc.sequential.cs), p: cc.sequential.p, lambda: finite(cc.sequential.lambda), zTestP: finite(cc.zTest.p), tau: cc.sequential.tau, alpha: cc.sequential.alpha },
    challengerVsHoldout: { diff: finite(ch.zTest.diff), lift: finite(ch.zTest.lift), cs: interval(ch.sequential.cs), p: ch.sequential.p },
    srm: r.srm ? { chi2: r.srm.chi2, chi2P: r.srm.chi2P, bayesFactor: finite(r.srm.bayesFactor), p: r.srm.p, mismatch: r.srm.mismatch } : null,
    guardrails: r.guardrails.map((g) => ({ name: g.name, breached: g.breached, judged: g.judged, challenger: finite(g.challenger), champion: finite(g.champion), threshold: finite(g.threshold) })),
    rule,
  };
}

/** Minimum challenger converters before non-inferiority may be claimed. */
const MIN_CONVERTERS_NON_INFERIORITY = 30;
/** Without a plan, "enough data" for non-inferiority means this many days. */
const DEFAULT_NON_INFERIORITY_DAYS = 28;

/** What the policy would do now (pure). */
export function decide(r: ExperimentReport, c: ExperimentConfig): Decision {
  const d = (action: PolicyAction, rule: string, reason: string): Decision => ({ action, rule, reason, figures: decisionFigures(r, rule) });
  if (!LIVE_STATUSES.includes(r.status)) return d('hold', 'ended', `the experiment already ended (${r.status})`);
  if (r.status === 'broken') return d('hold', 'broken', 'sample-ratio mismatch: no automatic decision; check the tracking, then stop or roll back');
  if (r.srm?.mismatch) {
    return d('mark_broken', 'srm', `units per variant (${r.srm.observed.join(' / ')}) do not match the configured split (always-valid p = ${r.srm.p.toExponential(2)} < 0.001): the numbers cannot be trusted`);
  }
  const breached = r.guardrails.find((g) => g.breached);
  if (breached) return d('rollback', `guardrail_${breached.name}`, `guardrail broken: ${breached.detail}`);

  const cc = r.challengerVsChampion.sequential, chh = r.challengerVsHoldout.sequential;
  const lift = (x: number) => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)}%`;
  if (cc.reject && cc.direction < 0) {
    return d('rollback', 'conversion_worse_than_champion', `challenger converts significantly worse than the champion (${lift(r.challengerVsChampion.zTest.lift)}, always-valid p = ${cc.p.toPrecision(2)})`);
  }
  if (chh.reject && chh.direction < 0) {
    return d('rollback', 'conversion_worse_than_holdout', `challenger converts significantly worse than the popularity holdout (${lift(r.challengerVsHoldout.zTest.lift)}, always-valid p = ${chh.p.toPrecision(2)})`);
  }
  const canPromote = r.days >= c.minDaysBeforePromote;
  if (canPromote && cc.reject && cc.direction > 0) {
    return d('promote', 'better_than_champion', `challenger converts significantly better than the champion (${lift(r.challengerVsChampion.zTest.lift)}, always-valid p = ${cc.p.toPrecision(2)})`);
  }
  const enough = c.plannedChallengerUnits !== null ? r.variants.challenger.units >= c.plannedChallengerUnits : r.days >= DEFAULT_NON_INFERIORITY_DAYS;
  const champRate = r.variants.champion.conversion.rate;
  const margin = c.nonInferiorityMargin * champRate;
  if (canPromote && enough && r.variants.challenger.converters >= MIN_CONVERTERS_NON_INFERIORITY && Number.isFinite(champRate) && cc.cs.lo >= -margin) {
    return d('promote', 'non_inferior', `challenger is not worse than the champion by more than ${(c.nonInferiorityMargin * 100).toFixed(0)}% (difference at least ${(cc.cs.lo * 100).toFixed(3)} points, margin ${(margin * 100).toFixed(3)} points)`);
  }
  if (r.days >= c.maxDays) {
    return d('stop', 'inconclusive', `no decision after ${r.days} days: the challenger is neither clearly better nor shown to be as good; it is not adopted`);
  }
  return d('hold', 'collecting', canPromote ? 'collecting data: no significant difference yet' : `collecting data: no promotion before day ${c.minDaysBeforePromote}`);
}

// ---------------------------------------------------------------- acting

export type Alias = 'champion' | 'challenger';

/** What the move is, for the alias history, and what the alias must still point to. */
export interface MoveContext {
  action: 'promote' | 'rollback' | 'clear';
  /** The version the alias is expected to point to now (a conflict if it moved meanwhile). */
  expectFrom: string | null;
  experimentId: number;
}

/**
 * Moves a registry alias (null = clear it). Injected: the registry records it in its alias history
 * with the figures. Promotion calls it twice (champion → challenger's version [promote], then
 * challenger → null [clear]); rollback clears the challenger [rollback]; stop clears it [clear].
 * A move whose alias no longer points at `expectFrom` must throw (someone moved it meanwhile):
 * then nothing else changes and the error reaches the caller. With the registry's single-move
 * `moveAlias(db, MoveInput)` the adapter is one line:
 *   (shop, kind, alias, to, reason, actor, figures, ctx) =>
 *     void moveAlias(db, { shop, kind, alias, to, reason, actor, figures, action: ctx.action, expectFrom: ctx.expectFrom })
 */
export type MoveAlias = (shop: string, kind: string, alias: Alias, version: string | null, reason: string, actor: string, figures: DecisionFigures, ctx: MoveContext) => void;

export interface PolicyDeps {
  moveAlias: MoveAlias;
  now?: () => Date;
  /** Actor recorded for automatic decisions, default 'policy'. */
  actor?: string;
}

const STATUS_OF: Partial<Record<PolicyAction, Experiment['status']>> = { promote: 'promoted', rollback: 'rolled_back', stop: 'stopped', mark_broken: 'broken' };

/**
 * Carries out a decision: alias moves, status and decision log in one transaction (if the
 * registry refuses a move, nothing changes). A `hold` is logged only when its rule differs from
 * the last logged decision, so a frequent schedule does not flood the log.
 */
export function applyDecision(db: Db, e: Experiment, decision: Decision, deps: PolicyDeps, actor = deps.actor ?? 'policy'): Experiment {
  const at = (deps.now ?? (() => new Date()))();
  const { action, reason, figures } = decision;
  return db.transaction(() => {
    if (action === 'promote') {
      deps.moveAlias(e.shop, e.kind, 'champion', e.challengerVersion, reason, actor, figures, { action: 'promote', expectFrom: e.championVersion, experimentId: e.id });
      deps.moveAlias(e.shop, e.kind, 'challenger', null, `promoted to champion: ${reason}`, actor, figures, { action: 'clear', expectFrom: e.challengerVersion, experimentId: e.id });
    } else if (action === 'rollback' || action === 'stop') {
      deps.moveAlias(e.shop, e.kind, 'challenger', null, reason, actor, figures, { action: action === 'rollback' ? 'rollback' : 'clear', expectFrom: e.challengerVersion, experimentId: e.id });
    }
    const status = STATUS_OF[action];
    if (action === 'hold') {
      const last = decisionLog(db, e.id).at(-1);
      const lastRule = (last?.figures as { rule?: string } | null)?.rule;
      if (last?.action !== 'hold' || lastRule !== decision.rule) logDecision(db, { experimentId: e.id, shop: e.shop, at, action, reason, actor, figures });
      return getExperiment(db, e.id)!;
    }
    const updated = status ? setExperimentStatus(db, e.id, status, reason, at) : getExperiment(db, e.id)!;
    logDecision(db, { experimentId: e.id, shop: e.shop, at, action, reason, actor, figures });
    return updated;
  })();
}

export interface PolicyRun {
  decision: Decision;
  report: ExperimentReport;
  experiment: Experiment;
}

/** Evaluates one live experiment and acts on the result (the scheduled job; e.g. daily). */
export function runPolicy(db: Db, experimentId: number, deps: PolicyDeps): PolicyRun {
  const e = getExperiment(db, experimentId);
  if (!e) throw new RangeError(`no experiment #${experimentId}`);
  const report = buildReport(e, dailyTotals(db, e.id), (deps.now ?? (() => new Date()))());
  const decision = decide(report, e.config);
  if (decision.rule === 'ended') return { decision, report, experiment: e };
  const experiment = applyDecision(db, e, decision, deps);
  return { decision, report, experiment };
}

/** A person's promote / rollback / stop (CLI, API): same alias moves and log, with the current figures. */
export function manualDecision(db: Db, experimentId: number, action: 'promote' | 'rollback' | 'stop', deps: PolicyDeps & { actor: string; reason?: string }): PolicyRun {
  const e = getExperiment(db, experimentId);
  if (!e) throw new RangeError(`no experiment #${experimentId}`);
  if (!LIVE_STATUSES.includes(e.status)) throw new RangeError(`experiment #${experimentId} already ended (${e.status})`);
  const report = buildReport(e, dailyTotals(db, e.id), (deps.now ?? (() => new Date()))());
  const rule = `manual_${action}`;
  const decision: Decision = { action, rule, reason: deps.reason ?? `${action} by ${deps.actor}`, figures: decisionFigures(report, rule) };
  const experiment = applyDecision(db, e, decision, deps, deps.actor);
  return { decision, report, experiment };
}

// ---------------------------------------------------------------- planning

export interface TrafficBaseline {
  /** New units per day reaching the block (distinct units over the window ÷ days), null if unknown. */
  dailyUnits: number | null;
  /** Conversion rate of the last experiment's champion arm, null if unknown. */
  baselineRate: number | null;
  source: { dailyUnits: 'storefront_events' | 'previous_experiment' | 'none'; baselineRate: 'previous_experiment' | 'none' };
  windowDays: number;
}

/**
 * What the shop's recent traffic says, for the time-to-decision estimate: distinct units with a
 * storefront event over the last `windowDays` (÷ days ≈ new units per day over an experiment of that
 * length), and the champion arm's conversion rate in the last experiment (≥ 1,000 units).
 */
export function trafficBaseline(db: Db, shop: string, kind: string, asOf: string | Date = new Date(), windowDays = 28): TrafficBaseline {
  const end = typeof asOf === 'string' ? new Date(asOf) : asOf;
  const start = new Date(end.getTime() - windowDays * DAY_MS).toISOString();
  const units = db.prepare(`SELECT count(DISTINCT unit) FROM storefront_events WHERE shop = ? AND unit IS NOT NULL AND occurred_at >= ? AND occurred_at < ?`).pluck().get(shop, start, end.toISOString()) as number;
  const last = db.prepare(`SELECT id, started_at, ended_at FROM rollout_experiments WHERE shop = ? AND kind = ? ORDER BY id DESC LIMIT 1`).get(shop, kind) as { id: number; started_at: string; ended_at: string | null } | undefined;
  let baselineRate: number | null = null, prevDaily: number | null = null;
  if (last) {
    const t = dailyTotals(db, last.id);
    const cum = t.at(-1)?.cumulative;
    if (cum && cum.champion.units >= 1000) baselineRate = cum.champion.converters / cum.champion.units;
    const total = cum ? VARIANTS.reduce((s, v) => s + cum[v].units, 0) : 0;
    if (t.length > 0 && total > 0) prevDaily = total / t.length;
  }
  const dailyUnits = units > 0 ? units / windowDays : prevDaily;
  return {
    dailyUnits, baselineRate, windowDays,
    source: { dailyUnits: units > 0 ? 'storefront_events' : prevDaily !== null ? 'previous_experiment' : 'none', baselineRate: baselineRate !== null ? 'previous_experiment' : 'none' },
  };
}

export interface CanaryPlanInput {
  baselineRate: number;
  dailyUnits: number;
  holdoutPct?: number;
  challengerPct?: number;
  mdeRel?: number;
  alpha?: number;
  power?: number;
}

export interface CanaryPlan {
  estimate: TimeToDecision;
  /** Pass as `config` to startExperiment. */
  config: Partial<ExperimentConfig>;
}

/**
 * Time to decision of a canary (challenger vs champion) before it starts, and the config that
 * records the plan. `estimate.warning` is set when it would take more than 8 weeks.
 */
export function planCanary(input: CanaryPlanInput): CanaryPlan {
  const shares = variantShares({ holdoutPct: input.holdoutPct ?? 5, challengerPct: input.challengerPct ?? 5 });
  const mdeRel = input.mdeRel ?? 0.2, alpha = input.alpha ?? 0.05;
  const estimate = estimateTimeToDecision({
    baselineRate: input.baselineRate, dailyUnits: input.dailyUnits, shareA: shares.champion, shareB: shares.challenger,
    mdeRel, alpha, power: input.power ?? 0.8,
  });
  return {
    estimate,
    config: {
      baselineRate: input.baselineRate, mdeRel, alpha, tau: estimate.tau, dailyUnits: input.dailyUnits,
      plannedChallengerUnits: estimate.unitsB, plannedDays: estimate.days,
      // A plan longer than 8 weeks (warned about) gets its time, up to a year, before `stop`.
      maxDays: Math.min(365, Math.max(56, estimate.days ?? 56)),
    },
  };
}
