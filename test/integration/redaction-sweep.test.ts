// customers/redact on a long event log (ingest/redaction-sweep.ts): the webhook's transaction
// deletes what an index finds and leaves a redaction_sweeps row; the sweep deletes the log's
// rows naming the customer in steps — through the webhook writer thread, through the main
// connection when there is no thread, and again after a restart that interrupted it.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDb, type Db } from '../../backend/src/store/db.ts';
import { createKeys } from '../../backend/src/keys.ts';
import { createGroupWriter } from '../../backend/src/store/writer.ts';
import { exportCustomerData, redactCustomer, redactShop, REDACT_INLINE_MAX_EVENTS } from '../../backend/src/ingest/compliance.ts';
import { sweepPending, sweepStep } from '../../backend/src/ingest/redaction-sweep.ts';
import { startCompliancePasses } from '../../backend/src/ingest/compliance-passes.ts';
import { SHOP, startTestBackend, type TestBackend } from '../helpers/backend.ts';
import { acrossRestart, count, customer, deliver, fillLog, orderFixture, until } from '../helpers/long-store.ts';

const C1 = 7000000000301;
const C2 = 7000000000302;
const C3 = 7000000000303;

/**
 * C1's own order, a guest order with C1's email, an order that was C1's and moved to C2 (its
 * first event still names C1), and C3's order, over signed webhooks.
 */
async function seedCustomers(url: string): Promise<void> {
  await deliver(url, 'orders/create', { ...orderFixture, id: 6000000000301, customer: customer(C1, 'one@example.com'), email: 'one@example.com' });
  await deliver(url, 'orders/create', { ...orderFixture, id: 6000000000302, updated_at: '2026-07-01T10:00:00Z', customer: customer(C1, 'one@example.com'), email: 'one@example.com' });
  await deliver(url, 'orders/updated', { ...orderFixture, id: 6000000000302, updated_at: '2026-07-02T10:00:00Z', customer: customer(C2, 'two@example.com'), email: 'two@example.com' });
  await deliver(url, 'orders/create', { ...orderFixture, id: 6000000000303, customer: customer(C3, 'three@example.com'), email: 'three@example.com' });
  await deliver(url, 'orders/create', { ...orderFixture, id: 6000000000304, customer: null, email: 'one@example.com' });
}

function expectRedacted(db: Db): void {
  expect(count(db, `SELECT count(*) FROM events WHERE customer_id = '${C1}'`)).toBe(0);
  expect(count(db, `SELECT count(*) FROM orders WHERE customer_id = '${C1}'`)).toBe(0);
  for (const t of ['events', 'orders', 'order_lines']) {
    expect(count(db, `SELECT count(*) FROM ${t} WHERE order_id IN ('6000000000301', '6000000000304')`), t).toBe(0);
  }
  expect(count(db, 'SELECT count(*) FROM redaction_sweeps')).toBe(0);
  // The moved order is C2's now: its order row and C2's event stay; C3's and the other shop's too.
  expect(count(db, `SELECT count(*) FROM events WHERE customer_id = '${C2}'`)).toBe(1);
  expect(count(db, `SELECT count(*) FROM orders WHERE order_id = '6000000000302'`)).toBe(1);
  expect(count(db, `SELECT count(*) FROM events WHERE customer_id = '${C3}'`)).toBe(1);
  expect(count(db, `SELECT count(*) FROM events WHERE shop = 'filler.myshopify.com'`)).toBe(REDACT_INLINE_MAX_EVENTS + 500);
}

let be: TestBackend | null = null;
afterEach(async () => {
  await be?.stop();
  be = null;
});

describe('customers/redact on a long event log', () => {
  it('over HTTP with the webhook writer thread: answered at once, the log swept in steps, the rest left alone', async () => {
    be = await startTestBackend();
    await seedCustomers(be.url);
    fillLog(be.deps.db);
    const r = await deliver(be.url, 'customers/redact', { shop_id: 1, shop_domain: SHOP, customer: { id: C1, email: 'one@example.com', phone: null }, orders_to_redact: [] });
    expect(r.outcome).toBe('applied');
    // What an index finds is gone with the webhook's own commit.
    expect(count(be.deps.db, `SELECT count(*) FROM orders WHERE customer_id = '${C1}'`)).toBe(0);
    await until('the sweep', () => !sweepPending(be!.deps.db));
    expectRedacted(be.deps.db);
    // Nothing comes back: the original order redelivered is suppressed.
    expect((await deliver(be.url, 'orders/create', { ...orderFixture, id: 6000000000301, customer: customer(C1, 'one@example.com'), email: 'one@example.com' })).outcome).toBe('suppressed');
  });

  it('without the thread (main connection), and after a restart that interrupted it', async () => {
    await acrossRestart(async (rt) => {
      await seedCustomers(rt.url);
      fillLog(rt.deps.db);
      // A redaction whose sweep did not start: as if the process died right after the commit.
      rt.deps.db.transaction(() => redactCustomer(rt.deps.db, rt.deps.keys, SHOP, { customerId: String(C1), email: 'one@example.com', ordersToRedact: [] }, new Date().toISOString()))();
      expect(count(rt.deps.db, 'SELECT count(*) FROM redaction_sweeps')).toBe(1);
      expect(count(rt.deps.db, `SELECT count(*) FROM events WHERE customer_id = '${C1}'`)).toBe(1); // the moved order's first event
      expect(count(rt.deps.db, `SELECT count(*) FROM orders WHERE order_id = '6000000000304'`)).toBe(1); // the guest order
    }, async (rt) => {
      await until('the resumed sweep', () => !sweepPending(rt.deps.db));
      expectRedacted(rt.deps.db);
    });
  });
});

describe('the sweep, step by step', () => {
  function store() {
    const dir = mkdtempSync(join(tmpdir(), 'shopml-sweep-unit-'));
    const db = openDb(join(dir, 'shopml.db'));
    const keys = createKeys('k'.repeat(48));
    const ev = db.prepare(`INSERT INTO events (shop, topic, source, source_id, received_at, customer_id, email_hash, order_id, outcome, payload_sha256, payload)
      VALUES (?, 'orders/create', 'import', ?, '2026-07-01T00:00:00Z', ?, ?, ?, 'applied', 'x', '{}')`);
    const e1 = keys.emailHash(SHOP, 'one@example.com');
    // 30 events: every 3rd names C1 (by id, then by email hash alone), the rest C3.
    for (let i = 1; i <= 30; i++) {
      const mine = i % 3 === 0;
      ev.run(SHOP, `e-${i}`, mine && i % 2 === 0 ? null : mine ? String(C1) : String(C3), mine && i % 2 === 0 ? e1 : null, `60000000${String(i).padStart(5, '0')}`);
    }
    // 5 orders: 2 guest orders with C1's email hash (one with a line and a log row of its own), 3 of C3.
    const order = db.prepare(`INSERT INTO orders (shop, order_id, customer_id, email_hash, created_at, updated_at) VALUES (?, ?, ?, ?, '2026-07-01T00:00:00Z', '2026-07-01T00:00:00Z')`);
    for (const [id, c, e] of [['5000001', null, e1], ['5000002', String(C3), null], ['5000003', String(C3), null], ['5000004', null, e1], ['5000005', String(C3), null]] as const) order.run(SHOP, id, c, e);
    db.prepare(`INSERT INTO order_lines (shop, order_id, line_id, quantity, price) VALUES (?, '5000004', '1', 1, 9.5)`).run(SHOP);
    ev.run(SHOP, 'e-guest', null, null, '5000004');
    return { dir, db, keys, close: () => { db.close(); rmSync(dir, { recursive: true, force: true }); } };
  }
  let s: ReturnType<typeof store>;
  beforeEach(() => { s = store(); });
  afterEach(() => s.close());
  /** customers/redact of C1 (with their email unless `email` is null), in one transaction. */
  const redactC1 = (inlineMaxEvents: number, email: string | null = 'one@example.com') =>
    s.db.transaction(() => redactCustomer(s.db, s.keys, SHOP, { customerId: String(C1), email, ordersToRedact: [] }, '2026-07-02T00:00:00Z', { inlineMaxEvents }))();

  it('the orders pass, then the log by ranges of ids: each step records how far it got; the row goes at the end', () => {
    expect(redactC1(10).sweep).toBe(true);
    // Nothing the sweep is for went inline: the guest orders and the log rows naming C1 are there.
    expect(count(s.db, 'SELECT count(*) FROM orders WHERE email_hash IS NOT NULL')).toBe(2);
    expect(count(s.db, `SELECT count(*) FROM events WHERE customer_id = '${C1}' OR email_hash IS NOT NULL`)).toBe(10);
    const cursor = () => s.db.prepare('SELECT next_order, next_event FROM redaction_sweeps').raw().get();
    expect(cursor()).toEqual(['', 1]);
    const seen: unknown[] = [];
    for (;;) {
      const step = sweepStep(s.db, 7, 2);
      seen.push([step.deleted, step.pending ? cursor() : 'done']);
      if (!step.pending) break;
    }
    expect(seen).toEqual([
      [1, ['5000002', 1]], // orders 5000001–5000002: the guest order 5000001
      [2, ['5000004', 1]], // 5000003–5000004: the guest order 5000004 (its line with it) and its log row
      [0, [null, 1]], // 5000005: the last one, the orders pass is done
      [2, [null, 8]], // log ids 1–7, 8–14, 15–21, 22–28, 29–31: the multiples of 3
      [2, [null, 15]],
      [3, [null, 22]],
      [2, [null, 29]],
      [1, 'done'],
    ]);
    expect(count(s.db, 'SELECT count(*) FROM orders WHERE email_hash IS NOT NULL')).toBe(0);
    expect(count(s.db, "SELECT count(*) FROM order_lines WHERE order_id = '5000004'")).toBe(0);
    expect(count(s.db, `SELECT count(*) FROM events WHERE customer_id = '${C1}' OR email_hash IS NOT NULL OR order_id = '5000004'`)).toBe(0);
    expect(count(s.db, `SELECT count(*) FROM events WHERE customer_id = '${C3}'`)).toBe(20);
    expect(count(s.db, `SELECT count(*) FROM orders WHERE customer_id = '${C3}'`)).toBe(3);
    expect(count(s.db, 'SELECT count(*) FROM redaction_sweeps')).toBe(0);
  });

  it('inline below the limit: no row, the log read in the same transaction', () => {
    expect(redactC1(31).sweep).toBe(false);
    expect(count(s.db, 'SELECT count(*) FROM redaction_sweeps')).toBe(0);
    expect(count(s.db, `SELECT count(*) FROM events WHERE customer_id = '${C1}' OR email_hash IS NOT NULL`)).toBe(0);
  });

  it('a second redaction of the customer keeps the first pass; the data export and shop/redact know the table', async () => {
    const redact = () => redactC1(0, null);
    redact();
    redact();
    expect(count(s.db, 'SELECT count(*) FROM redaction_sweeps')).toBe(2);
    expect(JSON.stringify(exportCustomerData(s.db, SHOP, String(C1), []))).not.toContain('redaction_sweeps');
    // The compliance passes, through a group writer, run both sweeps to the end.
    const sweeper = startCompliancePasses(createGroupWriter(s.db), { stepEvents: 4, pauseMs: 0 });
    sweeper.kick();
    await sweeper.idle();
    expect(sweeper.stats.steps).toBe(16); // 31 ids in steps of 4, twice (no email: no orders pass)
    expect(count(s.db, `SELECT count(*) FROM events WHERE customer_id = '${C1}'`)).toBe(0);
    expect(sweepPending(s.db)).toBe(false);
    redact();
    expect(redactShop(s.db, SHOP).rowsDeleted).toBeGreaterThan(0);
    expect(count(s.db, 'SELECT count(*) FROM redaction_sweeps')).toBe(0);
  });
});
