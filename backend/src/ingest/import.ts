// Order-line CSV import: `shopml import FILE --shop DOMAIN`. See docs/import.md.
//
// Two passes. Pass 1 parses and validates the whole file in memory and groups its rows into one
// NormalizedOrder per order id; a structural error (broken quoting, truncated gzip, a header
// without the needed columns) throws before anything is written. Pass 2 records every order
// with recordEvent in chunked transactions (`chunkOrders`, default 2,000 orders each, the event
// loop free in between, so a server sharing the database interleaves its writes). Each order's event
// key is `import:<order id>:<hash of its canonical lines>`, so importing the same file again,
// or again after a crash half-way through pass 2, writes only what is missing; an order whose
// customer was redacted stays suppressed.
//
// Row rules, checked in this order; a row breaking one is skipped and counted under its reason:
//   missing_order      the order id (InvoiceNo) is empty
//   missing_time       the time is empty
//   bad_time           the time is not a valid `YYYY-MM-DD HH:MM[:SS]` / ISO 8601 timestamp
//   bad_quantity       the quantity is empty or not a number
//   zero_quantity      the quantity is 0 (a line that sells and returns nothing)
//   bad_price          the price is empty or not a number (zero and negative prices are kept:
//                      free items, and the data set's bad-debt adjustments)
//   missing_product    the product code is empty although the format has a product column
//   customer_mismatch  the row names another customer than the first row of its order
// Numbers are plain decimals (`-12`, `2.55`, `1e3`); no thousands separators or currency signs.
//
// Exact duplicate lines (same order, product, description, quantity, price and time) are KEPT as
// distinct lines. In this data set an identical line within one invoice is the same item
// scanned a second time (a cancellation reverses each scan on its own line), so dropping one
// would undercount units and revenue; summing them would change the line structure a later
// cancellation refers to. Their number is reported as `exact_duplicate_lines`. Each line's id is
// `<short hash of (order id, line content)>:<occurrence of that content within the order>`, so
// the ids are stable across re-imports whatever the row order.
import { createHash } from 'node:crypto';
import { statSync } from 'node:fs';
import type { Db } from '../store/db.ts';
import type { Keys } from '../keys.ts';
import { recordEvent } from './record.ts';
import type { IngestOutcome, LineKind, NormalizedLine, NormalizedOrder, OrderKind } from './types.ts';
import { CsvStructureError, csvBatches, openCsvFile, type ByteSource, type CsvRecord } from './csv.ts';
import { classifyLine, orderKindOf } from './line-kind.ts';
import { createTimestampParser } from './local-time.ts';

export type ImportFormat = 'online-retail' | 'csv';

/** Header names of the columns of a generic order-line CSV. */
export interface ColumnMap {
  order: string;
  time: string;
  customer?: string;
  product?: string;
  quantity?: string;
  price?: string;
  title?: string;
  sku?: string;
  country?: string;
}

export const MAP_KEYS = ['order', 'customer', 'time', 'product', 'quantity', 'price', 'title', 'sku', 'country'] as const;
const REQUIRED_MAP_KEYS = ['order', 'customer', 'time'] as const;

export const SKIP_REASONS = [
  'missing_order', 'missing_time', 'bad_time', 'bad_quantity', 'zero_quantity', 'bad_price', 'missing_product', 'customer_mismatch',
] as const;
export type SkipReason = (typeof SKIP_REASONS)[number];

export interface ImportProgress {
  phase: 'read' | 'write';
  done: number;
  total: number;
}

export interface ImportOptions {
  db: Db;
  keys: Keys;
  shop: string;
  file: string;
  format: ImportFormat;
  map?: ColumnMap;
  /** ISO 4217 code for csv (online-retail is GBP). */
  currency?: string | null;
  /** IANA zone of timestamps without an offset. Online Retail: Europe/London; csv: UTC. */
  timezone?: string;
  onProgress?: (p: ImportProgress) => void;
  /** Orders per write transaction. */
  chunkOrders?: number;
  /** Clock, for receivedAt (tests). */
  now?: () => Date;
}

export interface ImportSummary {
  file: string;
  shop: string;
  format: ImportFormat;
  /** Data rows in the file (header and blank lines not counted). */
  rows_read: number;
  /** Rows that passed every rule and belong to an order of the file (new or already imported). */
  rows_imported: number;
  rows_skipped: number;
  skipped_by_reason: Record<SkipReason, number>;
  /** Orders (invoices) in the file. */
  orders: number;
  orders_by_kind: Record<OrderKind, number>;
  /** Orders written by this run. */
  orders_new: number;
  /** Lines written by this run. */
  lines_new: number;
  lines_by_kind: Record<LineKind, number>;
  /** Orders already imported with the same content: nothing written. */
  duplicates: number;
  /** Orders of redacted customers: nothing written. */
  suppressed: number;
  /** Orders older than what the store holds: logged, projection unchanged. */
  stale: number;
  /** Identical lines within an order, kept as distinct lines (see import.ts). */
  exact_duplicate_lines: number;
  guest_orders: number;
  customers: number;
  first_order_at: string | null;
  last_order_at: string | null;
  seconds: number;
  read_seconds: number;
  write_seconds: number;
  rows_per_second: number;
}

/** An order ready to record, with its idempotency key. */
export interface PreparedOrder {
  order: NormalizedOrder;
  sourceId: string;
  payloadSha256: string;
}

export interface ReadResult {
  orders: PreparedOrder[];
  rowsRead: number;
  skipped: Record<SkipReason, number>;
  exactDuplicateLines: number;
}

/** Parses `order=Invoice,customer=Customer Id,time=Created at,...`. Throws on a bad spec. */
export function parseColumnMap(spec: string | string[]): ColumnMap {
  const out: Record<string, string> = {};
  for (const part of (Array.isArray(spec) ? spec : [spec]).flatMap((s) => s.split(','))) {
    if (part.trim() === '') continue;
    const eq = part.indexOf('=');
    if (eq < 0) throw new Error(`--map: expected key=COLUMN, got "${part.trim()}"`);
    const key = part.slice(0, eq).trim();
    const col = part.slice(eq + 1).trim();
    if (!(MAP_KEYS as readonly string[]).includes(key)) throw new Error(`--map: unknown key "${key}" (known: ${MAP_KEYS.join(', ')})`);
    if (col === '') throw new Error(`--map: no column given for "${key}"`);
    if (out[key] !== undefined) throw new Error(`--map: "${key}" given twice`);
    out[key] = col;
  }
  const missing = REQUIRED_MAP_KEYS.filter((k) => out[k] === undefined);
  if (missing.length > 0) throw new Error(`--map: missing ${missing.map((k) => `${k}=COLUMN`).join(', ')}`);
  return out as unknown as ColumnMap;
}

export const ONLINE_RETAIL_MAP: ColumnMap = {
  order: 'InvoiceNo', product: 'StockCode', title: 'Description', quantity: 'Quantity', time: 'InvoiceDate',
  price: 'UnitPrice', customer: 'CustomerID', country: 'Country',
};

const NUMBER_RE = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

function parseNumber(raw: string): number {
  // Fast path for the common plain forms (`6`, `-12`, `2.55`): digits with at most one dot.
  const n = raw.length;
  if (n === 0) return NaN;
  let i = raw.charCodeAt(0) === 45 ? 1 : 0; // -
  let digits = 0;
  let dots = 0;
  for (; i < n; i++) {
    const ch = raw.charCodeAt(i);
    if (ch >= 48 && ch <= 57) digits++;
    else if (ch === 46 && dots === 0) dots++;
    else break;
  }
  if (i === n && digits > 0) return Number(raw);
  const s = raw.trim();
  return NUMBER_RE.test(s) ? Number(s) : NaN;
}

const HEX_CODES = [...'0123456789abcdef'].map((c) => c.charCodeAt(0));
let H1 = 0;
let H2 = 0;

// Incremental 48-bit string hash (cyrb53 mixing) over several strings, without concatenating
// them: begin, add each part, end → 12 hex digits. Not cryptographic; stable across versions.
function hashBegin(): void {
  H1 = 0xdeadbeef;
  H2 = 0x41c6ce57;
}

function hashAdd(str: string): void {
  let h1 = H1;
  let h2 = H2;
  for (let i = 0; i < str.length; i++) {
    const ch = str.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  // A separator (U+001F) after each part, so ("ab","c") and ("a","bc") differ.
  H1 = Math.imul(h1 ^ 31, 2654435761);
  H2 = Math.imul(h2 ^ 31, 1597334677);
}

function hashEnd(): string {
  const h1 = Math.imul(H1 ^ (H1 >>> 16), 2246822507) ^ Math.imul(H2 ^ (H2 >>> 13), 3266489909);
  const h2 = Math.imul(H2 ^ (H2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  H1 = h1;
  H2 = h2;
  const x = HEX_CODES;
  return String.fromCharCode(
    x[(h2 >>> 12) & 15]!, x[(h2 >>> 8) & 15]!, x[(h2 >>> 4) & 15]!, x[h2 & 15]!,
    x[h1 >>> 28]!, x[(h1 >>> 24) & 15]!, x[(h1 >>> 20) & 15]!, x[(h1 >>> 16) & 15]!,
    x[(h1 >>> 12) & 15]!, x[(h1 >>> 8) & 15]!, x[(h1 >>> 4) & 15]!, x[h1 & 15]!,
  );
}

/**
 * Short (12 hex digit) hash of a line's content parts. A collision within one order only costs
 * an occurrence index, never a wrong or duplicate line id.
 */
export function shortHash(...parts: string[]): string {
  hashBegin();
  for (const p of parts) hashAdd(p);
  return hashEnd();
}

function roundMoney(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}

interface Acc {
  id: string;
  customerRaw: string;
  customerId: string | null;
  emailHash: string | null;
  country: string | null;
  createdAt: string;
  lines: NormalizedLine[];
  /** Order-independent digest of the lines: sums (mod 2^32) of the two halves of their hashes. */
  sum1: number;
  sum2: number;
}

interface Columns {
  order: number;
  time: number;
  customer: number;
  product: number;
  quantity: number;
  price: number;
  title: number;
  sku: number;
  country: number;
}

function resolveColumns(header: CsvRecord, map: ColumnMap, format: ImportFormat): Columns {
  const names = header.fields.map((f) => f.trim());
  const find = (key: keyof ColumnMap): number => {
    const col = map[key];
    if (col === undefined) return -1;
    let idx = names.indexOf(col);
    if (idx >= 0 && names.indexOf(col, idx + 1) >= 0) throw new CsvStructureError(`column "${col}" appears twice in the header`, header.line);
    if (idx < 0) {
      const lower = col.toLowerCase();
      const hits = names.flatMap((n, i) => (n.toLowerCase() === lower ? [i] : []));
      if (hits.length > 1) throw new CsvStructureError(`column "${col}" appears twice in the header`, header.line);
      idx = hits[0] ?? -1;
    }
    return idx;
  };
  const cols: Columns = {
    order: find('order'), time: find('time'), customer: find('customer'), product: find('product'), quantity: find('quantity'),
    price: find('price'), title: find('title'), sku: find('sku'), country: find('country'),
  };
  const missing = MAP_KEYS.filter((k) => map[k] !== undefined && cols[k] < 0).map((k) => `"${map[k]}"`);
  if (missing.length > 0) {
    const hint = format === 'online-retail' ? ' (is this the Online Retail format? else use --format csv --map ...)' : '';
    throw new CsvStructureError(`header has no column ${missing.join(', ')}${hint}; found: ${names.join(', ')}`, header.line);
  }
  return cols;
}

function emptySkips(): Record<SkipReason, number> {
  return Object.fromEntries(SKIP_REASONS.map((r) => [r, 0])) as Record<SkipReason, number>;
}

export interface ReadOptions {
  shop: string;
  keys: Keys;
  format: ImportFormat;
  map?: ColumnMap;
  currency?: string | null;
  timezone?: string;
}

/**
 * Pass 1: every row of a source parsed, validated and grouped into orders; nothing written.
 * Throws CsvStructureError on a structural problem.
 */
export async function readOrders(source: ByteSource, opts: ReadOptions): Promise<ReadResult> {
  const format = opts.format;
  const map = format === 'online-retail' ? ONLINE_RETAIL_MAP : opts.map;
  if (!map) throw new Error('format csv needs a column map (--map order=COL,customer=COL,time=COL,...)');
  const currency = format === 'online-retail' ? 'GBP' : (opts.currency ?? null);
  const parseTime = createTimestampParser(opts.timezone ?? (format === 'online-retail' ? 'Europe/London' : 'UTC'));
  const isOnlineRetail = format === 'online-retail';

  const skipped = emptySkips();
  const accs = new Map<string, Acc>();
  const customerCache = new Map<string, { customerId: string | null; emailHash: string | null }>();
  let cols: Columns | null = null;
  let rowsRead = 0;
  let prevRawTime = '';
  let prevTime: string | null = null;
  let prevAcc: Acc | undefined;

  const customerOf = (raw: string) => {
    let c = customerCache.get(raw);
    if (!c) {
      const v = raw.trim();
      if (v === '') c = { customerId: null, emailHash: null };
      // Emails are personal data: only their keyed hash is kept (the customer is a guest by email).
      else if (v.includes('@')) c = { customerId: null, emailHash: opts.keys.emailHash(opts.shop, v) };
      // Online Retail prints ids as floats (17850.0); spreadsheets do that to any numeric id.
      else c = { customerId: /^\d+\.0+$/.test(v) ? v.slice(0, v.indexOf('.')) : v, emailHash: null };
      customerCache.set(raw, c);
    }
    return c;
  };

  for await (const batch of csvBatches(source)) {
    let start = 0;
    if (cols === null) {
      cols = resolveColumns(batch[0]!, map, format);
      start = 1;
    }
    const c = cols;
    for (let b = start; b < batch.length; b++) {
      const f = batch[b]!.fields;
      rowsRead++;
      const orderId = f[c.order]!.trim();
      if (orderId === '') {
        skipped.missing_order++;
        continue;
      }
      const rawTime = f[c.time]!.trim();
      if (rawTime === '') {
        skipped.missing_time++;
        continue;
      }
      // Rows of one order usually follow each other with one timestamp: skip the lookups.
      if (rawTime !== prevRawTime) {
        prevTime = parseTime(rawTime);
        prevRawTime = rawTime;
      }
      const time = prevTime;
      if (time === null) {
        skipped.bad_time++;
        continue;
      }
      let quantity = 1;
      let rawQuantity = '';
      if (c.quantity >= 0) {
        rawQuantity = f[c.quantity]!;
        quantity = parseNumber(rawQuantity);
        if (!Number.isFinite(quantity)) {
          skipped.bad_quantity++;
          continue;
        }
        if (quantity === 0) {
          skipped.zero_quantity++;
          continue;
        }
      }
      let price = 0;
      let rawPrice = '';
      if (c.price >= 0) {
        rawPrice = f[c.price]!;
        price = parseNumber(rawPrice);
        if (!Number.isFinite(price)) {
          skipped.bad_price++;
          continue;
        }
        if (price === 0) price = 0; // -0 → 0
      }
      let product: string | null = null;
      if (c.product >= 0) {
        product = f[c.product]!.trim();
        if (product === '') {
          skipped.missing_product++;
          continue;
        }
      }
      const customerRaw = c.customer >= 0 ? f[c.customer]! : '';
      let acc = orderId === prevAcc?.id ? prevAcc : accs.get(orderId);
      if (acc === undefined) {
        const cust = customerOf(customerRaw);
        const country = c.country >= 0 ? f[c.country]!.trim() : '';
        acc = {
          id: orderId, customerRaw, customerId: cust.customerId, emailHash: cust.emailHash, country: country === '' ? null : country,
          createdAt: time, lines: [], sum1: 0, sum2: 0,
        };
        accs.set(orderId, acc);
      } else {
        if (customerRaw !== acc.customerRaw && customerRaw.trim() !== acc.customerRaw.trim()) {
          const cust = customerOf(customerRaw);
          if (cust.customerId !== acc.customerId || cust.emailHash !== acc.emailHash) {
            skipped.customer_mismatch++;
            continue;
          }
        }
        // Some invoices carry two timestamps a minute apart: the order time is the first.
        if (time !== acc.createdAt && time < acc.createdAt) acc.createdAt = time;
        if (acc.country === null && c.country >= 0) {
          const country = f[c.country]!.trim();
          if (country !== '') acc.country = country;
        }
      }
      prevAcc = acc;
      let title: string | null = c.title >= 0 ? f[c.title]!.trim() : null;
      if (title === '') title = null;
      let sku: string | null = c.sku >= 0 ? f[c.sku]!.trim() : product;
      if (sku === '') sku = null;
      // Line content, hashed now (the id gets its occurrence index once the order is complete):
      // the order id and the row's product, sku, description, quantity, price and time as written.
      hashBegin();
      hashAdd(orderId);
      hashAdd(product ?? '');
      hashAdd(sku ?? '');
      hashAdd(title ?? '');
      hashAdd(rawQuantity);
      hashAdd(rawPrice);
      hashAdd(rawTime);
      const id = hashEnd();
      acc.sum1 = (acc.sum1 + H1) >>> 0;
      acc.sum2 = (acc.sum2 + H2) >>> 0;
      acc.lines.push({
        id, productId: product, variantId: null, sku, title, quantity, price, lineKind: 'product',
      });
    }
  }
  if (cols === null) throw new CsvStructureError('the file is empty: no header line', 1);

  let exactDuplicateLines = 0;
  const orders: PreparedOrder[] = [];
  const hasPrice = cols.price >= 0;
  for (const acc of accs.values()) {
    const kind: OrderKind = isOnlineRetail ? orderKindOf(acc.id) : 'order';
    const occurrences = new Map<string, number>();
    let total = 0;
    const who = acc.customerId ?? acc.emailHash;
    for (let i = 0; i < acc.lines.length; i++) {
      const l = acc.lines[i]!;
      const h = l.id;
      const occ = occurrences.get(h) ?? 0;
      occurrences.set(h, occ + 1);
      if (occ > 0) exactDuplicateLines++;
      l.id = `${h}:${occ}`;
      l.lineKind = classifyLine({ stockCode: l.productId, quantity: l.quantity, price: l.price, customerId: who, orderKind: kind });
      total += l.quantity * l.price;
    }
    // The order's canonical content: its order-level fields and the multiset of its line
    // contents (count and sums of the line hashes), independent of row order.
    const sha = createHash('sha256')
      .update(`${acc.id}\u001f${acc.customerId ?? ''}\u001f${acc.emailHash ?? ''}\u001f${acc.country ?? ''}\u001f${currency ?? ''}\u001f${hasPrice ? 1 : 0}\u001f${acc.lines.length}\u001f${acc.sum1}\u001f${acc.sum2}`)
      .digest('hex');
    orders.push({
      sourceId: `import:${acc.id}:${sha.slice(0, 16)}`,
      payloadSha256: sha,
      order: {
        id: acc.id,
        name: acc.id,
        kind,
        customerId: acc.customerId,
        emailHash: acc.emailHash,
        createdAt: acc.createdAt,
        updatedAt: acc.createdAt,
        cancelledAt: null,
        currency,
        totalPrice: hasPrice ? roundMoney(total) : null,
        financialStatus: null,
        sourceName: null,
        country: acc.country,
        test: false,
        lines: acc.lines,
      },
    });
  }
  return { orders, rowsRead, skipped, exactDuplicateLines };
}

export interface WriteResult {
  outcomes: Record<IngestOutcome, number>;
  linesNew: number;
}

/**
 * The same keys, with the tombstone hash of each customer computed once per import instead of
 * once per order (an HMAC each; a wholesaler has hundreds of invoices). Same values.
 */
function memoizedKeys(keys: Keys): Keys {
  const memo = new Map<string, string>();
  return {
    emailHash: (shop, email) => keys.emailHash(shop, email),
    subjectHash(shop, kind, value) {
      if (kind === 'order') return keys.subjectHash(shop, kind, value); // unique per order: no reuse
      const k = `${shop}\u0000${kind}\u0000${value}`;
      let h = memo.get(k);
      if (h === undefined) {
        if (memo.size >= 100_000) memo.clear();
        h = keys.subjectHash(shop, kind, value);
        memo.set(k, h);
      }
      return h;
    },
    encrypt: (plaintext) => keys.encrypt(plaintext),
    decrypt: (ciphertext) => keys.decrypt(ciphertext),
  };
}

/**
 * Pass 2: records prepared orders in chunked transactions (BEGIN IMMEDIATE, `chunkOrders`
 * orders each, the event loop free in between). Idempotent: re-running after a failure
 * writes only the orders whose chunk did not commit.
 */
export async function writeOrders(
  db: Db, keys: Keys, shop: string, orders: PreparedOrder[],
  opts: { chunkOrders?: number; receivedAt?: string; onProgress?: (done: number, total: number) => void } = {},
): Promise<WriteResult> {
  const chunk = Math.max(1, opts.chunkOrders ?? 2000);
  const receivedAt = opts.receivedAt ?? new Date().toISOString();
  const outcomes: Record<IngestOutcome, number> = { applied: 0, stale: 0, duplicate: 0, suppressed: 0, quarantined: 0 };
  const k = memoizedKeys(keys);
  let linesNew = 0;
  const writeChunk = db.transaction((from: number, to: number) => {
    for (let i = from; i < to; i++) {
      const p = orders[i]!;
      const outcome = recordEvent(db, k, {
        shop, topic: 'orders/import', source: 'import', sourceId: p.sourceId, receivedAt, payloadSha256: p.payloadSha256,
        event: { type: 'order', order: p.order },
      });
      outcomes[outcome]++;
      if (outcome === 'applied') linesNew += p.order.lines.length;
    }
  });
  for (let from = 0; from < orders.length; from += chunk) {
    const to = Math.min(orders.length, from + chunk);
    const before = { ...outcomes };
    const linesBefore = linesNew;
    try {
      // IMMEDIATE: take the write lock up front instead of failing to upgrade a read lock.
      writeChunk.immediate(from, to);
    } catch (err) {
      // The chunk rolled back: its counts did not happen.
      Object.assign(outcomes, before);
      linesNew = linesBefore;
      throw err;
    }
    opts.onProgress?.(to, orders.length);
    // Let other work of this process (a server's group writer) take the database in between.
    if (to < orders.length) await new Promise<void>((resolve) => setImmediate(resolve));
  }
  return { outcomes, linesNew };
}

/** `shopml import`: reads the whole file (pass 1), then writes (pass 2). */
export async function importFile(opts: ImportOptions): Promise<ImportSummary> {
  const t0 = performance.now();
  const size = statSync(opts.file).size;
  const onProgress = opts.onProgress;
  const source = openCsvFile(opts.file, { onBytes: onProgress ? (n) => onProgress({ phase: 'read', done: n, total: size }) : undefined });
  const read = await readOrders(source, opts);
  const t1 = performance.now();
  const written = await writeOrders(opts.db, opts.keys, opts.shop, read.orders, {
    chunkOrders: opts.chunkOrders,
    receivedAt: (opts.now?.() ?? new Date()).toISOString(),
    onProgress: onProgress ? (done, total) => onProgress({ phase: 'write', done, total }) : undefined,
  });
  const t2 = performance.now();

  const ordersByKind: Record<OrderKind, number> = { order: 0, cancellation: 0, adjustment: 0 };
  const linesByKind: Record<LineKind, number> = { product: 0, non_product: 0, writeoff: 0 };
  const customers = new Set<string>();
  let rowsImported = 0;
  let guests = 0;
  let first: string | null = null;
  let last: string | null = null;
  for (const { order } of read.orders) {
    ordersByKind[order.kind]++;
    rowsImported += order.lines.length;
    for (const l of order.lines) linesByKind[l.lineKind]++;
    const who = order.customerId ?? order.emailHash;
    if (who) customers.add(who);
    else guests++;
    if (first === null || order.createdAt < first) first = order.createdAt;
    if (last === null || order.createdAt > last) last = order.createdAt;
  }
  const rowsSkipped = Object.values(read.skipped).reduce((a, b) => a + b, 0);
  const seconds = (t2 - t0) / 1000;
  return {
    file: opts.file,
    shop: opts.shop,
    format: opts.format,
    rows_read: read.rowsRead,
    rows_imported: rowsImported,
    rows_skipped: rowsSkipped,
    skipped_by_reason: read.skipped,
    orders: read.orders.length,
    orders_by_kind: ordersByKind,
    orders_new: written.outcomes.applied,
    lines_new: written.linesNew,
    lines_by_kind: linesByKind,
    duplicates: written.outcomes.duplicate,
    suppressed: written.outcomes.suppressed,
    stale: written.outcomes.stale,
    exact_duplicate_lines: read.exactDuplicateLines,
    guest_orders: guests,
    customers: customers.size,
    first_order_at: first,
    last_order_at: last,
    seconds: round3(seconds),
    read_seconds: round3((t1 - t0) / 1000),
    write_seconds: round3((t2 - t1) / 1000),
    rows_per_second: seconds > 0 ? Math.round(read.rowsRead / seconds) : 0,
  };
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
