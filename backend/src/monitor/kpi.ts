// Business KPIs of the recommendations, and when a drop is worth a retrain.
//
//   champion vs holdout  From the shop's live (or recently ended) recommend experiment
//                        (rollout/policy.ts experimentReport): conversion and revenue per visitor
//                        of the champion arm against the holdout (popularity, no personal model).
//                        A drop: the anytime-valid mSPRT says the champion converts worse than the
//                        holdout (the same test the rollout uses, valid under repeated looks). Its
//                        revenue impact: (RPV champion − RPV holdout) × champion visitors.
//   click-through        Clicks / list impressions of the champion arm (storefront_events) in the
//                        last kpiWindowDays against the kpiBaselineDays before: a relative drop of
//                        at least ctrDrop with a two-proportion z test p < kpiAlpha. Its revenue
//                        impact: the attributed revenue per impression (rec_conversions) the
//                        baseline earned minus what the current window earned, × current impressions.
// Either breaches only when the drop is significant AND its revenue impact is a loss larger than
// minRevenueImpact (store currency): a significant drop that costs nothing is not a reason to retrain.
import type { Db } from '../store/db.ts';
import { DAY_MS } from '../features/customers.ts';
import { listExperiments } from '../rollout/experiments.ts';
import { experimentReport, type ExperimentReport } from '../rollout/policy.ts';
import { twoProportionZTest } from '../rollout/stats.ts';

export interface KpiSettings {
  kpiWindowDays: number;
  kpiBaselineDays: number;
  /** Relative click-through drop (0.2 = 20% lower than the baseline). */
  ctrDrop: number;
  /** Significance of the click-through z test (one look per monitor run). */
  kpiAlpha: number;
  /** Loss (store currency) a drop must cost before it is a retrain reason; 0: any loss. */
  minRevenueImpact: number;
  /** Fewest impressions in each window for a click-through verdict. */
  minImpressions: number;
}

export const DEFAULT_KPI_SETTINGS: Readonly<KpiSettings> = Object.freeze({ kpiWindowDays: 7, kpiBaselineDays: 28, ctrDrop: 0.2, kpiAlpha: 0.01, minRevenueImpact: 0, minImpressions: 200 });

export type ExperimentKpi =
  | { status: 'none'; detail: string }
  | {
    status: 'scored';
    experimentId: number;
    experimentStatus: string;
    days: number;
    champion: { units: number; conversion: number; revenuePerVisitor: number };
    holdout: { units: number; conversion: number; revenuePerVisitor: number };
    /** Champion − holdout. */
    conversionDiff: number;
    conversionLift: number;
    /** Always-valid p-value and direction of the mSPRT on conversion (−1: champion worse). */
    sequentialP: number;
    direction: -1 | 0 | 1;
    revenuePerVisitorDiff: number;
    revenuePerVisitorP: number;
    /** (RPV champion − RPV holdout) × champion visitors: what the personal model earned (lost, if negative). */
    revenueImpact: number;
    breached: boolean;
    detail: string;
  };

const money = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : 'n/a');
const pct = (x: number) => (Number.isFinite(x) ? `${(x * 100).toFixed(2)}%` : 'n/a');

/** Judges champion vs holdout from an experiment report (pure). */
export function judgeExperiment(r: ExperimentReport, s: KpiSettings = DEFAULT_KPI_SETTINGS): ExperimentKpi {
  const c = r.variants.champion, h = r.variants.holdout, cmp = r.championVsHoldout;
  const rpvDiff = c.revenuePerVisitor.mean - h.revenuePerVisitor.mean;
  const revenueImpact = Number.isFinite(rpvDiff) ? rpvDiff * c.units : NaN;
  const worse = cmp.sequential.reject && cmp.sequential.direction < 0;
  const costs = Number.isFinite(revenueImpact) && -revenueImpact > s.minRevenueImpact;
  const breached = worse && costs;
  const detail = `champion conversion ${pct(c.conversion.rate)} over ${c.units} visitors vs holdout ${pct(h.conversion.rate)} over ${h.units} `
    + `(mSPRT p ${cmp.sequential.p.toFixed(4)}${worse ? ', champion worse' : ''}); revenue per visitor ${money(c.revenuePerVisitor.mean)} vs ${money(h.revenuePerVisitor.mean)}, `
    + `impact ${money(revenueImpact)}${breached ? ` (loss above ${s.minRevenueImpact})` : ''}`;
  return {
    status: 'scored', experimentId: r.experimentId, experimentStatus: r.status, days: r.days,
    champion: { units: c.units, conversion: c.conversion.rate, revenuePerVisitor: c.revenuePerVisitor.mean },
    holdout: { units: h.units, conversion: h.conversion.rate, revenuePerVisitor: h.revenuePerVisitor.mean },
    conversionDiff: cmp.zTest.diff, conversionLift: cmp.zTest.lift, sequentialP: cmp.sequential.p, direction: cmp.sequential.direction,
    revenuePerVisitorDiff: rpvDiff, revenuePerVisitorP: cmp.revenuePerVisitor.p, revenueImpact, breached, detail,
  };
}

/** The recommend experiment to judge: the live one, else the latest that ended within the baseline period. */
export function experimentKpi(db: Db, shop: string, nowMs: number, s: KpiSettings = DEFAULT_KPI_SETTINGS): ExperimentKpi {
  const since = nowMs - (s.kpiWindowDays + s.kpiBaselineDays) * DAY_MS;
  const e = listExperiments(db, shop, 'recommend').find((x) => x.endedAt === null || Date.parse(x.endedAt) >= since);
  if (!e) return { status: 'none', detail: 'no recommend experiment (holdout) running or recently ended' };
  return judgeExperiment(experimentReport(db, e.id, new Date(Math.max(nowMs, Date.parse(e.startedAt)))), s);
}

export interface CtrWindow {
  from: string;
  to: string;
  impressions: number;
  clicks: number;
  ctr: number;
  /** Revenue of order lines attributed to the champion's lists (rec_conversions). */
  revenue: number;
  revenuePerImpression: number;
}

export type CtrKpi =
  | { status: 'none'; detail: string }
  | {
    status: 'scored';
    baseline: CtrWindow;
    current: CtrWindow;
    /** current / baseline − 1. */
    relativeChange: number;
    pValue: number;
    /** (baseline − current revenue per impression) × current impressions; positive: a loss. */
    revenueAtStake: number;
    breached: boolean;
    detail: string;
  };

/** Impressions, clicks and attributed revenue of the champion arm in [from, to). */
export function ctrWindow(db: Db, shop: string, fromMs: number, toMs: number): CtrWindow {
  const from = new Date(fromMs).toISOString(), to = new Date(toMs).toISOString();
  const ev = db.prepare(`SELECT sum(type = 'impression') AS impressions, sum(type = 'click') AS clicks FROM storefront_events
    WHERE shop = ? AND variant = 'champion' AND occurred_at >= ? AND occurred_at < ?`).get(shop, from, to) as { impressions: number | null; clicks: number | null };
  const revenue = (db.prepare(`SELECT coalesce(sum(revenue), 0) FROM rec_conversions WHERE shop = ? AND variant = 'champion' AND ordered_at >= ? AND ordered_at < ?`)
    .pluck().get(shop, from, to) as number) ?? 0;
  const impressions = ev.impressions ?? 0, clicks = ev.clicks ?? 0;
  return { from, to, impressions, clicks, ctr: impressions > 0 ? clicks / impressions : NaN, revenue, revenuePerImpression: impressions > 0 ? revenue / impressions : NaN };
}

/** Judges the click-through of two windows (pure). */
export function judgeCtr(baseline: CtrWindow, current: CtrWindow, s: KpiSettings = DEFAULT_KPI_SETTINGS): CtrKpi {
  if (baseline.impressions < s.minImpressions || current.impressions < s.minImpressions) {
    return { status: 'none', detail: `too few champion impressions to judge click-through (baseline ${baseline.impressions}, current ${current.impressions}; need ${s.minImpressions} each)` };
  }
  const clicksB = Math.min(baseline.clicks, baseline.impressions), clicksC = Math.min(current.clicks, current.impressions);
  const t = twoProportionZTest(clicksB, baseline.impressions, clicksC, current.impressions);
  const relativeChange = baseline.ctr > 0 ? current.ctr / baseline.ctr - 1 : NaN;
  const revenueAtStake = (baseline.revenuePerImpression - current.revenuePerImpression) * current.impressions;
  const dropped = relativeChange <= -s.ctrDrop && t.p < s.kpiAlpha;
  const costs = revenueAtStake > s.minRevenueImpact;
  const breached = dropped && costs;
  return {
    status: 'scored', baseline, current, relativeChange, pValue: t.p, revenueAtStake, breached,
    detail: `click-through ${pct(current.ctr)} (${current.clicks}/${current.impressions}) vs ${pct(baseline.ctr)} before (${(relativeChange * 100).toFixed(1)}%, p ${t.p.toPrecision(3)}; `
      + `drop limit ${(s.ctrDrop * 100).toFixed(0)}% at p < ${s.kpiAlpha}); revenue at stake ${money(revenueAtStake)}`,
  };
}

export function ctrKpi(db: Db, shop: string, nowMs: number, s: KpiSettings = DEFAULT_KPI_SETTINGS): CtrKpi {
  const curFrom = nowMs - s.kpiWindowDays * DAY_MS;
  return judgeCtr(ctrWindow(db, shop, curFrom - s.kpiBaselineDays * DAY_MS, curFrom), ctrWindow(db, shop, curFrom, nowMs), s);
}
