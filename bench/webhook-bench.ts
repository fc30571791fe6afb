// Signed webhook ingestion, 32 concurrent senders: shopml (verify on the main thread; parse,
// normalize and durable group commit in the webhook writer thread) beside a bare Fastify route,
// in the same run. Requests are built and signed before timing; the servers run in a child
// process so the load generator does not share their event loop. `--main-writer` adds a third
// server, shopml with webhook writes on the main connection's group writer (no writer thread),
// measured in the same alternation.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { generateStore } from '../simulator/store.ts';
import { deliveredPayload } from '../simulator/webhook-subscriptions.ts';
import { orderPayload } from '../simulator/rest-payloads.ts';
import { webhookHeaders } from '../simulator/sign.ts';
import { median, runLoad, type LoadRequest, type LoadResult } from './load.ts';
import { BENCH_SECRET } from './webhook-constants.ts';

export interface WebhookBenchResult {
  concurrency: number;
  requestsPerRun: number;
  runs: number;
  shopml: LoadResult[];
  bare: LoadResult[];
  /** Only with mainWriter: shopml without the writer thread. */
  mainWriter?: LoadResult[];
  median: {
    shopmlRps: number; bareRps: number; ratio: number; shopmlP50: number; shopmlP99: number; bareP99: number;
    mainWriterRps?: number; mainWriterRatio?: number; mainWriterP50?: number; mainWriterP99?: number;
  };
  stored: number;
  storedMainWriter?: number;
  /**
   * Bytes the server process wrote to disk per shopml delivery (WAL, checkpoints; /proc/<pid>/io
   * write_bytes over each shopml run and the half second after it, when the checkpointer catches
   * up), median of the runs; null where /proc does not tell (not Linux).
   */
  diskBytesPerDelivery: number | null;
}

/** Bytes the process has caused to be written to storage so far (Linux /proc), or null. */
export function processWriteBytes(pid: number): number | null {
  try {
    const m = /^write_bytes: (\d+)$/m.exec(readFileSync(`/proc/${pid}/io`, 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

function buildRequests(n: number, salt: string): LoadRequest[] {
  const next = webhookRequests({ salt });
  return Array.from({ length: n }, (_, i) => next(i));
}

/** New orders' ids start here (see WebhookRequestOptions.orderIdBase). */
export const ORDER_ID_BASE = 6_100_000_000_000;

export interface WebhookRequestOptions {
  /** Webhook ids are `${salt}-${i}`: one salt per run keeps deliveries distinct. */
  salt: string;
  secret?: string;
  /** Default: the simulator's shop. */
  shop?: string;
  /**
   * Order ids are orderIdBase + i. Default ORDER_ID_BASE: 13-digit ids above every order id the
   * simulator gives out (simulator/ids.ts), as a live shop's new orders are — Shopify's ids only
   * grow — so they are appended to the store's indexes rather than inserted among its orders.
   */
  orderIdBase?: number;
}

/**
 * The i-th signed `orders/create` delivery (a real-shaped body from a simulated store's orders
 * with the fields the app's subscription includes, as Shopify sends it: ~0.9 KB of the ~8.5 KB
 * whole payload), signed when called: what the benchmark sends, and what an open-loop generator
 * builds when each request is due (test/reliability/load.test.ts).
 *
 * Each source order's body is built once, as a template cut where the order id goes, and a
 * request joins it around its own id (the id-derived `token` and `confirmation_number` stay the
 * template's; nothing in shopml reads them). Building every body afresh (`orderPayload` and
 * `JSON.stringify`, ~110 µs) was a quarter of the generator's CPU at 1,000 webhooks/s on the
 * 2-core machine — CPU the server it measures then did not have.
 */
export function webhookRequests(opts: WebhookRequestOptions): (i: number) => LoadRequest {
  const store = simStore(opts.shop);
  const shop = store.shop;
  const orders = store.orders;
  const base = opts.orderIdBase ?? ORDER_ID_BASE;
  const secret = opts.secret ?? BENCH_SECRET;
  const templates = new Map<number, string[]>();
  return (i) => {
    const k = i % orders.length;
    let parts = templates.get(k);
    if (!parts) {
      const json = JSON.stringify(deliveredPayload('orders/create', orderPayload({ ...orders[k]!, id: TEMPLATE_ID }, store)));
      parts = json.split(String(TEMPLATE_ID));
      const probe = JSON.parse(parts.join('1')) as { id: unknown; admin_graphql_api_id: unknown };
      if (probe.id !== 1 || probe.admin_graphql_api_id !== 'gid://shopify/Order/1') throw new Error('webhookRequests: the order id was not cut out of the template');
      templates.set(k, parts);
    }
    const body = parts.join(String(base + i));
    return { method: 'POST', path: '/webhooks', body, headers: webhookHeaders({ secret, shop, topic: 'orders/create', rawBody: body, webhookId: `${opts.salt}-${i}` }) };
  };
}

/** The order id a template is built with: 16 digits (a safe integer), matching nothing else in a body. */
const TEMPLATE_ID = 8_765_432_109_876_543;

const stores = new Map<string, ReturnType<typeof generateStore>>();
function simStore(shop: string | undefined): ReturnType<typeof generateStore> {
  const key = shop ?? '';
  let s = stores.get(key);
  if (!s) stores.set(key, (s = generateStore({ seed: 7, customers: 300, products: 100, days: 120, ...(shop ? { shop } : {}) })));
  return s;
}

export async function benchWebhooks(opts: { requests?: number; runs?: number; concurrency?: number; mainWriter?: boolean } = {}): Promise<WebhookBenchResult> {
  const n = opts.requests ?? 8000;
  const runs = opts.runs ?? 3;
  const concurrency = opts.concurrency ?? 32;
  const args = [new URL('./webhook-server.ts', import.meta.url).pathname, ...(opts.mainWriter ? ['--main-writer'] : [])];
  const child = spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'inherit'] });
  const urls = await new Promise<{ shopml: string; bare: string; db: string; mainWriter?: string; mainWriterDb?: string }>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', (l) => resolve(JSON.parse(l)));
    child.once('exit', (c) => reject(new Error(`benchmark server exited with ${c}`)));
  });
  const shopml: LoadResult[] = [];
  const bare: LoadResult[] = [];
  const written: number[] = [];
  const mainWriter: LoadResult[] = [];
  try {
    // Warm all (JIT, connection pools), then alternate runs so drift affects all alike.
    await runLoad(urls.bare, buildRequests(1000, 'warm-bare'), concurrency);
    await runLoad(urls.shopml, buildRequests(1000, 'warm'), concurrency);
    if (urls.mainWriter) await runLoad(urls.mainWriter, buildRequests(1000, 'warm'), concurrency);
    for (let r = 0; r < runs; r++) {
      bare.push(await runLoad(urls.bare, buildRequests(n, `bare-${r}`), concurrency));
      const requests = buildRequests(n, `run-${r}`);
      const before = processWriteBytes(child.pid!);
      shopml.push(await runLoad(urls.shopml, requests, concurrency));
      await new Promise((res) => setTimeout(res, 500));
      const after = processWriteBytes(child.pid!);
      if (before !== null && after !== null) written.push((after - before) / n);
      if (urls.mainWriter) mainWriter.push(await runLoad(urls.mainWriter, buildRequests(n, `run-${r}`), concurrency));
    }
  } finally {
    child.stdin!.end();
    await new Promise((r) => child.once('exit', r));
  }
  const Database = (await import('better-sqlite3')).default;
  const count = (path: string) => {
    const db = new Database(path, { readonly: true });
    const c = db.prepare('SELECT count(*) FROM events').pluck().get() as number;
    db.close();
    return c;
  };
  const m = (xs: LoadResult[], f: (x: LoadResult) => number) => median(xs.map(f));
  return {
    concurrency, requestsPerRun: n, runs, shopml, bare, stored: count(urls.db),
    diskBytesPerDelivery: written.length === runs ? median(written) : null,
    ...(urls.mainWriterDb ? { mainWriter, storedMainWriter: count(urls.mainWriterDb) } : {}),
    median: {
      shopmlRps: m(shopml, (x) => x.rps), bareRps: m(bare, (x) => x.rps), ratio: m(shopml, (x) => x.rps) / m(bare, (x) => x.rps),
      shopmlP50: m(shopml, (x) => x.p50ms), shopmlP99: m(shopml, (x) => x.p99ms), bareP99: m(bare, (x) => x.p99ms),
      ...(urls.mainWriter ? {
        mainWriterRps: m(mainWriter, (x) => x.rps), mainWriterRatio: m(mainWriter, (x) => x.rps) / m(bare, (x) => x.rps),
        mainWriterP50: m(mainWriter, (x) => x.p50ms), mainWriterP99: m(mainWriter, (x) => x.p99ms),
      } : {}),
    },
  };
}

if (process.argv[1] === new URL(import.meta.url).pathname) {
  const r = await benchWebhooks({ mainWriter: process.argv.includes('--main-writer') });
  console.log(JSON.stringify({ ...r.median, stored: r.stored, diskBytesPerDelivery: r.diskBytesPerDelivery, ...(r.storedMainWriter !== undefined ? { storedMainWriter: r.storedMainWriter } : {}) }));
}
