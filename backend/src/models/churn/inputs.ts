// The model inputs of the churn / value models, built from customer features (features/
// customers.ts) as of one date plus the BG/NBD quantities fitted on the history up to that same
// date. Training rows are built as of (asOf − horizon) and scored rows as of asOf, with the same
// code, so a model sees the same definitions at both ends.
import { DAY_MS, type CustomerFeatures } from '../../features/customers.ts';
import { bgnbdExpected, bgnbdPAlive, bgnbdProbabilityActive, fitBgNbd, fitGammaGamma, gammaGammaExpectedSpend, type BgNbdParams, type GammaGammaParams } from '../../ml/bgnbd.ts';

/** Inputs of the logistic_rfm baseline: log RFM + tenure. */
export const RFM_INPUTS = ['log1p_recency', 'log_frequency', 'log1p_monetary', 'log1p_tenure'] as const;

/** Inputs of shopml's own models (linear and MLP). */
export const RICH_INPUTS = [
  'log1p_recency', 'log_frequency', 'log_purchase_days', 'log1p_monetary', 'log1p_tenure', 'log1p_avg_order_value',
  'log1p_orders_30d', 'log1p_orders_90d', 'log1p_spend_90d', 'repeat_rate', 'log1p_distinct_products', 'return_rate',
  'bgnbd_p_active', 'log1p_bgnbd_expected', 'bgnbd_p_alive',
] as const;

export interface BgNbdInputs { x: Float64Array; tx: Float64Array; T: Float64Array }

/** BG/NBD inputs in days: repeat purchase days, age at the last purchase day, age now. */
export function bgnbdInputs(f: CustomerFeatures): BgNbdInputs {
  const n = f.ids.length;
  const x = new Float64Array(n), tx = new Float64Array(n), T = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    x[i] = f.purchaseDays[i]! - 1;
    T[i] = f.tenureDays[i]!;
    tx[i] = Math.max(0, f.tenureDays[i]! - f.recencyDays[i]!);
  }
  return { x, tx, T };
}

export interface ProbabilisticModels {
  bgnbd: BgNbdParams | null;
  gammaGamma: GammaGammaParams | null;
}

/** Fits BG/NBD (purchase days) and Gamma-Gamma (spend per purchase day) on one feature snapshot. */
export function fitProbabilistic(f: CustomerFeatures): ProbabilisticModels {
  if (f.ids.length < 2) return { bgnbd: null, gammaGamma: null };
  const bg = bgnbdInputs(f);
  const { r, alpha, a, b } = fitBgNbd(bg);
  let gammaGamma: GammaGammaParams | null = null;
  const { n, m } = spendPerDay(f);
  if (n.length >= 2) {
    const g = fitGammaGamma(n, m);
    gammaGamma = { p: g.p, q: g.q, gamma: g.gamma };
  }
  return { bgnbd: { r, alpha, a, b }, gammaGamma };
}

function spendPerDay(f: CustomerFeatures): { n: Float64Array; m: Float64Array } {
  const idx: number[] = [];
  for (let i = 0; i < f.ids.length; i++) if (f.monetary[i]! > 0) idx.push(i);
  return {
    n: Float64Array.from(idx, (i) => f.purchaseDays[i]!),
    m: Float64Array.from(idx, (i) => f.monetary[i]! / f.purchaseDays[i]!),
  };
}

export interface ProbabilisticScores {
  /** P(at least one purchase within the horizon). */
  pActive: Float64Array;
  /** Expected purchase days within the horizon. */
  expected: Float64Array;
  pAlive: Float64Array;
  /** Expected spend per purchase day (Gamma-Gamma posterior mean). */
  spendPerPurchase: Float64Array;
  /** Median days to the next purchase if still active (posterior of the purchase rate). */
  medianWaitDays: Float64Array;
}

export function probabilisticScores(f: CustomerFeatures, pm: ProbabilisticModels, horizonDays: number): ProbabilisticScores {
  const n = f.ids.length;
  const out: ProbabilisticScores = {
    pActive: new Float64Array(n), expected: new Float64Array(n), pAlive: new Float64Array(n),
    spendPerPurchase: new Float64Array(n), medianWaitDays: new Float64Array(n),
  };
  const bg = bgnbdInputs(f);
  for (let i = 0; i < n; i++) {
    const x = bg.x[i]!, tx = bg.tx[i]!, T = bg.T[i]!;
    const perDay = f.purchaseDays[i]! > 0 ? f.monetary[i]! / f.purchaseDays[i]! : 0;
    if (pm.bgnbd) {
      const p = pm.bgnbd;
      out.pActive[i] = bgnbdProbabilityActive(p, x, tx, T, horizonDays);
      out.expected[i] = bgnbdExpected(p, x, tx, T, horizonDays);
      out.pAlive[i] = bgnbdPAlive(p, x, tx, T);
      // P(no purchase in t | alive) = ((α+T)/(α+T+t))^{r+x} = 1/2.
      out.medianWaitDays[i] = (p.alpha + T) * (2 ** (1 / (p.r + x)) - 1);
    } else {
      out.pActive[i] = 0.5; out.expected[i] = 0; out.pAlive[i] = 1;
      out.medianWaitDays[i] = f.frequency[i]! > 1 ? f.meanGapDays[i]! : horizonDays;
    }
    out.spendPerPurchase[i] = pm.gammaGamma ? gammaGammaExpectedSpend(pm.gammaGamma, f.purchaseDays[i]!, perDay) : perDay;
    if (!Number.isFinite(out.spendPerPurchase[i]!)) out.spendPerPurchase[i] = perDay;
  }
  return out;
}

export function rfmRow(f: CustomerFeatures, i: number): number[] {
  return [Math.log1p(f.recencyDays[i]!), Math.log(f.frequency[i]!), Math.log1p(f.monetary[i]!), Math.log1p(f.tenureDays[i]!)];
}

export function richRow(f: CustomerFeatures, ps: ProbabilisticScores, i: number): number[] {
  return [
    Math.log1p(f.recencyDays[i]!), Math.log(f.frequency[i]!), Math.log(f.purchaseDays[i]!), Math.log1p(f.monetary[i]!),
    Math.log1p(f.tenureDays[i]!), Math.log1p(f.avgOrderValue[i]!), Math.log1p(f.orders30d[i]!), Math.log1p(f.orders90d[i]!),
    Math.log1p(f.spend90d[i]!), f.repeatRate[i]!, Math.log1p(f.distinctProducts[i]!), Math.min(1, Math.max(0, f.returnRate[i]!)),
    ps.pActive[i]!, Math.log1p(ps.expected[i]!), ps.pAlive[i]!,
  ];
}

export { DAY_MS };
