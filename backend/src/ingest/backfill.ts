// Historical import through bulk exports, every item recorded through recordEvent in chunk
// transactions (source 'bulk'), exactly as webhooks record theirs:
// - orders (topic bulk/orders): re-running is idempotent: an unchanged order has the same
//   source id (its GID + updatedAt) and is a 'duplicate'; a changed one is a new event.
// - products (topic bulk/products, the same projection products/create|update writes) and their
//   tracked variants' stock (topic bulk/inventory, Shopify's total over all locations as of the
//   export; see ALL_LOCATIONS in record.ts). A product unchanged since the last run is a
//   'duplicate'; stock already stored as exactly this total is 'unchanged' and not logged again.
//   A product or level a webhook stored with a newer updated_at is kept ('stale').
import { createHash } from 'node:crypto';
import type { Keys } from '../keys.ts';
import type { AdminClient } from '../shopify/admin-client.ts';
import {
  type BulkExportOptions,
  type BulkOperationInfo,
  type BulkProgress,
  bulkPayloadSha256,
  bulkProductSourceId,
  bulkSourceId,
  runBulkOrderExport,
  runBulkProductExport,
} from '../shopify/bulk-export.ts';
import type { BulkProduct } from '../shopify/bulk-products.ts';
import { toGid } from '../shopify/gid.ts';
import type { Db } from '../store/db.ts';
import { ALL_LOCATIONS, recordEvent } from './record.ts';

export interface BackfillOptions extends Omit<BulkExportOptions, 'client' | 'onProgress'> {
  db: Db;
  keys: Keys;
  shop: string;
  client: AdminClient;
  now?: () => Date;
  onProgress?: (p: BulkProgress | { phase: 'recorded'; what: 'orders'; counts: BackfillCounts }) => void;
}

export interface BackfillCounts {
  operationId: string | null;
  /** JSONL objects read (orders + line items). */
  objects: number;
  orders: number;
  lines: number;
  applied: number;
  duplicate: number;
  stale: number;
  suppressed: number;
}

export interface ProductBackfillOptions extends Omit<BackfillOptions, 'onProgress'> {
  onProgress?: (p: BulkProgress | { phase: 'recorded'; what: 'products'; counts: ProductBackfillCounts }) => void;
}

export interface ProductBackfillCounts {
  operationId: string | null;
  /** JSONL objects read (products + variants). */
  objects: number;
  products: number;
  variants: number;
  /** Product events: applied, already stored (same updatedAt), or older than what is stored. */
  applied: number;
  duplicate: number;
  stale: number;
  /** Tracked variants' stock: applied, already stored as this total, or older than a stored level. */
  inventory: { applied: number; unchanged: number; stale: number };
}

/**
 * What both exports share: the bulk_operations row (RUNNING → COMPLETED, or the failure with its
 * message), and one transaction per yielded batch — an error inside rolls back that batch only;
 * committed batches stay and dedupe on the next run.
 */
async function recordBulkExport<T, S extends { operation: BulkOperationInfo; objects: number }>(
  opts: { db: Db; shop: string; now: () => Date; onProgress?: (p: BulkProgress) => void },
  start: (onProgress: (p: BulkProgress) => void) => AsyncGenerator<T[], S, void>,
  recordBatch: (batch: T[], receivedAt: string, operation: BulkOperationInfo | null) => void,
  afterBatch: (batch: T[]) => void,
  objectsSoFar: () => number,
): Promise<S> {
  const { db, shop, now } = opts;
  const startOp = db.prepare(`INSERT INTO bulk_operations (shop, operation_id, status, started_at) VALUES (?, ?, 'RUNNING', ?)
    ON CONFLICT (shop, operation_id) DO UPDATE SET status = 'RUNNING', finished_at = NULL, error = NULL`);
  const finishOp = db.prepare('UPDATE bulk_operations SET status = ?, finished_at = ?, objects = ?, error = ? WHERE shop = ? AND operation_id = ?');
  let operationId: string | null = null;
  let operation: BulkOperationInfo | null = null;
  const gen = start((p) => {
    if (p.phase === 'started') {
      operationId = p.operationId;
      startOp.run(shop, p.operationId, now().toISOString());
    }
    if (p.phase === 'completed') operation = p.operation;
    opts.onProgress?.(p);
  });
  let summary: S;
  try {
    for (;;) {
      const step = await gen.next();
      if (step.done) {
        summary = step.value;
        break;
      }
      const receivedAt = now().toISOString();
      // take the write lock up front: a read-then-write upgrade fails at once with SQLITE_BUSY beside the webhook writer thread
      db.transaction(() => recordBatch(step.value, receivedAt, operation)).immediate();
      afterBatch(step.value);
    }
  } catch (err) {
    // Stops the download when recording (not reading) failed.
    await gen.return(undefined as unknown as S).catch(() => {});
    if (operationId) {
      const status = (err as { operation?: { status?: string } }).operation?.status ?? 'FAILED';
      finishOp.run(status === 'COMPLETED' ? 'FAILED' : status, now().toISOString(), objectsSoFar() || null, String((err as Error).message).slice(0, 1000), shop, operationId);
    }
    throw err;
  }
  finishOp.run(summary.operation.status, now().toISOString(), summary.objects, null, shop, summary.operation.id);
  return summary;
}

export async function backfillOrders(opts: BackfillOptions): Promise<BackfillCounts> {
  const { db, keys, shop, client } = opts;
  if (client.shop !== shop) throw new Error(`client is for ${client.shop}, not ${shop}`);
  const now = opts.now ?? (() => new Date());
  const counts: BackfillCounts = { operationId: null, objects: 0, orders: 0, lines: 0, applied: 0, duplicate: 0, stale: 0, suppressed: 0 };
  const summary = await recordBulkExport(
    { db, shop, now, onProgress: (p) => { if (p.phase === 'started') counts.operationId = p.operationId; opts.onProgress?.(p); } },
    (onProgress) => runBulkOrderExport({ ...opts, client, onProgress }),
    (batch, receivedAt) => {
      for (const order of batch) {
        const outcome = recordEvent(db, keys, {
          shop,
          topic: 'bulk/orders',
          source: 'bulk',
          sourceId: bulkSourceId(order),
          receivedAt,
          payloadSha256: bulkPayloadSha256(order) ?? createHash('sha256').update(JSON.stringify(order)).digest('hex'),
          event: { type: 'order', order },
        });
        if (outcome === 'quarantined') continue; // recordEvent never returns it today
        counts[outcome]++;
      }
    },
    (batch) => {
      for (const order of batch) counts.lines += order.lines.length;
      counts.orders += batch.length;
      opts.onProgress?.({ phase: 'recorded', what: 'orders', counts: { ...counts } });
    },
    () => counts.objects,
  );
  counts.objects = summary.objects;
  return counts;
}

export async function backfillProducts(opts: ProductBackfillOptions): Promise<ProductBackfillCounts> {
  const { db, keys, shop, client } = opts;
  if (client.shop !== shop) throw new Error(`client is for ${client.shop}, not ${shop}`);
  const now = opts.now ?? (() => new Date());
  const counts: ProductBackfillCounts = {
    operationId: null, objects: 0, products: 0, variants: 0, applied: 0, duplicate: 0, stale: 0,
    inventory: { applied: 0, unchanged: 0, stale: 0 },
  };
  const levels = db.prepare('SELECT location_id, available FROM inventory WHERE shop = ? AND inventory_item_id = ?');

  const recordProduct = (p: BulkProduct, receivedAt: string, asOf: string, operationId: string): void => {
    const outcome = recordEvent(db, keys, {
      shop, topic: 'bulk/products', source: 'bulk', sourceId: bulkProductSourceId(p), receivedAt,
      payloadSha256: p.payloadSha256, event: { type: 'product', product: p.product },
    });
    if (outcome === 'applied' || outcome === 'duplicate' || outcome === 'stale') counts[outcome]++;
    for (const { inventoryItemId, available } of p.stock) {
      const rows = levels.all(shop, inventoryItemId) as { location_id: string; available: number }[];
      if (rows.length === 1 && rows[0]!.location_id === ALL_LOCATIONS && rows[0]!.available === available) {
        counts.inventory.unchanged++;
        continue;
      }
      const itemGid = toGid('InventoryItem', inventoryItemId);
      const level = { inventoryItemId, locationId: ALL_LOCATIONS, available, updatedAt: asOf };
      const r = recordEvent(db, keys, {
        shop, topic: 'bulk/inventory', source: 'bulk',
        // One level per item and export: the operation id makes a later export a new event.
        sourceId: `bulk:${operationId}:${itemGid}`, receivedAt,
        payloadSha256: createHash('sha256').update(JSON.stringify(level)).digest('hex'),
        event: { type: 'inventory', level },
      });
      if (r === 'applied' || r === 'stale') counts.inventory[r]++;
      else counts.inventory.unchanged++;
    }
  };

  const summary = await recordBulkExport(
    { db, shop, now, onProgress: (p) => { if (p.phase === 'started') counts.operationId = p.operationId; opts.onProgress?.(p); } },
    (onProgress) => runBulkProductExport({ ...opts, client, onProgress }),
    (batch, receivedAt, operation) => {
      // The stock is as of the export: Shopify reads it after creating the operation, so a level
      // a webhook stored with a later updated_at is newer and is kept.
      const asOf = new Date(operation?.createdAt ?? operation?.completedAt ?? receivedAt).toISOString();
      for (const p of batch) recordProduct(p, receivedAt, asOf, operation?.id ?? counts.operationId ?? 'unknown');
    },
    (batch) => {
      counts.products += batch.length;
      for (const p of batch) counts.variants += p.product.variants.length;
      opts.onProgress?.({ phase: 'recorded', what: 'products', counts: structuredClone(counts) });
    },
    () => counts.objects,
  );
  counts.objects = summary.objects;
  return counts;
}
