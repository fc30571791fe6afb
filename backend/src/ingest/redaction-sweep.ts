// customers/redact's passes over a long store, in steps (migration 011_redaction_sweeps.sql).
// The redaction's own transaction deletes everything it can find by an index and, when the log is
// long, leaves a redaction_sweeps row; a sweeper then deletes the customer's guest orders (found
// by email hash, SWEEP_STEP_ORDERS orders read per step) with every row about them, and the log's
// rows that name the customer or their email hash (SWEEP_STEP_EVENTS ids per step), each step one
// short write through the group writer of whichever thread applies webhooks (the compliance
// passes, compliance-passes.ts) — so the write lock is held ~2 ms at a time instead of for one
// read of both tables, and deliveries commit in between.
//
// Steps are idempotent and the row records how far the pass got, so a crash only means the
// passes of the next start (the webhook writer thread, or the main connection when there is
// none) find the row and go on.
import type { Db } from '../store/db.ts';
import { perConnection } from '../store/per-connection.ts';
import { deleteOrdersData, subjectCondition } from './compliance.ts';

/** Event ids per step: ~3 MB of the log, ~1–2 ms when cached (10 ms from the disk). */
export const SWEEP_STEP_EVENTS = 1000;
/** Orders read per step of the orders pass (~200 bytes each). */
export const SWEEP_STEP_ORDERS = 2000;

const EVENT_COLUMNS = new Set(['customer_id', 'email_hash']);

interface SweepRow { id: number; shop: string; customer_id: string | null; email_hash: string | null; next_order: string | null; next_event: number; last_event: number }

function prepare(db: Db) {
  return {
    oldest: db.prepare('SELECT id, shop, customer_id, email_hash, next_order, next_event, last_event FROM redaction_sweeps ORDER BY id LIMIT 1'),
    orders: db.prepare('SELECT order_id, email_hash FROM orders WHERE shop = ? AND order_id > ? ORDER BY order_id LIMIT ?').raw(),
    advanceOrders: db.prepare('UPDATE redaction_sweeps SET next_order = ? WHERE id = ?'),
    advance: db.prepare('UPDATE redaction_sweeps SET next_event = ? WHERE id = ?'),
    finish: db.prepare('DELETE FROM redaction_sweeps WHERE id = ?'),
    any: db.prepare('SELECT 1 FROM redaction_sweeps LIMIT 1').pluck(),
  };
}
const stmts = perConnection(prepare);

/** The shop's next `limit` orders after `after` in order_id order, as [order_id, email_hash] (shared with data-request-export.ts). */
export function ordersAfter(db: Db, shop: string, after: string, limit: number): [string, string | null][] {
  return stmts(db).orders.all(shop, after, limit) as [string, string | null][];
}

/** One step of the oldest pending sweep (call inside a write transaction). */
export function sweepStep(db: Db, stepEvents = SWEEP_STEP_EVENTS, stepOrders = SWEEP_STEP_ORDERS): { deleted: number; pending: boolean } {
  const s = stmts(db);
  const row = s.oldest.get() as SweepRow | undefined;
  if (!row) return { deleted: 0, pending: false };
  if (row.next_order !== null && row.email_hash !== null) {
    // The orders pass: the next orders by id; those with the email hash go, with every row about them.
    const batch = ordersAfter(db, row.shop, row.next_order, stepOrders);
    const guest = batch.filter(([, e]) => e === row.email_hash).map(([id]) => id);
    const deleted = deleteOrdersData(db, row.shop, guest);
    s.advanceOrders.run(batch.length < stepOrders ? null : batch[batch.length - 1]![0], row.id);
    return { deleted, pending: true };
  }
  const to = Math.min(row.next_event + stepEvents - 1, row.last_event);
  const c = subjectCondition(row.customer_id, row.email_hash, [])(EVENT_COLUMNS);
  let deleted = 0;
  if (c !== null) {
    // NOT INDEXED: by the id range (the rowid), never by the (shop, source_id) index's shop prefix.
    deleted = db.prepare(`DELETE FROM events NOT INDEXED WHERE id BETWEEN ? AND ? AND shop = ? AND ${c.sql}`).run(row.next_event, to, row.shop, ...c.args).changes;
  }
  if (to >= row.last_event || c === null) s.finish.run(row.id);
  else s.advance.run(to + 1, row.id);
  return { deleted, pending: s.any.get() !== undefined };
}

/** Whether a sweep is pending (a read). */
export function sweepPending(db: Db): boolean {
  return stmts(db).any.get() !== undefined;
}

