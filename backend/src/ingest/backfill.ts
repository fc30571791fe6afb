// Historical order import: one bulk export, every order recorded through recordEvent in chunk
// transactions (source 'bulk'). Re-running is idempotent: an unchanged order has the same
// source id (its GID + updatedAt) and is a 'duplicate'; a changed one is a new event.
import { createHash } from 'node:crypto';
import type { Keys } from '../keys.ts';
import type { AdminClient } from '../shopify/admin-client.ts';
import {
  type BulkExportOptions,
  type BulkExportSummary,
  type BulkProgress,
  bulkPayloadSha256,
  bulkSourceId,
  runBulkOrderExport,
} from '../shopify/bulk-export.ts';
import type { Db } from '../store/db.ts';
import { recordEvent } from './record.ts';

export interface BackfillOptions extends Omit<BulkExportOptions, 'client' | 'onProgress'> {
  db: Db;
  keys: Keys;
  shop: string;
  client: AdminClient;
  now?: () => Date;
  onProgress?: (p: BulkProgress | { phase: 'recorded'; counts: BackfillCounts }) => void;
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

export async function backfillOrders(opts: BackfillOptions): Promise<BackfillCounts> {
  const { db, keys, shop, client } = opts;
  if (client.shop !== shop) throw new Error(`client is for ${client.shop}, not ${shop}`);
  const now = opts.now ?? (() => new Date());
  const counts: BackfillCounts = { operationId: null, objects: 0, orders: 0, lines: 0, applied: 0, duplicate: 0, stale: 0, suppressed: 0 };

  const startOp = db.prepare(`INSERT INTO bulk_operations (shop, operation_id, status, started_at) VALUES (?, ?, 'RUNNING', ?)
    ON CONFLICT (shop, operation_id) DO UPDATE SET status = 'RUNNING', finished_at = NULL, error = NULL`);
  const finishOp = db.prepare('UPDATE bulk_operations SET status = ?, finished_at = ?, objects = ?, error = ? WHERE shop = ? AND operation_id = ?');

  const gen = runBulkOrderExport({
    ...opts,
    client,
    onProgress: (p) => {
      if (p.phase === 'started') {
        counts.operationId = p.operationId;
        startOp.run(shop, p.operationId, now().toISOString());
      }
      opts.onProgress?.(p);
    },
  });

  let summary: BulkExportSummary;
  try {
    for (;;) {
      const step = await gen.next();
      if (step.done) {
        summary = step.value;
        break;
      }
      const receivedAt = now().toISOString();
      // One transaction per batch: an error inside rolls back this batch only; committed
      // batches stay and dedupe on the next run.
      db.transaction(() => {
        for (const order of step.value) {
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
      }).immediate(); // take the write lock up front: a read-then-write upgrade fails at once with SQLITE_BUSY beside the webhook writer thread
      for (const order of step.value) counts.lines += order.lines.length;
      counts.orders += step.value.length;
      opts.onProgress?.({ phase: 'recorded', counts: { ...counts } });
    }
  } catch (err) {
    // Stops the download when recording (not reading) failed.
    await gen.return(undefined as unknown as BulkExportSummary).catch(() => {});
    if (counts.operationId) {
      const status = (err as { operation?: { status?: string } }).operation?.status ?? 'FAILED';
      finishOp.run(status === 'COMPLETED' ? 'FAILED' : status, now().toISOString(), counts.objects || null, String((err as Error).message).slice(0, 1000), shop, counts.operationId);
    }
    throw err;
  }
  counts.objects = summary.objects;
  finishOp.run(summary.operation.status, now().toISOString(), summary.objects, null, shop, summary.operation.id);
  return counts;
}
