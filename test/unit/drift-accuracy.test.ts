// Live accuracy (pure functions on constructed histories and forecasts) and the retrain decision.
import { describe, expect, it } from 'vitest';
import type { CustomerHistories } from '../../backend/src/features/customers.ts';
import type { SaleLine } from '../../backend/src/features/clean.ts';
import type { ForecastArtifact } from '../../backend/src/models/forecast/train.ts';
import { churnAccuracy, forecastAccuracy } from '../../backend/src/monitor/accuracy.ts';
import { judgeCtr, type CtrWindow } from '../../backend/src/monitor/kpi.ts';
import { decideRetrain, type MonitorReport } from '../../backend/src/monitor/monitor.ts';
import { createPrng } from '../../backend/src/ml/prng.ts';

const DAY = 86_400_000, WEEK = 7 * DAY;
const W = Date.parse('2026-03-02T00:00:00.000Z'); // a Monday

/** 200 customers with one order before W; the even ones order again within 90 days of W. */
function histories(): CustomerHistories {
  return {
    products: ['p'],
    customers: Array.from({ length: 200 }, (_, i) => ({
      customerId: `c${String(i).padStart(3, '0')}`,
      orders: [{ orderId: `a${i}`, time: W - 30 * DAY, value: 20, products: [0] }, ...(i % 2 === 0 ? [{ orderId: `b${i}`, time: W + 10 * DAY, value: 20, products: [0] }] : [])],
      returns: [],
    })),
  };
}

describe('churn live accuracy', () => {
  const candidate = { version: 'v'.repeat(64), watermark: new Date(W).toISOString(), horizonDays: 90, metrics: { validation_auc: 0.8, validation_brier: 0.2 } };

  it('waits until the horizon has passed', () => {
    const r = churnAccuracy([candidate], W + 60 * DAY, histories(), () => new Map());
    expect(r).toMatchObject({ status: 'waiting', maturesAt: new Date(W + 90 * DAY).toISOString() });
  });

  it('scores stored predictions against who ordered: a good model passes, an inverted one breaches', () => {
    const h = histories();
    const good = churnAccuracy([candidate], W + 90 * DAY, h, () => new Map(h.customers.map((c, i) => [c.customerId, i % 2 === 0 ? 0.7 : 0.3])));
    expect(good).toMatchObject({ status: 'scored', customers: 200, ordered: 100, auc: 1, breached: false });
    if (good.status === 'scored') expect(good.brier).toBeCloseTo(0.09, 12); // (0.3)² for everyone
    const bad = churnAccuracy([candidate], W + 90 * DAY, h, () => new Map(h.customers.map((c, i) => [c.customerId, i % 2 === 0 ? 0.3 : 0.7])));
    expect(bad).toMatchObject({ status: 'scored', auc: 0, breached: true });
    if (bad.status === 'scored') {
      expect(bad.aucDrop).toBeCloseTo(0.8, 12);
      expect(bad.brierRise).toBeCloseTo(0.49 - 0.2, 12);
    }
  });

  it('uses the newest matured version and needs enough customers with both outcomes', () => {
    const newer = { ...candidate, version: 'w'.repeat(64), watermark: new Date(W + 30 * DAY).toISOString() };
    const r = churnAccuracy([newer, candidate], W + 100 * DAY, histories(), (v) => new Map(v === candidate.version ? [['c000', 0.5]] : []));
    expect(r).toMatchObject({ status: 'scored', version: candidate.version, customers: 1, breached: false });
    expect(r.status === 'scored' && r.detail).toMatch(/too few/);
  });
});

describe('forecast live accuracy', () => {
  const rng = createPrng('forecast-accuracy');
  /** 30 weeks of ~10 units/week for 6 products before the origin, then `after` units/week. */
  function sales(after: number): SaleLine[] {
    const out: SaleLine[] = [];
    for (let p = 0; p < 6; p++) {
      for (let w = -30; w < 6; w++) {
        const units = w < 0 ? 8 + rng.below(5) : after;
        out.push({ orderId: `o${p}-${w}`, customerId: null, productId: `p${p}`, title: null, time: W + w * WEEK + 2 * DAY, quantity: units, price: 5, country: null });
      }
    }
    return out;
  }
  const artifact = {
    weekStart: new Date(W).toISOString(), horizonWeeks: 13,
    products: Array.from({ length: 6 }, (_, p) => ({ productId: `p${p}`, weekly: { mean: Array(13).fill(10), lo: [], hi: [] } })),
  } as unknown as ForecastArtifact;
  const champion = { version: 'f'.repeat(64), artifact, metrics: { validation_rmsse: 0.8 } };

  it('waits for the first whole week after the forecast week', () => {
    expect(forecastAccuracy(champion, sales(10), W + 13 * DAY).status).toBe('waiting');
  });

  it('scores ended weeks: steady demand passes, tripled demand breaches', () => {
    const steady = forecastAccuracy(champion, sales(10), W + 5 * WEEK);
    expect(steady).toMatchObject({ status: 'scored', weeks: 4, products: 6, breached: false });
    if (steady.status === 'scored') { expect(steady.rmsse).toBe(0); expect(steady.wape).toBe(0); }
    const tripled = forecastAccuracy(champion, sales(30), W + 5 * WEEK);
    expect(tripled).toMatchObject({ status: 'scored', weeks: 4, breached: true });
    if (tripled.status === 'scored') {
      expect(tripled.bias).toBeCloseTo(10 / 30 - 1, 12);
      expect(tripled.wape).toBeCloseTo(20 / 30, 12);
      expect(tripled.rmsse).toBeGreaterThan(0.8 * 1.5);
    }
  });
});

describe('retrain decision', () => {
  const quiet: Pick<MonitorReport, 'drift' | 'accuracy' | 'kpi'> = {
    drift: { anchor: null, skipped: null, windows: null, groups: [], columns: [], judged: 10, drifted: 2, share: 0.2, threshold: 0.5, datasetDrift: false },
    accuracy: { churn: { status: 'none', detail: '' }, forecast: { status: 'none', detail: '' } },
    kpi: { championVsHoldout: { status: 'none', detail: '' }, clickThrough: { status: 'none', detail: '' } },
  };

  it('is null when nothing breaches', () => {
    expect(decideRetrain(quiet)).toBeNull();
  });

  it('joins every breached trigger, with the model kinds concerned', () => {
    const w = (impressions: number, clicks: number, revenue: number): CtrWindow => ({ from: '', to: '', impressions, clicks, ctr: clicks / impressions, revenue, revenuePerImpression: revenue / impressions });
    const clickThrough = judgeCtr(w(5000, 250, 1000), w(2000, 40, 100));
    expect(clickThrough).toMatchObject({ status: 'scored', breached: true });
    const d = decideRetrain({
      ...quiet,
      accuracy: { ...quiet.accuracy, forecast: { status: 'scored', version: 'f', origin: '', weeks: 4, products: 9, rmsse: 2, naiveRmsse: 2.1, wape: 0.5, bias: -0.3, validation: { rmsse: 1 }, rise: 1, breached: true, detail: 'live RMSSE 2' } },
      kpi: { ...quiet.kpi, clickThrough },
    })!;
    expect(d.triggers.map((t) => t.name)).toEqual(['forecast_accuracy', 'click_through']);
    expect(d.kinds).toEqual(['recommend', 'forecast']);
    expect(d.reason).toMatch(/^forecast error rose: live RMSSE 2; recommendation click-through dropped: /);
    expect(Object.keys(d.figures)).toEqual(['forecast_accuracy', 'click_through']);
  });
});
