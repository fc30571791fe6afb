// Inventory figures from a demand forecast (a periodic-review, order-up-to policy):
//
//   z              = Φ⁻¹(service level)                       (95% → 1.645)
//   D(n)           = forecast demand over the next n days      (sum of the daily forecast)
//   σ_L            = σ_w · √(L / 7)                            (σ_w: sd of the weekly forecast error)
//   safety stock   = z · σ_L
//   reorder point  = D(L) + safety stock                       (L: lead time in days)
//   order-up-to S  = D(L + R) + z · σ_w · √((L + R) / 7)       (R: review period in days)
//   suggested order= ⌈S − stock⌉ when stock ≤ reorder point, else 0 (null when stock is unknown)
//   stock-out day  = first day d (0 = today) on which cumulative forecast demand through d exceeds
//                    the stock (0 when stock ≤ 0; null when unknown or beyond the forecast)
//
// Weekly errors are taken as independent across weeks (σ grows with √time) — forecast errors of
// one product are in fact positively correlated across weeks, so the safety stock is on the low
// side for long lead times; that is stated in the model card.
import { createRequire } from 'node:module';

const jStat = createRequire(import.meta.url)('jstat') as { normal: { inv(p: number, mean: number, sd: number): number } };

/** Φ⁻¹(level): the standard normal quantile for a cycle service level in (0, 1). */
export function serviceZ(level: number): number {
  if (!(level > 0 && level < 1)) throw new RangeError(`service level must be in (0, 1), got ${level}`);
  return jStat.normal.inv(level, 0, 1);
}

/**
 * Forecast demand over the next `days` days (fractional allowed). Past the end of `daily` the
 * mean of its last 7 days continues (the weekly horizon is finite, lead times need not be).
 */
export function demandOver(daily: readonly number[], days: number): number {
  let sum = 0;
  const whole = Math.floor(days);
  const tail = daily.length ? daily.slice(-7).reduce((a, b) => a + b, 0) / Math.min(7, daily.length) : 0;
  const at = (i: number): number => (i < daily.length ? daily[i]! : tail);
  for (let i = 0; i < whole; i++) sum += at(i);
  if (days > whole) sum += (days - whole) * at(whole);
  return sum;
}

/** First day (0 = the forecast's first day) whose cumulative demand exceeds `stock`; null if none within `daily`. */
export function stockoutDay(daily: readonly number[], stock: number): number | null {
  if (stock <= 0) return 0;
  let cum = 0;
  for (let d = 0; d < daily.length; d++) {
    cum += daily[d]!;
    if (cum > stock) return d;
  }
  return null;
}

export interface InventoryInput {
  /** Mean daily demand from the first forecast day on. */
  daily: readonly number[];
  /** Standard deviation of the weekly forecast error (units per week). */
  sigmaWeekly: number;
  stock: number | null;
  leadTimeDays: number;
  reviewDays: number;
  serviceLevel: number;
}

export interface InventoryFigures {
  leadTimeDays: number;
  demandOverLeadTime: number;
  sigmaLeadTime: number;
  safetyStock: number;
  reorderPoint: number;
  orderUpTo: number;
  /** Units to order now (null: stock unknown). */
  suggestedOrderQty: number | null;
  /** Days from the first forecast day to the predicted stock-out (null: unknown stock or not within the forecast). */
  stockoutDay: number | null;
}

export function inventoryFigures(inp: InventoryInput): InventoryFigures {
  const z = serviceZ(inp.serviceLevel);
  const L = inp.leadTimeDays;
  const R = inp.reviewDays;
  const demandOverLeadTime = demandOver(inp.daily, L);
  const sigmaLeadTime = inp.sigmaWeekly * Math.sqrt(L / 7);
  const safetyStock = z * sigmaLeadTime;
  const reorderPoint = demandOverLeadTime + safetyStock;
  const orderUpTo = demandOver(inp.daily, L + R) + z * inp.sigmaWeekly * Math.sqrt((L + R) / 7);
  let suggestedOrderQty: number | null = null;
  let stockout: number | null = null;
  if (inp.stock !== null) {
    suggestedOrderQty = inp.stock <= reorderPoint ? Math.max(0, Math.ceil(orderUpTo - inp.stock - 1e-9)) : 0;
    stockout = stockoutDay(inp.daily, inp.stock);
  }
  return { leadTimeDays: L, demandOverLeadTime, sigmaLeadTime, safetyStock, reorderPoint, orderUpTo, suggestedOrderQty, stockoutDay: stockout };
}
