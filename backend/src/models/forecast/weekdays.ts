// Splitting weekly forecasts over days, and the current week's days already observed.
import { DAY_MS, isoWeekday, WEEK_MS, type ProductFeatures } from '../../features/products.ts';

/**
 * Weekday shares of weekly units (Monday first): the store's over the 13 weeks before
 * `originMs`, and each product's own over the 26 weeks before it, shrunk towards the store's
 * with 28 pseudo-units (a product with little history gets the store's profile; a weekday the
 * store never trades — Saturday in the Online Retail data — gets 0 for every product).
 */
export function weekdayShares(f: ProductFeatures, originMs: number): { store: number[]; product: number[][] } {
  const dayIdx = (ms: number): number => Math.round((ms - f.dayStart) / DAY_MS);
  const storeCount = new Array<number>(7).fill(0);
  const from13 = Math.max(0, dayIdx(originMs - 13 * WEEK_MS));
  const from26 = Math.max(0, dayIdx(originMs - 26 * WEEK_MS));
  const to = Math.min(f.days, dayIdx(originMs));
  const dow0 = isoWeekday(f.dayStart);
  for (const p of f.products) for (let d = from13; d < to; d++) storeCount[(dow0 + d) % 7]! += p.dailyUnits[d]!;
  const storeTotal = storeCount.reduce((a, b) => a + b, 0);
  const store = storeTotal > 0 ? storeCount.map((c) => c / storeTotal) : new Array<number>(7).fill(1 / 7);
  const K = 28;
  const product = f.products.map((p) => {
    const c = new Array<number>(7).fill(0);
    for (let d = from26; d < to; d++) c[(dow0 + d) % 7]! += p.dailyUnits[d]!;
    const n = c.reduce((a, b) => a + b, 0);
    return c.map((v, i) => (v + K * store[i]!) / (n + K));
  });
  return { store, product };
}

/**
 * The part of the week starting `weekMs` already observed by `asOf` (whole UTC days before asOf's
 * day): per product the units sold on those days, and the share of the week they cover.
 */
export function observedSoFar(f: ProductFeatures, weekMs: number, asOf: number, shares: number[][]): { units: number[]; share: number[] } {
  const days = Math.max(0, Math.min(7, Math.floor((asOf - weekMs) / DAY_MS)));
  const d0 = Math.round((weekMs - f.dayStart) / DAY_MS);
  const units = f.products.map((p) => {
    let u = 0;
    for (let k = 0; k < days; k++) u += p.dailyUnits[d0 + k] ?? 0;
    return u;
  });
  const share = shares.map((s) => s.slice(0, days).reduce((a, b) => a + b, 0));
  return { units, share };
}
