// The data-quality gate run before every training. Pure: cleaned data (+ the previous
// snapshot's profile) in, a report out. A failing check blocks training; the report says
// which check failed, the measured value and the threshold, in words a person can read.
import type { CleanData } from '../features/clean.ts';

export interface QualityThresholds {
  minSalesLines: number;
  maxInvalidShare: number; // rows with non-finite / out-of-range values
  maxGuestShare: number; // null customer rate
  maxQuantity: number;
  maxPrice: number;
  maxDuplicateShare: number; // identical (order, product, quantity, price) lines
  maxStalenessDays: number; // watermark − newest sale
  maxVolumeDrop: number; // share of sales lines lost against the previous snapshot
  maxRecentVolumeChange: number; // |log ratio| of the last-28-days order count vs the previous snapshot's
  maxPsi: number; // population stability index of key distributions vs the previous snapshot
}

export const DEFAULT_THRESHOLDS: QualityThresholds = {
  minSalesLines: 50,
  maxInvalidShare: 0,
  maxGuestShare: 0.6,
  maxQuantity: 100_000,
  maxPrice: 100_000,
  maxDuplicateShare: 0.1,
  maxStalenessDays: 45,
  maxVolumeDrop: 0.1,
  maxRecentVolumeChange: Math.log(4),
  maxPsi: 0.25,
};

/** What the next snapshot is compared with. */
export interface DataProfile {
  salesLines: number;
  recentOrders: number;
  histograms: Record<string, { edges: number[]; shares: number[] }>;
}

export interface QualityCheck {
  name: string;
  ok: boolean;
  value: number;
  threshold: number;
  detail: string;
}

export interface QualityReport {
  ok: boolean;
  checks: QualityCheck[];
  profile: DataProfile;
}

const DAY = 86_400_000;

/** Fixed log-spaced bins, so profiles of different snapshots are comparable. */
const EDGES: Record<string, number[]> = {
  line_value: [0, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, Infinity],
  unit_price: [0, 0.5, 1, 2, 3, 5, 10, 20, 50, 100, Infinity],
  basket_lines: [0, 1, 2, 3, 5, 8, 13, 21, 34, 55, Infinity],
};

function histogram(values: Iterable<number>, edges: number[]): { edges: number[]; shares: number[] } {
  const counts = new Array(edges.length - 1).fill(0) as number[];
  let n = 0;
  for (const v of values) {
    let i = 0;
    while (i < counts.length - 1 && v >= edges[i + 1]!) i++;
    counts[i]!++;
    n++;
  }
  return { edges: edges.map((e) => (Number.isFinite(e) ? e : 1e308)), shares: counts.map((c) => (n ? c / n : 0)) };
}

/** PSI with a small floor so an empty bin does not make it infinite. */
export function psi(expected: number[], actual: number[]): number {
  let s = 0;
  for (let i = 0; i < expected.length; i++) {
    const e = Math.max(expected[i]!, 1e-4);
    const a = Math.max(actual[i] ?? 0, 1e-4);
    s += (a - e) * Math.log(a / e);
  }
  return s;
}

export function profileOf(data: CleanData, watermarkMs: number): DataProfile {
  const basket = new Map<string, number>();
  const recent = new Set<string>();
  for (const s of data.sales) {
    basket.set(s.orderId, (basket.get(s.orderId) ?? 0) + 1);
    if (s.time >= watermarkMs - 28 * DAY) recent.add(s.orderId);
  }
  return {
    salesLines: data.sales.length,
    recentOrders: recent.size,
    histograms: {
      line_value: histogram(data.sales.map((s) => s.quantity * s.price), EDGES.line_value!),
      unit_price: histogram(data.sales.map((s) => s.price), EDGES.unit_price!),
      basket_lines: histogram(basket.values(), EDGES.basket_lines!),
    },
  };
}

export function runQualityGate(data: CleanData, watermark: string, previous: DataProfile | null, t: QualityThresholds = DEFAULT_THRESHOLDS): QualityReport {
  const watermarkMs = Date.parse(watermark);
  const n = data.sales.length;
  const checks: QualityCheck[] = [];
  const add = (name: string, ok: boolean, value: number, threshold: number, detail: string) => checks.push({ name, ok, value, threshold, detail });

  add('volume', n >= t.minSalesLines, n, t.minSalesLines, `${n} sales lines (need at least ${t.minSalesLines} to train)`);

  let invalid = 0;
  let guests = 0;
  let newest = -Infinity;
  const seen = new Set<string>();
  let duplicates = 0;
  for (const s of data.sales) {
    const bad = !s.orderId || !s.productId || !Number.isFinite(s.time) || !(s.quantity > 0 && s.quantity <= t.maxQuantity) || !(s.price > 0 && s.price <= t.maxPrice) || s.time >= watermarkMs;
    if (bad) invalid++;
    if (s.customerId === null) guests++;
    if (s.time > newest) newest = s.time;
    const k = `${s.orderId}\u0000${s.productId}\u0000${s.quantity}\u0000${s.price}`;
    if (seen.has(k)) duplicates++;
    else seen.add(k);
  }
  const share = (x: number) => (n ? x / n : 0);
  add('schema_and_ranges', share(invalid) <= t.maxInvalidShare, share(invalid), t.maxInvalidShare,
    `${invalid} lines with a missing id, a non-finite value, quantity outside (0, ${t.maxQuantity}], price outside (0, ${t.maxPrice}] or a time at/after the watermark`);
  add('null_customer_rate', share(guests) <= t.maxGuestShare, share(guests), t.maxGuestShare, `${(share(guests) * 100).toFixed(1)}% of sales lines have no customer (guest checkouts)`);
  add('duplicate_ratio', share(duplicates) <= t.maxDuplicateShare, share(duplicates), t.maxDuplicateShare, `${(share(duplicates) * 100).toFixed(2)}% of sales lines repeat an identical line of the same order`);
  const staleDays = Number.isFinite(newest) ? (watermarkMs - newest) / DAY : Infinity;
  add('freshness', staleDays <= t.maxStalenessDays, staleDays, t.maxStalenessDays, `newest sale ${Number.isFinite(staleDays) ? staleDays.toFixed(1) : '∞'} days before the watermark ${watermark}`);

  const profile = profileOf(data, watermarkMs);
  if (previous) {
    const drop = previous.salesLines > 0 ? Math.max(0, (previous.salesLines - n) / previous.salesLines) : 0;
    add('volume_change', drop <= t.maxVolumeDrop, drop, t.maxVolumeDrop, `${n} sales lines against ${previous.salesLines} in the previous snapshot (${(drop * 100).toFixed(1)}% lost)`);
    const change = Math.abs(Math.log((profile.recentOrders + 1) / (previous.recentOrders + 1)));
    add('recent_volume_change', change <= t.maxRecentVolumeChange, change, t.maxRecentVolumeChange,
      `${profile.recentOrders} orders in the 28 days before the watermark against ${previous.recentOrders} before the previous one`);
    for (const [name, h] of Object.entries(profile.histograms)) {
      const before = previous.histograms[name];
      if (!before) continue;
      const v = psi(before.shares, h.shares);
      add(`distribution_shift:${name}`, v <= t.maxPsi, v, t.maxPsi, `PSI of ${name.replace('_', ' ')} against the previous snapshot: ${v.toFixed(3)}`);
    }
  }
  return { ok: checks.every((c) => c.ok), checks, profile };
}

export function formatQualityReport(r: QualityReport): string {
  const lines = [r.ok ? 'data quality: PASSED' : 'data quality: FAILED — training blocked'];
  for (const c of r.checks) lines.push(`  ${c.ok ? 'ok  ' : 'FAIL'} ${c.name.padEnd(34)} ${c.detail}${c.ok ? '' : ` (threshold ${Number(c.threshold.toFixed(4))})`}`);
  return lines.join('\n');
}

/**
 * Thresholds from JSON (a file's text, or SHOPML_QUALITY_THRESHOLDS): any subset of the keys of
 * DEFAULT_THRESHOLDS; an unknown key or a non-number is an error naming it.
 */
export function parseThresholds(json: string, source: string): QualityThresholds {
  let v: unknown;
  try {
    v = JSON.parse(json);
  } catch (err) {
    throw new Error(`${source}: not valid JSON (${(err as Error).message})`);
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new Error(`${source}: expected a JSON object of thresholds`);
  const out: QualityThresholds = { ...DEFAULT_THRESHOLDS };
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
    if (!(k in DEFAULT_THRESHOLDS)) throw new Error(`${source}: unknown threshold "${k}" (known: ${Object.keys(DEFAULT_THRESHOLDS).join(', ')})`);
    if (typeof x !== 'number' || !Number.isFinite(x) || x < 0) throw new Error(`${source}: threshold "${k}" must be a non-negative number`);
    (out as unknown as Record<string, number>)[k] = x;
  }
  return out;
}
