// When shoppers buy: the store-wide demand multiplier (weekly rhythm × season × growth trend),
// the hour-of-day profile, and the timestamp formats Shopify uses. Weekday, season and hour are
// evaluated in the shop's local time (a fixed UTC offset), because that is where the rhythm is.
import { createWeightedSampler, type Rng } from './random.ts';

export const DAY_MS = 86_400_000;
/** Eastern Standard Time; a fixed offset keeps local weekdays and REST timestamps simple. */
export const DEFAULT_UTC_OFFSET_MINUTES = -300;
export const HOUR_MS = 3_600_000;

/** Sunday..Saturday. Weekends are busier for this (consumer) store: the ML sees a weekly cycle. */
const WEEKDAY_RAW = [1.2, 0.95, 0.9, 0.9, 0.95, 1.0, 1.25];
const WEEKDAY_MEAN = WEEKDAY_RAW.reduce((a, b) => a + b, 0) / 7;
const WEEKDAY = WEEKDAY_RAW.map((w) => w / WEEKDAY_MEAN);
const WEEKDAY_MAX = Math.max(...WEEKDAY);

/** Seasonal bump from Black-Friday week to just before Christmas, a January lull, a summer dip. */
function seasonRaw(month: number, day: number): number {
  if ((month === 10 && day >= 20) || (month === 11 && day <= 20)) return 1.7; // Nov 20 – Dec 20
  if (month === 0 || (month === 1 && day <= 15)) return 0.85;
  if (month === 6 || month === 7) return 0.9;
  return 1;
}
// Normalised so a whole year averages 1: a customer's purchaseRate stays "per 30 days on average".
const SEASON_MEAN = (() => {
  let sum = 0;
  for (let d = 0; d < 365; d++) {
    const date = new Date(Date.UTC(2025, 0, 1) + d * DAY_MS);
    sum += seasonRaw(date.getUTCMonth(), date.getUTCDate());
  }
  return sum / 365;
})();
const SEASON_MAX = 1.7 / SEASON_MEAN;

/** The business grows 40% a year; trend is 1 at the store's `asOf` instant. */
const YEARLY_GROWTH = 1.4;

/** Local hours 0..23: quiet at night, a lunch peak and a larger evening peak. */
const HOUR_WEIGHTS = [
  0.25, 0.15, 0.1, 0.08, 0.08, 0.12, 0.3, 0.55, 0.8, 0.95, 1.05, 1.15,
  1.3, 1.25, 1.05, 1.0, 1.0, 1.1, 1.3, 1.55, 1.7, 1.55, 1.1, 0.6,
];
const hourSampler = createWeightedSampler(HOUR_WEIGHTS);

export interface DemandCalendar {
  /** Multiplier at instant `ms` (weekday × season × trend); its long-run average is about trend. */
  at(ms: number): number;
  /** An upper bound of `at` on [fromMs, toMs], for thinning. */
  maxOn(fromMs: number, toMs: number): number;
  trend(ms: number): number;
  /** Local midnight (as a UTC instant) of the local day containing `ms`. */
  localDayStart(ms: number): number;
  /** Local day of week (0 = Sunday) of instant `ms`. */
  localWeekday(ms: number): number;
  /** A time of day for an order placed on the local day starting at `dayStartMs`. */
  timeOnDay(rng: Rng, dayStartMs: number): number;
}

export function createDemandCalendar(asOfMs: number, utcOffsetMinutes: number): DemandCalendar {
  const offsetMs = utcOffsetMinutes * 60_000;
  const growthPerMs = Math.log(YEARLY_GROWTH) / (365 * DAY_MS);
  const trend = (ms: number) => Math.exp(growthPerMs * (ms - asOfMs));
  const local = (ms: number) => new Date(ms + offsetMs);
  return {
    trend,
    at(ms) {
      const d = local(ms);
      return ((WEEKDAY[d.getUTCDay()] as number) * seasonRaw(d.getUTCMonth(), d.getUTCDate())) / SEASON_MEAN * trend(ms);
    },
    maxOn: (_fromMs, toMs) => WEEKDAY_MAX * SEASON_MAX * trend(toMs),
    localDayStart: (ms) => Math.floor((ms + offsetMs) / DAY_MS) * DAY_MS - offsetMs,
    localWeekday: (ms) => local(ms).getUTCDay(),
    timeOnDay: (rng, dayStartMs) => dayStartMs + hourSampler.draw(rng) * HOUR_MS + Math.floor(rng.next() * HOUR_MS / 1000) * 1000,
  };
}

/** "2026-03-14T23:22:05Z": whole seconds, as Shopify's APIs report times. */
export function isoUtc(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

/** "2026-03-14T18:22:05-05:00": how REST payloads express a time in the shop's zone. */
export function isoWithOffset(isoOrMs: string | number, utcOffsetMinutes: number): string {
  const ms = typeof isoOrMs === 'number' ? isoOrMs : Date.parse(isoOrMs);
  const shifted = new Date(Math.floor(ms / 1000) * 1000 + utcOffsetMinutes * 60_000).toISOString().slice(0, 19);
  const sign = utcOffsetMinutes < 0 ? '-' : '+';
  const abs = Math.abs(utcOffsetMinutes);
  return `${shifted}${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
}

/** Accepts "2026-11-01", an ISO instant or a Date; a bare date means UTC midnight. */
export function parseInstant(value: string | Date): number {
  if (value instanceof Date) return value.getTime();
  const ms = Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T00:00:00Z` : value);
  if (Number.isNaN(ms)) throw new RangeError(`not a date: ${value}`);
  return ms;
}
