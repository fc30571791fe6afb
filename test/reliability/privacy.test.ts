// Reliability item 5, privacy (docs/RELIABILITY.md). A simulated store whose every personal field
// carries a canary string (names, emails, phones, addresses and companies, customer and order
// notes, cart attributes, line item properties, the browser's user agent, refund notes) goes
// through the whole loop against the real `shopml serve` process, with the most talkative logs
// (LOG_LEVEL=trace, written to a file): install by token exchange, bulk backfill of catalog and
// history, training by the scheduler, write-back (tags, metafields, Flow triggers), live signed
// webhooks with redeliveries, stale updates, refunds and cancellations, webhooks shopml never
// subscribed to and malformed ones (quarantine), Flow actions, storefront visits through the app
// proxy with impressions, clicks and attributed orders, a retraining whose recommend challenger
// meets traffic in a canary, a customers/data_request. Then every byte shopml wrote — the SQLite
// file, its -wal and -shm, every artifact (gunzipped too), every log line, job payloads and results
// — is searched for the canary in every plausible encoding: zero hits; emails exist only as the
// per-shop HMAC of backend/src/keys.ts.
//
// Then one customer, present in as many tables as the loop puts a customer in, asks to be
// forgotten (a signed customers/redact): every row of every table is searched for their id, email
// hash, order, line and refund ids — zero; the per-customer answers (insights API, Flow score,
// personal recommendations, data export) know nothing of them; and redelivering their webhooks
// (same and new ids), Flow actions about them, a storefront visit and a fresh bulk backfill bring
// nothing back.
//
// Short run (npm test): a small store, ~15 s of live traffic. Long: `npm run test:reliability`.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { startAdminSimulator, type AdminSimulator } from '../../simulator/admin-server.ts';
import { loadFlowTriggers } from '../../simulator/flow-extensions.ts';
import { customerPayload, customersDataRequestPayload, customersRedactPayload, orderPayload, refundPayload } from '../../simulator/rest-payloads.ts';
import { appProxyQuery, flowActionRequest, flowLifecycleRequest, sessionToken } from '../../simulator/sign.ts';
import { createWebhookStream, deliverSigned, sendWebhook, type DeliveryResult } from '../../simulator/webhook-sender.ts';
import { createShopperStream } from '../../simulator/shoppers.ts';
import { generateStore } from '../../simulator/store.ts';
import type { SimOrder, SimStore } from '../../simulator/types.ts';
import { createKeys } from '../../backend/src/keys.ts';
import { canaryNeedles, countSubjectInFiles, findDigests, findSubjectInRows, listFiles, personalPatterns, scanFiles, scanPatterns, unkeyedEmailDigests, type Hit } from './privacy-scan.ts';
import { FIRST_NAMES, LAST_NAMES, STREETS } from '../../simulator/people.ts';
import { LONG, reportFigures, size } from './profile.ts';
import { freePort } from '../../backend/src/http/free-port.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const EXTENSIONS = join(ROOT, 'extensions');
const DAY_MS = 86_400_000;
const API_KEY = 'privacy-api-key';
const API_SECRET = randomBytes(24).toString('hex');
const SECRET_KEY = randomBytes(32).toString('hex');
const ADMIN_TOKEN = randomBytes(18).toString('hex');
/** Unique per run: letters and digits only (it is part of every email address). */
const CANARY = `zzpriv${randomBytes(6).toString('hex')}`;
/** The TEST-NET-2 prefix of the canary store's browser IPs (simulator/orders.ts). */
const IP_PREFIX = '198.51.100.';

const P = {
  products: size(30, 80),
  customers: size(140, 400),
  days: size(240, 365),
  /** Live webhooks before the retraining threshold is checked, and the threshold. */
  liveEvents: size(260, 2500),
  webhookRate: size(60, 40),
  retrainAfter: size(80, 600),
  shopperVisits: size(120, 1500),
  shopperRate: size(20, 15),
  probes: size(12, 60),
};

const store: SimStore = generateStore({
  seed: 'privacy', products: P.products, customers: P.customers, days: P.days,
  endDate: new Date(Math.floor(Date.now() / DAY_MS) * DAY_MS), personalDataCanary: CANARY,
});
const SHOP = store.shop;
const keys = createKeys(SECRET_KEY);
const needles = [...canaryNeedles(CANARY), { label: 'browser ip', bytes: Buffer.from(IP_PREFIX, 'latin1') }];

let dir: string;
let dbPath: string;
let artifactsDir: string;
let logsDir: string;
let sim: AdminSimulator;
let server: ChildProcess | null = null;
let url: string;
let port: number;
const figures: Record<string, unknown> = { canary: CANARY };
const started = performance.now();
/** Every signed webhook delivered about an order, by order id: for exact redelivery later. */
const deliveriesByOrder = new Map<number, DeliveryResult[]>();
/** The redacted customer's id, email hash, order, line and refund ids (set by the redaction test). */
let victimSubjects: string[] = [];
/** Every email address the store (and the live stream) handed out. */
const emails = new Set<string>();

/** What shopml was actually sent that carries the canary: by JSON field path (topic's resource as the root). */
const sent = { requests: 0, bytes: 0, canaryValues: 0, paths: new Map<string, number>() };

function walkPlanted(v: unknown, path: string, into: Map<string, number>): number {
  if (typeof v === 'string') {
    if (!v.includes(CANARY) && !v.startsWith(IP_PREFIX)) return 0;
    into.set(path, (into.get(path) ?? 0) + 1);
    return 1;
  }
  let n = 0;
  if (Array.isArray(v)) for (const x of v) n += walkPlanted(x, `${path}[]`, into);
  else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) n += walkPlanted(x, path ? `${path}.${k}` : k, into);
  return n;
}

/** fetch, counting the canary values in every request body sent to shopml. */
const countingFetch: typeof fetch = (input, init) => {
  const body = typeof init?.body === 'string' ? init.body : null;
  if (body !== null) {
    sent.requests++;
    sent.bytes += Buffer.byteLength(body);
    const topic = new Headers(init?.headers).get('x-shopify-topic') ?? 'request';
    const root = topic.startsWith('orders/') ? 'order' : topic.startsWith('customers/') ? 'customer' : topic.startsWith('refunds/') ? 'refund' : topic;
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch {
      parsed = undefined;
    }
    if (parsed !== undefined) sent.canaryValues += walkPlanted(parsed, root, sent.paths);
    else sent.canaryValues += body.split(CANARY).length - 1;
  }
  return fetch(input, init);
};

function serveEnv(): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '',
    SHOPIFY_API_KEY: API_KEY, SHOPIFY_API_SECRET: API_SECRET, SHOPIFY_APP_URL: `http://127.0.0.1:${port}`,
    PORT: String(port), HOST: '127.0.0.1', DATABASE_PATH: dbPath, ARTIFACTS_DIR: artifactsDir,
    SHOPML_SECRET_KEY: SECRET_KEY, SHOPML_ADMIN_TOKEN: ADMIN_TOKEN, SHOPIFY_ADMIN_BASE_URL: sim.baseUrlTemplate,
    LOG_LEVEL: 'trace',
    SHOPML_SCHEDULER_TICK_SECONDS: '1', SHOPML_RETRAIN_INTERVAL_DAYS: '0', SHOPML_RETRAIN_MIN_GAP_MINUTES: '0',
    SHOPML_RETRAIN_MIN_NEW_ORDERS: String(P.retrainAfter),
    // Every retrained kind with new bytes becomes a challenger: recommend meets traffic in a
    // canary (exposures, conversions), the others run in shadow.
    SHOPML_PROMOTION_TOLERANCE: JSON.stringify({ recommend: 1, segment: 1, churn: 1, forecast: 100 }),
    // The redaction takes the path of a long store: the event log and the guest orders swept in
    // steps after the answer (the inline path is pinned in test/integration/webhooks.test.ts).
    SHOPML_REDACT_INLINE_EVENTS: '0',
  };
}

async function startServer(): Promise<void> {
  const log = openSync(join(logsDir, 'serve.log'), 'a');
  server = spawn(process.execPath, [join(ROOT, 'bin/shopml.js'), 'serve'], { env: serveEnv(), stdio: ['ignore', log, log] });
  closeSync(log);
  await waitFor(async () => (await fetch(`${url}/healthz`).catch(() => null))?.ok === true, 30_000, 'shopml serve to listen');
}

async function stopServer(): Promise<void> {
  const s = server;
  if (!s || s.exitCode !== null) return;
  await new Promise<void>((resolveExit) => {
    s.once('exit', () => resolveExit());
    s.kill('SIGTERM');
  });
  server = null;
}

async function runCli(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [join(ROOT, 'bin/shopml.js'), ...args], { env: serveEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (b: Buffer) => (stdout += b.toString('utf8')));
  child.stderr!.on('data', (b: Buffer) => (stderr += b.toString('utf8')));
  const status = await new Promise<number | null>((resolveExit) => child.once('exit', (code) => resolveExit(code)));
  return { status, stdout, stderr };
}

async function waitFor(cond: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (await cond()) return;
    if (server && server.exitCode !== null) throw new Error(`shopml serve exited (${server.exitCode}) while waiting for ${what}; log: ${logTail()}`);
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const logTail = () => (existsSync(join(logsDir, 'serve.log')) ? readFileSync(join(logsDir, 'serve.log'), 'utf8').slice(-3000) : '');

/**
 * A short-lived read-only connection per look at the database. (A read-only handle kept open
 * across the server's restarts and a second writer process reported SQLITE_CORRUPT in the long
 * run while a fresh connection's integrity_check said ok: the test does not hold one.)
 */
function withDb<T>(fn: (db: Database.Database) => T): T {
  const db = new Database(dbPath, { readonly: true, fileMustExist: true });
  try {
    return fn(db);
  } finally {
    db.close();
  }
}
const count = (sql: string, ...args: unknown[]) => withDb((db) => db.prepare(sql).pluck().get(...args) as number);
const jobs = (type: string) => withDb((db) => db.prepare('SELECT status FROM jobs WHERE shop = ? AND type = ? ORDER BY id').pluck().all(SHOP, type) as string[]);

/** No job due now is pending or running (later periodic jobs may wait). */
async function jobsIdle(timeoutMs: number): Promise<void> {
  await waitFor(() => count(`SELECT count(*) FROM jobs WHERE status IN ('pending', 'running') AND (run_at IS NULL OR run_at <= ?)`, new Date(Date.now() + 2000).toISOString()) === 0, timeoutMs, 'the job queue to drain');
  const dead = withDb((db) => db.prepare(`SELECT type, last_error FROM jobs WHERE status IN ('dead')`).all());
  expect(dead).toEqual([]);
}

async function webhook(topic: string, payload: unknown, opts: { webhookId?: string } = {}): Promise<DeliveryResult> {
  // Every field, personal ones included: as a subscription made without include_fields would
  // send them (the app's own subscriptions never receive most of them).
  return sendWebhook({ url: `${url}/webhooks`, secret: API_SECRET, shop: SHOP, topic, payload, payloadFields: 'all', webhookId: opts.webhookId, retry: { maxRetries: 3, baseDelayMs: 200 }, fetchImpl: countingFetch });
}

async function flow(handle: string, properties: Record<string, unknown>): Promise<{ status: number; body: unknown }> {
  const r = flowActionRequest({ secret: API_SECRET, shop: SHOP, shopId: store.shopId ?? 1, handle, actionDefinitionId: handle, properties });
  const res = await fetch(`${url}/flow/actions/${handle}`, { method: 'POST', headers: r.headers, body: r.body });
  return { status: res.status, body: await res.json() };
}

function proxyUrl(path: string, customerId: string, extra: Record<string, string | string[]> = {}): string {
  return `${url}/proxy/${path}?${appProxyQuery({ secret: API_SECRET, shop: SHOP, loggedInCustomerId: customerId, extra })}`;
}

/** A logged-in visit: a list, an impression and a click (consent given). */
async function visit(customerId: string, productId: number): Promise<{ recId: string; variant: string; products: string[] }> {
  const res = await fetch(proxyUrl('recommendations', customerId, { product_id: String(productId), consent: '1', limit: '8', anonymous_id: `pa-${randomUUID().slice(0, 12)}` }));
  expect(res.status).toBe(200);
  const served = (await res.json()) as { rec_id: string; variant: string; products: { id: string | number }[] };
  const shown = served.products.map((p) => String(p.id));
  const events: Record<string, unknown>[] = [{ id: `e-${randomUUID()}`, type: 'impression', rec_id: served.rec_id, product_ids: shown.slice(0, 50) }];
  if (shown[0]) events.push({ id: `e-${randomUUID()}`, type: 'click', rec_id: served.rec_id, product_id: shown[0] });
  const ev = await fetch(proxyUrl('events', customerId), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ consent: true, events }) });
  expect(ev.status).toBeLessThan(300);
  return { recId: served.rec_id, variant: served.variant, products: shown };
}

function remember(orderId: number, r: DeliveryResult): void {
  const list = deliveriesByOrder.get(orderId) ?? [];
  list.push(r);
  deliveriesByOrder.set(orderId, list);
}

function allFiles(): string[] {
  return [...listFiles(dir)];
}

function describeHits(hits: Hit[]): string {
  return hits.slice(0, 15).map((h) => `${h.file.replace(dir, '<dir>')} [${h.needle}] @${h.offset}: ${h.context}`).join('\n');
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'shopml-privacy-'));
  dbPath = join(dir, 'shopml.db');
  artifactsDir = join(dir, 'artifacts');
  logsDir = join(dir, 'logs');
  mkdirSync(logsDir, { recursive: true });
  port = await freePort();
  url = `http://127.0.0.1:${port}`;
  sim = await startAdminSimulator({
    store, apiKey: API_KEY, apiSecret: API_SECRET, bucketSize: 4000, restoreRate: 2000, bulkDelayMs: 0,
    flowTriggers: loadFlowTriggers(EXTENSIONS), webhookTarget: { url: `${url}/webhooks` },
  });
  await startServer();
}, 60_000);

afterAll(async () => {
  await stopServer();
  await sim?.close();
  if (dir && !process.env.SHOPML_KEEP_PRIVACY_DIR) rmSync(dir, { recursive: true, force: true });
});

describe('privacy: no personal data stored, and a redacted customer stays gone', () => {
  it('runs the loop on a store whose every personal field carries a canary', async () => {
    // 1. Install (token exchange) → backfill job (bulk exports) → the scheduler's first training →
    //    write-back of the champions (tags, metafields, Flow triggers).
    const install = await fetch(`${url}/api/v1/session`, { method: 'POST', headers: { Authorization: `Bearer ${sessionToken({ apiKey: API_KEY, secret: API_SECRET, shop: SHOP })}` } });
    expect(install.status).toBe(200);
    for (const id of ['customer-segment-changed', 'churn-risk-rose', 'stock-out-predicted', 'model-drift-detected']) {
      const r = flowLifecycleRequest({ secret: API_SECRET, shop: SHOP, shopId: store.shopId ?? 1, flowTriggerDefinitionId: id, hasEnabledFlow: true });
      expect((await fetch(`${url}/flow/lifecycle`, { method: 'POST', headers: r.headers, body: r.body })).status).toBe(200);
    }
    await waitFor(() => jobs('train').includes('done'), size(90_000, 400_000), 'the first training');
    await jobsIdle(60_000);
    figures.history_orders = count('SELECT count(*) FROM orders WHERE shop = ?', SHOP);
    expect(figures.history_orders).toBe(store.orders.length);
    figures.seconds_to_first_champions = Math.round((performance.now() - started) / 1000);

    // 2. Live: signed webhooks (new orders with new sign-ups, updates, stale updates, cancellations,
    //    refunds, stock; 5% delivered twice) until the retraining threshold is crossed.
    const stream = createWebhookStream({
      url: `${url}/webhooks`, secret: API_SECRET, store, seed: 'privacy-live', personalDataCanary: CANARY, payloadFields: 'all',
      ratePerSecond: P.webhookRate, concurrency: 4, maxEvents: P.liveEvents, retry: { maxRetries: 3, baseDelayMs: 200 }, fetchImpl: countingFetch,
      onDelivery: (event, result) => {
        const id = (event.payload as { order_id?: number; id?: number }).order_id ?? (event.topic.startsWith('orders/') ? (event.payload as { id: number }).id : null);
        if (id !== null && id !== undefined) remember(id, result);
      },
    });
    const live = await stream.start();
    expect(live.failed).toBe(0);
    figures.live_webhooks = { sent: live.sent, redelivered: live.redelivered, by_topic: live.byTopic };
    await waitFor(() => jobs('train').filter((s) => s === 'done').length >= 2, size(120_000, 600_000), 'the retraining after new orders');
    await jobsIdle(120_000);
    figures.canary_experiment = count(`SELECT count(*) FROM rollout_experiments WHERE shop = ? AND status = 'running'`, SHOP) > 0;

    // 3. Shoppers through the app proxy (logged in and anonymous, with and without consent) while
    //    the canary runs; their orders carry the attribution property.
    const shoppers = createShopperStream({
      backendUrl: url, webhookUrl: `${url}/webhooks`, secret: API_SECRET, store, seed: 'privacy-shoppers',
      visitsPerSecond: P.shopperRate, concurrency: 6, maxVisits: P.shopperVisits, loggedInShare: 0.5, checkoutRate: 0.9, fetchImpl: countingFetch, payloadFields: 'all',
    });
    const shopperStats = await shoppers.start();
    expect(shopperStats.errors, shopperStats.lastError ?? '').toBe(0);
    figures.shoppers = { visits: shopperStats.visits, logged_in: shopperStats.loggedIn, impressions: shopperStats.impressions, clicks: shopperStats.clicks, orders: shopperStats.orders };

    // 4. What else reaches shopml about people: topics it never subscribed to (a misconfigured
    //    subscription), malformed bodies, Flow actions, a data request.
    const customers = store.customers.slice(0, P.probes);
    for (const c of customers) {
      for (const topic of ['customers/create', 'customers/update']) expect((await webhook(topic, customerPayload(c, store))).ok).toBe(true);
    }
    let malformed = 0;
    for (const o of store.orders.filter((x) => x.customerId !== null).slice(0, P.probes)) {
      const body = JSON.stringify(orderPayload(o, store));
      // Truncated in the middle of the shipping address; a name left unquoted (the parser's
      // message quotes the text around the error); a wrongly typed quantity (schema error); a form
      // post instead of JSON; a JSON array.
      const cut = body.slice(0, body.indexOf('"shipping_address"') + 60);
      const unquoted = body.replace(/"first_name":"([^"]*)"/, '"first_name":$1');
      const typed = body.replace(/"quantity":\d+/, '"quantity":"two"');
      const form = `email=${encodeURIComponent(o.email ?? '')}&first_name=${encodeURIComponent(o.buyer?.firstName ?? '')}&note=${encodeURIComponent(o.note ?? 'x')}`;
      for (const raw of [cut, unquoted, typed, form, `[${body}]`]) {
        const r = await webhook('orders/create', raw);
        expect(r.ok).toBe(true); // quarantined, answered 200 so Shopify stops retrying
        malformed++;
      }
    }
    figures.malformed_webhooks = malformed;
    for (const [i, c] of customers.entries()) {
      expect((await flow('score-customer', { customer_id: String(c.id) })).status).toBe(200);
      expect((await flow('tag-customer-ml-segment', { customer_id: String(c.id), tag_prefix: 'vip' })).status).toBe(200);
      const o = store.orders.find((x) => x.customerId === c.id);
      if (o) expect((await flow('send-order-to-shopml', { order_id: String(o.id) })).status).toBe(200);
      const dr = customersDataRequestPayload(store, c.id, { dataRequestId: 9000 + i });
      expect((await webhook('customers/data_request', dr)).ok).toBe(true);
    }
    await jobsIdle(120_000);
    // The data requests took the long store's path too: each export written by its last step.
    expect(readFileSync(join(logsDir, 'serve.log'), 'utf8')).toContain('guest orders are searched in steps');
    await waitFor(() => count('SELECT count(*) FROM data_request_scans') === 0, 60_000, 'the data request scans');
    expect(count(`SELECT count(*) FROM quarantine WHERE shop = ?`, SHOP)).toBeGreaterThanOrEqual(malformed);
    expect(count(`SELECT count(*) FROM data_requests WHERE shop = ?`, SHOP)).toBe(customers.length);

    for (const c of store.customers) emails.add(c.email);
    for (const o of store.orders) if (o.email) emails.add(o.email);
    figures.people = { customers: store.customers.length, emails: emails.size, orders: store.orders.length };
  }, size(240_000, 1_800_000));

  it('nothing personal in the database, its WAL and SHM, artifacts, logs, job payloads and results', async () => {
    // The canary was really planted, and really sent: every personal field of the store's
    // payloads carries it, and the bodies shopml received carried it in each of these fields.
    const inStore = new Map<string, number>();
    for (const o of store.orders) walkPlanted(orderPayload(o, store), 'order', inStore);
    for (const c of store.customers) walkPlanted(customerPayload(c, store), 'customer', inStore);
    for (const o of store.orders) for (const r of o.refunds ?? []) walkPlanted(refundPayload(r, o, store), 'refund', inStore);
    const fieldPaths = [...sent.paths.keys()].sort();
    // Names, emails, phones, addresses (both lines, company, city, zip), notes, cart attributes,
    // line item properties, browser details — on orders, their customer, addresses and refunds.
    for (const f of ['order.email', 'order.contact_email', 'order.phone', 'order.note', 'order.note_attributes[].value', 'order.browser_ip',
      'order.client_details.user_agent', 'order.line_items[].properties[].value', 'order.billing_address.first_name', 'order.billing_address.last_name',
      'order.billing_address.name', 'order.billing_address.address1', 'order.billing_address.address2', 'order.billing_address.company',
      'order.billing_address.city', 'order.billing_address.zip', 'order.billing_address.phone', 'order.shipping_address.name',
      'order.customer.email', 'order.customer.first_name', 'order.customer.last_name', 'order.customer.phone', 'order.customer.note',
      'order.customer.default_address.address1', 'order.customer.default_address.address2', 'order.customer.default_address.company',
      'order.customer.default_address.name', 'order.customer.default_address.phone', 'order.customer.default_address.zip', 'refund.note',
      'customer.email', 'customer.first_name', 'customer.note', 'customer.default_address.address1']) {
      expect(inStore.has(f), f).toBe(true);
      expect(fieldPaths, f).toContain(f);
    }
    figures.planted = {
      field_paths_in_store: inStore.size, values_in_store: [...inStore.values()].reduce((a, b) => a + b, 0),
      field_paths_sent: fieldPaths.length, values_sent: sent.canaryValues, requests_sent: sent.requests, bytes_sent: sent.bytes,
    };

    // The database as it is now (server running: the -wal and -shm are live), artifacts, logs.
    const files = allFiles();
    expect(files.some((f) => f.endsWith('shopml.db-wal'))).toBe(true);
    expect(files.some((f) => f.endsWith('.json.gz'))).toBe(true);
    expect(files.some((f) => f.endsWith('serve.log'))).toBe(true);
    const scan = scanFiles(files, needles);
    figures.scan_running = { files: scan.files, bytes: scan.bytes, gunzipped_bytes: scan.gunzippedBytes, hits: scan.hits.length };
    expect(scan.hits, describeHits(scan.hits)).toEqual([]);

    // Job payloads and results, and every other text column, decoded (a base64 or escaped value
    // inside JSON would hide from a byte search only if encoded twice; search the decoded cells too).
    const cells = withDb((db) => findSubjectInRows(db, [CANARY, CANARY.toUpperCase(), IP_PREFIX]));
    figures.rows_searched = { tables: cells.tables, rows: cells.rows, cells: cells.cells, hits: cells.hits.length };
    expect(cells.hits).toEqual([]);
    figures.jobs = withDb((db) => db.prepare('SELECT type, count(*) AS n FROM jobs WHERE shop = ? GROUP BY type ORDER BY type').all(SHOP));

    // Emails: only the per-shop HMAC (keys.ts), never an unkeyed digest anyone could recompute.
    const hmacs = new Set([...emails].map((e) => keys.emailHash(SHOP, e)));
    const stored = withDb((db) => db.prepare(`SELECT email_hash FROM orders WHERE shop = ? AND email_hash IS NOT NULL
      UNION SELECT email_hash FROM customers WHERE shop = ? AND email_hash IS NOT NULL
      UNION SELECT email_hash FROM events WHERE shop = ? AND email_hash IS NOT NULL`).pluck().all(SHOP, SHOP, SHOP) as string[]);
    expect(stored.length).toBeGreaterThan(0);
    for (const h of stored) expect(hmacs.has(h), h).toBe(true);
    for (const e of [...emails].slice(0, 50)) expect(keys.emailHash('other-shop.myshopify.com', e)).not.toBe(keys.emailHash(SHOP, e)); // per shop
    const digests = findDigests(files, unkeyedEmailDigests(emails));
    expect(digests, describeHits(digests)).toEqual([]);
    figures.email_hashes = { stored: stored.length, all_per_shop_hmac: true, unkeyed_digest_hits: digests.length };
  }, size(60_000, 600_000));

  it('customers/redact removes every row about the customer; redeliveries and a new backfill bring nothing back', async () => {
    // The customer the loop knows best among those with several orders.
    const withOrders = store.customers.filter((c) => store.orders.filter((o) => o.customerId === c.id).length >= 3 && c.state === 'enabled');
    const victim = withOrders.find((c) => count('SELECT count(*) FROM customer_outputs WHERE shop = ? AND customer_id = ?', SHOP, String(c.id)) > 0) ?? withOrders[0]!;
    const id = String(victim.id);
    const theirOrders = (): SimOrder[] => store.orders.filter((o) => o.customerId === victim.id);

    // Put them everywhere a customer can be: visits with impressions and clicks, an attributed
    // order (rollout exposure and conversion), Flow actions, a data request, quarantined payloads.
    const product = store.products.find((p) => p.status === 'ACTIVE' && p.variants.some((v) => v.inventoryQuantity > 0))!;
    let served = await visit(id, product.id);
    for (let i = 0; i < 3; i++) served = await visit(id, product.id);
    const bought = served.products.map(Number).map((pid) => store.products.find((p) => p.id === pid)).find((p) => p && p.variants.length > 0) ?? product;
    const variant = bought.variants[0]!;
    const at = new Date().toISOString();
    const lastOrder = theirOrders().at(-1)!;
    const order: SimOrder = {
      ...lastOrder, id: lastOrder.id + 7_000_000, name: `#${lastOrder.orderNumber + 700_000}`, orderNumber: lastOrder.orderNumber + 700_000,
      createdAt: at, updatedAt: at, processedAt: at, cancelledAt: null, fulfilledAt: null, refunds: [], financialStatus: 'paid',
      lines: [{ id: lastOrder.lines[0]!.id + 7_000_000, productId: bought.id, variantId: variant.id, sku: variant.sku, title: bought.title, quantity: 1, price: variant.price, properties: [{ name: '_shopml_rec', value: served.recId }] }],
    };
    store.orders.push(order);
    const created = await webhook('orders/create', orderPayload(order, store));
    expect(created.ok).toBe(true);
    remember(order.id, created);
    expect((await flow('tag-customer-ml-segment', { customer_id: id })).status).toBe(200);
    expect((await flow('send-order-to-shopml', { order_id: String(theirOrders()[0]!.id) })).status).toBe(200);
    expect((await webhook('customers/data_request', customersDataRequestPayload(store, victim.id, { dataRequestId: 4242 }))).ok).toBe(true);
    expect((await webhook('customers/create', customerPayload(victim, store))).ok).toBe(true);
    expect((await webhook('orders/create', JSON.stringify(orderPayload(theirOrders()[1]!, store)).replace(/"quantity":\d+/, '"quantity":"x"'))).ok).toBe(true);
    await jobsIdle(60_000);
    await waitFor(() => count('SELECT count(*) FROM data_request_scans') === 0, 60_000, 'the data request scan');

    const subjects = (): string[] => {
      const orders = theirOrders();
      return [
        id, keys.emailHash(SHOP, victim.email),
        ...orders.map((o) => String(o.id)),
        ...orders.flatMap((o) => o.lines.map((l) => String(l.id))),
        ...orders.flatMap((o) => (o.refunds ?? []).map((r) => String(r.id))),
      ];
    };
    victimSubjects = subjects();
    const before = withDb((db) => findSubjectInRows(db, subjects()));
    const tablesBefore = [...new Set(before.hits.map((h) => h.table))].sort();
    // The loop did put them in many places — so an empty search afterwards means something.
    for (const t of ['customers', 'orders', 'order_lines', 'events', 'customer_outputs', 'storefront_events', 'data_requests', 'jobs', 'quarantine']) {
      expect(tablesBefore, t).toContain(t);
    }
    if (figures.canary_experiment) for (const t of ['rollout_exposures', 'rec_conversions']) expect(tablesBefore, t).toContain(t);
    const insightsBefore = await (await fetch(`${url}/api/v1/customers/${id}/insights?shop=${SHOP}`, { headers: { Authorization: `Bearer ${ADMIN_TOKEN}` } })).json() as Record<string, unknown>;

    // The signed compliance webhook.
    const redact = await webhook('customers/redact', customersRedactPayload(store, victim.id));
    expect(redact.ok).toBe(true);
    await jobsIdle(60_000);
    // It took the long store's path (the server says so), and the sweep ran to its end.
    expect(readFileSync(join(logsDir, 'serve.log'), 'utf8')).toContain('(redaction sweep)');
    await waitFor(() => count('SELECT count(*) FROM redaction_sweeps') === 0, 60_000, 'the redaction sweep');
    const after = withDb((db) => findSubjectInRows(db, subjects()));
    expect(after.hits, JSON.stringify(after.hits.slice(0, 10), null, 1)).toEqual([]);

    // The per-customer answers know nothing of them.
    const insights = await (await fetch(`${url}/api/v1/customers/${id}/insights?shop=${SHOP}`, { headers: { Authorization: `Bearer ${ADMIN_TOKEN}` } })).json() as Record<string, unknown>;
    const score = await flow('score-customer', { customer_id: id });
    const rec = await fetch(proxyUrl('recommendations', id, { limit: '8' }));
    const recBody = (await rec.json()) as { variant: string; model_version: string };

    // Everything that could bring them back: their webhooks redelivered byte for byte (same
    // webhook id) and anew, a refund of their order, unsubscribed customer topics, Flow actions
    // about them, another storefront visit, and a fresh bulk backfill from the Admin API.
    let redelivered = 0;
    for (const o of theirOrders()) {
      for (const d of deliveriesByOrder.get(o.id) ?? []) {
        const again = await deliverSigned({ url: `${url}/webhooks`, topic: d.topic, rawBody: d.rawBody, headers: d.headers });
        expect(again.ok).toBe(true);
        redelivered++;
      }
      expect((await webhook('orders/create', orderPayload(o, store))).ok).toBe(true);
      expect((await webhook('orders/updated', orderPayload({ ...o, updatedAt: new Date().toISOString() }, store))).ok).toBe(true);
      redelivered += 2;
    }
    const refundable = theirOrders().find((o) => o.lines.some((l) => l.productId !== null))!;
    const refund = { id: refundable.id + 9_000_000, createdAt: new Date().toISOString(), note: `Returned (${CANARY})`, restock: true, lines: [{ id: refundable.id + 9_100_000, lineId: refundable.lines[0]!.id, quantity: 1 }] };
    expect((await webhook('refunds/create', refundPayload(refund, refundable, store))).ok).toBe(true);
    expect((await webhook('customers/create', customerPayload(victim, store))).ok).toBe(true);
    expect((await webhook('customers/update', customerPayload(victim, store))).ok).toBe(true);
    expect((await flow('tag-customer-ml-segment', { customer_id: id })).status).toBe(200);
    expect((await flow('send-order-to-shopml', { order_id: String(theirOrders()[0]!.id) })).status).toBe(200);
    await visit(id, product.id);
    // And after a restart (the tombstones persist; the server's in-memory memory of who was
    // already exposed to the canary does not): a logged-in visit is served and tracked anonymously.
    await stopServer();
    await startServer();
    for (let i = 0; i < 2; i++) await visit(id, product.id);
    // Asynchronously: the Admin API simulator it exports from runs in this process.
    const backfill = await runCli(['backfill', '--shop', SHOP, '--what', 'orders', '--json']);
    writeFileSync(join(logsDir, 'backfill.log'), backfill.stdout + backfill.stderr);
    expect(backfill.status, backfill.stderr).toBe(0);
    const counts = JSON.parse(backfill.stdout.trim().split('\n').at(-1)!) as { orders: { suppressed: number } };
    expect(counts.orders.suppressed).toBeGreaterThanOrEqual(theirOrders().length);
    await jobsIdle(60_000);

    const again = withDb((db) => findSubjectInRows(db, subjects()));
    expect(again.hits, JSON.stringify(again.hits.slice(0, 10), null, 1)).toEqual([]);

    // Per-customer outputs: no scores, no personal list, no insights.
    expect((score.body as { return_value: { scored: boolean } }).return_value.scored).toBe(false);
    expect(recBody.variant === 'holdout' || recBody.variant === 'fallback' || recBody.model_version !== undefined).toBe(true);
    figures.redaction = {
      subjects: subjects().length,
      tables_before: tablesBefore,
      rows_mentioning_before: before.hits.length,
      rows_mentioning_after: after.hits.length,
      rows_mentioning_after_redelivery: again.hits.length,
      redeliveries: redelivered,
      backfill_suppressed: counts.orders.suppressed,
      tables_searched: again.tables,
      rows_searched: again.rows,
      insights_before_keys: Object.keys(insightsBefore),
      insights_after: insights,
    };
  }, size(120_000, 600_000));

  it('after shutdown: the checkpointed database, artifacts and complete logs hold no canary; no file names the redacted customer', async () => {
    await stopServer();
    const check = new Database(dbPath, { readonly: true, fileMustExist: true });
    expect(check.pragma('integrity_check', { simple: true })).toBe('ok');
    check.close();
    const files = allFiles();
    expect(files.some((f) => f.endsWith('shopml.db-wal') && readFileSync(f).length > 0)).toBe(false); // checkpointed
    const scan = scanFiles(files, needles);
    expect(scan.hits, describeHits(scan.hits)).toEqual([]);
    const logBytes = files.filter((f) => f.startsWith(logsDir)).reduce((a, f) => a + readFileSync(f).length, 0);
    const logLines = readFileSync(join(logsDir, 'serve.log'), 'utf8').split('\n').length;
    figures.scan_final = { files: scan.files, bytes: scan.bytes, gunzipped_bytes: scan.gunzippedBytes, log_bytes: logBytes, log_lines: logLines, hits: scan.hits.length };

    // The redacted customer's ids: not in artifacts, not in logs (request logs carry route
    // patterns, never /api/v1/customers/<id>/...).
    expect(victimSubjects.length).toBeGreaterThan(2);
    const inFiles = countSubjectInFiles(files, victimSubjects);
    const outside = inFiles.filter((h) => !/shopml\.db(-wal|-shm)?$/.test(h.file));
    expect(outside, JSON.stringify(outside)).toEqual([]);
    // Nor in the database file's bytes: deleted cells are zeroed (secure_delete), not left in free space.
    figures.redacted_subject_bytes_in_db_file = inFiles.filter((h) => !outside.includes(h)).reduce((a, h) => a + h.count, 0);
    expect(figures.redacted_subject_bytes_in_db_file).toBe(0);
    figures.seconds = Math.round((performance.now() - started) / 1000);
    reportFigures('privacy', figures);
  }, 60_000);
});

// The demo itself (`shopml demo --for N`, its own store without a canary): its data directory
// searched for the shapes of its people — emails on the example domains, "First Last" names,
// street addresses, 555-01xx phone numbers (the simulator's lists). Long run only (a minute).
describe.skipIf(!LONG)('privacy: the demo', () => {
  it('`shopml demo` stores no email, name, street address or phone number of its shoppers', async () => {
    const patterns = personalPatterns(FIRST_NAMES, LAST_NAMES, STREETS);
    // The detectors find each kind in what the simulator sends (so an empty result means something).
    const control = generateStore({ seed: 'privacy-control', customers: 40, days: 60 });
    const controlFile = join(dir, 'control.json');
    writeFileSync(controlFile, JSON.stringify(control.orders.map((o) => orderPayload(o, control))));
    const found = new Set(scanPatterns([controlFile], patterns).hits.map((h) => h.needle));
    expect([...found].sort()).toEqual(['email', 'full name', 'phone', 'street address']);
    rmSync(controlFile);

    const demoDir = join(dir, 'demo');
    const out = openSync(join(logsDir, 'demo.out'), 'w');
    const err = openSync(join(logsDir, 'demo.err'), 'w');
    const demo = spawn(process.execPath, [join(ROOT, 'bin/shopml.js'), 'demo', '--for', '60', '--dir', demoDir, '--seed', '11'], {
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' }, stdio: ['ignore', out, err],
    });
    closeSync(out);
    closeSync(err);
    const status = await new Promise<number | null>((r) => demo.once('exit', (code) => r(code)));
    expect(status, readFileSync(join(logsDir, 'demo.err'), 'utf8').slice(-2000)).toBe(0);
    const summary = JSON.parse(readFileSync(join(logsDir, 'demo.out'), 'utf8').trim().split('\n').at(-1)!) as { orders_ingested: number; live: { shoppers: { orders: number } } };
    expect(summary.orders_ingested).toBeGreaterThan(500);
    const files = [...listFiles(demoDir), join(logsDir, 'demo.out'), join(logsDir, 'demo.err')];
    const scan = scanPatterns(files, patterns);
    expect(scan.hits, describeHits(scan.hits)).toEqual([]);
    reportFigures('privacy-demo', { files: files.length, bytes: scan.bytes, hits: scan.hits.length, orders_ingested: summary.orders_ingested, shopper_orders: summary.live.shoppers.orders });
  }, 600_000);
});

