// Rollout status per experiment: the policy's own report (rollout/policy.ts experimentReport —
// conversion and revenue per visitor per variant with intervals, SRM, sequential tests,
// guardrails), what the policy would decide now, the time to decision, conversion over time
// with Wilson intervals per day, and the decision log.
import type { Db } from '../../store/db.ts';
import { VARIANTS, type Variant } from '../../rollout/bucket.ts';
import { dailyTotals, decisionLog, listExperiments, LIVE_STATUSES, type Experiment } from '../../rollout/experiments.ts';
import { buildReport, decide, type ExperimentReport } from '../../rollout/policy.ts';
import { estimateTimeToDecision, wilson } from '../../rollout/stats.ts';

export interface ConversionSeries {
  /** Day starts, seconds since epoch (UTC). */
  x: number[];
  /** Cumulative conversion rate per variant through each day, with 95% Wilson bounds. */
  rate: Record<Variant, (number | null)[]>;
  lo: Record<Variant, (number | null)[]>;
  hi: Record<Variant, (number | null)[]>;
  units: Record<Variant, number[]>;
}

export interface TimeToDecisionView {
  daysElapsed: number;
  plannedDays: number | null;
  plannedChallengerUnits: number | null;
  progress: number | null;
  /** Estimated from the traffic and conversion seen so far (null: no traffic yet). */
  estimatedDays: number | null;
  remainingDays: number | null;
  basis: { baselineRate: number; dailyUnits: number } | null;
  warning: string | null;
}

export interface ExperimentView {
  id: number;
  kind: string;
  status: Experiment['status'];
  statusReason: string | null;
  live: boolean;
  startedAt: string;
  endedAt: string | null;
  championVersion: string;
  challengerVersion: string;
  report: ExperimentReport;
  /** What the policy would do if evaluated now (live experiments). */
  nextDecision: { action: string; rule: string; reason: string } | null;
  timeToDecision: TimeToDecisionView;
  series: ConversionSeries;
  decisions: { at: string; action: string; reason: string; actor: string }[];
}

const emptyByVariant = <T>(f: () => T): Record<Variant, T> => ({ holdout: f(), challenger: f(), champion: f() });

export function conversionSeries(daily: ReturnType<typeof dailyTotals>): ConversionSeries {
  const s: ConversionSeries = { x: [], rate: emptyByVariant(() => []), lo: emptyByVariant(() => []), hi: emptyByVariant(() => []), units: emptyByVariant(() => []) };
  for (const d of daily) {
    s.x.push(Date.parse(`${d.day}T00:00:00Z`) / 1000);
    for (const v of VARIANTS) {
      const c = d.cumulative[v];
      const w = wilson(c.converters, c.units);
      const has = c.units > 0;
      s.rate[v].push(has ? w.rate : null);
      s.lo[v].push(has ? w.lo : null);
      s.hi[v].push(has ? w.hi : null);
      s.units[v].push(c.units);
    }
  }
  return s;
}

export function timeToDecision(e: Experiment, r: ExperimentReport): TimeToDecisionView {
  const c = e.config;
  const total = VARIANTS.reduce((s, v) => s + r.variants[v].units, 0);
  const champ = r.variants.champion;
  const elapsedDays = Math.max(1, (Date.parse(r.asOf) - Date.parse(e.startedAt)) / 86_400_000);
  const dailyUnits = total > 0 ? total / elapsedDays : c.dailyUnits;
  // The champion's observed rate once it means something, else the rate assumed at the start.
  const baselineRate = champ.converters >= 10 && champ.units > 0 ? champ.converters / champ.units : c.baselineRate;
  let estimatedDays: number | null = null, warning: string | null = null, basis: TimeToDecisionView['basis'] = null;
  if (dailyUnits !== null && dailyUnits > 0 && baselineRate > 0 && baselineRate < 1 && r.split.challenger > 0 && r.split.champion > 0) {
    const est = estimateTimeToDecision({ baselineRate, dailyUnits, shareA: r.split.champion, shareB: r.split.challenger, mdeRel: c.mdeRel, alpha: c.alpha, tau: c.tau });
    estimatedDays = est.days;
    warning = est.warning;
    basis = { baselineRate, dailyUnits };
  }
  return {
    daysElapsed: r.days,
    plannedDays: r.plan.plannedDays,
    plannedChallengerUnits: r.plan.plannedChallengerUnits,
    progress: r.plan.progress,
    estimatedDays,
    remainingDays: estimatedDays === null ? null : Math.max(0, estimatedDays - r.days),
    basis,
    warning,
  };
}

/** The shop's experiments, newest first (live ones in full; at most `limit`). */
export function rolloutView(db: Db, shop: string, now: Date, limit = 4): ExperimentView[] {
  return listExperiments(db, shop).slice(0, limit).map((e) => {
    const daily = dailyTotals(db, e.id);
    const asOf = e.endedAt && Date.parse(e.endedAt) < now.getTime() ? new Date(e.endedAt) : now;
    const report = buildReport(e, daily, asOf);
    const live = LIVE_STATUSES.includes(e.status);
    const d = live ? decide(report, e.config) : null;
    return {
      id: e.id, kind: e.kind, status: e.status, statusReason: e.statusReason, live, startedAt: e.startedAt, endedAt: e.endedAt,
      championVersion: e.championVersion, challengerVersion: e.challengerVersion, report,
      nextDecision: d ? { action: d.action, rule: d.rule, reason: d.reason } : null,
      timeToDecision: timeToDecision(e, report),
      series: conversionSeries(daily),
      decisions: decisionLog(db, e.id).slice(-15).reverse().map((x) => ({ at: x.at, action: x.action, reason: x.reason, actor: x.actor })),
    };
  });
}
