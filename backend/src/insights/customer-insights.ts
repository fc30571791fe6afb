// One customer as the merchant sees it on the customer page of the Shopify admin: the champion
// segment's label, the champion churn model's risk, expected next order and predicted spend
// (customer_outputs, keyed by model version), what shopml has stored of their orders, and the tags
// shopml applied. Reads only; everything is scoped to one shop.
import type { Db } from '../store/db.ts';
import type { SummaryCache } from '../dashboard/views/artifact-summaries.ts';
import type { ChurnArtifact, ChurnOutput } from '../models/churn/train.ts';
import type { SegmentOutput } from '../models/segment/train.ts';
import { appliedTagsOf } from './applied-tags.ts';
import { champion } from './champion.ts';
import type { ChurnRisk, CustomerInsights } from './types.ts';

const DAY_MS = 86_400_000;

/** Churn probabilities of every customer a churn version scored, sorted (for percentiles), per database. */
const scoredByDb = new WeakMap<Db, Map<string, Float64Array>>();
const MAX_VERSIONS = 8;

function sortedChurn(db: Db, shop: string, version: string): Float64Array {
  let m = scoredByDb.get(db);
  if (!m) scoredByDb.set(db, (m = new Map()));
  const key = `${shop}\u0000${version}`;
  let a = m.get(key);
  if (a) {
    m.delete(key);
    m.set(key, a);
    return a;
  }
  const values = db.prepare(`SELECT json_extract(output_json, '$.churnProbability') FROM customer_outputs WHERE shop = ? AND model_version = ? AND kind = 'churn'`)
    .pluck().all(shop, version) as (number | null)[];
  a = Float64Array.from(values.filter((v): v is number => typeof v === 'number' && Number.isFinite(v))).sort();
  m.set(key, a);
  if (m.size > MAX_VERSIONS) m.delete(m.keys().next().value!);
  return a;
}

/** Share of `sorted` below `p` (ties count half): 0 = least at risk, 1 = most. */
export function percentileOf(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return 0.5;
  let lo = 0, hi = sorted.length;
  while (lo < hi) { const mid = (lo + hi) >> 1; if (sorted[mid]! < p) lo = mid + 1; else hi = mid; }
  const below = lo;
  hi = sorted.length;
  while (lo < hi) { const mid = (lo + hi) >> 1; if (sorted[mid]! <= p) lo = mid + 1; else hi = mid; }
  return (below + (lo - below) / 2) / sorted.length;
}

export function riskBand(percentile: number): ChurnRisk {
  return percentile >= 2 / 3 ? 'high' : percentile >= 1 / 3 ? 'medium' : 'low';
}

const round = (x: number, d: number) => Math.round(x * 10 ** d) / 10 ** d;

function output<T>(db: Db, shop: string, version: string, customerId: string): T | null {
  const json = db.prepare('SELECT output_json FROM customer_outputs WHERE shop = ? AND model_version = ? AND customer_id = ?').pluck().get(shop, version, customerId) as string | undefined;
  return json === undefined ? null : (JSON.parse(json) as T);
}

export interface CustomerInsightsContext {
  db: Db;
  artifactsDir: string;
  artifacts: SummaryCache;
  now: Date;
}

export function customerInsights(c: CustomerInsightsContext, shop: string, customerId: string): CustomerInsights {
  const { db } = c;
  const h = db.prepare(`SELECT count(*) AS orders, min(created_at) AS first, max(created_at) AS last, coalesce(sum(total_price), 0) AS spent FROM orders INDEXED BY orders_shop_customer
      WHERE shop = ? AND customer_id = ? AND kind = 'order' AND cancelled_at IS NULL AND test = 0`).get(shop, customerId) as
    { orders: number; first: string | null; last: string | null; spent: number };
  const currency = (db.prepare(`SELECT currency FROM orders INDEXED BY orders_shop_customer WHERE shop = ? AND customer_id = ? AND currency IS NOT NULL ORDER BY created_at DESC LIMIT 1`).pluck().get(shop, customerId)
    ?? db.prepare(`SELECT currency FROM orders WHERE shop = ? AND currency IS NOT NULL ORDER BY created_at DESC LIMIT 1`).pluck().get(shop)
    ?? null) as string | null;

  const segModel = champion(db, shop, 'segment');
  const churnModel = champion(db, shop, 'churn');
  const seg = segModel ? output<SegmentOutput>(db, shop, segModel.ref.version, customerId) : null;
  const ch = churnModel ? output<ChurnOutput>(db, shop, churnModel.ref.version, customerId) : null;

  const out: CustomerInsights = {
    shop, customer_id: customerId, status: 'ok', reason: null, currency,
    history: { orders: h.orders, first_order_at: h.first, last_order_at: h.last, total_spent: round(h.spent, 2) },
    segment: seg && segModel ? { name: seg.segment, tag: seg.tag, model: segModel.ref } : null,
    churn: null, expected_next_order: null, predicted_value: null,
    tags: appliedTagsOf(db, shop, customerId),
  };
  if (ch && churnModel) {
    const meta = c.artifacts.get(c.artifactsDir, churnModel.ref.version, (a) => {
      const x = a as ChurnArtifact;
      return { horizonDays: x.horizonDays, asOf: x.asOf };
    });
    const fromParams = churnModel.params.horizonDays;
    const horizonDays = meta.ok ? meta.value.horizonDays : typeof fromParams === 'number' ? fromParams : 90;
    const asOfMs = meta.ok ? meta.value.asOf : churnModel.ref.as_of ? Date.parse(churnModel.ref.as_of) : NaN;
    const percentile = percentileOf(sortedChurn(db, shop, churnModel.ref.version), ch.churnProbability);
    out.churn = {
      churn_probability: round(ch.churnProbability, 4), order_probability: round(ch.orderProbability, 4),
      p_alive: typeof ch.pAlive === 'number' ? round(ch.pAlive, 4) : null, horizon_days: horizonDays,
      percentile: round(percentile, 4), risk: riskBand(percentile), model: churnModel.ref,
    };
    if (Number.isFinite(ch.expectedNextOrder)) {
      out.expected_next_order = {
        date: new Date(ch.expectedNextOrder).toISOString().slice(0, 10),
        overdue: ch.expectedNextOrder < c.now.getTime(),
        beyond_a_year: Number.isFinite(asOfMs) ? ch.expectedNextOrder - asOfMs > 365 * DAY_MS : false,
      };
    }
    out.predicted_value = { amount: round(ch.predictedSpend, 2), horizon_days: horizonDays };
  }
  if (!segModel && !churnModel) {
    out.status = 'no_model';
    out.reason = 'no_model';
  } else if (!out.segment && !out.churn) {
    out.status = 'not_enough_history';
    out.reason = h.orders === 0 ? 'no_orders' : 'not_scored_yet';
  }
  return out;
}
