// Product demand features from the cleaned sales (features/clean.ts), as of a watermark: per
// product, daily and weekly units and revenue WITH EXPLICIT ZEROS (a calendar day or week on
// which the product — or the whole store: Saturdays, a Christmas shutdown — sold nothing is a 0,
// not a missing row), price, sales velocity and the store's current stock.
//
// Calendar: days are UTC days; weeks are Monday-based calendar weeks in UTC (a week starts on a
// Monday at 00:00 UTC). Both grids are shared by all products: index 0 of every product's daily
// series is the same day (`dayStart`), index 0 of every weekly series the same Monday
// (`weekStart`). Sales at or after `asOf` are ignored; the last day/week may be partial (the
// watermark can fall mid-day or mid-week) — `completeDays` / `completeWeeks` say how many are whole.
import type { SaleLine } from './clean.ts';

export const DAY_MS = 86_400_000;
export const WEEK_MS = 7 * DAY_MS;
/** 1970-01-05, the first Monday of the epoch, in days since the epoch. */
const EPOCH_MONDAY_DAY = 4;

/** UTC midnight on or before `ms`. */
export function utcDayStart(ms: number): number {
  return Math.floor(ms / DAY_MS) * DAY_MS;
}

/** 00:00 UTC of the Monday on or before `ms` (Monday-based calendar weeks). */
export function mondayOnOrBefore(ms: number): number {
  const day = Math.floor(ms / DAY_MS);
  const back = (((day - EPOCH_MONDAY_DAY) % 7) + 7) % 7;
  return (day - back) * DAY_MS;
}

/** Day of the week of `ms` in UTC, Monday = 0 … Sunday = 6. */
export function isoWeekday(ms: number): number {
  const day = Math.floor(ms / DAY_MS);
  return (((day - EPOCH_MONDAY_DAY) % 7) + 7) % 7;
}

export interface ProductPrice {
  /** Unit price on the most recent sale line. */
  last: number;
  /** Revenue / units over the whole history (the average price actually paid). */
  mean: number;
  /** Revenue / units over the last 91 days (null: nothing sold then). */
  recent: number | null;
  min: number;
  max: number;
}

export interface ProductVelocity {
  /** Units per calendar day over the last 7 / 28 / 91 days before the watermark (closed days count). */
  perDay7: number;
  perDay28: number;
  perDay91: number;
  /** Mean weekly units over the last (up to) 13 complete weeks. */
  perWeek13: number;
  /** Units per calendar day since the first sale. */
  perDayLifetime: number;
}

export interface ProductDemand {
  productId: string;
  title: string | null;
  /** Units sold per UTC day, index 0 = `dayStart`; explicit zeros. */
  dailyUnits: Float64Array;
  dailyRevenue: Float64Array;
  /** Units sold per Monday-based week, index 0 = `weekStart`; explicit zeros. */
  weeklyUnits: Float64Array;
  weeklyRevenue: Float64Array;
  /** Sale lines per week (≈ orders holding the product): demand breadth, less spiky than units. */
  weeklyLines: Float64Array;
  units: number;
  revenue: number;
  /** Distinct orders holding the product. */
  orders: number;
  sellingDays: number;
  sellingWeeks: number;
  /** Epoch ms of the first and the last sale. */
  firstSale: number;
  lastSale: number;
  /** Index (in the weekly grid) of the week of the first sale. */
  firstWeek: number;
  price: ProductPrice;
  velocity: ProductVelocity;
  /** Available units from the store (null: unknown). */
  stock: number | null;
  /** stock / perDay28 (null: stock unknown or no recent sales). */
  daysOfCover: number | null;
}

export interface ProductFeatures {
  asOf: number;
  /** Epoch ms (UTC midnight) of daily index 0. */
  dayStart: number;
  days: number;
  /** Days fully before the watermark (the last day is partial when asOf is not a midnight). */
  completeDays: number;
  /** Epoch ms (Monday 00:00 UTC) of weekly index 0. */
  weekStart: number;
  weeks: number;
  /** Weeks fully before the watermark. */
  completeWeeks: number;
  /** Sorted by productId. */
  products: ProductDemand[];
}

export interface ProductFeatureOptions {
  /** The watermark: sales at or after it are ignored. Epoch ms. */
  asOf: number;
  /** First day of the grids (default: the first sale's day). Sales before it are ignored. */
  start?: number;
  /** productId → available units from the store; a product missing from the map (or null) has unknown stock. */
  stock?: ReadonlyMap<string, number | null>;
}

/** The daily and weekly grids for sales in [start, asOf). */
export function calendarGrid(start: number, asOf: number): { dayStart: number; days: number; completeDays: number; weekStart: number; weeks: number; completeWeeks: number } {
  const dayStart = utcDayStart(start);
  const lastDay = utcDayStart(Math.max(asOf - 1, dayStart));
  const days = (lastDay - dayStart) / DAY_MS + 1;
  const completeDays = Math.max(0, Math.floor((asOf - dayStart) / DAY_MS));
  const weekStart = mondayOnOrBefore(dayStart);
  const weeks = (mondayOnOrBefore(lastDay) - weekStart) / WEEK_MS + 1;
  const completeWeeks = Math.max(0, Math.floor((asOf - weekStart) / WEEK_MS));
  return { dayStart, days, completeDays, weekStart, weeks, completeWeeks };
}

export function productFeatures(sales: readonly SaleLine[], opts: ProductFeatureOptions): ProductFeatures {
  const { asOf } = opts;
  let first = opts.start ?? Infinity;
  if (opts.start === undefined) for (const s of sales) if (s.time < asOf && s.time < first) first = s.time;
  if (!Number.isFinite(first)) first = asOf - 1; // no sales: a one-day grid
  const grid = calendarGrid(first, asOf);
  const { dayStart, days, weekStart, weeks } = grid;
  const weekOffsetDays = (dayStart - weekStart) / DAY_MS;

  interface Acc {
    d: ProductDemand;
    orders: Set<string>;
    lastTime: number;
    recentUnits: number;
    recentRevenue: number;
  }
  const byId = new Map<string, Acc>();
  const recentFrom = asOf - 91 * DAY_MS;
  for (const s of sales) {
    if (s.time >= asOf || s.time < dayStart) continue;
    let a = byId.get(s.productId);
    if (!a) {
      a = {
        d: {
          productId: s.productId, title: s.title,
          dailyUnits: new Float64Array(days), dailyRevenue: new Float64Array(days),
          weeklyUnits: new Float64Array(weeks), weeklyRevenue: new Float64Array(weeks), weeklyLines: new Float64Array(weeks),
          units: 0, revenue: 0, orders: 0, sellingDays: 0, sellingWeeks: 0,
          firstSale: s.time, lastSale: s.time, firstWeek: 0,
          price: { last: s.price, mean: 0, recent: null, min: s.price, max: s.price },
          velocity: { perDay7: 0, perDay28: 0, perDay91: 0, perWeek13: 0, perDayLifetime: 0 },
          stock: null, daysOfCover: null,
        },
        orders: new Set(), lastTime: -Infinity, recentUnits: 0, recentRevenue: 0,
      };
      byId.set(s.productId, a);
    }
    const d = a.d;
    const di = Math.floor((s.time - dayStart) / DAY_MS);
    const wi = Math.floor((di + weekOffsetDays) / 7);
    const rev = s.quantity * s.price;
    d.dailyUnits[di]! += s.quantity;
    d.dailyRevenue[di]! += rev;
    d.weeklyUnits[wi]! += s.quantity;
    d.weeklyRevenue[wi]! += rev;
    d.weeklyLines[wi]! += 1;
    d.units += s.quantity;
    d.revenue += rev;
    a.orders.add(s.orderId);
    if (s.time < d.firstSale) d.firstSale = s.time;
    if (s.time >= a.lastTime) { a.lastTime = s.time; d.lastSale = s.time; d.price.last = s.price; if (s.title) d.title = s.title; }
    if (s.price < d.price.min) d.price.min = s.price;
    if (s.price > d.price.max) d.price.max = s.price;
    if (s.time >= recentFrom) { a.recentUnits += s.quantity; a.recentRevenue += rev; }
  }

  const ids = [...byId.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const products = ids.map((id) => {
    const a = byId.get(id)!;
    const d = a.d;
    d.orders = a.orders.size;
    for (let i = 0; i < days; i++) if (d.dailyUnits[i]! > 0) d.sellingDays++;
    for (let i = 0; i < weeks; i++) if (d.weeklyUnits[i]! > 0) d.sellingWeeks++;
    d.firstWeek = Math.floor((d.firstSale - weekStart) / WEEK_MS);
    d.price.mean = d.revenue / d.units;
    d.price.recent = a.recentUnits > 0 ? a.recentRevenue / a.recentUnits : null;
    d.velocity = velocity(d, grid, asOf);
    const stock = opts.stock?.get(id);
    d.stock = stock === undefined || stock === null || !Number.isFinite(stock) ? null : stock;
    d.daysOfCover = d.stock !== null && d.velocity.perDay28 > 0 ? d.stock / d.velocity.perDay28 : null;
    return d;
  });
  return { asOf, ...grid, products };
}

function velocity(d: ProductDemand, grid: ReturnType<typeof calendarGrid>, asOf: number): ProductVelocity {
  // Units in the last n days before the watermark: the daily grid ends on asOf's day.
  const unitsSince = (n: number): number => {
    const from = asOf - n * DAY_MS;
    let u = 0;
    for (let i = grid.days - 1; i >= 0; i--) {
      const dayMs = grid.dayStart + i * DAY_MS;
      if (dayMs + DAY_MS <= from) break;
      u += d.dailyUnits[i]!;
    }
    return u;
  };
  const k = Math.min(13, grid.completeWeeks);
  let w = 0;
  for (let i = grid.completeWeeks - k; i < grid.completeWeeks; i++) w += d.weeklyUnits[i]!;
  const lifeDays = Math.max(1, (asOf - utcDayStart(d.firstSale)) / DAY_MS);
  return {
    perDay7: unitsSince(7) / 7,
    perDay28: unitsSince(28) / 28,
    perDay91: unitsSince(91) / 91,
    perWeek13: k > 0 ? w / k : 0,
    perDayLifetime: d.units / lifeDays,
  };
}

/** A product's weekly units as a plain array over weeks [from, to) of the grid. */
export function weeklySlice(p: ProductDemand, from: number, to: number): number[] {
  return Array.from(p.weeklyUnits.subarray(from, to));
}
