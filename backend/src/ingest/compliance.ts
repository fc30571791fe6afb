// Mandatory compliance topics and the app lifecycle. Deletion is driven by the schema: every
// table with a `shop` column holds shop data, every table with `customer_id`, `email_hash` or
// `order_id` can hold data about a customer — so tables added by later migrations (per-customer
// model outputs) are covered without touching this file.
import type { Db } from '../store/db.ts';
import type { Keys } from '../keys.ts';

interface Columns { table: string; columns: Set<string>; primaryKey: string[] }

const schemaCache = new WeakMap<Db, Columns[]>();

function tables(db: Db): Columns[] {
  let t = schemaCache.get(db);
  if (!t) {
    const names = db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`).pluck().all() as string[];
    t = names.map((table) => {
      const info = db.prepare('SELECT name, pk FROM pragma_table_info(?)').all(table) as { name: string; pk: number }[];
      const pk = info.filter((c) => c.pk > 0).sort((a, b) => a.pk - b.pk).map((c) => c.name);
      return { table, columns: new Set(info.map((c) => c.name)), primaryKey: pk.length > 0 ? pk : ['rowid'] };
    });
    schemaCache.set(db, t);
  }
  return t;
}

/** Tables never cleared by customer redaction: tombstones are how the redaction is remembered. */
const KEEP_ON_CUSTOMER_REDACT = new Set(['tombstones']);
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

export function redactCustomer(db: Db, keys: Keys, shop: string, r: CustomerRedaction, now: string): { rowsDeleted: number } {
  const emailHash = r.email ? keys.emailHash(shop, r.email) : null;
  const tomb = db.prepare('INSERT OR IGNORE INTO tombstones (shop, subject_hash, created_at) VALUES (?, ?, ?)');
  if (r.customerId) tomb.run(shop, keys.subjectHash(shop, 'customer', r.customerId), now);
  if (emailHash) tomb.run(shop, keys.subjectHash(shop, 'email', emailHash), now);
  for (const o of r.ordersToRedact) tomb.run(shop, keys.subjectHash(shop, 'order', o), now);

  // Orders of the customer (by id or email hash) join the explicit list, so their refunds and
  // events (which may carry only the order id) go too.
  const orderIds = new Set(r.ordersToRedact);
  const byCustomer = db.prepare('SELECT order_id FROM orders WHERE shop = ? AND (customer_id = ? OR email_hash = ?)').pluck();
  for (const o of byCustomer.all(shop, r.customerId, emailHash) as string[]) orderIds.add(o);

  // One statement per table, every subject column it has in one condition: SQLite reads a table
  // whose subject columns are not all indexed once (the event log: only order_id is, so that
  // writing it stays cheap — migration 010), and looks up the indexed ones otherwise.
  const orderList = JSON.stringify([...orderIds]);
  let rowsDeleted = 0;
  for (const { table, columns } of tables(db)) {
    if (!columns.has('shop') || KEEP_ON_CUSTOMER_REDACT.has(table)) continue;
    const terms: string[] = [];
    const args: string[] = [];
    if (r.customerId && columns.has('customer_id')) { terms.push('customer_id = ?'); args.push(r.customerId); }
    if (emailHash && columns.has('email_hash')) { terms.push('email_hash = ?'); args.push(emailHash); }
    if (orderIds.size > 0 && columns.has('order_id')) { terms.push('order_id IN (SELECT value FROM json_each(?))'); args.push(orderList); }
    if (terms.length === 0) continue;
    rowsDeleted += db.prepare(`DELETE FROM "${table}" WHERE shop = ? AND (${terms.join(' OR ')})`).run(shop, ...args).changes;
  }
  rowsDeleted += deleteDocumentsMentioning(db, shop, [...(r.customerId ? [r.customerId] : []), ...orderIds]);
  return { rowsDeleted };
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

/** customers/data_request: everything shopml holds about the customer, as one JSON document. */
export function exportCustomerData(db: Db, keys: Keys, shop: string, customerId: string | null, email: string | null, ordersRequested: string[]) {
  const emailHash = email ? keys.emailHash(shop, email) : null;
  const customer = customerId ? db.prepare('SELECT * FROM customers WHERE shop = ? AND customer_id = ?').get(shop, customerId) ?? null : null;
  const orders = db.prepare(`SELECT * FROM orders WHERE shop = ? AND (customer_id = ? OR email_hash = ?) ORDER BY created_at`).all(shop, customerId, emailHash) as { order_id: string }[];
  const known = new Set(orders.map((o) => o.order_id));
  const getOrder = db.prepare('SELECT * FROM orders WHERE shop = ? AND order_id = ?');
  for (const id of ordersRequested) if (!known.has(id)) {
    const o = getOrder.get(shop, id) as { order_id: string } | undefined;
    if (o) { orders.push(o); known.add(id); }
  }
  const lines = db.prepare('SELECT * FROM order_lines WHERE shop = ? AND order_id = ? ORDER BY line_id');
  const outputs: Record<string, unknown[]> = {};
  for (const { table, columns } of tables(db)) {
    if (['orders', 'order_lines', 'customers', 'events', 'data_requests', 'tombstones'].includes(table)) continue;
    if (customerId && columns.has('shop') && columns.has('customer_id')) {
      const rows = db.prepare(`SELECT * FROM "${table}" WHERE shop = ? AND customer_id = ?`).all(shop, customerId);
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
