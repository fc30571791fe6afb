// customers/data_request on a long store (ingest/data-request-export.ts): the webhook's
// transaction leaves a data_request_scans row instead of reading the whole orders table for the
// customer's guest orders; the compliance passes scan it in steps and write the export — the same
// export the inline path writes. Through the webhook writer thread, through the main connection
// after a restart that interrupted it, and step by step.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openDb, type Db } from '../../backend/src/store/db.ts';
import { createKeys } from '../../backend/src/keys.ts';
import { createGroupWriter } from '../../backend/src/store/writer.ts';
import { recordDataRequest, redactCustomer, type DataRequest } from '../../backend/src/ingest/compliance.ts';
import { scanPending, scanStep } from '../../backend/src/ingest/data-request-export.ts';
import { passPending, startCompliancePasses } from '../../backend/src/ingest/compliance-passes.ts';
import { SHOP, startTestBackend, type TestBackend } from '../helpers/backend.ts';
import { acrossRestart, count, customer, deliver, fillLog, orderFixture, until } from '../helpers/long-store.ts';

const C1 = 7000000000401;
const C3 = 7000000000403;

const dataRequest = (requestId: number, email = 'one@example.com') =>
  ({ shop_id: 1, shop_domain: SHOP, orders_requested: [6000000000403], customer: { id: C1, email, phone: null }, data_request: { id: requestId } });

/** C1's own order, a guest order with C1's email, C3's order, over signed webhooks. */
async function seedCustomers(url: string): Promise<void> {
  await deliver(url, 'orders/create', { ...orderFixture, id: 6000000000401, customer: customer(C1, 'one@example.com'), email: 'one@example.com' });
  await deliver(url, 'orders/create', { ...orderFixture, id: 6000000000402, customer: null, email: 'one@example.com' });
  await deliver(url, 'orders/create', { ...orderFixture, id: 6000000000403, customer: customer(C3, 'three@example.com'), email: 'three@example.com' });
}

const exportedOrders = (db: Db, requestId: string): string[] =>
  (JSON.parse(db.prepare('SELECT export_json FROM data_requests WHERE shop = ? AND request_id = ?').pluck().get(SHOP, requestId) as string) as { orders: { order_id: string }[] }).orders.map((o) => o.order_id).sort();

let be: TestBackend | null = null;
afterEach(async () => {
  await be?.stop();
  be = null;
});

describe('customers/data_request on a long store', () => {
  it('over HTTP with the webhook writer thread: answered at once, the export follows — C1’s, the guest and the requested orders', async () => {
    be = await startTestBackend();
    await seedCustomers(be.url);
    fillLog(be.deps.db);
    const token = be.config.adminToken;
    expect((await deliver(be.url, 'customers/data_request', dataRequest(5101))).outcome).toBe('applied');
    // Preparing or already written, never missing; then the whole export.
    const first = await fetch(`${be.url}/api/v1/data-requests/5101?shop=${SHOP}`, { headers: { Authorization: `Bearer ${token}` } });
    expect([200, 202]).toContain(first.status);
    if (first.status === 202) {
      expect(first.headers.get('retry-after')).toBe('5');
      expect(await first.json()).toEqual({ status: 'preparing' });
    }
    await until('the export', () => !passPending(be!.deps.db));
    const res = await fetch(`${be.url}/api/v1/data-requests/5101?shop=${SHOP}`, { headers: { Authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { data: { customer_id: string; orders: { order_id: string; lines: unknown[] }[] } };
    expect(body.data.customer_id).toBe(String(C1));
    expect(body.data.orders.map((o) => o.order_id).sort()).toEqual(['6000000000401', '6000000000402', '6000000000403']);
    expect(body.data.orders.every((o) => o.lines.length > 0)).toBe(true);
    // The log line says the export went to steps, never whom it was about.
    const logged = be.deps.db.prepare(`SELECT payload FROM events WHERE shop = ? AND topic = 'customers/data_request'`).pluck().get(SHOP) as string;
    expect(JSON.parse(logged)).toEqual({ data_request_id: '5101', export: 'in steps' });
    // Auth first; an unknown id is still 404.
    expect((await fetch(`${be.url}/api/v1/data-requests/5101?shop=${SHOP}`, { headers: { Authorization: 'Bearer wrong' } })).status).toBe(401);
    expect((await fetch(`${be.url}/api/v1/data-requests/777?shop=${SHOP}`, { headers: { Authorization: `Bearer ${token}` } })).status).toBe(404);
  });

  it('without the thread (main connection), and after a restart that interrupted it', async () => {
    await acrossRestart(async (rt) => {
      await seedCustomers(rt.url);
      fillLog(rt.deps.db);
      // A data request whose scan did not start: as if the process died right after the commit.
      rt.deps.db.transaction(() => recordDataRequest(rt.deps.db, rt.deps.keys, SHOP, { requestId: '5102', customerId: String(C1), email: 'one@example.com', ordersRequested: [] }, new Date().toISOString()))();
      expect(count(rt.deps.db, 'SELECT count(*) FROM data_request_scans')).toBe(1);
      expect(count(rt.deps.db, 'SELECT count(*) FROM data_requests')).toBe(0);
    }, async (rt) => {
      await until('the resumed scan', () => !scanPending(rt.deps.db));
      expect(exportedOrders(rt.deps.db, '5102')).toEqual(['6000000000401', '6000000000402']);
      // And over HTTP on the main connection: the same.
      expect((await deliver(rt.url, 'customers/data_request', dataRequest(5103))).outcome).toBe('applied');
      await until('the scan', () => !scanPending(rt.deps.db));
      expect(exportedOrders(rt.deps.db, '5103')).toEqual(['6000000000401', '6000000000402', '6000000000403']);
    });
  });
});

describe('the scan, step by step', () => {
  function store() {
    const dir = mkdtempSync(join(tmpdir(), 'shopml-scan-unit-'));
    const db = openDb(join(dir, 'shopml.db'));
    const keys = createKeys('k'.repeat(48));
    const e1 = keys.emailHash(SHOP, 'one@example.com');
    // 7 orders: C1's 5000002, guest orders with C1's email hash 5000001 and 5000005, C3's the rest.
    const order = db.prepare(`INSERT INTO orders (shop, order_id, customer_id, email_hash, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)`);
    const rows = [['5000001', null, e1], ['5000002', String(C1), e1], ['5000003', String(C3), null], ['5000004', String(C3), null], ['5000005', null, e1], ['5000006', String(C3), null], ['5000007', String(C3), null]] as const;
    for (const [i, [id, c, e]] of rows.entries()) order.run(SHOP, id, c, e, `2026-07-0${i + 1}T00:00:00Z`, '2026-07-01T00:00:00Z');
    db.prepare(`INSERT INTO order_lines (shop, order_id, line_id, quantity, price) VALUES (?, '5000005', '1', 1, 9.5)`).run(SHOP);
    const ev = db.prepare(`INSERT INTO events (shop, topic, source, source_id, received_at, outcome, payload_sha256, payload) VALUES (?, 't', 'import', ?, '2026-07-01', 'applied', 'x', '{}')`);
    for (let i = 1; i <= 10; i++) ev.run(SHOP, `e-${i}`);
    return { dir, db, keys, close: () => { db.close(); rmSync(dir, { recursive: true, force: true }); } };
  }
  let s: ReturnType<typeof store>;
  beforeEach(() => { s = store(); });
  afterEach(() => s.close());
  const request = (requestId: string, customerId: string | null = String(C1), email: string | null = 'one@example.com'): DataRequest =>
    ({ requestId, customerId, email, ordersRequested: ['5000004'] });
  const record = (r: DataRequest, inlineMaxEvents: number) =>
    s.db.transaction(() => recordDataRequest(s.db, s.keys, SHOP, r, '2026-07-09T00:00:00Z', { inlineMaxEvents }))();
  const exportJson = (id: string) => s.db.prepare('SELECT export_json FROM data_requests WHERE request_id = ?').pluck().get(id) as string | undefined;

  it('each step records how far it got and what it found; the last writes the export the inline path writes', () => {
    expect(record(request('inline'), 10)).toEqual({ orders: 4, scan: false });
    expect(record(request('steps'), 9)).toEqual({ orders: null, scan: true });
    expect(exportJson('steps')).toBeUndefined();
    const cursor = () => s.db.prepare('SELECT next_order, found FROM data_request_scans').raw().get();
    expect(cursor()).toEqual(['', '[]']);
    const seen: unknown[] = [];
    for (;;) {
      const step = s.db.transaction(() => scanStep(s.db, 3))();
      seen.push(step.pending ? cursor() : step);
      if (!step.pending) break;
    }
    expect(seen).toEqual([
      ['5000003', '["5000001","5000002"]'], // orders 5000001–5000003
      ['5000006', '["5000001","5000002","5000005"]'], // 5000004–5000006
      { exported: true, pending: false }, // 5000007: fewer than a step, the scan is done
    ]);
    expect(count(s.db, 'SELECT count(*) FROM data_request_scans')).toBe(0);
    // Same export both ways: C1's order, the guest orders (one with its line), the requested one, by date.
    expect(exportJson('steps')).toBe(exportJson('inline'));
    const data = JSON.parse(exportJson('steps')!) as { orders: { order_id: string; lines: unknown[] }[] };
    expect(data.orders.map((o) => o.order_id)).toEqual(['5000001', '5000002', '5000004', '5000005']);
    expect(data.orders[3]!.lines).toHaveLength(1);
  });

  it('a customers/redact while the scan runs: the scan goes, no export about them is written', () => {
    record(request('r1'), 0);
    s.db.transaction(() => scanStep(s.db, 3))();
    s.db.transaction(() => redactCustomer(s.db, s.keys, SHOP, { customerId: String(C1), email: 'one@example.com', ordersToRedact: [] }, '2026-07-10T00:00:00Z', { inlineMaxEvents: 0 }))();
    expect(scanPending(s.db)).toBe(false);
    expect(exportJson('r1')).toBeUndefined();
  });

  it('a guest’s export (email only) goes with a customers/redact naming that email', () => {
    expect(record(request('guest', null), 100).orders).toBe(4); // every order with the email hash, and the requested one
    expect(exportJson('guest')).toContain('5000005');
    s.db.transaction(() => redactCustomer(s.db, s.keys, SHOP, { customerId: null, email: 'one@example.com', ordersToRedact: [] }, '2026-07-10T00:00:00Z', { inlineMaxEvents: 100 }))();
    expect(exportJson('guest')).toBeUndefined();
  });

  it('a request redelivered under the same id starts again; a request without an email is never left to steps', async () => {
    record(request('again'), 100);
    expect(exportJson('again')).toBeDefined();
    record(request('again'), 0);
    record(request('again'), 0);
    expect(exportJson('again')).toBeUndefined(); // preparing: the old export is not the answer now
    expect(count(s.db, 'SELECT count(*) FROM data_request_scans')).toBe(1);
    expect(record(request('no-email', String(C1), null), 0)).toEqual({ orders: 2, scan: false });
    // The compliance passes, through a group writer, finish it.
    const passes = startCompliancePasses(createGroupWriter(s.db), { stepOrders: 2, pauseMs: 0 });
    passes.kick();
    await passes.idle();
    expect(passes.stats).toEqual({ steps: 4, deleted: 0, exported: 1, errors: 0 });
    expect(JSON.parse(exportJson('again')!).orders).toHaveLength(4);
  });

  it('a kick that comes while the passes are finishing is not lost', async () => {
    // As in the webhook writer thread: the request is written through the same group writer and
    // kicks the passes once committed — here in the same batch as the step that found nothing, so
    // the kick comes before that run has ended.
    const writer = createGroupWriter(s.db);
    const passes = startCompliancePasses(writer, { pauseMs: 0 });
    passes.kick();
    await writer.write((db) => recordDataRequest(db, s.keys, SHOP, request('late'), '2026-07-09T00:00:00Z', { inlineMaxEvents: 0 })).then(() => passes.kick());
    await passes.idle();
    expect(passes.stats.exported).toBe(1);
    expect(exportJson('late')).toBeDefined();
  });

  it('the operator’s CLI lists them, writes one out, and says when one is still being prepared', () => {
    record(request('ready'), 100);
    record(request('later'), 0);
    const root = fileURLToPath(new URL('../..', import.meta.url));
    const shopml = (...args: string[]) => spawnSync(process.execPath, [join(root, 'bin/shopml.js'), 'data-requests', ...args, '--db', join(s.dir, 'shopml.db')],
      { cwd: root, encoding: 'utf8', env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' }, timeout: 60_000 });
    const list = shopml('list', '--shop', SHOP, '--json');
    expect(list.status, list.stderr).toBe(0);
    expect((JSON.parse(list.stdout) as { data_requests: { request_id: string; status: string }[] }).data_requests.map((r) => [r.request_id, r.status]).sort())
      .toEqual([['later', 'preparing'], ['ready', 'ready']]);
    const out = join(s.dir, 'export.json');
    const show = shopml('show', 'ready', '--shop', SHOP, '--out', out);
    expect(show.status, show.stderr).toBe(0);
    expect((JSON.parse(readFileSync(out, 'utf8')) as { data: unknown }).data).toEqual(JSON.parse(exportJson('ready')!));
    expect(statSync(out).mode & 0o777).toBe(0o600); // personal data: the operator's eyes only
    const preparing = shopml('show', 'later', '--shop', SHOP);
    expect([preparing.status, preparing.stderr]).toEqual([3, expect.stringMatching(/being prepared/)]);
    const missing = shopml('show', 'nope', '--shop', SHOP);
    expect([missing.status, missing.stderr]).toEqual([1, expect.stringMatching(/no data request nope/)]);
    expect(shopml('show', 'ready', '--shop', 'other.myshopify.com').status).toBe(1); // another shop's id is not found
    expect(shopml('list', '--shop', 'not-a-shop').status).toBe(2);
  });
});
