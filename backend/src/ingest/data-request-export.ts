// customers/data_request's search for guest orders on a long store, in steps (migration
// 012_data_request_exports.sql). The orders table has no index by email hash (migration 010), so
// the guest orders of a data request are found by reading the shop's orders in order_id order,
// SCAN_STEP_ORDERS per step, each step one short transaction of the compliance passes
// (compliance-passes.ts) — ~1 ms at a time instead of one ~110 ms read of 307,840 orders with the
// write lock held. The last step writes the export and deletes the scan's row. Steps are
// idempotent (the row records how far the scan got), so a crash only means the next start goes on.
import type { Db } from '../store/db.ts';
import { perConnection } from '../store/per-connection.ts';
import { exportCustomerData, writeExport } from './compliance.ts';
import { ordersAfter } from './redaction-sweep.ts';

/** Orders read per step (~200 bytes each). */
export const SCAN_STEP_ORDERS = 2000;

interface ScanRow { id: number; shop: string; request_id: string; customer_id: string | null; email_hash: string; orders_requested: string; found: string; next_order: string; created_at: string }

function prepare(db: Db) {
  return {
    oldest: db.prepare('SELECT id, shop, request_id, customer_id, email_hash, orders_requested, found, next_order, created_at FROM data_request_scans ORDER BY id LIMIT 1'),
    advance: db.prepare('UPDATE data_request_scans SET next_order = ?, found = ? WHERE id = ?'),
    finish: db.prepare('DELETE FROM data_request_scans WHERE id = ?'),
    any: db.prepare('SELECT 1 FROM data_request_scans LIMIT 1').pluck(),
  };
}
const stmts = perConnection(prepare);

/** One step of the oldest pending scan (call inside a write transaction); `exported` when it wrote the export. */
export function scanStep(db: Db, stepOrders = SCAN_STEP_ORDERS): { exported: boolean; pending: boolean } {
  const s = stmts(db);
  const row = s.oldest.get() as ScanRow | undefined;
  if (!row) return { exported: false, pending: false };
  const batch = ordersAfter(db, row.shop, row.next_order, stepOrders);
  const found = JSON.parse(row.found) as string[];
  for (const [id, hash] of batch) if (hash === row.email_hash) found.push(id);
  if (batch.length === stepOrders) {
    s.advance.run(batch[batch.length - 1]![0], JSON.stringify(found), row.id);
    return { exported: false, pending: true };
  }
  const requested = JSON.parse(row.orders_requested) as string[];
  writeExport(db, row.shop, row.request_id, row.customer_id, row.email_hash, row.created_at, exportCustomerData(db, row.shop, row.customer_id, [...requested, ...found]));
  s.finish.run(row.id);
  return { exported: true, pending: s.any.get() !== undefined };
}

/** Whether a scan is pending (a read). */
export function scanPending(db: Db): boolean {
  return stmts(db).any.get() !== undefined;
}

export type DataRequestRead =
  | { status: 'ready'; createdAt: string; data: unknown }
  | { status: 'preparing' }
  | { status: 'missing' };

/** A data request's export: written, still being prepared, or unknown (the API and the CLI). */
export function readDataRequest(db: Db, shop: string, requestId: string): DataRequestRead {
  const row = db.prepare('SELECT export_json, created_at FROM data_requests WHERE shop = ? AND request_id = ?').get(shop, requestId) as { export_json: string; created_at: string } | undefined;
  if (row) return { status: 'ready', createdAt: row.created_at, data: JSON.parse(row.export_json) as unknown };
  const preparing = db.prepare('SELECT 1 FROM data_request_scans WHERE shop = ? AND request_id = ?').get(shop, requestId) !== undefined;
  return preparing ? { status: 'preparing' } : { status: 'missing' };
}

/** The shop's data requests, newest first: written ones and those still being prepared. */
export function listDataRequests(db: Db, shop: string): { request_id: string; customer_id: string | null; created_at: string; status: 'ready' | 'preparing' }[] {
  return db.prepare(`SELECT request_id, customer_id, created_at, 'ready' AS status FROM data_requests WHERE shop = ?
    UNION ALL SELECT request_id, customer_id, created_at, 'preparing' FROM data_request_scans WHERE shop = ?
    ORDER BY created_at DESC, request_id`).all(shop, shop) as { request_id: string; customer_id: string | null; created_at: string; status: 'ready' | 'preparing' }[];
}
