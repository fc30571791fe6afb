// Storefront serving: (1) the in-process lookup, p50 / p99 per call, top-10 from a real trained
// artifact of ~4,200 products; (2) GET /proxy/recommendations over HTTP (app proxy signature +
// lookup + JSON), 64 concurrent clients, beside a bare Fastify route in the same run.
//
// The store: a simulated shop (5,000 products, 6,000 customers, a year of orders ≈ 30,000) stored
// through the real recording path, with inventory levels (some variants out of stock); the
// `recommend` model trained by trainShop (worker thread, registry gate → champion). A challenger
// (the same model re-encoded with another seed: different bytes, same size) and a live
// experiment (5% holdout, 5% challenger) make every request go through the whole rollout path:
// arm assignment, exposures logged with consent, serving counts for the guardrails.
//
// HTTP: both servers run in one child process (`node bench/serve-bench.ts --server DIR`); the
// load generator runs in the parent. Requests are signed before each timed run (the signature's
// 90 s window). The bare route answers a fixed body of the same size as a typical shopml answer,
// so the ratio measures what shopml adds (verification, lookup, serialisation), not bytes.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import Fastify from 'fastify';
import { generateStore } from '../simulator/store.ts';
import { orderPayload, productPayload } from '../simulator/rest-payloads.ts';
import { appProxyQuery } from '../simulator/sign.ts';
import { openDb } from '../backend/src/store/db.ts';
import { createKeys } from '../backend/src/keys.ts';
import { recordEvent } from '../backend/src/ingest/record.ts';
import { normalizeOrder, normalizeProduct } from '../backend/src/ingest/normalize-rest.ts';
import { trainShop } from '../backend/src/models/train-pipeline.ts';
import { artifactBytes, loadArtifact, storeArtifact } from '../backend/src/ml/artifact.ts';
import { registerVersion } from '../backend/src/registry/versions.ts';
import { promote } from '../backend/src/registry/aliases.ts';
import { startExperiment } from '../backend/src/rollout/experiments.ts';
import { createServeState } from '../backend/src/serve/state.ts';
import { recommend, type RecommendRequest } from '../backend/src/serve/recommend.ts';
import { registryResolver } from '../backend/src/serve/wiring.ts';
import { loadConfig } from '../backend/src/config.ts';
import { startRuntime } from '../backend/src/runtime.ts';
import { median, percentile, runLoad, type LoadRequest, type LoadResult } from './load.ts';

const SECRET = 'serve-bench-api-secret-0123456789';
const SECRET_KEY = 's'.repeat(40);
export const SHOP = 'serve-bench.myshopify.com';

export interface ServeBenchResult {
  store: { products: number; artifactProducts: number; customers: number; orders: number; setupSeconds: number; trainSeconds: number };
  lookup: { calls: number; p50us: number; p99us: number; kinds: { kind: string; p50us: number; p99us: number }[] };
  lookupWithChecks: { calls: number; p50us: number; p99us: number };
  http: {
    concurrency: number; requestsPerRun: number; runs: number; bodyBytes: number;
    shopml: LoadResult[]; bare: LoadResult[];
    median: { shopmlRps: number; bareRps: number; ratio: number; shopmlP50: number; shopmlP99: number; bareP99: number };
  };
}

export interface Prepared { dir: string; db: string; artifacts: string; customers: string[]; products: string[]; artifactProducts: number; orders: number; trainSeconds: number; setupSeconds: number }

/** The store's size: the benchmark's (default) or smaller, for a quicker setup (test/reliability/load.test.ts). */
export interface StoreSize { products: number; customers: number; days: number }
export const BENCH_STORE: StoreSize = { products: 5000, customers: 6000, days: 365 };

export async function prepare(size: StoreSize = BENCH_STORE): Promise<Prepared> {
  const t0 = performance.now();
  const dir = mkdtempSync(join(tmpdir(), 'shopml-serve-bench-'));
  const dbPath = join(dir, 'shopml.db');
  const artifacts = join(dir, 'artifacts');
  const store = generateStore({ seed: 5, shop: SHOP, ...size });
  const db = openDb(dbPath);
  const keys = createKeys(SECRET_KEY);
  const location = String(store.locationId ?? 1);
  db.transaction(() => {
    for (const p of store.products) {
      recordEvent(db, keys, { shop: SHOP, topic: 'products/create', source: 'webhook', sourceId: `p-${p.id}`, receivedAt: p.createdAt, payloadSha256: 'x', event: { type: 'product', product: normalizeProduct(productPayload(p, store)) } });
      for (const v of p.variants) {
        recordEvent(db, keys, { shop: SHOP, topic: 'inventory_levels/update', source: 'webhook', sourceId: `i-${v.id}`, receivedAt: p.updatedAt, payloadSha256: 'x',
          event: { type: 'inventory', level: { inventoryItemId: String(v.inventoryItemId), locationId: location, available: v.inventoryQuantity, updatedAt: p.updatedAt } } });
      }
    }
    for (const o of store.orders) {
      recordEvent(db, keys, { shop: SHOP, topic: 'orders/create', source: 'webhook', sourceId: `o-${o.id}`, receivedAt: o.createdAt, payloadSha256: 'x', event: { type: 'order', order: normalizeOrder(orderPayload(o, store), SHOP, keys) } });
    }
  })();
  const t1 = performance.now();
  const r = await trainShop({ db, shop: SHOP, kinds: ['recommend'], seed: 1, artifactsDir: artifacts });
  const trainSeconds = (performance.now() - t1) / 1000;
  const run = r.runs[0]!;
  if (run.status !== 'succeeded' || !run.version) throw new Error(`training failed: ${run.error ?? run.status}`);
  const champion = run.version;
  // The challenger: the same model under another seed value (different bytes), with its own copy of the personal lists.
  const file = loadArtifact<{ kind: string; backend: string; artifact: { seed: number; products: string[] } }>(artifacts, champion);
  const challenger = storeArtifact(artifacts, artifactBytes({ ...file, artifact: { ...file.artifact, seed: 2 } }));
  const now = new Date().toISOString();
  db.transaction(() => {
    registerVersion(db, { shop: SHOP, kind: 'recommend', version: challenger, runId: null, snapshotId: null, codeVersion: 'bench', tensorBackend: null, params: {}, metrics: {}, trainedAt: now, trainSeconds: null });
    db.prepare(`INSERT INTO customer_outputs (shop, kind, model_version, customer_id, output_json) SELECT shop, kind, ?, customer_id, output_json FROM customer_outputs WHERE shop = ? AND model_version = ?`).run(challenger, SHOP, champion);
    promote(db, { shop: SHOP, kind: 'recommend', version: challenger, to: 'challenger', reason: 'benchmark', actor: 'bench' });
    startExperiment(db, { shop: SHOP, kind: 'recommend', championVersion: champion, challengerVersion: challenger });
  })();
  const customers = db.prepare(`SELECT customer_id FROM customer_outputs WHERE shop = ? AND model_version = ? ORDER BY customer_id`).pluck().all(SHOP, champion) as string[];
  const products = file.artifact.products;
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
  return { dir, db: dbPath, artifacts, customers, products, artifactProducts: products.length, orders: store.orders.length, trainSeconds, setupSeconds: (performance.now() - t0) / 1000 };
}

/**
 * prepare() in a child process (`node bench/serve-bench.ts --prepare SIZE`), for a load generator
 * that shares the machine with the server it measures: preparing generates the store and trains
 * a model, and leaves ~600 MB of heap (~120 MB of it live) in the process that did it — whose
 * major collections, helper threads included, would then run during the measurement.
 */
export function prepareInChild(size: StoreSize = BENCH_STORE): Promise<Prepared> {
  const child = spawn(process.execPath, [new URL(import.meta.url).pathname, '--prepare', JSON.stringify(size)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout!.on('data', (b: Buffer) => (out += b.toString('utf8')));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => {
      const line = out.split('\n').find((l) => l.startsWith(PREPARED_MARK));
      if (code === 0 && line) resolve(JSON.parse(line.slice(PREPARED_MARK.length)) as Prepared);
      else reject(new Error(`prepare (child process) exited with ${code}: ${out.slice(-500)}`));
    });
  });
}

const PREPARED_MARK = 'PREPARED ';

/**
 * Shoppers: 8,000 anonymous visitors and the 6,000 customers. Over a whole benchmark (~65,000
 * requests) that is ~5 requests per unit, a storefront's usual pages per visit; each unit's first
 * request logs an exposure (the requests say the shopper consented to analytics).
 */
const ANONYMOUS_UNITS = 8000;

type Kind = 'product page' | 'cart (3)' | 'logged-in, personal' | 'anonymous, no product';
const KINDS: Kind[] = ['product page', 'cart (3)', 'logged-in, personal', 'anonymous, no product'];

/** A deterministic mix: 40% product pages, 20% carts, 25% logged-in customers, 15% anonymous home. */
function mix(p: Prepared, n: number, salt: number): { kind: Kind; req: RecommendRequest }[] {
  return Array.from({ length: n }, mixStream(p, salt));
}

/** The same mix, one request per call (an open-loop generator builds each when it is due). */
function mixStream(p: Prepared, salt: number): () => { kind: Kind; req: RecommendRequest } {
  let x = 2463534242 + salt;
  const rnd = () => { x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0; return x / 4294967296; };
  const pick = <T>(a: T[]) => a[Math.floor(rnd() * a.length)]!;
  return () => {
    const u = rnd();
    const anon = `anon-${Math.floor(rnd() * ANONYMOUS_UNITS)}`;
    if (u < 0.4) return { kind: 'product page' as Kind, req: { productIds: [pick(p.products)], customerId: null, anonymousId: anon, limit: 10 } };
    if (u < 0.6) return { kind: 'cart (3)' as Kind, req: { productIds: [pick(p.products), pick(p.products), pick(p.products)], customerId: null, anonymousId: anon, limit: 10 } };
    if (u < 0.85) return { kind: 'logged-in, personal' as Kind, req: { productIds: [], customerId: pick(p.customers), anonymousId: null, limit: 10 } };
    return { kind: 'anonymous, no product' as Kind, req: { productIds: [], customerId: null, anonymousId: anon, limit: 10 } };
  };
}

async function lookupBench(p: Prepared) {
  const db = openDb(p.db);
  try {
    // No list cache here: every call is a real lookup.
    const serve = createServeState({ db, keys: createKeys(SECRET_KEY), artifactsDir: p.artifacts, resolver: registryResolver(db), listCacheSize: 0 });
    const state = serve.shop(SHOP);
    const calls = mix(p, 120_000, 1);
    for (const c of calls.slice(0, 20_000)) recommend(state, c.req); // warm-up: JIT, artifact, catalog
    const timed = calls.slice(20_000);
    const us = new Float64Array(timed.length);
    const byKind = new Map<Kind, number[]>();
    for (let i = 0; i < timed.length; i++) {
      const t = performance.now();
      const r = recommend(state, timed[i]!.req);
      us[i] = (performance.now() - t) * 1000;
      if (r.products.length !== 10) throw new Error(`expected 10 products, got ${r.products.length}`);
      let k = byKind.get(timed[i]!.kind);
      if (!k) byKind.set(timed[i]!.kind, (k = []));
      k.push(us[i]!);
    }
    us.sort();
    // The same through serve.recommend: the freshness read (once per event-loop turn: each call
    // here gets its own turn) and the error handling included.
    const full = mix(p, 60_000, 2);
    for (const c of full.slice(0, 10_000)) serve.recommend(SHOP, c.req);
    const fus = new Float64Array(50_000);
    for (let i = 0; i < fus.length; i++) {
      await new Promise((r) => setImmediate(r));
      const t = performance.now();
      serve.recommend(SHOP, full[10_000 + i]!.req);
      fus[i] = (performance.now() - t) * 1000;
    }
    fus.sort();
    return {
      lookup: {
        calls: timed.length, p50us: percentile(us, 50), p99us: percentile(us, 99),
        kinds: KINDS.map((kind) => {
          const s = Float64Array.from(byKind.get(kind) ?? []).sort();
          return { kind, p50us: percentile(s, 50), p99us: percentile(s, 99) };
        }),
      },
      lookupWithChecks: { calls: fus.length, p50us: percentile(fus, 50), p99us: percentile(fus, 99) },
    };
  } finally {
    db.close();
  }
}

export function httpRequests(p: Prepared, n: number, salt: number): LoadRequest[] {
  return Array.from({ length: n }, httpRequestStream(p, salt));
}

/** The same requests one at a time, each signed when it is built (the signature's 90 s window holds however long a run lasts). */
export function httpRequestStream(p: Prepared, salt: number): () => LoadRequest {
  const next = mixStream(p, salt);
  return () => {
    const { req } = next();
    const extra: Record<string, string> = { limit: '10', consent: '1' };
    if (req.productIds.length) extra.product_id = req.productIds.join(',');
    if (req.anonymousId) extra.anonymous_id = req.anonymousId;
    const q = appProxyQuery({ secret: SECRET, shop: SHOP, loggedInCustomerId: req.customerId ?? '', extra });
    return { method: 'GET', path: `/proxy/recommendations?${q}`, headers: {} };
  };
}

/** The backend's environment for a prepared store in DIR (`shopml serve` reads the same variables). */
export function serveEnv(dir: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    SHOPIFY_API_KEY: 'bench-key', SHOPIFY_API_SECRET: SECRET, SHOPIFY_APP_URL: 'https://bench.test', PORT: '0',
    DATABASE_PATH: join(dir, 'shopml.db'), ARTIFACTS_DIR: join(dir, 'artifacts'), SHOPML_SECRET_KEY: SECRET_KEY, SHOPML_ADMIN_TOKEN: 'a'.repeat(20), LOG_LEVEL: 'silent',
    ...extra,
  };
}

export async function benchServe(opts: { requests?: number; runs?: number; concurrency?: number } = {}): Promise<ServeBenchResult> {
  const n = opts.requests ?? 20_000;
  const runs = opts.runs ?? 5;
  const concurrency = opts.concurrency ?? 64;
  const p = await prepare();
  try {
    const { lookup, lookupWithChecks } = await lookupBench(p);
    const child = spawn(process.execPath, [new URL(import.meta.url).pathname, '--server', p.dir], { stdio: ['pipe', 'pipe', 'inherit'] });
    const urls = await new Promise<{ shopml: string; bare: string; bodyBytes: number }>((resolve, reject) => {
      createInterface({ input: child.stdout! }).once('line', (l) => resolve(JSON.parse(l)));
      child.once('exit', (c) => reject(new Error(`benchmark server exited with ${c}`)));
    });
    const shopml: LoadResult[] = [];
    const bare: LoadResult[] = [];
    try {
      await runLoad(urls.bare, httpRequests(p, 3000, 90), concurrency);
      await runLoad(urls.shopml, httpRequests(p, 3000, 91), concurrency);
      for (let r = 0; r < runs; r++) {
        bare.push(await runLoad(urls.bare, httpRequests(p, n, 100 + r), concurrency));
        shopml.push(await runLoad(urls.shopml, httpRequests(p, n, 200 + r), concurrency));
      }
    } finally {
      child.stdin!.end();
      await new Promise((r) => child.once('exit', r));
    }
    for (const x of shopml) if (Object.keys(x.statuses).some((s) => s !== '200')) throw new Error(`non-200 answers: ${JSON.stringify(x.statuses)}`);
    const m = (xs: LoadResult[], f: (x: LoadResult) => number) => median(xs.map(f));
    return {
      store: { products: 5000, artifactProducts: p.artifactProducts, customers: 6000, orders: p.orders, setupSeconds: p.setupSeconds, trainSeconds: p.trainSeconds },
      lookup, lookupWithChecks,
      http: {
        concurrency, requestsPerRun: n, runs, bodyBytes: urls.bodyBytes, shopml, bare,
        median: {
          shopmlRps: m(shopml, (x) => x.rps), bareRps: m(bare, (x) => x.rps), ratio: m(shopml, (x) => x.rps) / m(bare, (x) => x.rps),
          shopmlP50: m(shopml, (x) => x.p50ms), shopmlP99: m(shopml, (x) => x.p99ms), bareP99: m(bare, (x) => x.p99ms),
        },
      },
    };
  } finally {
    rmSync(p.dir, { recursive: true, force: true });
  }
}

/** Child process: the real backend on the prepared store, and the bare route beside it. */
async function server(dir: string): Promise<void> {
  const rt = await startRuntime(loadConfig(serveEnv(dir)), { defaultMetrics: false, jobs: false }); // no retraining mid-run
  // A typical answer, captured once, is what the bare route sends (pre-serialised).
  const sample = appProxyQuery({ secret: SECRET, shop: SHOP, extra: { product_id: readFirstProduct(dir), limit: '10' } });
  const body = await (await fetch(`${rt.url}/proxy/recommendations?${sample}`)).text();
  const bare = Fastify();
  bare.get('/proxy/recommendations', async (_req, reply) => reply.header('Content-Type', 'application/json; charset=utf-8').send(body));
  const bareUrl = await bare.listen({ port: 0, host: '127.0.0.1' });
  process.stdout.write(`${JSON.stringify({ shopml: rt.url, bare: bareUrl, bodyBytes: Buffer.byteLength(body) })}\n`);
  process.stdin.on('data', () => {});
  process.stdin.on('end', async () => {
    await bare.close();
    await rt.close();
    process.exit(0);
  });
}

function readFirstProduct(dir: string): string {
  const db = openDb(join(dir, 'shopml.db'), { readonly: true });
  try {
    return db.prepare(`SELECT product_id FROM order_lines WHERE shop = ? AND product_id IS NOT NULL LIMIT 1`).pluck().get(SHOP) as string;
  } finally {
    db.close();
  }
}

if (process.argv[1] === new URL(import.meta.url).pathname) {
  const i = process.argv.indexOf('--server');
  const j = process.argv.indexOf('--prepare');
  if (i >= 0) await server(process.argv[i + 1]!);
  else if (j >= 0) console.log(PREPARED_MARK + JSON.stringify(await prepare(JSON.parse(process.argv[j + 1]!) as StoreSize)));
  else {
    const r = await benchServe();
    console.log(JSON.stringify({ store: r.store, lookup: r.lookup, lookupWithChecks: r.lookupWithChecks, http: r.http.median, bodyBytes: r.http.bodyBytes }, null, 1));
  }
}

