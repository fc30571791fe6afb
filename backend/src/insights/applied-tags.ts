// The tags shopml applied to a customer in Shopify, newest first: the record its tagging keeps
// (flow_customer_tags, migration 008; written by flow/tags.ts recordTags), one tag per prefix.
import type { Db } from '../store/db.ts';
import type { AppliedTag } from './types.ts';

export function appliedTagsOf(db: Db, shop: string, customerId: string): AppliedTag[] {
  const rows = db.prepare('SELECT tag, prefix, updated_at FROM flow_customer_tags WHERE shop = ? AND customer_id = ? ORDER BY updated_at DESC, prefix')
    .all(shop, customerId) as { tag: string; prefix: string; updated_at: string }[];
  return rows.map((r) => ({ tag: r.tag, prefix: r.prefix, applied_at: r.updated_at }));
}
