// Mandatory compliance topics and the app lifecycle. Deletion is driven by the schema: every
// table with a `shop` column holds shop data, every table with `customer_id`, `email_hash` or
// `order_id` can hold data about a customer — so tables added by later migrations (per-customer
// model outputs) are covered without touching this file.
import type { Db } from '../store/db.ts';
import type { Keys } from '../keys.ts';

interface Columns {
  table: string;
  columns: Set<string>;
  primaryKey: string[];
  /**
   * Column → an index on (shop, column, …). Named in INDEXED BY for a lookup by that column alone:
   * without statistics SQLite reads a WITHOUT ROWID table's whole shop by the primary key's prefix
   * instead (customer_outputs by customer: every output of the shop).
   */
  indexOn: Map<string, string>;
}

const schemaCache = new WeakMap<Db, Columns[]>();

function tables(db: Db): Columns[] {
  let t = schemaCache.get(db);
  if (!t) {
    const names = db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`).pluck().all() as string[];
    t = names.map((table) => {
      const info = db.prepare('SELECT name, pk FROM pragma_table_info(?)').all(table) as { name: string; pk: number }[];
      const pk = info.filter((c) => c.pk > 0).sort((a, b) => a.pk - b.pk).map((c) => c.name);
      const indexOn = new Map<string, string>();
      for (const { name } of db.prepare(`SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL`).all(table) as { name: string }[]) {
        const cols = db.prepare('SELECT name FROM pragma_index_info(?) ORDER BY seqno').pluck().all(name) as string[];
        if (cols[0] === 'shop' && cols[1] !== undefined && !indexOn.has(cols[1])) indexOn.set(cols[1], name);
      }
      return { table, columns: new Set(info.map((c) => c.name)), primaryKey: pk.length > 0 ? pk : ['rowid'], indexOn };
    });
    schemaCache.set(db, t);
  }
  return t;
}

/**
 * Tables never cleared by customer redaction: tombstones are how the redaction is remembered;
 * redaction_sweeps holds the event-log passes still running (a second redaction of the same
 * customer must not stop the first one's; each row is deleted when its pass is done).
 */
const KEEP_ON_CUSTOMER_REDACT = new Set(['tombstones', 'redaction_sweeps']);
/**
 * Kept on shop/redact: keyed hashes only (no personal data), so a reinstall followed by a
 * backfill or re-import cannot bring back a customer who asked to be forgotten.
 */
const KEEP_ON_SHOP_REDACT = new Set(['tombstones']);

/**
 * Columns holding a received or produced JSON document (a quarantined webhook body, a Flow
 * action's answer): in a table without customer_id / email_hash / order_id columns a customer or
 * order id can still sit inside one (a webhook quarantined before it could be read). Customer
 * redaction deletes the rows of such tables whose document names the customer or one of their
 * orders. (Tables with subject columns set them on every row about someone: deleted above.)
 */
const DOCUMENT_COLUMNS = ['payload', 'payload_json', 'result'];
const SUBJECT_COLUMNS = ['customer_id', 'email_hash', 'order_id'];

/** `id` as a whole number inside `text` (not part of a longer run of digits). */
export function mentionsId(text: string, id: string): boolean {
  for (let at = text.indexOf(id); at !== -1; at = text.indexOf(id, at + 1)) {
    const before = text.charCodeAt(at - 1);
    const after = text.charCodeAt(at + id.length);
    if (!(before >= 48 && before <= 57) && !(after >= 48 && after <= 57)) return true;
  }
  return false;
}

/** Rows of every table with a document column that names one of `ids`: deleted. */
function deleteDocumentsMentioning(db: Db, shop: string, ids: string[]): number {
  if (ids.length === 0) return 0;
  let deleted = 0;
  for (const { table, columns, primaryKey } of tables(db)) {
    if (!columns.has('shop') || KEEP_ON_CUSTOMER_REDACT.has(table) || SUBJECT_COLUMNS.some((c) => columns.has(c))) continue;
    const docs = DOCUMENT_COLUMNS.filter((c) => columns.has(c));
    if (docs.length === 0) continue;
    const key = primaryKey.map((c) => `"${c}"`).join(', ');
    const del = db.prepare(`DELETE FROM "${table}" WHERE shop = ? AND ${primaryKey.map((c) => `"${c}" = ?`).join(' AND ')}`);
    // instr() narrows to candidate rows in SQL (ids in chunks: SQLite caps an expression's
    // depth); the whole-number check is done here.
    for (let i = 0; i < ids.length; i += 50) {
      const chunk = ids.slice(i, i + 50);
      const any = chunk.map(() => `(${docs.map((c) => `instr("${c}", ?) > 0`).join(' OR ')})`).join(' OR ');
      const args = chunk.flatMap((id) => docs.map(() => id));
      const rows = db.prepare(`SELECT ${key}, ${docs.map((c) => `"${c}"`).join(', ')} FROM "${table}" WHERE shop = ? AND (${any})`).raw().all(shop, ...args) as unknown[][];
      for (const row of rows) {
        const text = row.slice(primaryKey.length).filter((v) => v !== null).map(String);
        if (chunk.some((id) => text.some((t) => mentionsId(t, id)))) deleted += del.run(shop, ...row.slice(0, primaryKey.length)).changes;
      }
    }
  }
  return deleted;
}

export interface CustomerRedaction {
  customerId: string | null;
  email: string | null;
  ordersToRedact: string[];
}

/**
 * Past this many rows (by id span) in the event log, the two tables no index can search by
 * customer or email hash — the event log and, by email hash, the orders (migration 010) — are not
 * read inside the redaction's own transaction but swept in steps afterwards (redaction-sweep.ts).
 * Reading them whole holds the write lock while every webhook waits: ~1.1 s on a store of
 * 307,840 orders and 442,310 events when cached, ~2.8 s from the disk (docs/RELIABILITY.md §5).
 */
export const REDACT_INLINE_MAX_EVENTS = 20_000;

export interface RedactOptions {
  /** Default REDACT_INLINE_MAX_EVENTS. */
  inlineMaxEvents?: number;
}

interface LogSpan { first: number | null; last: number | null }

/** The event log's first and last ids (two subqueries: min and max in one SELECT would read the whole log instead of its two ends). */
function logSpan(db: Db): LogSpan {
  return db.prepare('SELECT (SELECT min(id) FROM events) AS first, (SELECT max(id) FROM events) AS last').get() as LogSpan;
}

/**
 * Whether the store is past the size up to which the compliance topics read whole tables inside
 * their own transaction (REDACT_INLINE_MAX_EVENTS rows of the log, by id span: every order has
 * at least one) — past it, customers/redact and customers/data_request go on in steps.
 */
function longLog(span: LogSpan, inlineMaxEvents = REDACT_INLINE_MAX_EVENTS): boolean {
  return span.last !== null && span.last - span.first! + 1 > inlineMaxEvents;
}

/**
 * Subject columns left out of the redaction's own statements on these tables when a sweep
 * follows, so that each is a lookup by order_id (an index) rather than a read of the table: the
 * sweep finds the log's rows by customer and email hash, and the orders by email hash; the
 * orders by customer are in the order list already (found by the orders_shop_customer index) —
 * SQLite would not combine the two indexes for an OR and read the whole table instead.
 */
const SWEPT: Record<string, ReadonlySet<string>> = { events: new Set(['customer_id', 'email_hash']), orders: new Set(['customer_id', 'email_hash']) };

export function redactCustomer(db: Db, keys: Keys, shop: string, r: CustomerRedaction, now: string, opts: RedactOptions = {}): { rowsDeleted: number; sweep: boolean } {
  const emailHash = r.email ? keys.emailHash(shop, r.email) : null;
  const tomb = db.prepare('INSERT OR IGNORE INTO tombstones (shop, subject_hash, created_at) VALUES (?, ?, ?)');
  if (r.customerId) tomb.run(shop, keys.subjectHash(shop, 'customer', r.customerId), now);
  if (emailHash) tomb.run(shop, keys.subjectHash(shop, 'email', emailHash), now);
  for (const o of r.ordersToRedact) tomb.run(shop, keys.subjectHash(shop, 'order', o), now);

  // A long log: what an index finds goes now, the rest in steps (the tombstones above already
  // keep anything new about the customer out). The sweep looks for the customer's guest orders
  // (by email hash), then for log rows naming them under an order the orders table no longer
  // links to them (an order moved to another customer, a stale version).
  const span = logSpan(db);
  const sweep = (r.customerId !== null || emailHash !== null) && longLog(span, opts.inlineMaxEvents);
  if (sweep) {
    db.prepare(`INSERT INTO redaction_sweeps (shop, customer_id, email_hash, next_order, next_event, last_event, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`)
      .run(shop, r.customerId, emailHash, emailHash === null ? null : '', span.first, span.last, now);
  }

  // Orders of the customer join the explicit list, so their lines, refunds and log rows (which
  // may carry only the order id) go too.
  const orderIds = new Set(r.ordersToRedact);
  const byCustomer = sweep
    ? db.prepare('SELECT order_id FROM orders WHERE shop = ? AND customer_id = ?').pluck().all(shop, r.customerId)
    : db.prepare('SELECT order_id FROM orders WHERE shop = ? AND (customer_id = ? OR email_hash = ?)').pluck().all(shop, r.customerId, emailHash);
  for (const o of byCustomer as string[]) orderIds.add(o);

  // One statement per table, every subject column it has in one condition: SQLite reads a table
  // whose subject columns are not all indexed once, and looks up the indexed ones otherwise.
  const subject = subjectCondition(r.customerId, emailHash, orderIds);
  let rowsDeleted = deleteWhere(db, shop, (table, columns) => subject(sweep && SWEPT[table] ? withoutColumns(columns, SWEPT[table]) : columns));
  rowsDeleted += deleteDocumentsMentioning(db, shop, [...(r.customerId ? [r.customerId] : []), ...orderIds]);
  return { rowsDeleted, sweep };
}

function withoutColumns(columns: Set<string>, drop: ReadonlySet<string>): Set<string> {
  return new Set([...columns].filter((c) => !drop.has(c)));
}

/** Deletes, from every shop table but those customer redaction keeps, the rows `where` selects. */
function deleteWhere(db: Db, shop: string, where: (table: string, columns: Set<string>) => SubjectCondition | null): number {
  let deleted = 0;
  for (const { table, columns, indexOn } of tables(db)) {
    if (!columns.has('shop') || KEEP_ON_CUSTOMER_REDACT.has(table)) continue;
    const c = where(table, columns);
    if (c === null) continue;
    deleted += db.prepare(`DELETE FROM "${table}"${indexedBy(indexOn, c.only)} WHERE shop = ? AND ${c.sql}`).run(shop, ...c.args).changes;
  }
  return deleted;
}

function indexedBy(indexOn: Map<string, string>, column: string | undefined): string {
  const index = column === undefined ? undefined : indexOn.get(column);
  return index === undefined ? '' : ` INDEXED BY "${index}"`;
}

/** Every row about these orders, in every table (a redaction sweep's guest orders). */
export function deleteOrdersData(db: Db, shop: string, orderIds: string[]): number {
  if (orderIds.length === 0) return 0;
  const c = subjectCondition(null, null, orderIds);
  return deleteWhere(db, shop, (_, columns) => c(columns)) + deleteDocumentsMentioning(db, shop, orderIds);
}

interface SubjectCondition {
  sql: string;
  args: string[];
  /** Set when the condition is one equality on this column (an index on it can answer it). */
  only?: string;
}

/**
 * The condition "this row is about the customer" for a table with the given columns: every
 * subject column it has, OR-ed (null when it has none). Shared with the redaction sweep.
 */
export function subjectCondition(customerId: string | null, emailHash: string | null, orderIds: Iterable<string>) {
  const orders = JSON.stringify([...orderIds]);
  const anyOrder = orders !== '[]';
  return (columns: Set<string>): SubjectCondition | null => {
    const terms: string[] = [];
    const args: string[] = [];
    const equal: string[] = [];
    if (customerId && columns.has('customer_id')) { terms.push('customer_id = ?'); args.push(customerId); equal.push('customer_id'); }
    if (emailHash && columns.has('email_hash')) { terms.push('email_hash = ?'); args.push(emailHash); equal.push('email_hash'); }
    if (anyOrder && columns.has('order_id')) { terms.push('order_id IN (SELECT value FROM json_each(?))'); args.push(orders); }
    if (terms.length === 0) return null;
    return { sql: `(${terms.join(' OR ')})`, args, ...(terms.length === 1 && equal.length === 1 ? { only: equal[0]! } : {}) };
  };
}

export function redactShop(db: Db, shop: string): { rowsDeleted: number } {
  let rowsDeleted = 0;
  // Children first is not needed: order_lines cascade from orders, and the rest have no FKs.
  for (const { table, columns } of tables(db)) {
    if (!columns.has('shop') || KEEP_ON_SHOP_REDACT.has(table)) continue;
    rowsDeleted += db.prepare(`DELETE FROM "${table}" WHERE shop = ?`).run(shop).changes;
  }
  return { rowsDeleted };
}

export interface DataRequest {
  requestId: string;
  customerId: string | null;
  email: string | null;
  ordersRequested: string[];
}

/**
 * customers/data_request: writes the export to data_requests, or — on a long store with an email
 * to look for — queues the search for the customer's guest orders (a read of the whole orders
 * table) as a data_request_scans row done in steps after the answer (data-request-export.ts).
 */
export function recordDataRequest(db: Db, keys: Keys, shop: string, r: DataRequest, now: string, opts: RedactOptions = {}): { orders: number | null; scan: boolean } {
  const emailHash = r.email ? keys.emailHash(shop, r.email) : null;
  db.prepare('DELETE FROM data_request_scans WHERE shop = ? AND request_id = ?').run(shop, r.requestId);
  if (emailHash !== null && longLog(logSpan(db), opts.inlineMaxEvents)) {
    // A redelivered request with the same id starts again: its old export is not the answer now.
    db.prepare('DELETE FROM data_requests WHERE shop = ? AND request_id = ?').run(shop, r.requestId);
    db.prepare(`INSERT INTO data_request_scans (shop, request_id, customer_id, email_hash, orders_requested, created_at) VALUES (?, ?, ?, ?, ?, ?)`)
      .run(shop, r.requestId, r.customerId, emailHash, JSON.stringify(r.ordersRequested), now);
    return { orders: null, scan: true };
  }
  const guest = emailHash === null ? [] : db.prepare('SELECT order_id FROM orders WHERE shop = ? AND email_hash = ?').pluck().all(shop, emailHash) as string[];
  const data = exportCustomerData(db, shop, r.customerId, [...r.ordersRequested, ...guest]);
  writeExport(db, shop, r.requestId, r.customerId, emailHash, now, data);
  return { orders: data.orders.length, scan: false };
}

export function writeExport(db: Db, shop: string, requestId: string, customerId: string | null, emailHash: string | null, createdAt: string, data: CustomerExport): void {
  db.prepare(`INSERT OR REPLACE INTO data_requests (shop, request_id, customer_id, email_hash, created_at, export_json) VALUES (?, ?, ?, ?, ?, ?)`)
    .run(shop, requestId, customerId, emailHash, createdAt, JSON.stringify(data));
}

export type CustomerExport = ReturnType<typeof exportCustomerData>;

/**
 * Everything shopml holds about the customer, as one JSON document: their customer row, their
 * orders (by customer id, an index) and the other orders named (requested, or found by email
 * hash), each read by key with its lines, and every per-customer output.
 */
export function exportCustomerData(db: Db, shop: string, customerId: string | null, orderIds: Iterable<string>) {
  const customer = customerId ? db.prepare('SELECT * FROM customers WHERE shop = ? AND customer_id = ?').get(shop, customerId) ?? null : null;
  const orders = (customerId ? db.prepare('SELECT * FROM orders INDEXED BY orders_shop_customer WHERE shop = ? AND customer_id = ?').all(shop, customerId) : []) as { order_id: string; created_at: string }[];
  const known = new Set(orders.map((o) => o.order_id));
  const getOrder = db.prepare('SELECT * FROM orders WHERE shop = ? AND order_id = ?');
  for (const id of orderIds) if (!known.has(id)) {
    const o = getOrder.get(shop, id) as { order_id: string; created_at: string } | undefined;
    if (o) { orders.push(o); known.add(id); }
  }
  orders.sort((a, b) => (a.created_at < b.created_at ? -1 : a.created_at > b.created_at ? 1 : 0));
  const lines = db.prepare('SELECT * FROM order_lines WHERE shop = ? AND order_id = ? ORDER BY line_id');
  const outputs: Record<string, unknown[]> = {};
  for (const { table, columns, indexOn } of tables(db)) {
    if (['orders', 'order_lines', 'customers', 'events', 'data_requests', 'data_request_scans', 'tombstones', 'redaction_sweeps'].includes(table)) continue;
    if (customerId && columns.has('shop') && columns.has('customer_id')) {
      const rows = db.prepare(`SELECT * FROM "${table}"${indexedBy(indexOn, 'customer_id')} WHERE shop = ? AND customer_id = ?`).all(shop, customerId);
      if (rows.length) outputs[table] = rows;
    }
  }
  return {
    shop,
    customer_id: customerId,
    note: 'shopml stores no names, emails, phone numbers or addresses; the email is kept only as a keyed hash for guest matching.',
    customer,
    orders: orders.map((o) => ({ ...o, lines: lines.all(shop, o.order_id) })),
    other: outputs,
  };
}

export function markUninstalled(db: Db, shop: string, now: string): void {
  db.prepare(`INSERT INTO shops (shop, installed_at, uninstalled_at, access_token_enc, updated_at) VALUES (?, ?, ?, NULL, ?)
    ON CONFLICT (shop) DO UPDATE SET uninstalled_at = excluded.uninstalled_at, access_token_enc = NULL, updated_at = excluded.updated_at`)
    .run(shop, now, now, now);
}
