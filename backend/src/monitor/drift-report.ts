// A shop's drift report: which windows are compared, and the columns drawn from them — model
// inputs (customer features, product demand) and outputs (segments, churn scores, predicted
// spend) — as pure functions of the cleaned sales and the champion artifacts.
//
// Windows. The anchor is the watermark of the shop's latest successful training: the data the
// models last learned from ends there.
//   current   = [anchor, now), at most maxWindowDays long (then [now − maxWindowDays, now));
//   reference = the window of the same length that ends at the anchor.
// Equal lengths matter: "customers who ordered in the window" over 10 days and over 90 days are
// different populations. Without any training yet, the last fallbackWindowDays are compared with
// the period before them. Less than minWindowDays since the anchor: no drift judgement yet (too
// few new orders to say anything), the report says so.
//
// Populations and columns.
//   customers  every customer with an order in the window; their features (features/customers.ts)
//              as of the window's end — the rows a customer model scores at that moment.
//   products   every product sold in the window: units, revenue and orders per day, unit price.
//   outputs    the champion segment and churn models applied to the same customers as of each
//              window's end: segment (categorical), churn probability, predicted spend. Re-scoring
//              both windows with the same artifact isolates what changed in the data the model
//              sees (the model is fixed); when the champion was trained at the anchor the
//              reference outputs are exactly the ones stored in customer_outputs.
// Forecast outputs are not re-scorable without retraining; they are monitored by their error as
// sales arrive (accuracy.ts).
import { ORDER_LEVEL_PRODUCT, type CleanData } from '../features/clean.ts';
import { customerFeatures, DAY_MS, FEATURE_NAMES, type CustomerHistories } from '../features/customers.ts';
import { assignSegments, type SegmentArtifact } from '../models/segment/train.ts';
import { scoreChurn, type ChurnArtifact } from '../models/churn/train.ts';
import type { ColumnInput } from './drift.ts';

export interface WindowSettings {
  maxWindowDays: number;
  minWindowDays: number;
  fallbackWindowDays: number;
}

export const DEFAULT_WINDOW_SETTINGS: Readonly<WindowSettings> = Object.freeze({ maxWindowDays: 90, minWindowDays: 7, fallbackWindowDays: 28 });

export interface Span { from: string; to: string }

export interface DriftWindows {
  /** Watermark of the latest successful training (null: never trained). */
  anchor: string | null;
  basis: 'since_training' | 'previous_period';
  reference: Span;
  current: Span;
  days: number;
}

const iso = (ms: number): string => new Date(ms).toISOString();

/** The windows compared, or why none can be yet. */
export function driftWindows(anchorMs: number | null, nowMs: number, s: WindowSettings = DEFAULT_WINDOW_SETTINGS): DriftWindows | { skipped: string; anchor: string | null } {
  if (anchorMs === null) {
    const len = s.fallbackWindowDays * DAY_MS;
    return { anchor: null, basis: 'previous_period', reference: { from: iso(nowMs - 2 * len), to: iso(nowMs - len) }, current: { from: iso(nowMs - len), to: iso(nowMs) }, days: s.fallbackWindowDays };
  }
  const since = nowMs - anchorMs;
  if (since < s.minWindowDays * DAY_MS) {
    return { anchor: iso(anchorMs), skipped: `${(since / DAY_MS).toFixed(1)} days of data since the last training (watermark ${iso(anchorMs)}); drift is judged from ${s.minWindowDays} days` };
  }
  const len = Math.min(since, s.maxWindowDays * DAY_MS);
  return {
    anchor: iso(anchorMs), basis: 'since_training',
    reference: { from: iso(anchorMs - len), to: iso(anchorMs) }, current: { from: iso(nowMs - len), to: iso(nowMs) }, days: len / DAY_MS,
  };
}

export interface ColumnGroup {
  /** customers | products | outputs */
  name: 'customers' | 'products' | 'outputs';
  referenceRows: number;
  currentRows: number;
  columns: ColumnInput[];
  /** Why a group has no columns (e.g. no champion artifact). */
  note?: string;
}

/** Ids of customers with an order in [from, to). */
function activeIds(h: CustomerHistories, from: number, to: number): Set<string> {
  const out = new Set<string>();
  for (const c of h.customers) {
    for (const o of c.orders) {
      if (o.time >= to) break;
      if (o.time >= from) { out.add(c.customerId); break; }
    }
  }
  return out;
}

function rowsOf(ids: readonly string[], active: Set<string>): Int32Array {
  const out: number[] = [];
  ids.forEach((id, i) => { if (active.has(id)) out.push(i); });
  return Int32Array.from(out);
}

const pick = (x: ArrayLike<number>, rows: Int32Array): Float64Array => Float64Array.from(rows, (i) => x[i]!);

export interface WindowData {
  from: number;
  to: number;
}

/** Customer features (as of each window's end) of the customers active in it. */
export function customerColumns(h: CustomerHistories, ref: WindowData, cur: WindowData): ColumnGroup {
  const fr = customerFeatures(h, ref.to), fc = customerFeatures(h, cur.to);
  const rr = rowsOf(fr.ids, activeIds(h, ref.from, ref.to)), rc = rowsOf(fc.ids, activeIds(h, cur.from, cur.to));
  return {
    name: 'customers', referenceRows: rr.length, currentRows: rc.length,
    columns: FEATURE_NAMES.map((k) => ({ name: k, type: 'numeric' as const, reference: pick(fr[k], rr), current: pick(fc[k], rc) })),
  };
}

const PRODUCT_COLUMNS = ['unitsPerDay', 'revenuePerDay', 'ordersPerDay', 'unitPrice'] as const;

/** Per product sold in the window: units, revenue and orders per day, and the unit price paid. */
function productRows(data: Pick<CleanData, 'sales'>, w: WindowData): Record<(typeof PRODUCT_COLUMNS)[number], Float64Array> {
  const agg = new Map<string, { units: number; revenue: number; orders: Set<string> }>();
  for (const s of data.sales) {
    if (s.time < w.from || s.time >= w.to || s.productId === ORDER_LEVEL_PRODUCT) continue;
    let a = agg.get(s.productId);
    if (!a) agg.set(s.productId, (a = { units: 0, revenue: 0, orders: new Set() }));
    a.units += s.quantity;
    a.revenue += s.quantity * s.price;
    a.orders.add(s.orderId);
  }
  const days = (w.to - w.from) / DAY_MS;
  const rows = [...agg.values()];
  return {
    unitsPerDay: Float64Array.from(rows, (r) => r.units / days),
    revenuePerDay: Float64Array.from(rows, (r) => r.revenue / days),
    ordersPerDay: Float64Array.from(rows, (r) => r.orders.size / days),
    unitPrice: Float64Array.from(rows, (r) => r.revenue / r.units),
  };
}

export function productColumns(data: Pick<CleanData, 'sales'>, ref: WindowData, cur: WindowData): ColumnGroup {
  const r = productRows(data, ref), c = productRows(data, cur);
  return {
    name: 'products', referenceRows: r.unitsPerDay.length, currentRows: c.unitsPerDay.length,
    columns: PRODUCT_COLUMNS.map((k) => ({ name: k, type: 'numeric' as const, reference: r[k], current: c[k] })),
  };
}

export interface Champions {
  segment?: { version: string; artifact: SegmentArtifact } | null;
  churn?: { version: string; artifact: ChurnArtifact } | null;
}

/** The champion models' outputs for the customers active in each window, as of its end. */
export function outputColumns(h: CustomerHistories, ref: WindowData, cur: WindowData, champions: Champions): ColumnGroup {
  const columns: ColumnInput[] = [];
  const activeRef = activeIds(h, ref.from, ref.to), activeCur = activeIds(h, cur.from, cur.to);
  let referenceRows = 0, currentRows = 0;
  const notes: string[] = [];
  const seg = champions.segment;
  if (seg) {
    const names = seg.artifact.segments.map((s) => s.name);
    const at = (asOf: number, active: Set<string>) => {
      const a = assignSegments(seg.artifact, h, asOf);
      const out: string[] = [];
      a.ids.forEach((id, i) => { if (active.has(id)) out.push(names[a.index[i]!] ?? String(a.index[i])); });
      return out;
    };
    const r = at(ref.to, activeRef), c = at(cur.to, activeCur);
    columns.push({ name: 'segment', type: 'categorical', reference: r, current: c });
    referenceRows = Math.max(referenceRows, r.length);
    currentRows = Math.max(currentRows, c.length);
  } else notes.push('no segment champion');
  const churn = champions.churn;
  if (churn) {
    const at = (asOf: number, active: Set<string>) => {
      const s = scoreChurn(churn.artifact, h, asOf);
      const rows = rowsOf(s.ids, active);
      return { churn: Float64Array.from(rows, (i) => 1 - s.orderProbability[i]!), spend: pick(s.predictedSpend, rows) };
    };
    const r = at(ref.to, activeRef), c = at(cur.to, activeCur);
    columns.push({ name: 'churnProbability', type: 'numeric', reference: r.churn, current: c.churn });
    columns.push({ name: 'predictedSpend', type: 'numeric', reference: r.spend, current: c.spend });
    referenceRows = Math.max(referenceRows, r.churn.length);
    currentRows = Math.max(currentRows, c.churn.length);
  } else notes.push('no churn champion');
  return { name: 'outputs', referenceRows, currentRows, columns, ...(notes.length ? { note: notes.join('; ') } : {}) };
}
