// What shopml publishes about a customer: the champion segment model's segment and the champion
// churn model's churn risk and predicted value, read from customer_outputs. Tags, metafields,
// the "Score customer" action and the customer triggers all read through here, so they agree.
import type { Db } from '../store/db.ts';
import { getAlias } from '../registry/aliases.ts';

export interface ChampionVersions {
  segment: string | null;
  churn: string | null;
}

export interface CustomerScore {
  customerId: string;
  /** Segment name, e.g. "Champions"; null when the segment champion did not score the customer. */
  segment: string | null;
  /** The segment's tag with shopml's default prefix, e.g. "shopml:champions". */
  segmentTag: string | null;
  /** 0..1: probability of no order within the churn model's horizon. */
  churnRisk: number | null;
  /** Predicted spend within the horizon (store currency). */
  predictedValue: number | null;
}

export function championVersions(db: Db, shop: string): ChampionVersions {
  return { segment: getAlias(db, shop, 'segment', 'champion'), churn: getAlias(db, shop, 'churn', 'champion') };
}

/** "segment=<v>;churn=<v>": identifies what a publishing pass publishes. */
export function versionsKey(v: ChampionVersions): string {
  return `segment=${v.segment ?? '-'};churn=${v.churn ?? '-'}`;
}

const round = (x: number, digits: number): number => Number(x.toFixed(digits));

function parseSegment(json: string | null | undefined): { segment: string; tag: string } | null {
  if (!json) return null;
  const o = JSON.parse(json) as { segment?: unknown; tag?: unknown };
  return typeof o.segment === 'string' && typeof o.tag === 'string' ? { segment: o.segment, tag: o.tag } : null;
}

function parseChurn(json: string | null | undefined): { churnRisk: number | null; predictedValue: number | null } | null {
  if (!json) return null;
  const o = JSON.parse(json) as { churnProbability?: unknown; predictedSpend?: unknown };
  const num = (v: unknown, d: number) => (typeof v === 'number' && Number.isFinite(v) ? round(v, d) : null);
  return { churnRisk: num(o.churnProbability, 4), predictedValue: num(o.predictedSpend, 2) };
}

function toScore(customerId: string, seg: string | null | undefined, churn: string | null | undefined): CustomerScore {
  const s = parseSegment(seg);
  const c = parseChurn(churn);
  return { customerId, segment: s?.segment ?? null, segmentTag: s?.tag ?? null, churnRisk: c?.churnRisk ?? null, predictedValue: c?.predictedValue ?? null };
}

export function isScored(s: CustomerScore): boolean {
  return s.segment !== null || s.churnRisk !== null || s.predictedValue !== null;
}

/** One customer's score under the current champions (all fields null when not scored). */
export function customerScore(db: Db, shop: string, customerId: string, versions: ChampionVersions = championVersions(db, shop)): CustomerScore {
  const q = db.prepare('SELECT output_json FROM customer_outputs WHERE shop = ? AND model_version = ? AND customer_id = ?').pluck();
  const seg = versions.segment ? (q.get(shop, versions.segment, customerId) as string | undefined) : undefined;
  const churn = versions.churn ? (q.get(shop, versions.churn, customerId) as string | undefined) : undefined;
  return toScore(customerId, seg, churn);
}

/** Scores of the given customers (one query per model). */
export function customerScores(db: Db, shop: string, customerIds: readonly string[], versions: ChampionVersions): Map<string, CustomerScore> {
  const out = new Map<string, CustomerScore>();
  if (customerIds.length === 0) return out;
  const load = (version: string | null): Map<string, string> => {
    const m = new Map<string, string>();
    if (!version) return m;
    const rows = db.prepare(`SELECT customer_id AS c, output_json AS o FROM customer_outputs
      WHERE shop = ? AND model_version = ? AND customer_id IN (SELECT value FROM json_each(?))`).all(shop, version, JSON.stringify(customerIds)) as { c: string; o: string }[];
    for (const r of rows) m.set(r.c, r.o);
    return m;
  };
  const seg = load(versions.segment);
  const churn = load(versions.churn);
  for (const id of customerIds) out.set(id, toScore(id, seg.get(id), churn.get(id)));
  return out;
}
