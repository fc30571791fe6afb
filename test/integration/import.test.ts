// The order-line CSV import against a real SQLite file. Expected counts are worked out by hand
// from test/fixtures/online-retail-quirks.csv (45 physical lines, header + 44 rows):
//
//   line  invoice   what it exercises
//   2-4   536365    sale (GMT) incl. POST; line 45 adds a 4th line to it out of order (non-contiguous invoice)
//   5-8   536381    quoted description with a comma; doubled quotes; an EXACT DUPLICATE line (6 = 7); price 0 with a customer
//   9     C536379   cancellation with an earlier sale (536365's 85123A)
//   10-11 C536383   cancellation without an earlier sale; D (discount)
//   12-15 536544    guest (no CustomerID); DOT, M, m
//   16-17 536540    C2 (carriage), EIRE
//   18    536589    stock write-off (-10, price 0, no customer)
//   19-20 536591    two timestamps a minute apart (16:57, 16:58) → created 16:57Z
//   21    536779    BANK CHARGES
//   22    C537581   S (samples) on a guest cancellation
//   23    C537600   AMAZONFEE
//   24    540238    gift_0001_20 voucher ("£" in the description)
//   25-26 541431 / C541433  74,215 units entered and reversed 16 minutes later
//   27    543358    DCGSSBOY
//   28    542529    DCGS0055 written off (-1, price 0, no customer) → non_product wins
//   29    547882    first BST weekday: 07:53 local = 06:53Z
//   30-31 550193    PADS (price 0.001)
//   32-33 A563185 / A563186  bad-debt adjustments, B, the second with a NEGATIVE price
//   34    C564763   CRUK
//   35    555200    BST date: 2011-06-01 12:00 local = 11:00Z
//   36-44 rule breakers: 36 missing_order, 37 bad_time (Feb 30), 38 bad_quantity (empty),
//         39 bad_quantity ("two"), 40 zero_quantity, 41 bad_price ("£12.75"), 42 missing_product,
//         43 customer_mismatch (555200 with another customer), 44 missing_time
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { decodeEventPayload } from '../../backend/src/ingest/record.ts';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { openDb, type Db } from '../../backend/src/store/db.ts';
import { createKeys } from '../../backend/src/keys.ts';
import { CsvStructureError } from '../../backend/src/ingest/csv.ts';
import { importFile, type ImportSummary } from '../../backend/src/ingest/import.ts';
import { runImportCommand } from '../../backend/src/cli/import-command.ts';
import { redactCustomer } from '../../backend/src/ingest/compliance.ts';
import { REAL_DATA_FILE } from '../helpers/real-data.ts';

const FIXTURE = new URL('../fixtures/online-retail-quirks.csv', import.meta.url).pathname;
const REAL = REAL_DATA_FILE;
const SECRET = 'test-secret-test-secret-test-secret-0123';
const SHOP = 'quirks.myshopify.com';
const keys = createKeys(SECRET);

const dir = mkdtempSync(join(tmpdir(), 'shopml-import-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
let db: Db;
let dbPath: string;
beforeEach(() => {
  dbPath = join(dir, `t${++n}.db`);
  db = openDb(dbPath);
  return () => db.close();
});

const TABLES = ['events', 'orders', 'order_lines', 'customers'] as const;
function counts(d: Db = db): Record<string, number> {
  return Object.fromEntries(TABLES.map((t) => [t, d.prepare(`SELECT count(*) FROM ${t}`).pluck().get() as number]));
}

function importFixture(file = FIXTURE, extra: Partial<Parameters<typeof importFile>[0]> = {}): Promise<ImportSummary> {
  return importFile({ db, keys, shop: SHOP, file, format: 'online-retail', ...extra });
}

function write(name: string, content: string | Buffer): string {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
}

function order(id: string) {
  return db.prepare('SELECT * FROM orders WHERE shop = ? AND order_id = ?').get(SHOP, id) as Record<string, unknown> | undefined;
}
function orderLines(id: string) {
  return db.prepare('SELECT * FROM order_lines WHERE shop = ? AND order_id = ? ORDER BY line_id').all(SHOP, id) as Record<string, unknown>[];
}

describe('import --format online-retail (quirks fixture)', () => {
  it('counts rows, orders, lines and skips by reason as documented', async () => {
    const s = await importFixture();
    expect(s.rows_read).toBe(44);
    expect(s.rows_imported).toBe(35);
    expect(s.rows_skipped).toBe(9);
    expect(s.skipped_by_reason).toEqual({
      missing_order: 1, missing_time: 1, bad_time: 1, bad_quantity: 2, zero_quantity: 1, bad_price: 1, missing_product: 1, customer_mismatch: 1,
    });
    expect(s.orders).toBe(22);
    expect(s.orders_by_kind).toEqual({ order: 14, cancellation: 6, adjustment: 2 });
    expect(s.orders_new).toBe(22);
    expect(s.lines_new).toBe(35);
    expect(s.lines_by_kind).toEqual({ product: 18, non_product: 16, writeoff: 1 });
    expect(s.exact_duplicate_lines).toBe(1);
    expect(s.duplicates).toBe(0);
    expect(s.suppressed).toBe(0);
    expect(s.customers).toBe(8);
    expect(s.guest_orders).toBe(9);
    expect(s.first_order_at).toBe('2010-12-01T08:26:00.000Z');
    expect(s.last_order_at).toBe('2011-08-30T09:49:00.000Z');
    expect(counts()).toEqual({ events: 22, orders: 22, order_lines: 35, customers: 8 });
  });

  it('maps the columns and handles every quirk', async () => {
    await importFixture();
    const o = order('536365')!;
    expect(o).toMatchObject({
      kind: 'order', customer_id: '17850', created_at: '2010-12-01T08:26:00.000Z', updated_at: '2010-12-01T08:26:00.000Z',
      currency: 'GBP', country: 'United Kingdom', name: '536365',
    });
    expect(o.total_price).toBeCloseTo(6 * 2.55 + 6 * 3.39 + 18 + 2 * 7.65, 9);
    const l = orderLines('536365');
    expect(l).toHaveLength(4); // the non-contiguous 4th line (file line 45) joined its invoice
    expect(l.find((x) => x.product_id === 'POST')).toMatchObject({ line_kind: 'non_product', sku: 'POST', quantity: 1, price: 18 });
    expect(l.find((x) => x.product_id === '85123A')).toMatchObject({ line_kind: 'product', title: 'WHITE HANGING HEART T-LIGHT HOLDER', quantity: 6, price: 2.55 });

    // quoted comma, doubled quotes (title trimmed), exact duplicate kept as two lines with occurrence 0 and 1
    const l81 = orderLines('536381');
    expect(l81.map((x) => x.title)).toContain('AIRLINE LOUNGE,METAL SIGN');
    const frames = l81.filter((x) => x.product_id === '22041');
    expect(frames).toHaveLength(2);
    expect(frames.map((x) => x.title)).toEqual(['RECORD FRAME 7" SINGLE SIZE', 'RECORD FRAME 7" SINGLE SIZE']);
    const [h0, o0] = String(frames[0]!.line_id).split(':');
    const [h1, o1] = String(frames[1]!.line_id).split(':');
    expect(h0).toBe(h1);
    expect([o0, o1].sort()).toEqual(['0', '1']);
    expect(l81.find((x) => x.product_id === '21700')).toMatchObject({ price: 0, line_kind: 'product' });

    // cancellations, with and without an earlier sale: their own orders, negative quantities
    expect(order('C536379')).toMatchObject({ kind: 'cancellation', customer_id: '17850' });
    expect(orderLines('C536379')[0]).toMatchObject({ product_id: '85123A', quantity: -2, line_kind: 'product' });
    expect(order('C536383')).toMatchObject({ kind: 'cancellation' });
    expect(orderLines('C536383').map((x) => x.line_kind).sort()).toEqual(['non_product', 'product']);

    // guest order: no customer id
    expect(order('536544')).toMatchObject({ customer_id: null, email_hash: null });
    expect(orderLines('536544').map((x) => `${x.product_id}:${x.line_kind}`).sort()).toEqual(['90214D:product', 'DOT:non_product', 'M:non_product', 'm:non_product']);

    // write-off
    expect(orderLines('536589')[0]).toMatchObject({ product_id: '21777', quantity: -10, price: 0, title: null, line_kind: 'writeoff' });
    expect(order('536589')).toMatchObject({ kind: 'order', customer_id: null, total_price: 0 });
    // a written-off DCGS line stays non_product
    expect(orderLines('542529')[0]).toMatchObject({ line_kind: 'non_product' });

    // two timestamps a minute apart → the first
    expect(order('536591')).toMatchObject({ created_at: '2010-12-01T16:57:00.000Z' });
    expect(orderLines('536591')).toHaveLength(2);

    // heavy quantity entered and reversed
    expect(orderLines('541431')[0]).toMatchObject({ quantity: 74215, price: 1.04 });
    expect(orderLines('C541433')[0]).toMatchObject({ quantity: -74215 });
    expect(order('541431')!.total_price).toBeCloseTo(77183.6, 6);
    expect(order('C541433')!.total_price).toBeCloseTo(-77183.6, 6);

    // bad-debt adjustments with a negative price
    expect(order('A563186')).toMatchObject({ kind: 'adjustment', total_price: -11062.06 });
    expect(orderLines('A563186')[0]).toMatchObject({ product_id: 'B', price: -11062.06, line_kind: 'non_product' });

    // BST and GMT
    expect(order('547882')).toMatchObject({ created_at: '2011-03-28T06:53:00.000Z', country: 'EIRE' });
    expect(order('555200')).toMatchObject({ created_at: '2011-06-01T11:00:00.000Z', customer_id: '17850' });
    expect(orderLines('555200')).toHaveLength(1); // the customer_mismatch row was skipped
    expect(orderLines('540238')[0]).toMatchObject({ title: 'Dotcomgiftshop Gift Voucher £20.00', line_kind: 'non_product' });

    // non-product code families
    const kinds = db.prepare("SELECT product_id FROM order_lines WHERE line_kind = 'non_product' ORDER BY product_id").pluck().all();
    expect(kinds).toEqual(['AMAZONFEE', 'B', 'B', 'BANK CHARGES', 'C2', 'CRUK', 'D', 'DCGS0055', 'DCGSSBOY', 'DOT', 'M', 'PADS', 'POST', 'S', 'gift_0001_20', 'm']);

    // the event log holds one import event per invoice, pseudonymous payload
    const ev = db.prepare("SELECT * FROM events WHERE source_id LIKE 'import:536365:%'").get() as Record<string, string>;
    expect(ev).toMatchObject({ topic: 'orders/import', source: 'import', outcome: 'applied', customer_id: '17850' });
    expect(ev.source_id).toMatch(/^import:536365:[0-9a-f]{16}$/);
    const decoded = decodeEventPayload(ev.payload!);
    expect(decoded.type === 'order' ? decoded.order.lines : []).toHaveLength(4);
  });

  it('re-importing the same file (or its gzip) changes nothing', async () => {
    const first = await importFixture();
    const before = counts();
    const snapshot = db.prepare('SELECT * FROM order_lines ORDER BY order_id, line_id').all();
    const again = await importFixture();
    expect(counts()).toEqual(before);
    expect(again).toMatchObject({ rows_read: first.rows_read, orders: 22, orders_new: 0, lines_new: 0, duplicates: 22, suppressed: 0 });
    const gz = write('quirks.csv.gz', gzipSync(readFileSync(FIXTURE)));
    const third = await importFixture(gz);
    expect(third).toMatchObject({ orders_new: 0, duplicates: 22 });
    expect(counts()).toEqual(before);
    expect(db.prepare('SELECT * FROM order_lines ORDER BY order_id, line_id').all()).toEqual(snapshot);
  });

  it('row order does not change the line ids or the event keys', async () => {
    // Without the customer_mismatch row: with it, whichever row comes first decides the customer.
    const rows = readFileSync(FIXTURE, 'utf8').trimEnd().split('\n').filter((r) => !r.startsWith('555200,22424,'));
    const ordered = write('ordered.csv', `${rows.join('\n')}\n`);
    const reversed = write('reversed.csv', `${[rows[0]!, ...rows.slice(1).reverse()].join('\n')}\n`);
    const first = await importFixture(ordered);
    const lineIds = db.prepare('SELECT order_id, line_id FROM order_lines ORDER BY 1, 2').all();
    const s = await importFixture(reversed);
    expect(s).toMatchObject({ duplicates: first.orders, orders_new: 0 });
    expect(db.prepare('SELECT order_id, line_id FROM order_lines ORDER BY 1, 2').all()).toEqual(lineIds);
  });

  it('an invoice whose content changed is written again (latest import wins)', async () => {
    await importFixture();
    const changed = readFileSync(FIXTURE, 'utf8').replace('536591,22910,PAPER CHAIN KIT VINTAGE CHRISTMAS,12,', '536591,22910,PAPER CHAIN KIT VINTAGE CHRISTMAS,24,');
    const s = await importFixture(write('changed.csv', changed));
    expect(s).toMatchObject({ orders_new: 1, duplicates: 21, lines_new: 2 });
    expect(orderLines('536591').map((x) => x.quantity).sort()).toEqual([12, 24]);
    expect(counts()).toMatchObject({ events: 23, orders: 22, order_lines: 35 });
  });

  it('a customer redacted earlier stays suppressed on import', async () => {
    db.prepare('INSERT INTO tombstones (shop, subject_hash, created_at) VALUES (?, ?, ?)').run(SHOP, keys.subjectHash(SHOP, 'customer', '17850'), new Date().toISOString());
    const s = await importFixture();
    expect(s.suppressed).toBe(3); // 536365, C536379, 555200
    expect(s.orders_new).toBe(19);
    expect(order('536365')).toBeUndefined();
    expect(db.prepare("SELECT count(*) FROM events WHERE customer_id = '17850'").pluck().get()).toBe(0);
    const again = await importFixture();
    expect(again).toMatchObject({ suppressed: 3, duplicates: 19, orders_new: 0 });
  });

  it('a customer redacted after the import stays away on re-import', async () => {
    await importFixture();
    db.transaction(() => redactCustomer(db, keys, SHOP, { customerId: '17850', email: null, ordersToRedact: [] }, new Date().toISOString()))();
    expect(order('536365')).toBeUndefined();
    const after = counts();
    const s = await importFixture();
    expect(s).toMatchObject({ suppressed: 3, duplicates: 19, orders_new: 0, lines_new: 0 });
    expect(counts()).toEqual(after);
    expect(order('536365')).toBeUndefined();
  });

  it('completes idempotently after a crash in the middle of the writes', async () => {
    const crash = new Error('simulated crash');
    const err = await importFixture(FIXTURE, {
      chunkOrders: 5,
      onProgress: (p) => {
        if (p.phase === 'write' && p.done >= 10) throw crash;
      },
    }).catch((e: unknown) => e);
    expect(err).toBe(crash);
    expect(counts().orders).toBe(10); // two chunks committed
    const s = await importFixture();
    expect(s).toMatchObject({ orders_new: 12, duplicates: 10 });
    expect(counts()).toEqual({ events: 22, orders: 22, order_lines: 35, customers: 8 });
  });

  describe('a structural error aborts the import and writes nothing', () => {
    const text = readFileSync(FIXTURE, 'utf8');

    async function expectNothingWritten(file: string, line: number | null, message: RegExp) {
      const err = await importFixture(file).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(CsvStructureError);
      expect((err as CsvStructureError).message).toMatch(message);
      if (line !== null) expect((err as CsvStructureError).line).toBe(line);
      expect(counts()).toEqual({ events: 0, orders: 0, order_lines: 0, customers: 0 });
      return err as CsvStructureError;
    }

    it('an unterminated quote (even near the end of the file)', async () => {
      const broken = text.replace('"LETTER ""D"" BLING KEY RING"', '"LETTER ""D"" BLING KEY RING');
      await expectNothingWritten(write('unterminated.csv', broken), 12, /unterminated quoted field/);
    });

    it('a stray quote, a character after a closing quote, a wrong field count', async () => {
      await expectNothingWritten(write('stray.csv', text.replace('"RECORD FRAME 7"" SINGLE SIZE "', 'RECORD FRAME 7" SINGLE SIZE')), 6, /stray quote/);
      await expectNothingWritten(write('after.csv', text.replace('"AIRLINE LOUNGE,METAL SIGN"', '"AIRLINE LOUNGE,METAL SIGN"X')), 5, /after a closing quote/);
      await expectNothingWritten(write('fields.csv', text.replace('"AIRLINE LOUNGE,METAL SIGN"', 'AIRLINE LOUNGE,METAL SIGN')), 5, /expected 8 fields, found 9|expected 8 fields like the header, found 9/);
    });

    it('a truncated gzip', async () => {
      // Many copies of the fixture's rows so the cut falls well inside the data.
      const rows = text.trimEnd().split('\n');
      const body: string[] = [rows[0]!];
      for (let k = 0; k < 400; k++) for (const r of rows.slice(1)) body.push(r.replace(/^(C|A)?(\d+)/, (_m, p: string | undefined, d: string) => `${p ?? ''}${Number(d) + k * 100_000}`));
      const gz = gzipSync(`${body.join('\n')}\n`);
      const err = await expectNothingWritten(write('truncated.csv.gz', gz.subarray(0, Math.floor(gz.length / 2))), null, /truncated or corrupt gzip/);
      expect(err.line).toBeGreaterThan(1);
      expect(err.line).toBeLessThan(body.length);
    });

    it('a header without the Online Retail columns', async () => {
      await expectNothingWritten(write('header.csv', text.replace('InvoiceNo,', 'Invoice,')), 1, /no column "InvoiceNo"/);
    });
  });
});

describe('import --format csv --map', () => {
  const lineCsv = [
    'Name,Email,Created at,Lineitem sku,Lineitem quantity,Lineitem price,Lineitem name',
    '#1001,Alice@Example.com,2024-03-01 10:00:00 +0100,SKU-1,2,10.00,Mug',
    '#1001,alice@example.com ,2024-03-01 10:00:00 +0100,SKU-2,1,5.50,"Tea, green"',
    '#1002,,2024-03-02T09:00:00Z,SKU-1,1,10.00,Mug',
    '#1003,12345.0,2024-03-31 01:30:00,SKU-3,1,1.00,Pin',
    '#1004,12345,2024-04-01 10:00:00,POST,1,4.99,Postage',
    '#1005,12345,not a date,SKU-3,1,1.00,Pin',
    '',
  ].join('\r\n');
  const map = { order: 'Name', customer: 'Email', time: 'Created at', product: 'Lineitem sku', quantity: 'Lineitem quantity', price: 'Lineitem price', title: 'Lineitem name' };

  it('imports an order-line CSV; emails only as keyed hashes; timezone for local times', async () => {
    const file = write('shopify-export.csv', lineCsv);
    const s = await importFile({ db, keys, shop: SHOP, file, format: 'csv', map, currency: 'EUR', timezone: 'Europe/London' });
    expect(s).toMatchObject({ rows_read: 6, rows_imported: 5, rows_skipped: 1, orders: 4, orders_new: 4, lines_new: 5, customers: 2, guest_orders: 1 });
    expect(s.skipped_by_reason.bad_time).toBe(1);
    expect(s.lines_by_kind).toEqual({ product: 4, non_product: 1, writeoff: 0 });
    const o = order('#1001')!;
    expect(o).toMatchObject({ customer_id: null, email_hash: keys.emailHash(SHOP, 'alice@example.com'), currency: 'EUR', kind: 'order', created_at: '2024-03-01T09:00:00.000Z' });
    expect(o.total_price).toBeCloseTo(25.5, 9);
    expect(order('#1003')).toMatchObject({ customer_id: '12345', created_at: '2024-03-31T01:30:00.000Z' }); // in the BST gap: moved forward
    expect(orderLines('#1001').map((x) => x.title).sort()).toEqual(['Mug', 'Tea, green']);
    const all = JSON.stringify(db.prepare('SELECT * FROM events').all()) + JSON.stringify(db.prepare('SELECT * FROM orders').all());
    expect(all.toLowerCase()).not.toContain('alice@example.com');
    const again = await importFile({ db, keys, shop: SHOP, file, format: 'csv', map, currency: 'EUR', timezone: 'Europe/London' });
    expect(again).toMatchObject({ orders_new: 0, duplicates: 4 });
  });

  it('order-level data without product (and price) columns', async () => {
    const file = write('orders.csv', 'order_id,customer_id,ordered_at,revenue\n1,c1,2024-01-01,20.5\n2,c2,2024-01-02 10:00,\n3,c1,2024-01-05T12:00:00Z,7\n');
    const s = await importFile({ db, keys, shop: SHOP, file, format: 'csv', map: { order: 'order_id', customer: 'customer_id', time: 'ordered_at', price: 'revenue' } });
    expect(s).toMatchObject({ rows_read: 3, rows_imported: 2, orders: 2, customers: 1 });
    expect(s.skipped_by_reason.bad_price).toBe(1);
    expect(order('1')).toMatchObject({ total_price: 20.5, currency: null, customer_id: 'c1', created_at: '2024-01-01T00:00:00.000Z' });
    expect(orderLines('1')).toEqual([expect.objectContaining({ product_id: null, sku: null, quantity: 1, price: 20.5, line_kind: 'non_product' })]);

    const noPrice = write('orders-no-price.csv', 'id,cust,at\nA1,c9,2024-02-01\nA1,c9,2024-02-01\n');
    const t = await importFile({ db, keys, shop: SHOP, file: noPrice, format: 'csv', map: { order: 'id', customer: 'cust', time: 'at' } });
    expect(t).toMatchObject({ orders: 1, rows_imported: 2, exact_duplicate_lines: 1 });
    expect(order('A1')).toMatchObject({ total_price: null });
  });

  it('a mapped column missing from the header is a structural error', async () => {
    const file = write('bad-map.csv', lineCsv);
    const err = await importFile({ db, keys, shop: SHOP, file, format: 'csv', map: { ...map, price: 'Price' } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CsvStructureError);
    expect((err as CsvStructureError).message).toMatch(/no column "Price"/);
    expect(counts().events).toBe(0);
  });
});

describe('shopml import (command)', () => {
  function capture() {
    let text = '';
    const stream = new Writable({ write(chunk, _enc, cb) { text += String(chunk); cb(); } });
    return { stream, get text() { return text; } };
  }
  async function run(argv: string[], env: Record<string, string | undefined> = { SHOPML_SECRET_KEY: SECRET }) {
    const out = capture();
    const err = capture();
    const code = await runImportCommand(argv, env, { stdout: out.stream, stderr: err.stream });
    return { code, stdout: out.text, stderr: err.text };
  }

  it('--json prints exactly one JSON object with rows_read', async () => {
    const r = await run([FIXTURE, '--shop', SHOP, '--format', 'online-retail', '--json', '--db', dbPath]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
    const s = JSON.parse(r.stdout) as ImportSummary;
    expect(s).toMatchObject({ rows_read: 44, rows_skipped: 9, orders_new: 22 });
  });

  it('prints a human summary; the database path comes from DATABASE_PATH', async () => {
    const r = await run([FIXTURE, '--shop', SHOP], { SHOPML_SECRET_KEY: SECRET, DATABASE_PATH: dbPath });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/44 read, 35 imported, 9 skipped \(missing_order 1, .*bad_quantity 2/);
    expect(r.stdout).toMatch(/22 new orders, 35 new lines/);
    expect(counts().orders).toBe(22);
    const again = await run([FIXTURE, '--shop', SHOP, '--db', dbPath]);
    expect(again.stdout).toMatch(/0 new orders, 0 new lines; 22 already imported/);
  });

  it('a structural error: exit 1, file:line: message, nothing written', async () => {
    const bad = write('cli-broken.csv', readFileSync(FIXTURE, 'utf8').replace('"AIRLINE LOUNGE,METAL SIGN"', '"AIRLINE LOUNGE,METAL SIGN"X'));
    const r = await run([bad, '--shop', SHOP, '--db', dbPath]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`^error: ${bad.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:5: unexpected character "X" after a closing quote`));
    const j = await run([bad, '--shop', SHOP, '--db', dbPath, '--json']);
    expect(j.code).toBe(1);
    expect(JSON.parse(j.stdout)).toMatchObject({ line: 5, file: bad, error: expect.stringMatching(/after a closing quote/) });
    expect(counts()).toEqual({ events: 0, orders: 0, order_lines: 0, customers: 0 });
  });

  it('usage errors exit 2; a missing secret names the variable', async () => {
    expect((await run([FIXTURE, '--db', dbPath])).code).toBe(2);
    expect((await run([FIXTURE, '--shop', 'example.com', '--db', dbPath])).stderr).toMatch(/myshopify\.com/);
    expect((await run([FIXTURE, '--shop', SHOP, '--format', 'xlsx', '--db', dbPath])).code).toBe(2);
    expect((await run([FIXTURE, '--shop', SHOP, '--format', 'csv', '--db', dbPath])).code).toBe(2);
    expect((await run([FIXTURE, '--shop', SHOP, '--map', 'order=a,bogus=b', '--db', dbPath])).code).toBe(2);
    expect((await run([FIXTURE, '--shop', SHOP, '--bogus', '--db', dbPath])).code).toBe(2);
    const noSecret = await run([FIXTURE, '--shop', SHOP, '--db', dbPath], {});
    expect(noSecret.code).toBe(1);
    expect(noSecret.stderr).toMatch(/SHOPML_SECRET_KEY/);
    const missing = await run([join(dir, 'nope.csv'), '--shop', SHOP, '--db', dbPath, '--json']);
    expect(missing.code).toBe(1);
    expect(JSON.parse(missing.stdout).error).toMatch(/no such file/);
  });

  it('--map implies --format csv', async () => {
    const file = write('cli-orders.csv', 'id,cust,at,amount\n1,c1,2024-01-01,5\n');
    const r = await run([file, '--shop', SHOP, '--map', 'order=id,customer=cust,time=at,price=amount', '--currency', 'usd', '--json', '--db', dbPath]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ format: 'csv', rows_read: 1, orders_new: 1 });
    expect(order('1')).toMatchObject({ currency: 'USD' });
  });
});

// The real data set is data, not a tool: this runs only where it is present.
describe.skipIf(!existsSync(REAL))('the real Online Retail file', () => {
  it('imports 370,931 rows into 18,786 invoices, then re-imports as a no-op', async () => {
    const file = join(dir, 'real.csv.gz');
    copyFileSync(REAL, file);
    const s = await importFixture(file);
    expect(s).toMatchObject({
      rows_read: 370_931, rows_imported: 370_931, rows_skipped: 0, orders: 18_786, orders_new: 18_786, lines_new: 370_931,
      customers: 3_658, exact_duplicate_lines: 2_848,
      orders_by_kind: { order: 15_896, cancellation: 2_887, adjustment: 3 },
      lines_by_kind: { product: 367_674, non_product: 2_246, writeoff: 1_011 },
      first_order_at: '2010-12-01T08:26:00.000Z', last_order_at: '2011-09-30T16:22:00.000Z',
    });
    expect(counts()).toMatchObject({ events: 18_786, orders: 18_786, order_lines: 370_931 });
    const again = await importFixture(file);
    expect(again).toMatchObject({ orders_new: 0, lines_new: 0, duplicates: 18_786 });
    expect(counts()).toMatchObject({ events: 18_786, orders: 18_786, order_lines: 370_931 });
  });
});
