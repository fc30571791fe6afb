// The pure parts of the admin insights: a stored forecast read from "now" (days elapsed, the
// horizon's end, inventory figures from current stock and lead time), churn percentiles and risk
// bands, ids from the path. And the admin UI extension type-checks against @shopify/ui-extensions.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dailyFromToday, forecastNow, type StoredForecast } from '../../backend/src/insights/forecast-now.ts';
import { inventoryFigures } from '../../backend/src/models/forecast/inventory.ts';
import { percentileOf, riskBand } from '../../backend/src/insights/customer-insights.ts';
import { resourceId } from '../../backend/src/api/insights-routes.ts';

const DAY = 86_400_000;
const MONDAY = Date.parse('2026-03-02T00:00:00Z');

/** 4 weeks from Monday 2 March; the daily forecast stored from Wednesday 4 March for 10 days. */
function stored(): StoredForecast {
  return {
    weekStart: '2026-03-02T00:00:00.000Z', dayStart: '2026-03-04', serviceLevel: 0.95, reviewDays: 7,
    dayOfWeekShare: [0.1, 0.1, 0.1, 0.1, 0.2, 0.2, 0.2],
    weekly: { mean: [10, 14, 21, 28], lo: [8, 10, 15, 20], hi: [12, 18, 27, 36] },
    daily: { mean: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], lo: [], hi: [] },
    sigmaWeekly: 3,
  };
}

describe('forecast read from now', () => {
  it('starts the daily forecast on today, then spreads the remaining weeks by the store weekday share', () => {
    const f = stored();
    const d0 = dailyFromToday(f, Date.parse('2026-03-04T15:00:00Z'));
    expect(d0.slice(0, 10)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    // 14 March (a Saturday, week 1, share 0.2) is the first day past the stored daily forecast.
    expect(d0[10]).toBeCloseTo(14 * 0.2, 10);
    expect(d0[12]).toBeCloseTo(21 * 0.1, 10); // Monday 16 March, week 2
    expect(d0).toHaveLength(28 - 2); // to the end of week 3, from Wednesday of week 0
    const d3 = dailyFromToday(f, Date.parse('2026-03-07T01:00:00Z'));
    expect(d3.slice(0, 7)).toEqual([4, 5, 6, 7, 8, 9, 10]);
    // A clock before the forecast's first day reads from that day.
    expect(dailyFromToday(f, Date.parse('2026-03-01T00:00:00Z'))).toEqual(d0);
  });

  it('lists the weeks from the current one, and computes the inventory figures from the stock and lead time given', () => {
    const f = stored();
    const now = Date.parse('2026-03-10T09:00:00Z'); // Tuesday of week 1
    const r = forecastNow({ forecast: f, nowMs: now, stock: 20, leadTimeDays: 5 });
    expect(r.weeks.map((w) => [w.week_start, w.mean, w.lo, w.hi, w.current])).toEqual([
      ['2026-03-09', 14, 10, 18, true], ['2026-03-16', 21, 15, 27, false], ['2026-03-23', 28, 20, 36, false],
    ]);
    const daily = dailyFromToday(f, now);
    expect(daily.slice(0, 4)).toEqual([7, 8, 9, 10]);
    expect(r.next28Days).toBeCloseTo(daily.slice(0, 28).reduce((s, v) => s + v, 0), 3);
    const inv = inventoryFigures({ daily, sigmaWeekly: 3, stock: 20, leadTimeDays: 5, reviewDays: 7, serviceLevel: 0.95 });
    expect(r.inventory!.reorderPoint).toBeCloseTo(inv.reorderPoint, 3);
    expect(r.inventory!.suggestedOrderQty).toBe(inv.suggestedOrderQty);
    // 7 + 8 = 15 ≤ 20 < 7 + 8 + 9: the stock runs out on the third day, 12 March.
    expect(r.inventory!.stockoutDate).toBe('2026-03-12');
    expect(forecastNow({ forecast: f, nowMs: now, stock: null, leadTimeDays: 5 }).inventory).toMatchObject({ suggestedOrderQty: null, stockoutDate: null });
    expect(forecastNow({ forecast: f, nowMs: now, stock: 0, leadTimeDays: 5 }).inventory!.stockoutDate).toBe('2026-03-10');
    // A longer lead time raises the reorder point and the safety stock.
    const longer = forecastNow({ forecast: f, nowMs: now, stock: 20, leadTimeDays: 12 }).inventory!;
    expect(longer.reorderPoint).toBeGreaterThan(r.inventory!.reorderPoint);
    expect(longer.safetyStock).toBeGreaterThan(r.inventory!.safetyStock);
  });

  it('says the forecast has expired once its horizon has passed', () => {
    const r = forecastNow({ forecast: stored(), nowMs: MONDAY + 28 * DAY + 1, stock: 5, leadTimeDays: 7 });
    expect(r).toMatchObject({ weeks: [], next28Days: 0, expired: true, inventory: null });
  });
});

describe('churn percentile and risk band', () => {
  it('is the share of scored customers below, ties counted half', () => {
    const s = Float64Array.from([0.1, 0.2, 0.2, 0.5, 0.9]);
    expect(percentileOf(s, 0.05)).toBe(0);
    expect(percentileOf(s, 0.2)).toBeCloseTo((1 + 1) / 5, 10);
    expect(percentileOf(s, 0.95)).toBe(1);
    expect(percentileOf(new Float64Array(0), 0.3)).toBe(0.5);
    expect([0, 0.33, 1 / 3, 0.66, 2 / 3, 1].map(riskBand)).toEqual(['low', 'low', 'medium', 'medium', 'high', 'high']);
  });
});

describe('ids from the path', () => {
  it('takes digits or a GID of the expected type, nothing else', () => {
    expect(resourceId('123', 'Customer')).toBe('123');
    expect(resourceId('gid://shopify/Customer/123', 'Customer')).toBe('123');
    expect(resourceId('gid://shopify/Product/9', 'Product')).toBe('9');
    for (const bad of ['gid://shopify/Product/123', 'abc', '', '-1', '1.5', '1'.repeat(21), 'gid://shopify/Customer/x']) expect(resourceId(bad, 'Customer'), bad).toBeNull();
  });
});

describe('admin UI extension', () => {
  it('type-checks against @shopify/ui-extensions 2026.7 (Preact, the `shopify` global of each target)', () => {
    const root = fileURLToPath(new URL('../..', import.meta.url));
    const r = spawnSync(process.execPath, [`${root}node_modules/typescript/bin/tsc`, '--noEmit', '-p', 'extensions/customer-insights'], { cwd: root, encoding: 'utf8', timeout: 120_000 });
    expect(r.status, `${r.stdout}${r.stderr}`).toBe(0);
  }, 130_000);
});
