// Reliability, bad input (issue 7, item 3): thousands of generated malformed, truncated,
// oversized, wrongly typed, wrongly encoded, forged and unknown requests across every endpoint
// (webhooks, Flow, app proxy, storefront events, admin API, dashboard, health) against the real
// backend — Fastify on a port, a real SQLite file, real HMAC signatures (bad-input-cases.ts).
// For each: the status of its class, a clear JSON error (or the dashboard's HTML page), no crash
// (/healthz answers throughout). Afterwards every table is byte-for-byte what it was, except one
// quarantine row, with its reason, per authentic webhook whose body was broken. Oversized bodies:
// refused from the declared length before the body is read (measured: bytes the server read,
// time to the 413, heap). Broken CSV and JSONL imports name the line and import nothing.
//
// Short run (inside `npm test`): ~1,500 requests. Long (`npm run test:reliability`): 10,000.
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { request, Agent, type IncomingHttpHeaders } from 'node:http';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERRORS } from '../../backend/src/errors.ts';
import { createPrng } from '../../backend/src/ml/prng.ts';
import { createKeys } from '../../backend/src/keys.ts';
import { openDb, type Db } from '../../backend/src/store/db.ts';
import { importFile } from '../../backend/src/ingest/import.ts';
import { CsvStructureError } from '../../backend/src/ingest/csv.ts';
import { WEBHOOK_BODY_LIMIT } from '../../backend/src/ingest/webhook-route.ts';
import { BulkJsonlError, BulkOrderAssembler, readJsonlLines } from '../../backend/src/shopify/bulk-jsonl.ts';
import { backfillOrders } from '../../backend/src/ingest/backfill.ts';
import { createAdminClient } from '../../backend/src/shopify/admin-client.ts';
import { startAdminSimulator } from '../../simulator/admin-server.ts';
import { generateStore } from '../../simulator/store.ts';
import { inventoryLevelPayload, orderPayload, productPayload } from '../../simulator/rest-payloads.ts';
import { webhookHeaders } from '../../simulator/sign.ts';
import { recordStore } from '../helpers/dashboard-fixture.ts';
import { fixtureStore } from '../fixtures/admin-sim-store.ts';
import { startTestBackend, TEST_API_KEY, TEST_SECRET, type TestBackend } from '../helpers/backend.ts';
import { CLASSES, FORGED_TOPIC_PREFIX, generateBadRequests, type BadRequest, type CaseContext } from './bad-input-cases.ts';
import { reportFigures, size } from './profile.ts';
import { routeOf, routeTable } from './route-table.ts';

const SHOP = 'bad-input.myshopify.com';
const REQUESTS = size(1_500, 10_000);
const CONCURRENCY = 12;
const SEED = 'bad-input-7';

let be: TestBackend;
let ctx: CaseContext;
const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });

interface Answer { status: number; headers: IncomingHttpHeaders; body: Buffer }

function send(r: { method: string; path: string; headers: Record<string, string>; body?: Buffer }): Promise<Answer> {
  const u = new URL(be.url);
  return new Promise((resolve, reject) => {
    let answered = false;
    const headers = { ...r.headers, ...(r.body !== undefined ? { 'content-length': String(r.body.length) } : {}) };
    const req = request({ host: u.hostname, port: u.port, method: r.method, path: r.path, headers, agent }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => { answered = true; resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(parts) }); });
      res.on('error', reject);
    });
    // The server may answer (413) and close before a big body is written: that is the point.
    req.on('error', (err) => { if (!answered) setTimeout(() => { if (!answered) reject(err); }, 200); });
    if (r.body !== undefined) req.end(r.body);
    else req.end();
  });
}

/** Every row of every table, hashed per table (quarantine apart), in a stable order. */
function tableHashes(db: Db): Record<string, string> {
  const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").pluck().all() as string[];
  return Object.fromEntries(tables.filter((t) => t !== 'quarantine').map((t) => {
    const h = createHash('sha256');
    const rows = (db.prepare(`SELECT * FROM "${t}"`).raw().all() as unknown[][]).map((row) => JSON.stringify(row, (_k, v) => (Buffer.isBuffer(v) ? v.toString('base64') : typeof v === 'bigint' ? String(v) : v)));
    for (const row of rows.sort()) h.update(row).update('\n');
    return [t, `${rows.length}:${h.digest('hex').slice(0, 16)}`];
  }));
}

/** The error code a status must carry. */
const CODE_FOR: Record<number, string[]> = {
  400: ['bad_request'], 401: ['unauthorized'], 403: ['forbidden'], 404: ['not_found', 'unknown_flow_action'], 413: ['payload_too_large'],
  414: ['uri_too_long'], 415: ['unsupported_media_type'], 422: ['bad_request'], 429: ['rate_limited'], 431: ['headers_too_large'],
};

/** What is wrong with an answer, or null. */
function problem(r: BadRequest, a: Answer): string | null {
  if (!r.expect.includes(a.status)) return `status ${a.status}, expected ${r.expect.join('|')}: ${a.body.toString('utf8').slice(0, 160)}`;
  if (a.headers['x-content-type-options'] !== 'nosniff') return 'no X-Content-Type-Options: nosniff';
  const type = String(a.headers['content-type'] ?? '');
  if (r.html) {
    // Redirects stay on this origin's dashboard (the login form, or the page that then asks for one).
    if (a.status === 302 || a.status === 303) return /^\/dashboard(\/login)?(\?|$)/.test(String(a.headers.location ?? '')) ? null : `redirect to ${a.headers.location}`;
    if (!type.startsWith('text/html')) return `expected an HTML page, got ${type}`;
    if (!String(a.headers['content-security-policy'] ?? '').includes("default-src 'none'")) return 'HTML page without the strict CSP';
    return null;
  }
  if (!type.startsWith('application/json')) return `expected JSON, got "${type}"`;
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(a.body.toString('utf8')) as Record<string, unknown>;
  } catch {
    return `body is not JSON: ${a.body.toString('utf8').slice(0, 80)}`;
  }
  if (a.status >= 400) {
    const codes = CODE_FOR[a.status];
    if (!codes?.includes(String(body.error))) return `error code ${String(body.error)} for status ${a.status}`;
    if (!(String(body.error) in ERRORS)) return `unknown error code ${String(body.error)}`;
    if (typeof body.message !== 'string' || body.message.length < 5) return 'no message';
    if (/\n\s+at |\.ts:\d+/.test(a.body.toString('utf8'))) return 'a stack trace in the answer';
    return null;
  }
  if (r.quarantine && (body.ok !== true || body.outcome !== 'quarantined')) return `not quarantined: ${JSON.stringify(body)}`;
  if (r.recommendations && (!Array.isArray(body.products) || typeof body.variant !== 'string' || typeof body.rec_id !== 'string')) return `not a recommendations answer: ${JSON.stringify(body).slice(0, 120)}`;
  return null;
}

beforeAll(async () => {
  be = await startTestBackend({}, { jobs: false });
  const store = generateStore({ seed: 77, shop: SHOP, customers: 60, products: 15, days: 120 });
  recordStore(be.deps.db, be.deps.keys, store);
  const withLines = store.orders.find((o) => o.lines.length >= 2)!;
  const p = store.products[0]!;
  const v = p.variants[0]!;
  ctx = {
    secret: TEST_SECRET, apiKey: TEST_API_KEY, adminToken: be.config.adminToken, shop: SHOP,
    order: orderPayload(withLines, store) as Record<string, unknown>,
    product: productPayload(p, store) as Record<string, unknown>,
    inventory: inventoryLevelPayload({ inventoryItemId: v.inventoryItemId, locationId: store.locationId ?? 1, available: 3, updatedAt: p.updatedAt }) as Record<string, unknown>,
    limits: { webhook: WEBHOOK_BODY_LIMIT, flowAction: 256 * 1024, flowLifecycle: 64 * 1024, events: 32 * 1024, api: 1024 * 1024, form: 32 * 1024 },
  };
});

afterAll(async () => {
  agent.destroy();
  await be?.stop();
});

describe('bad input across every endpoint', () => {
  it(`${REQUESTS} generated bad requests: the right status and a clear error each, no crash, no partial row`, async () => {
    const db = be.deps.db;
    const before = tableHashes(db);
    const quarantineBefore = db.prepare('SELECT count(*) FROM quarantine').pluck().get() as number;
    const cases = generateBadRequests(createPrng(SEED), ctx, REQUESTS);

    const failures: string[] = [];
    const byClass: Record<string, Record<string, number>> = {};
    const byEndpoint: Record<string, Record<string, number>> = {};
    const count = (m: Record<string, Record<string, number>>, k: string, s: string) => { (m[k] ??= {})[s] = (m[k]![s] ?? 0) + 1; };
    let healthChecks = 0;
    const t0 = performance.now();
    let next = 0;
    const worker = async () => {
      while (next < cases.length) {
        const i = next++;
        const r = cases[i]!;
        let a: Answer;
        try {
          a = await send(r);
        } catch (err) {
          failures.push(`#${i} ${r.endpoint} / ${r.cls} / ${r.what}: no answer (${(err as Error).message})`);
          continue;
        }
        count(byClass, r.cls, String(a.status));
        count(byEndpoint, r.endpoint, r.cls);
        const p = problem(r, a);
        if (p) failures.push(`#${i} ${r.method} ${r.path.slice(0, 80)} [${r.endpoint} / ${r.cls} / ${r.what}]: ${p}`);
        if (i % 250 === 0) {
          // Still alive and answering between the bad requests.
          const h = await send({ method: 'GET', path: '/healthz', headers: {} });
          if (h.status !== 200) failures.push(`/healthz answered ${h.status} after request #${i}`);
          healthChecks++;
        }
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    const seconds = (performance.now() - t0) / 1000;

    expect(failures.slice(0, 25)).toEqual([]);
    expect(failures).toHaveLength(0);
    expect((await send({ method: 'GET', path: '/healthz', headers: {} })).status).toBe(200);
    expect((await send({ method: 'GET', path: '/readyz', headers: {} })).status).toBe(200);

    // Forged deliveries' made-up topics did not become metric labels (unbounded series).
    const metrics = (await send({ method: 'GET', path: '/metrics', headers: {} })).body.toString('utf8');
    const topics = new Set([...metrics.matchAll(/shopml_webhooks_total\{topic="([^"]*)"/g)].map((m) => m[1]!));
    expect([...topics].filter((t) => t.startsWith(FORGED_TOPIC_PREFIX))).toEqual([]);
    expect(topics.has('other')).toBe(true);

    // No partial row anywhere: every table as it was...
    expect(tableHashes(db)).toEqual(before);
    // ...but one quarantine row per authentic webhook with a broken body, its reason kept.
    const expected = cases.filter((r) => r.quarantine);
    const reasonOf = db.prepare('SELECT reason FROM quarantine WHERE shop = ? AND source_id = ?').pluck();
    const missing = expected.filter((r) => {
      const reason = reasonOf.get(r.quarantine!.shop, r.quarantine!.webhookId) as string | undefined;
      return !reason || reason.trim().length < 5;
    });
    expect(missing.map((r) => r.what)).toEqual([]);
    expect((db.prepare('SELECT count(*) FROM quarantine').pluck().get() as number) - quarantineBefore).toBe(expected.length);
    const reasons = db.prepare(`SELECT CASE WHEN reason LIKE 'invalid %' THEN substr(reason, 1, instr(reason, ':') - 1) WHEN reason LIKE 'body is not valid JSON%' THEN 'body is not valid JSON'
      WHEN reason LIKE 'unsupported topic%' THEN 'unsupported topic' ELSE reason END AS r, count(*) AS n FROM quarantine GROUP BY r ORDER BY n DESC`).all() as { r: string; n: number }[];

    // Every class was sent, and every route of the server got bad requests.
    for (const cls of CLASSES) expect(byClass[cls], cls).toBeDefined();
    const table = routeTable(be.app);
    const reached = new Set(cases.map((r) => routeOf(table, r.method, r.path)).filter((r): r is string => r !== null));
    expect([...table].filter((r) => !reached.has(r) && !r.includes('*'))).toEqual([]);
    reportFigures('bad-input', {
      requests: cases.length, seconds: Math.round(seconds * 10) / 10, requests_per_second: Math.round(cases.length / seconds), failures: failures.length,
      health_checks: healthChecks, webhook_metric_topics: topics.size, quarantined: expected.length, quarantine_reasons: Object.fromEntries(reasons.map((x) => [x.r, x.n])),
      status_by_class: byClass, classes_by_endpoint: byEndpoint, routes_reached: reached.size, tables_unchanged: Object.keys(before).length,
    });
  }, size(120_000, 900_000));

  it('oversized bodies are refused from the declared length, before the body is read or parsed', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const u = new URL(be.url);
    const sockets = new Map<number, Socket>();
    const onConnection = (s: Socket) => sockets.set(s.remotePort!, s);
    be.app.server.on('connection', onConnection);
    // The handlers must never run: count calls of the verifiers the signed routes start with.
    const calls = { webhook: 0, flow: 0 };
    const verifier = be.deps.verifier;
    const original = { webhook: verifier.webhook, flow: verifier.flow };
    verifier.webhook = (raw, req) => { calls.webhook++; return original.webhook(raw, req); };
    verifier.flow = (raw, req) => { calls.flow++; return original.flow(raw, req); };

    const TOTAL = 50 * 1024 * 1024;
    const webhookHead = webhookHeaders({ secret: TEST_SECRET, shop: SHOP, topic: 'orders/create', rawBody: 'x', webhookId: 'big' });
    const targets: { route: string; limit: number; headers: Record<string, string> }[] = [
      { route: '/webhooks', limit: WEBHOOK_BODY_LIMIT, headers: webhookHead },
      { route: '/flow/actions/score-customer', limit: 256 * 1024, headers: { 'content-type': 'application/json', 'x-shopify-hmac-sha256': 'x' } },
      { route: '/flow/lifecycle', limit: 64 * 1024, headers: { 'content-type': 'application/json', 'x-shopify-hmac-sha256': 'x' } },
      { route: `/proxy/events?shop=${SHOP}`, limit: 32 * 1024, headers: { 'content-type': 'application/json' } },
      { route: `/api/v1/models/promote?shop=${SHOP}`, limit: 1024 * 1024, headers: { 'content-type': 'application/json', authorization: `Bearer ${be.config.adminToken}` } },
      { route: '/dashboard/actions/settings', limit: 32 * 1024, headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Bearer ${be.config.adminToken}`, accept: 'application/json' } },
    ];
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    const stream = (route: string, headers: Record<string, string>, chunked: boolean) => new Promise<{ status: number; ms: number; serverReadBytes: number; sentBytes: number }>((resolve, reject) => {
      const t0 = performance.now();
      let sent = 0;
      let done = false;
      let port = 0;
      const req = request({ host: u.hostname, port: u.port, method: 'POST', path: route, agent: false, headers: { ...headers, ...(chunked ? {} : { 'content-length': String(TOTAL) }) } }, (res) => {
        const ms = performance.now() - t0;
        res.resume();
        res.on('end', () => {
          done = true;
          // Let the server finish with the socket, then read how much of the body it took in.
          setTimeout(() => { resolve({ status: res.statusCode!, ms, serverReadBytes: sockets.get(port)?.bytesRead ?? -1, sentBytes: sent }); req.destroy(); }, 150);
        });
      });
      req.on('socket', (s) => s.once('connect', () => { port = s.localPort!; }));
      req.on('error', (err) => { if (!done) setTimeout(() => { if (!done) reject(err); }, 500); });
      const pump = () => {
        while (!done && sent < TOTAL) {
          sent += chunk.length;
          if (!req.write(chunk)) { req.once('drain', pump); return; }
        }
        if (!done) req.end();
      };
      pump();
    });

    const rows: Record<string, unknown>[] = [];
    const used = () => { const m = process.memoryUsage(); return m.heapUsed + m.arrayBuffers; };
    gc();
    gc();
    const heap0 = used();
    // Sampled while the bodies stream (client and server share this process: an upper bound).
    let peak = heap0;
    const sampler = setInterval(() => { peak = Math.max(peak, used()); }, 2);
    for (const t of targets) {
      for (const chunked of [false, true]) {
        const r = await stream(t.route, t.headers, chunked);
        expect(r.status, `${t.route} ${chunked ? 'chunked' : 'content-length'}`).toBe(413);
        // Declared length: refused from the header, a few socket buffers read at most. Chunked:
        // read up to the limit (plus what was in flight), never the 50 MB.
        expect(r.serverReadBytes).toBeGreaterThan(0);
        expect(r.serverReadBytes).toBeLessThan(chunked ? t.limit + 4 * 1024 * 1024 : 1024 * 1024);
        expect(r.ms).toBeLessThan(2_000);
        rows.push({ route: t.route.split('?')[0], framing: chunked ? 'chunked' : 'content-length', limit_kb: Math.round(t.limit / 1024), ms_to_413: Math.round(r.ms), server_read_kb: Math.round(r.serverReadBytes / 1024), client_wrote_mb: Math.round((r.sentBytes / 1048576) * 10) / 10 });
      }
    }
    clearInterval(sampler);
    gc();
    gc();
    const heap1 = used();
    be.app.server.off('connection', onConnection);
    verifier.webhook = original.webhook;
    verifier.flow = original.flow;
    expect(calls).toEqual({ webhook: 0, flow: 0 });
    const retainedMb = (heap1 - heap0) / 1048576;
    const peakMb = (peak - heap0) / 1048576;
    expect(retainedMb).toBeLessThan(8);
    // Twelve 50 MB bodies went by; the most ever held at once is a few route limits, not 50 MB.
    expect(peakMb).toBeLessThan(40);
    expect((await send({ method: 'GET', path: '/healthz', headers: {} })).status).toBe(200);
    reportFigures('bad-input-oversized', { body_mb: 50, requests: rows, handler_calls: calls, heap_retained_mb: Math.round(retainedMb * 10) / 10, heap_peak_extra_mb: Math.round(peakMb * 10) / 10 });
  }, 60_000);

  it('answers garbage on the socket and oversized headers with a JSON error, and keeps serving', async () => {
    const u = new URL(be.url);
    const raw = (bytes: string | Buffer) => new Promise<string>((resolve, reject) => {
      const s = connect(Number(u.port), u.hostname, () => s.end(bytes));
      let out = '';
      s.on('data', (d) => { out += d.toString('latin1'); });
      s.on('close', () => resolve(out));
      s.on('error', (err) => (out ? resolve(out) : reject(err)));
    });
    const cases: [string, string | Buffer, number, string][] = [
      ['not HTTP at all', '\u0016\u0003\u0001\u0002\u0000\u0001\u0000\u01fc\u0003\u0003 TLS hello?\r\n\r\n', 400, 'bad_request'],
      ['an unknown HTTP version', 'GET /healthz HTTP/7.3\r\nHost: x\r\n\r\n', 400, 'bad_request'],
      ['a space inside the target', 'GET /heal thz HTTP/1.1\r\nHost: x\r\n\r\n', 400, 'bad_request'],
      ['a header line without a colon', 'GET /healthz HTTP/1.1\r\nHost: x\r\nnot a header\r\n\r\n', 400, 'bad_request'],
      ['two Content-Length headers', 'POST /webhooks HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab', 400, 'bad_request'],
      ['32 KB of headers', `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(32 * 1024)}\r\n\r\n`, 431, 'headers_too_large'],
      ['an invalid chunk size', 'POST /webhooks HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nab\r\n0\r\n\r\n', 400, 'bad_request'],
    ];
    for (const [what, bytes, status, code] of cases) {
      const out = await raw(bytes);
      expect(out, what).toMatch(new RegExp(`^HTTP/1\\.1 ${status} `));
      const body = JSON.parse(out.slice(out.indexOf('\r\n\r\n') + 4)) as { error: string; message: string };
      expect(body.error, what).toBe(code);
      expect(body.message.length).toBeGreaterThan(5);
    }
    expect((await send({ method: 'GET', path: '/healthz', headers: {} })).status).toBe(200);
  });
});

// ---------------------------------------------------------------------------------------------
// Broken imports. Already covered elsewhere, not repeated here:
//   test/unit/csv.test.ts — parser structural errors with line numbers (unterminated/stray quote,
//     text after a closing quote, field count, non-UTF-8 bytes, truncated and corrupt gzip);
//   test/integration/import.test.ts ("a structural error aborts the import and writes nothing",
//     "shopml import (command)") — the same through importFile and the CLI, nothing written;
//   test/unit/bulk-jsonl.test.ts — malformed JSON, bad money/timestamps, unexpected or duplicate
//     objects, a child after its order was emitted, each with its line number;
//   test/integration/bulk-export.test.ts ("a malformed line aborts with its line number...") —
//     a backfill broken mid-file keeps only whole committed batches and a re-run completes.
// Added here: a seeded corruption at a random line of a file (the error names exactly that line,
// nothing is written), invalid UTF-8 deep inside a big file (the line of the bad byte, not of the
// chunk), other encodings and non-text files, and a broken bulk file imports nothing.

describe('broken imports name the line and import nothing', () => {
  const FIXTURE = new URL('../fixtures/online-retail-quirks.csv', import.meta.url).pathname;
  const keys = createKeys('bad-input-import-key-0123456789');
  const dir = mkdtempSync(join(tmpdir(), 'shopml-bad-import-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  let n = 0;
  const IMPORT_TABLES = ['events', 'orders', 'order_lines', 'customers', 'quarantine'];
  const counts = (db: Db) => IMPORT_TABLES.map((t) => db.prepare(`SELECT count(*) FROM ${t}`).pluck().get() as number);

  async function expectBroken(content: string | Buffer, line: number, message: RegExp) {
    const file = join(dir, `broken-${++n}.csv`);
    writeFileSync(file, content);
    const db = openDb(join(dir, `t${n}.db`));
    try {
      const err = await importFile({ db, keys, shop: 'imports.myshopify.com', file, format: 'online-retail' }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(CsvStructureError);
      expect((err as CsvStructureError).message).toMatch(message);
      expect((err as CsvStructureError).line).toBe(line);
      expect(counts(db)).toEqual([0, 0, 0, 0, 0]);
    } finally {
      db.close();
    }
  }

  const text = readFileSync(FIXTURE, 'utf8');
  const rows = text.trimEnd().split('\n');

  it(`CSV: a seeded corruption at a random line is reported at that line (${size(40, 300)} files)`, async () => {
    const rng = createPrng('bad-input-csv');
    const kinds: Record<string, number> = {};
    // Lines whose last field (Country) is plain, so the edits below mean what they say.
    const candidates = rows.map((r, i) => ({ r, i })).filter(({ r, i }) => i > 0 && !r.endsWith('"'));
    for (let k = 0; k < size(40, 300); k++) {
      const { i } = candidates[rng.below(candidates.length)]!;
      const lines = [...rows];
      const row = lines[i]!;
      // An opened quote runs to the next quote in the file: "unterminated" only when none follows.
      let kind = rng.below(5);
      if (kind === 3 && rows.slice(i + 1).some((r) => r.includes('"'))) kind = 2;
      let message: RegExp;
      let bytes: Buffer | null = null;
      if (kind === 0) { lines[i] = `${row},extra`; message = /expected 8 fields like the header, found 9/; }
      else if (kind === 1) { lines[i] = row.slice(0, row.lastIndexOf(',')); message = /expected 8 fields like the header, found 7/; }
      else if (kind === 2) { lines[i] = `${row.slice(0, row.lastIndexOf(',') + 1)}Un"ited`; message = /stray quote/; }
      else if (kind === 3) { lines[i] = `${row.slice(0, row.lastIndexOf(',') + 1)}"United Kingdom`; message = /unterminated quoted field/; }
      else {
        const before = Buffer.from(`${lines.slice(0, i).join('\n')}\n${row.slice(0, 10)}`, 'utf8');
        bytes = Buffer.concat([before, Buffer.from([0xc3, 0x28]), Buffer.from(`${row.slice(10)}\n${lines.slice(i + 1).join('\n')}\n`, 'utf8')]);
        message = /not valid UTF-8/;
      }
      kinds[['extra field', 'missing field', 'stray quote', 'unterminated quote', 'invalid UTF-8'][kind]!] = (kinds[['extra field', 'missing field', 'stray quote', 'unterminated quote', 'invalid UTF-8'][kind]!] ?? 0) + 1;
      await expectBroken(bytes ?? `${lines.join('\n')}\n`, i + 1, message);
    }
    reportFigures('bad-input-csv', { files: size(40, 300), corruptions: kinds });
  }, 60_000);

  it('CSV: invalid UTF-8 deep in a big file names the line of the bad byte, not of the read chunk', async () => {
    const header = rows[0]!;
    const body: string[] = [];
    for (let k = 0; k < 6_000; k++) body.push(`${600_000 + k},85123A,WHITE HANGING HEART T-LIGHT HOLDER,6,2010-12-01 08:26,2.55,17850,United Kingdom`);
    const bad = 4_321; // 0-based data row → file line bad + 2
    const head = Buffer.from(`${header}\n${body.slice(0, bad).join('\n')}\n`, 'utf8');
    const file = Buffer.concat([head, Buffer.from('6', 'utf8'), Buffer.from([0xff]), Buffer.from(`${body[bad]!.slice(1)}\n${body.slice(bad + 1).join('\n')}\n`, 'utf8')]);
    expect(file.length).toBeGreaterThan(256 * 1024); // several read chunks
    await expectBroken(file, bad + 2, /not valid UTF-8/);
    await expectBroken(gzipSync(file), bad + 2, /not valid UTF-8/);
  });

  it('CSV: other encodings, binary files and empty files are refused with a line, nothing written', async () => {
    await expectBroken(Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]), 1, /not valid UTF-8/);
    // Saved as Latin-1 by a spreadsheet: the first non-ASCII character (the £ of a voucher) breaks UTF-8.
    await expectBroken(Buffer.from(text, 'latin1'), rows.findIndex((r) => /[^\x00-\x7f]/.test(r)) + 1, /not valid UTF-8/);
    await expectBroken(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52]), 1, /not valid UTF-8/);
    await expectBroken('', 1, /empty/);
    await expectBroken(`${rows[0]!.replaceAll(',', ';')}\n536365;85123A;WHITE;6;2010-12-01 08:26;2.55;17850;United Kingdom\n`, 1, /header has no column/);
    // The last row cut off mid-way (a truncated download).
    const cut = text.trimEnd();
    await expectBroken(cut.slice(0, cut.lastIndexOf(',', cut.lastIndexOf(',') - 1)), rows.length, /expected 8 fields like the header/);
  });

  const gid = (type: string, id: number) => `gid://shopify/${type}/${id}`;
  const orderLine = (id: number) => JSON.stringify({ id: gid('Order', id), name: `#${id}`, createdAt: '2026-03-01T10:00:00Z', updatedAt: '2026-03-02T10:00:00Z', currencyCode: 'EUR', totalPriceSet: { shopMoney: { amount: '12.50', currencyCode: 'EUR' } }, customer: { id: gid('Customer', 7) } });
  const itemLine = (id: number, parent: number) => JSON.stringify({ id: gid('LineItem', id), quantity: 2, title: 'T', product: { id: gid('Product', 9) }, originalUnitPriceSet: { shopMoney: { amount: '6.25' } }, __parentId: gid('Order', parent) });

  async function readBulk(bytes: Buffer, chunkSize = 4096) {
    async function* chunks() { for (let i = 0; i < bytes.length; i += chunkSize) yield bytes.subarray(i, i + chunkSize); }
    const a = new BulkOrderAssembler();
    const out = [];
    for await (const { line, lineNumber } of readJsonlLines(chunks())) out.push(...a.push(line, lineNumber));
    out.push(...a.finish());
    return out;
  }

  it(`JSONL: a seeded corruption at a random line is reported at that line (${size(60, 400)} files)`, async () => {
    const rng = createPrng('bad-input-jsonl');
    const lines: string[] = [];
    for (let o = 1; o <= 300; o++) { lines.push(orderLine(o)); for (let l = 0; l < 2; l++) lines.push(itemLine(o * 10 + l, o)); }
    expect(await readBulk(Buffer.from(`${lines.join('\n')}\n`))).toHaveLength(300);
    const kinds: Record<string, number> = {};
    for (let k = 0; k < size(60, 400); k++) {
      const i = rng.below(lines.length);
      const copy = [...lines];
      const isItem = copy[i]!.includes('__parentId');
      const kind = rng.below(isItem ? 5 : 4);
      let bytes: Buffer;
      const label = ['cut short', 'not an object', 'invalid UTF-8', 'no id', 'quantity a string'][kind]!;
      kinds[label] = (kinds[label] ?? 0) + 1;
      if (kind === 2) {
        bytes = Buffer.concat([Buffer.from(`${copy.slice(0, i).join('\n')}\n${copy[i]!.slice(0, 12)}`), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from(`${copy[i]!.slice(12)}\n${copy.slice(i + 1).join('\n')}\n`)]);
      } else {
        copy[i] = kind === 0 ? copy[i]!.slice(0, 5 + rng.below(copy[i]!.length - 10)) : kind === 1 ? pick(rng, ['[1,2]', '42', '"order"', 'null']) : kind === 3 ? copy[i]!.replace(/"id":"[^"]+",/, '') : copy[i]!.replace('"quantity":2', '"quantity":"2"');
        bytes = Buffer.from(`${copy.join('\n')}\n`);
      }
      const err = await readBulk(bytes, 1 + rng.below(8192)).catch((e: unknown) => e);
      expect(err, label).toBeInstanceOf(BulkJsonlError);
      expect((err as BulkJsonlError).lineNumber, `${label} at line ${i + 1}`).toBe(i + 1);
      expect((err as Error).message).toContain(`line ${i + 1}`);
    }
    reportFigures('bad-input-jsonl', { files: size(60, 400), corruptions: kinds });
  }, 60_000);

  it('JSONL: other encodings and a file ending inside a character are named by line', async () => {
    const good = `${orderLine(1)}\n${itemLine(10, 1)}\n`;
    const expectLine = async (bytes: Buffer, line: number, message: RegExp) => {
      const err = await readBulk(bytes).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(BulkJsonlError);
      expect((err as BulkJsonlError).lineNumber).toBe(line);
      expect((err as Error).message).toMatch(message);
    };
    await expectLine(gzipSync(good), 1, /not valid UTF-8/);
    await expectLine(Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(good, 'utf16le')]), 1, /not valid UTF-8/);
    await expectLine(Buffer.concat([Buffer.from(good), Buffer.from(`${orderLine(2).slice(0, -3)}\u00e9`).subarray(0, -1)]), 3, /not valid UTF-8|ends inside a character/);
    // A UTF-8 BOM is not an error (TextDecoder drops it): the file reads as without it.
    expect(await readBulk(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(good)]))).toHaveLength(1);
  });

  it('JSONL: a broken bulk file (one batch) imports nothing; the operation is marked failed with the line', async () => {
    const store = fixtureStore({ orders: 12, shop: 'bulk-bad.myshopify.com' });
    const sim = await startAdminSimulator({ store, apiKey: 'key', apiSecret: 'app-secret', accessTokens: { [store.shop]: 'shpat_bad' }, bulkDelayMs: 20 });
    const db = openDb(join(dir, 'bulk.db'));
    try {
      const client = createAdminClient({ shop: store.shop, accessToken: 'shpat_bad', baseUrl: sim.baseUrlTemplate, backoffBaseMs: 5 });
      let brokenLine = 0;
      const corrupting: typeof fetch = async (input, init) => {
        const res = await fetch(input, init);
        const lines = (await res.text()).split('\n');
        brokenLine = lines.length - 3; // near the end: everything before it was read and assembled
        lines[brokenLine - 1] = lines[brokenLine - 1]!.slice(0, 20);
        return new Response(lines.join('\n'), { status: 200 });
      };
      const err = await backfillOrders({ db, keys, shop: store.shop, client, fetch: corrupting, pollIntervalMs: 20 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(BulkJsonlError);
      expect((err as BulkJsonlError).lineNumber).toBe(brokenLine);
      expect(counts(db)).toEqual([0, 0, 0, 0, 0]);
      expect(db.prepare('SELECT status, error FROM bulk_operations').get()).toMatchObject({ status: 'FAILED', error: expect.stringContaining(`line ${brokenLine}`) });
    } finally {
      db.close();
      await sim.close();
    }
  });
});

function pick<T>(rng: { below(n: number): number }, items: readonly T[]): T {
  return items[rng.below(items.length)]!;
}
