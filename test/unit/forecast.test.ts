// Known answers, computed by hand, for the forecasting methods, the scaled error metrics and the
// inventory figures.
import { describe, expect, it } from 'vitest';
import {
  crostonForecast, crostonState, fitSes, holtForecast, holtState, movingAverageForecast, naiveForecast, sesForecast, sesLevel,
  tsbForecast, tsbState,
} from '../../backend/src/models/forecast/methods.ts';
import { mase, naiveScale, rmsse } from '../../backend/src/models/forecast/metrics.ts';
import { demandOver, inventoryFigures, serviceZ, stockoutDay } from '../../backend/src/models/forecast/inventory.ts';

describe('scaled errors', () => {
  // in-sample [1,3,2,4]: one-step naive errors 2, −1, 2 → MAE 5/3, MSE 3.
  const insample = [1, 3, 2, 4];
  it('naive scale', () => {
    expect(naiveScale(insample).mae).toBeCloseTo(5 / 3, 12);
    expect(naiveScale(insample).mse).toBeCloseTo(3, 12);
  });
  it('MASE and RMSSE', () => {
    // actual [3,5] vs forecast [4,4]: |e| = 1, 1; e² = 1, 1.
    expect(mase([3, 5], [4, 4], insample)).toBeCloseTo(1 / (5 / 3), 12); // 0.6
    expect(rmsse([3, 5], [4, 4], insample)).toBeCloseTo(Math.sqrt(1 / 3), 12);
    // actual [0,0,6] vs [2,2,2]: MAE 8/3 → MASE 1.6; MSE 24/3 = 8 → RMSSE √(8/3).
    expect(mase([0, 0, 6], [2, 2, 2], insample)).toBeCloseTo(1.6, 12);
    expect(rmsse([0, 0, 6], [2, 2, 2], insample)).toBeCloseTo(Math.sqrt(8 / 3), 12);
  });
});

describe('local methods', () => {
  it('naive and moving average', () => {
    expect(naiveForecast([5, 2, 7], 3)).toEqual([7, 7, 7]);
    expect(movingAverageForecast([1, 2, 3, 4, 5, 6], 2, 4)).toEqual([4.5, 4.5]);
    expect(movingAverageForecast([2, 4], 1, 13)).toEqual([3]); // shorter than the window: all of it
  });

  it('SES: l0 = y0, l_t = αy_t + (1−α)l_{t−1}', () => {
    // y = [10, 0, 5, 15], α = 0.5: levels 10, 5, 5, 10; one-step errors −10, 0, 10 → SSE 200.
    expect(sesLevel([10, 0, 5, 15], 0.5)).toEqual({ level: 10, sse: 200 });
    expect(sesForecast([10, 0, 5, 15], 2, 0.5)).toEqual([10, 10]);
    // α = 0.2: 10, 8, 7.4, 8.92.
    expect(sesLevel([10, 0, 5, 15], 0.2).level).toBeCloseTo(8.92, 12);
    // A constant series: every α fits perfectly; the grid keeps the first.
    expect(fitSes([4, 4, 4, 4])).toEqual({ alpha: 0.01, level: 4 });
  });

  it('Holt (φ = 1 and damped)', () => {
    // y = [1,3,5], α = β = 0.5, φ = 1: l = 1, 2, 3.75; b = 0, 0.5, 1.125.
    const s = holtState([1, 3, 5], { alpha: 0.5, beta: 0.5, phi: 1 });
    expect(s.level).toBeCloseTo(3.75, 12);
    expect(s.trend).toBeCloseTo(1.125, 12);
    expect(s.sse).toBeCloseTo(2 ** 2 + 2.5 ** 2, 12);
    const f = holtForecast([1, 3, 5], 2, { alpha: 0.5, beta: 0.5, phi: 1 });
    expect(f[0]).toBeCloseTo(4.875, 12);
    expect(f[1]).toBeCloseTo(6, 12);
    // φ = 0.5: l = 1, 2, 3.625; b = 0, 0.5, 0.9375; h=1: l + 0.5b, h=2: l + 0.75b.
    const d = holtForecast([1, 3, 5], 2, { alpha: 0.5, beta: 0.5, phi: 0.5 });
    expect(d[0]).toBeCloseTo(4.09375, 12);
    expect(d[1]).toBeCloseTo(4.328125, 12);
    // Never negative.
    expect(holtForecast([9, 5, 1], 5, { alpha: 0.9, beta: 0.9, phi: 1 }).every((v) => v >= 0)).toBe(true);
  });

  it('Croston and SBA', () => {
    // y = [0,0,4,0,6,0,0,0], α = 0.5: first demand 4 at position 3 → z = 4, p = 3;
    // next demand 6 after 2 weeks → z = 5, p = 2.5 → 2; SBA × (1 − α/2) = 1.5.
    expect(crostonState([0, 0, 4, 0, 6, 0, 0, 0], 0.5).forecast).toBeCloseTo(2, 12);
    expect(crostonForecast([0, 0, 4, 0, 6, 0, 0, 0], 2, 0.5, true)).toEqual([1.5, 1.5]);
    expect(crostonState([0, 0, 0], 0.1).forecast).toBe(0);
  });

  it('TSB', () => {
    // y = [0,4,0,0], α = β = 0.5: p0 = 1/4, z0 = 4; p: 0.125 → 0.5625 → 0.28125 → 0.140625; z stays 4.
    expect(tsbState([0, 4, 0, 0], 0.5, 0.5).forecast).toBeCloseTo(0.5625, 12);
    expect(tsbForecast([0, 4, 0, 0], 3, 0.5, 0.5)).toEqual([0.5625, 0.5625, 0.5625]);
    // An item that stopped selling decays (Croston's would stay at its last size/interval).
    const stopped = [3, 3, 3, 3, 0, 0, 0, 0, 0, 0];
    expect(tsbState(stopped, 0.1, 0.3).forecast).toBeLessThan(crostonState(stopped, 0.1).forecast / 5);
  });
});

describe('inventory figures', () => {
  const daily = new Array<number>(28).fill(10);
  it('service level z', () => {
    expect(serviceZ(0.95)).toBeCloseTo(1.6448536, 6);
    expect(serviceZ(0.5)).toBeCloseTo(0, 12);
    expect(() => serviceZ(1)).toThrow(RangeError);
  });

  it('demand over a period, stock-out day', () => {
    expect(demandOver(daily, 14)).toBe(140);
    expect(demandOver(daily, 2.5)).toBe(25);
    expect(demandOver([1, 2], 4)).toBe(1 + 2 + 1.5 + 1.5); // past the end: the last days' mean
    expect(stockoutDay(daily, 100)).toBe(10); // cumulative 100 after day 9 (not more), 110 on day 10
    expect(stockoutDay(daily, 0)).toBe(0);
    expect(stockoutDay(daily, 1000)).toBeNull();
  });

  it('reorder point, safety stock, order-up-to and the suggested order', () => {
    // 10/day, σ_w = 7, L = 14, R = 7, 95%: σ_L = 7√2, SS = zσ_L, ROP = 140 + SS, S = 210 + z·7·√3.
    const z = serviceZ(0.95);
    const inv = inventoryFigures({ daily, sigmaWeekly: 7, stock: 100, leadTimeDays: 14, reviewDays: 7, serviceLevel: 0.95 });
    expect(inv.demandOverLeadTime).toBe(140);
    expect(inv.sigmaLeadTime).toBeCloseTo(7 * Math.SQRT2, 12);
    expect(inv.safetyStock).toBeCloseTo(z * 7 * Math.SQRT2, 12); // 16.283
    expect(inv.reorderPoint).toBeCloseTo(140 + 16.2832, 3);
    expect(inv.orderUpTo).toBeCloseTo(210 + z * 7 * Math.sqrt(3), 12); // 229.943
    expect(inv.suggestedOrderQty).toBe(130); // ⌈229.943 − 100⌉
    expect(inv.stockoutDay).toBe(10);
    const plenty = inventoryFigures({ daily, sigmaWeekly: 7, stock: 200, leadTimeDays: 14, reviewDays: 7, serviceLevel: 0.95 });
    expect(plenty.suggestedOrderQty).toBe(0); // above the reorder point
    expect(plenty.stockoutDay).toBe(20); // cumulative 200 after day 19, 210 on day 20
    const unknown = inventoryFigures({ daily, sigmaWeekly: 7, stock: null, leadTimeDays: 14, reviewDays: 7, serviceLevel: 0.95 });
    expect(unknown.suggestedOrderQty).toBeNull();
    expect(unknown.stockoutDay).toBeNull();
    expect(unknown.reorderPoint).toBeCloseTo(inv.reorderPoint, 12);
  });
});
