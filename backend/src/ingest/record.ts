// Appends one normalized event to the log and updates the projections, synchronously, inside
// the caller's transaction (the group writer for webhooks, a chunk transaction for imports and
// bulk exports). Idempotent on (shop, source_id); stale updates are logged but never overwrite
// newer state; events about a redacted customer are suppressed and nothing is written.
import type { Db } from '../store/db.ts';
import { perConnection } from '../store/per-connection.ts';
import type { Keys } from '../keys.ts';
import type { IngestOutcome, NormalizedEvent, NormalizedOrder } from './types.ts';

export interface RecordInput {
  shop: string;
  topic: string;
  source: 'webhook' | 'bulk' | 'import' | 'flow' | 'admin';
  sourceId: string;
  receivedAt: string;
  triggeredAt?: string | null;
  payloadSha256: string;
  event: NormalizedEvent;
}

function prepare(db: Db) {
  return {
    eventExists: db.prepare('SELECT 1 FROM events WHERE shop = ? AND source_id = ?').pluck(),
    tombstoned: db.prepare('SELECT 1 FROM tombstones WHERE shop = ? AND subject_hash = ?').pluck(),
    anyTombstone: db.prepare('SELECT 1 FROM tombstones WHERE shop = ? LIMIT 1').pluck(),
    insertEvent: db.prepare(`INSERT INTO events (shop, topic, source, source_id, received_at, triggered_at, customer_id, email_hash, order_id, outcome, payload_sha256, payload)
      VALUES (@shop, @topic, @source, @sourceId, @receivedAt, @triggeredAt, @customerId, @emailHash, @orderId, @outcome, @payloadSha256, @payload)`),
    orderUpdatedAt: db.prepare('SELECT updated_at FROM orders WHERE shop = ? AND order_id = ?').pluck(),
    upsertOrder: db.prepare(`INSERT INTO orders (shop, order_id, name, kind, customer_id, email_hash, created_at, updated_at, cancelled_at, currency, total_price, financial_status, source_name, country, test)
      VALUES (@shop, @id, @name, @kind, @customerId, @emailHash, @createdAt, @updatedAt, @cancelledAt, @currency, @totalPrice, @financialStatus, @sourceName, @country, @test)
      ON CONFLICT (shop, order_id) DO UPDATE SET name = excluded.name, kind = excluded.kind, customer_id = excluded.customer_id,
        email_hash = excluded.email_hash, created_at = excluded.created_at, updated_at = excluded.updated_at, cancelled_at = excluded.cancelled_at,
        currency = excluded.currency, total_price = excluded.total_price, financial_status = excluded.financial_status,
        source_name = excluded.source_name, country = excluded.country, test = excluded.test`),
    deleteLines: db.prepare('DELETE FROM order_lines WHERE shop = ? AND order_id = ?'),
    insertLine: db.prepare(`INSERT INTO order_lines (shop, order_id, line_id, product_id, variant_id, sku, title, quantity, price, refunded_quantity, line_kind)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
    upsertCustomerFromOrder: db.prepare(`INSERT INTO customers (shop, customer_id, email_hash) VALUES (?, ?, ?)
      ON CONFLICT (shop, customer_id) DO UPDATE SET email_hash = COALESCE(excluded.email_hash, customers.email_hash)`),
    insertRefund: db.prepare('INSERT OR IGNORE INTO refunds (shop, refund_id, order_id, created_at) VALUES (?, ?, ?, ?)'),
    addRefunded: db.prepare('UPDATE order_lines SET refunded_quantity = refunded_quantity + ? WHERE shop = ? AND order_id = ? AND line_id = ?'),
    productState: db.prepare('SELECT updated_at, deleted_at FROM products WHERE shop = ? AND product_id = ?'),
    upsertProduct: db.prepare(`INSERT INTO products (shop, product_id, title, handle, product_type, vendor, status, tags, created_at, updated_at, deleted_at)
      VALUES (@shop, @id, @title, @handle, @productType, @vendor, @status, @tags, @createdAt, @updatedAt, NULL)
      ON CONFLICT (shop, product_id) DO UPDATE SET title = excluded.title, handle = excluded.handle, product_type = excluded.product_type,
        vendor = excluded.vendor, status = excluded.status, tags = excluded.tags, created_at = COALESCE(excluded.created_at, products.created_at),
        updated_at = excluded.updated_at, deleted_at = NULL`),
    // INDEXED BY: without statistics SQLite picks the primary key's (shop) prefix and scans every
    // variant of the shop for each product (1.8 s per 2,000 products of a 5,000-product shop).
    deleteVariants: db.prepare('DELETE FROM variants INDEXED BY variants_product WHERE shop = ? AND product_id = ?'),
    insertVariant: db.prepare(`INSERT OR REPLACE INTO variants (shop, variant_id, product_id, title, sku, price, inventory_item_id, image)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?)`),
    markProductDeleted: db.prepare(`INSERT INTO products (shop, product_id, deleted_at, updated_at) VALUES (?, ?, ?, ?)
      ON CONFLICT (shop, product_id) DO UPDATE SET deleted_at = excluded.deleted_at`),
    inventoryUpdatedAt: db.prepare('SELECT updated_at FROM inventory WHERE shop = ? AND inventory_item_id = ? AND location_id = ?').pluck(),
    // `= +?`: kept prepared across calls (docs/architecture.md, "Statements that stay prepared").
    inventoryNewest: db.prepare('SELECT max(updated_at) FROM inventory WHERE shop = +? AND inventory_item_id = +?').pluck(),
    deleteInventoryItem: db.prepare('DELETE FROM inventory WHERE shop = ? AND inventory_item_id = ?'),
    deleteInventoryLevel: db.prepare('DELETE FROM inventory WHERE shop = ? AND inventory_item_id = ? AND location_id = ?'),
    upsertInventory: db.prepare(`INSERT INTO inventory (shop, inventory_item_id, location_id, available, updated_at) VALUES (?, ?, ?, ?, ?)
      ON CONFLICT (shop, inventory_item_id, location_id) DO UPDATE SET available = excluded.available, updated_at = excluded.updated_at`),
  };
}

const stmts = perConnection(prepare);

/** Column order of an order event's lines in the stored payload. */
const LINE_COLUMNS = ['id', 'productId', 'variantId', 'sku', 'title', 'quantity', 'price', 'lineKind', 'refundedQuantity'] as const;

/**
 * The event log's payload: the normalized event as JSON, with an order's lines stored as rows
 * under one column header rather than as objects repeating every key (a 40% smaller log for
 * wholesale orders of dozens of lines, and faster to write). decodeEventPayload reverses it.
 */
export function encodeEventPayload(event: NormalizedEvent): string {
  if (event.type !== 'order') return JSON.stringify(event);
  const { lines, ...order } = event.order;
  return JSON.stringify({
    type: 'order',
    order,
    lines: { columns: LINE_COLUMNS, rows: lines.map((l) => LINE_COLUMNS.map((c) => l[c] ?? null)) },
  });
}

export function decodeEventPayload(json: string): NormalizedEvent {
  const v = JSON.parse(json) as { type: string; order?: Omit<NormalizedOrder, 'lines'>; lines?: { columns: string[]; rows: unknown[][] } };
  if (v.type !== 'order' || !v.lines) return v as NormalizedEvent;
  const cols = v.lines.columns;
  const lines = v.lines.rows.map((r) => Object.fromEntries(cols.map((c, i) => [c, r[i]])) as unknown as NormalizedOrder['lines'][number]);
  return { type: 'order', order: { ...(v.order as Omit<NormalizedOrder, 'lines'>), lines } };
}

/**
 * The inventory row location of a bulk export's stock: Shopify's `inventoryQuantity`, the total
 * over every location as of the export. An item has either this one row or per-location rows
 * (inventory_levels/update), never both, so summing an item's rows stays right: a bulk total
 * replaces older per-location rows, and a newer per-location level replaces the total (exact for a
 * single-location shop; with several locations the item counts that location only until its
 * other levels change or the next backfill).
 */
export const ALL_LOCATIONS = '*';

/** ISO timestamps from Shopify carry offsets; compare instants, not strings. */
function isOlder(incoming: string, stored: string | undefined | null): boolean {
  if (!stored) return false;
  return Date.parse(incoming) < Date.parse(stored);
}

/** Who and what an event is about, so that customers/redact can find it. */
export function eventSubject(event: NormalizedEvent): { customerId: string | null; emailHash: string | null; orderId: string | null } {
  if (event.type === 'order') return { customerId: event.order.customerId, emailHash: event.order.emailHash, orderId: event.order.id };
  if (event.type === 'refund') return { customerId: null, emailHash: null, orderId: event.refund.orderId };
  return { customerId: null, emailHash: null, orderId: null };
}

export function isTombstoned(db: Db, keys: Keys, shop: string, order: Pick<NormalizedOrder, 'id' | 'customerId' | 'emailHash'>): boolean {
  const s = stmts(db);
  // Most shops have no redactions: one indexed probe instead of three keyed hashes and lookups.
  if (!s.anyTombstone.get(shop)) return false;
  if (s.tombstoned.get(shop, keys.subjectHash(shop, 'order', order.id))) return true;
  if (order.customerId && s.tombstoned.get(shop, keys.subjectHash(shop, 'customer', order.customerId))) return true;
  if (order.emailHash && s.tombstoned.get(shop, keys.subjectHash(shop, 'email', order.emailHash))) return true;
  return false;
}

/** Whether this customer or order was redacted (customers/redact): nothing new about them is stored. */
export function isRedacted(db: Db, keys: Keys, shop: string, kind: 'customer' | 'order', id: string): boolean {
  const s = stmts(db);
  if (!s.anyTombstone.get(shop)) return false;
  return s.tombstoned.get(shop, keys.subjectHash(shop, kind, id)) !== undefined;
}

/**
 * Whether any whole number of 6 to 20 digits in `text` (a scrubbed document about to be kept:
 * a quarantined body) is a redacted customer's or order's id. Only asked when a shop has
 * redactions; bounded to the first 2,000 numbers.
 */
export function mentionsTombstoned(db: Db, keys: Keys, shop: string, text: string): boolean {
  const s = stmts(db);
  if (!s.anyTombstone.get(shop)) return false;
  const ids = new Set((text.match(/(?<!\d)\d{6,20}(?!\d)/g) ?? []).slice(0, 2000));
  for (const id of ids) {
    if (s.tombstoned.get(shop, keys.subjectHash(shop, 'customer', id)) || s.tombstoned.get(shop, keys.subjectHash(shop, 'order', id))) return true;
  }
  return false;
}

function applyOrder(db: Db, shop: string, order: NormalizedOrder): 'applied' | 'stale' {
  const s = stmts(db);
  const stored = s.orderUpdatedAt.get(shop, order.id) as string | undefined;
  if (isOlder(order.updatedAt, stored)) return 'stale';
  if (order.customerId) s.upsertCustomerFromOrder.run(shop, order.customerId, order.emailHash);
  s.upsertOrder.run({ shop, ...order, test: order.test ? 1 : 0 });
  if (stored !== undefined) s.deleteLines.run(shop, order.id); // a new order has no lines to replace
  for (const l of order.lines) {
    s.insertLine.run(shop, order.id, l.id, l.productId, l.variantId, l.sku, l.title, l.quantity, l.price, l.refundedQuantity ?? 0, l.lineKind);
  }
  return 'applied';
}

/** The projection change of one event (no log write): used by recordEvent and by rebuild. */
export function applyEvent(db: Db, shop: string, event: NormalizedEvent): 'applied' | 'stale' {
  const s = stmts(db);
  switch (event.type) {
    case 'order':
      return applyOrder(db, shop, event.order);
    case 'refund': {
      const r = event.refund;
      if (s.insertRefund.run(shop, r.id, r.orderId, r.createdAt).changes === 0) return 'applied';
      for (const l of r.lines) s.addRefunded.run(l.quantity, shop, r.orderId, l.lineId);
      return 'applied';
    }
    case 'product': {
      const p = event.product;
      const stored = s.productState.get(shop, p.id) as { updated_at: string | null; deleted_at: string | null } | undefined;
      if (p.updatedAt && isOlder(p.updatedAt, stored?.updated_at)) return 'stale';
      // Shopify never brings a deleted product back: a version from before the deletion (a late
      // webhook, a bulk export that read it just before) must not undo it.
      if (stored?.deleted_at && (!p.updatedAt || !isOlder(stored.deleted_at, p.updatedAt))) return 'stale';
      s.upsertProduct.run({ shop, ...p });
      s.deleteVariants.run(shop, p.id);
      for (const v of p.variants) s.insertVariant.run(shop, v.id, p.id, v.title, v.sku, v.price, v.inventoryItemId, p.image);
      return 'applied';
    }
    case 'product_deleted':
      s.markProductDeleted.run(shop, event.productId, event.deletedAt, event.deletedAt);
      return 'applied';
    case 'inventory': {
      const l = event.level;
      if (l.locationId === ALL_LOCATIONS) {
        // A bulk total: stale beside any newer level; otherwise it replaces every row of the item.
        if (isOlder(l.updatedAt, s.inventoryNewest.get(shop, l.inventoryItemId) as string | null)) return 'stale';
        s.deleteInventoryItem.run(shop, l.inventoryItemId);
      } else {
        if (isOlder(l.updatedAt, s.inventoryUpdatedAt.get(shop, l.inventoryItemId, l.locationId) as string | undefined)) return 'stale';
        const total = s.inventoryUpdatedAt.get(shop, l.inventoryItemId, ALL_LOCATIONS) as string | undefined;
        if (total !== undefined) {
          if (isOlder(l.updatedAt, total)) return 'stale';
          s.deleteInventoryLevel.run(shop, l.inventoryItemId, ALL_LOCATIONS);
        }
      }
      s.upsertInventory.run(shop, l.inventoryItemId, l.locationId, l.available, l.updatedAt);
      return 'applied';
    }
  }
}

/** Must run inside a transaction: the event row and its projection commit together or not at all. */
export function recordEvent(db: Db, keys: Keys, input: RecordInput): IngestOutcome {
  const s = stmts(db);
  if (s.eventExists.get(input.shop, input.sourceId)) return 'duplicate';
  if (input.event.type === 'order' && isTombstoned(db, keys, input.shop, input.event.order)) return 'suppressed';
  // A refund carries only its order's id: one of a redacted order is dropped the same way.
  if (input.event.type === 'refund' && isRedacted(db, keys, input.shop, 'order', input.event.refund.orderId)) return 'suppressed';
  const outcome = applyEvent(db, input.shop, input.event);
  s.insertEvent.run({
    shop: input.shop,
    topic: input.topic,
    source: input.source,
    sourceId: input.sourceId,
    receivedAt: input.receivedAt,
    triggeredAt: input.triggeredAt ?? null,
    ...eventSubject(input.event),
    outcome,
    payloadSha256: input.payloadSha256,
    payload: encodeEventPayload(input.event),
  });
  return outcome;
}
