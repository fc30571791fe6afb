// Customer tags shopml manages. shopml remembers, per customer and tag prefix, the one tag it
// applied (flow_customer_tags) and replaces exactly that tag: tagsRemove of what it applied
// before, tagsAdd of the new one. Tags it did not apply — the merchant's own — are never in a
// tagsRemove, so they survive every re-tag.
//
// The order remove → add → record is safe to repeat: after a crash between any two steps the
// next attempt removes the old tag again (a no-op if gone) and adds the new one (a no-op if
// present). Shopify tags are case-insensitive; comparisons here are too.
import type { AdminClient } from '../shopify/admin-client.ts';
import { assertNoUserErrors, operationNameOf, type UserError } from '../shopify/admin-client.ts';
import { TAGS_ADD, TAGS_REMOVE } from '../shopify/documents.ts';
import { toGid } from '../shopify/gid.ts';
import type { Db } from '../store/db.ts';

export const DEFAULT_TAG_PREFIX = 'shopml:';
/** The segment model names its tags `shopml:<slug>` (models/segment/train.ts segmentTag). */
const MODEL_TAG_PREFIX = 'shopml:';
const MAX_TAG_LENGTH = 255;

export class TagPrefixError extends Error {
  override name = 'TagPrefixError';
}

/** A merchant-supplied prefix: at most 40 characters, no commas (tags are comma-separated), one line. */
export function normalizePrefix(prefix: string | undefined | null): string {
  if (prefix === undefined || prefix === null || prefix.trim() === '') return DEFAULT_TAG_PREFIX;
  const p = prefix.trim();
  if (p.length > 40) throw new TagPrefixError(`tag prefix is longer than 40 characters: ${JSON.stringify(p)}`);
  if (/[,\r\n]/.test(p)) throw new TagPrefixError(`tag prefix may not contain commas or line breaks: ${JSON.stringify(p)}`);
  return p;
}

/** The tag for a segment under a prefix: "shopml:champions" → "vip-champions" for prefix "vip-". */
export function tagWithPrefix(segmentTag: string, prefix: string): string {
  const slug = segmentTag.startsWith(MODEL_TAG_PREFIX) ? segmentTag.slice(MODEL_TAG_PREFIX.length) : segmentTag;
  const tag = `${prefix}${slug}`;
  if (tag.length > MAX_TAG_LENGTH) throw new TagPrefixError(`tag ${JSON.stringify(tag)} is longer than ${MAX_TAG_LENGTH} characters`);
  return tag;
}

export interface TagPlan {
  /** Tags shopml applied before and no longer wants (sent to tagsRemove). */
  remove: string[];
  /** Tags wanted and not known to be applied (sent to tagsAdd). */
  add: string[];
  /** prefix → tag after the change (a prefix without a tag is dropped). */
  next: Map<string, string>;
  /** The prefixes this plan changes: prefix → its new tag, or null when it loses its tag. What recordTags stores. */
  changes: Map<string, string | null>;
}

const lower = (s: string) => s.toLowerCase();

/**
 * Pure: from the tags shopml applied (prefix → tag) and the wanted ones (prefix → tag, or null
 * for "no tag under this prefix"), what to remove and add. Prefixes not in `wanted` are kept.
 */
export function planTags(applied: ReadonlyMap<string, string>, wanted: ReadonlyMap<string, string | null>): TagPlan {
  const next = new Map(applied);
  const changes = new Map<string, string | null>();
  for (const [prefix, tag] of wanted) {
    if (tag === null) next.delete(prefix);
    else next.set(prefix, tag);
    if ((applied.get(prefix) ?? null) !== tag) changes.set(prefix, tag);
  }
  const nextLower = new Set([...next.values()].map(lower));
  const appliedLower = new Set([...applied.values()].map(lower));
  const remove = [...new Set([...applied.values()].filter((t) => !nextLower.has(lower(t))))];
  const add = [...new Set([...next.values()].filter((t) => !appliedLower.has(lower(t))))];
  return { remove, add, next, changes };
}

export function isNoop(plan: TagPlan): boolean {
  return plan.remove.length === 0 && plan.add.length === 0;
}

/** prefix → tag shopml applied, per customer. */
export function appliedTags(db: Db, shop: string, customerIds: readonly string[]): Map<string, Map<string, string>> {
  const out = new Map<string, Map<string, string>>();
  if (customerIds.length === 0) return out;
  const rows = db.prepare(`SELECT customer_id AS c, prefix AS p, tag AS t FROM flow_customer_tags
    WHERE shop = ? AND customer_id IN (SELECT value FROM json_each(?))`).all(shop, JSON.stringify(customerIds)) as { c: string; p: string; t: string }[];
  for (const r of rows) {
    let m = out.get(r.c);
    if (!m) out.set(r.c, (m = new Map()));
    m.set(r.p, r.t);
  }
  return out;
}

/**
 * Records the customer's tag under each given prefix (null: none any more), inside the caller's
 * transaction; other prefixes are left as they are. Only a plan's `changes` are written, so two
 * jobs working on the same customer at once (the re-tag pass and a Flow action with another
 * prefix) cannot overwrite each other's records with the snapshot they planned from.
 */
export function recordTags(db: Db, shop: string, customerId: string, tags: ReadonlyMap<string, string | null>, at: string): void {
  const del = db.prepare('DELETE FROM flow_customer_tags WHERE shop = ? AND customer_id = ? AND prefix = ?');
  const put = db.prepare(`INSERT INTO flow_customer_tags (shop, customer_id, prefix, tag, updated_at) VALUES (?, ?, ?, ?, ?)
    ON CONFLICT (shop, customer_id, prefix) DO UPDATE SET tag = excluded.tag, updated_at = excluded.updated_at`);
  for (const [prefix, tag] of tags) {
    if (tag === null) del.run(shop, customerId, prefix);
    else put.run(shop, customerId, prefix, tag, at);
  }
}

export class CustomerGoneError extends Error {
  override name = 'CustomerGoneError';
}

async function tagMutation(client: AdminClient, doc: string, customerId: string, tags: string[], signal?: AbortSignal): Promise<void> {
  const { data } = await client.request<Record<string, { userErrors?: UserError[] | null } | null>>(doc, { id: toGid('Customer', customerId), tags }, { signal });
  const payload = Object.values(data)[0];
  // A deleted customer is not an error to retry: the caller forgets it.
  if (payload?.userErrors?.some((e) => /does not exist|not found/i.test(e.message))) throw new CustomerGoneError(`customer ${customerId} no longer exists in ${client.shop}`);
  assertNoUserErrors(payload, { shop: client.shop, operationName: operationNameOf(doc) });
}

/** Sends the plan: tagsRemove (if anything to remove), then tagsAdd (if anything to add). */
export async function applyTagPlan(client: AdminClient, customerId: string, plan: TagPlan, signal?: AbortSignal): Promise<{ calls: number }> {
  let calls = 0;
  if (plan.remove.length > 0) {
    await tagMutation(client, TAGS_REMOVE, customerId, plan.remove, signal);
    calls++;
  }
  if (plan.add.length > 0) {
    await tagMutation(client, TAGS_ADD, customerId, plan.add, signal);
    calls++;
  }
  return { calls };
}
