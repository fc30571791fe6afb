// Segment sizes and value: the champion segment model's per-customer labels (customer_outputs),
// joined with the champion churn model's predicted spend and churn risk for the same customers,
// the revenue those customers brought so far, and each segment's median profile from the
// segment artifact.
import type { Db } from '../../store/db.ts';
import { getAlias } from '../../registry/aliases.ts';
import { getVersion } from '../../registry/versions.ts';
import type { SegmentArtifact } from '../../models/segment/train.ts';
import type { SummaryCache } from './artifact-summaries.ts';

export interface SegmentRow {
  name: string;
  tag: string | null;
  customers: number;
  share: number;
  /** Order revenue to date of these customers (store currency). */
  revenueToDate: number;
  /** Customers the churn champion scored, their predicted spend over its horizon, mean churn risk. */
  scored: number;
  predictedSpend: number | null;
  meanChurnRisk: number | null;
  profile: { recencyDays: number; frequency: number; monetary: number; tenureDays: number } | null;
}

export interface SegmentsView {
  version: string | null;
  trainedAt: string | null;
  churnVersion: string | null;
  horizonDays: number | null;
  customers: number;
  rows: SegmentRow[];
  error: string | null;
}

export function segmentsView(db: Db, shop: string, artifactsDir: string, cache: SummaryCache): SegmentsView {
  const version = getAlias(db, shop, 'segment', 'champion');
  const churnVersion = getAlias(db, shop, 'churn', 'champion');
  if (!version) return { version: null, trainedAt: null, churnVersion, horizonDays: null, customers: 0, rows: [], error: null };
  const rows = db.prepare(`
    WITH seg AS (
      SELECT customer_id, json_extract(output_json, '$.segment') AS name, json_extract(output_json, '$.tag') AS tag
      FROM customer_outputs WHERE shop = @shop AND model_version = @version
    ), spent AS (
      SELECT o.customer_id, sum(o.total_price) AS revenue FROM orders o
      WHERE o.shop = @shop AND o.customer_id IS NOT NULL AND o.kind = 'order' AND o.cancelled_at IS NULL AND o.test = 0
      GROUP BY o.customer_id
    )
    SELECT seg.name, max(seg.tag) AS tag, count(*) AS customers, coalesce(sum(spent.revenue), 0) AS revenue,
      count(c.customer_id) AS scored, sum(json_extract(c.output_json, '$.predictedSpend')) AS spend,
      avg(json_extract(c.output_json, '$.churnProbability')) AS churn
    FROM seg
    LEFT JOIN spent ON spent.customer_id = seg.customer_id
    LEFT JOIN customer_outputs c ON c.shop = @shop AND c.model_version = @churn AND c.customer_id = seg.customer_id
    GROUP BY seg.name ORDER BY customers DESC, seg.name`).all({ shop, version, churn: churnVersion ?? '' }) as
    { name: string; tag: string | null; customers: number; revenue: number; scored: number; spend: number | null; churn: number | null }[];
  const total = rows.reduce((s, r) => s + r.customers, 0);
  const art = cache.get(artifactsDir, version, (a) => {
    const s = a as SegmentArtifact;
    return new Map((s.segments ?? []).map((x) => [x.name, x.profile] as const));
  });
  const churnMeta = churnVersion ? getVersion(db, shop, 'churn', churnVersion) : null;
  const horizon = churnMeta?.params.horizonDays;
  return {
    version,
    trainedAt: getVersion(db, shop, 'segment', version)?.trainedAt ?? null,
    churnVersion,
    horizonDays: typeof horizon === 'number' ? horizon : null,
    customers: total,
    rows: rows.map((r) => ({
      name: r.name, tag: r.tag, customers: r.customers, share: total ? r.customers / total : 0, revenueToDate: r.revenue,
      scored: r.scored, predictedSpend: r.scored > 0 ? r.spend : null, meanChurnRisk: r.scored > 0 ? r.churn : null,
      profile: art.ok ? (art.value.get(r.name) ?? null) : null,
    })),
    error: art.ok ? null : art.error,
  };
}
