// A product's forecast brought to "now": the stored forecast (trained as of its watermark) read
// from today on, and the inventory figures (models/forecast/inventory.ts) recomputed with the
// stock available now and the merchant's lead time now — so a delivery received, a sale made or a
// lead time changed since the last training shows on the next look, without retraining.
//
// Daily demand from today: the stored daily forecast (it starts on the watermark's UTC day and
// covers at least 28 days) shifted by the days elapsed; past its end, each remaining forecast week
// spread over its days by the store's day-of-week share. Pure: no I/O.
import { inventoryFigures } from '../models/forecast/inventory.ts';
import type { Band } from '../models/forecast/train.ts';
import type { ForecastWeek } from './types.ts';

const DAY_MS = 86_400_000;
const WEEK_MS = 7 * DAY_MS;

export interface StoredForecast {
  /** Monday 00:00 UTC of weekly index 0. */
  weekStart: string;
  /** UTC day (YYYY-MM-DD) of daily index 0. */
  dayStart: string;
  serviceLevel: number;
  reviewDays: number;
  /** Store share of weekly units per weekday, Monday first. */
  dayOfWeekShare: number[];
  weekly: Band;
  daily: Band;
  sigmaWeekly: number;
}

export interface ForecastNowInput {
  forecast: StoredForecast;
  nowMs: number;
  stock: number | null;
  leadTimeDays: number;
}

export interface ForecastNow {
  weeks: ForecastWeek[];
  next28Days: number;
  expired: boolean;
  daily: number[];
  inventory: {
    safetyStock: number;
    reorderPoint: number;
    orderUpTo: number;
    suggestedOrderQty: number | null;
    stockoutDate: string | null;
  } | null;
}

const r3 = (x: number) => Math.round(x * 1000) / 1000;
const isoDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const utcDay = (ms: number) => Math.floor(ms / DAY_MS) * DAY_MS;
/** Monday first, as the forecast's shares are. */
const weekday = (ms: number) => (new Date(ms).getUTCDay() + 6) % 7;

/** Mean daily demand from today's UTC day to the end of the forecast horizon. */
export function dailyFromToday(f: StoredForecast, nowMs: number): number[] {
  const today = utcDay(nowMs);
  const dayStart = Date.parse(`${f.dayStart}T00:00:00Z`);
  const weekStart = Date.parse(f.weekStart);
  const horizonEnd = weekStart + f.weekly.mean.length * WEEK_MS;
  const out: number[] = [];
  for (let d = Math.max(today, dayStart); d < horizonEnd; d += DAY_MS) {
    const i = Math.round((d - dayStart) / DAY_MS);
    if (i < f.daily.mean.length) out.push(f.daily.mean[i]!);
    else out.push((f.weekly.mean[Math.floor((d - weekStart) / WEEK_MS)] ?? 0) * (f.dayOfWeekShare[weekday(d)] ?? 1 / 7));
  }
  return out;
}

export function forecastNow(inp: ForecastNowInput): ForecastNow {
  const f = inp.forecast;
  const weekStart = Date.parse(f.weekStart);
  const current = Math.max(0, Math.floor((inp.nowMs - weekStart) / WEEK_MS));
  const weeks: ForecastWeek[] = [];
  for (let k = current; k < f.weekly.mean.length; k++) {
    weeks.push({ week_start: isoDay(weekStart + k * WEEK_MS), mean: f.weekly.mean[k]!, lo: f.weekly.lo[k]!, hi: f.weekly.hi[k]!, current: k === current && inp.nowMs >= weekStart });
  }
  const daily = dailyFromToday(f, inp.nowMs);
  const expired = daily.length === 0;
  const next28Days = r3(daily.slice(0, 28).reduce((s, v) => s + v, 0));
  if (expired) return { weeks, next28Days, expired, daily, inventory: null };
  const inv = inventoryFigures({ daily, sigmaWeekly: f.sigmaWeekly, stock: inp.stock, leadTimeDays: inp.leadTimeDays, reviewDays: f.reviewDays, serviceLevel: f.serviceLevel });
  const start = Math.max(utcDay(inp.nowMs), Date.parse(`${f.dayStart}T00:00:00Z`)); // dailyFromToday's first day
  return {
    weeks, next28Days, expired, daily,
    inventory: {
      safetyStock: r3(inv.safetyStock), reorderPoint: r3(inv.reorderPoint), orderUpTo: r3(inv.orderUpTo),
      suggestedOrderQty: inv.suggestedOrderQty,
      stockoutDate: inv.stockoutDay === null ? null : isoDay(start + inv.stockoutDay * DAY_MS),
    },
  };
}
