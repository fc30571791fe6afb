// Timestamps in CSV files → UTC ISO strings. Accepts ISO 8601 / `YYYY-MM-DD HH:MM[:SS[.fff]]`
// with an optional offset (`Z`, `+01:00`, `+0100`, ` +0100` as in Shopify's exports) and a bare
// date. Without an offset the time is wall-clock time in the given IANA zone (Online Retail:
// Europe/London, so 2011-06-01 12:00 is 11:00Z in BST and 2010-12-01 12:00 is 12:00Z in GMT).
// Wall-clock times that occur twice (autumn) take the earlier instant; times skipped by a
// spring-forward gap move forward by the gap (Temporal's "compatible" disambiguation).

const RE = /^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?\s*(?:([Zz])|([+-])(\d{2})(?::?(\d{2}))?)?$/;

const formatters = new Map<string, Intl.DateTimeFormat>();

/** Throws a RangeError for an unknown zone name. */
export function assertTimeZone(tz: string): void {
  formatter(tz);
}

function formatter(tz: string): Intl.DateTimeFormat {
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: tz, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric',
      hour: 'numeric', minute: 'numeric', second: 'numeric',
    });
    formatters.set(tz, f);
  }
  return f;
}

function rawOffsetAt(epochMs: number, tz: string): number {
  const parts = formatter(tz).formatToParts(new Date(epochMs));
  const get = (t: string) => Number(parts.find((p) => p.type === t)?.value);
  const local = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'));
  return local - (epochMs - (((epochMs % 1000) + 1000) % 1000));
}

const BUCKET = 15 * 60_000;
const bucketCache = new Map<string, Map<number, number>>();

/**
 * The zone's UTC offset in ms at an instant (local = utc + offset). Memoized per 15-minute
 * bucket when the offset is the same at both ends of the bucket (no transition inside), so a
 * file's worth of timestamps costs a few thousand Intl calls, not one per row.
 */
export function offsetAt(epochMs: number, tz: string): number {
  if (tz === 'UTC' || tz === 'Etc/UTC') return 0;
  let zone = bucketCache.get(tz);
  if (!zone) bucketCache.set(tz, (zone = new Map()));
  const b = Math.floor(epochMs / BUCKET);
  let off = zone.get(b);
  if (off === undefined) {
    const start = rawOffsetAt(b * BUCKET, tz);
    const end = rawOffsetAt(b * BUCKET + BUCKET - 1000, tz);
    off = start === end ? start : NaN;
    if (zone.size > 100_000) zone.clear();
    zone.set(b, off);
  }
  return Number.isNaN(off) ? rawOffsetAt(epochMs, tz) : off;
}

/** Wall-clock fields in a zone → epoch ms. */
export function zonedToEpoch(y: number, mo: number, d: number, h: number, mi: number, s: number, ms: number, tz: string): number {
  const wall = Date.UTC(y, mo - 1, d, h, mi, s, ms);
  if (tz === 'UTC' || tz === 'Etc/UTC') return wall;
  const DAY = 86_400_000;
  const before = offsetAt(wall - DAY, tz);
  const after = offsetAt(wall + DAY, tz);
  const candidates: number[] = [];
  for (const off of before === after ? [before] : [before, after]) {
    const t = wall - off;
    if (offsetAt(t, tz) === off) candidates.push(t);
  }
  if (candidates.length > 0) return Math.min(...candidates); // overlap: the earlier instant
  return wall - before; // gap: shift forward by its length
}

function daysInMonth(y: number, m: number): number {
  return new Date(Date.UTC(y, m, 0)).getUTCDate();
}

/** Parses one timestamp; null when it is not a valid date/time. */
export function parseTimestamp(raw: string, tz: string): string | null {
  const m = RE.exec(raw.trim());
  if (!m) return null;
  const y = Number(m[1]);
  const mo = Number(m[2]);
  const d = Number(m[3]);
  const h = m[4] === undefined ? 0 : Number(m[4]);
  const mi = m[5] === undefined ? 0 : Number(m[5]);
  const s = m[6] === undefined ? 0 : Number(m[6]);
  const ms = m[7] === undefined ? 0 : Math.floor(Number(`0.${m[7]}`) * 1000);
  if (mo < 1 || mo > 12 || d < 1 || d > daysInMonth(y, mo) || h > 23 || mi > 59 || s > 59) return null;
  let epoch: number;
  if (m[8]) epoch = Date.UTC(y, mo - 1, d, h, mi, s, ms);
  else if (m[9]) {
    const oh = Number(m[10]);
    const om = m[11] === undefined ? 0 : Number(m[11]);
    if (oh > 23 || om > 59) return null;
    const off = (oh * 60 + om) * 60_000 * (m[9] === '-' ? -1 : 1);
    epoch = Date.UTC(y, mo - 1, d, h, mi, s, ms) - off;
  } else epoch = zonedToEpoch(y, mo, d, h, mi, s, ms, tz);
  const date = new Date(epoch);
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}

/** A memoizing parser for one zone: files repeat the same timestamp on every line of an order. */
export function createTimestampParser(tz: string): (raw: string) => string | null {
  assertTimeZone(tz);
  let cache = new Map<string, string | null>();
  return (raw) => {
    let v = cache.get(raw);
    if (v === undefined) {
      if (cache.size >= 200_000) cache = new Map();
      v = parseTimestamp(raw, tz);
      cache.set(raw, v);
    }
    return v;
  };
}
