// Re-tagging 1,000 customers after a retrain, through the Admin API simulator at Shopify Plus's
// restore rate (1,000 points/s): the wall time of `retagChangedCustomers` beside the bucket's
// theoretical minimum, (total cost − bucket size) / restore rate — the time the points cost
// beyond a full bucket take to restore, whatever the client does. Every customer changes segment
// in a timed run, so each costs a tagsRemove and a tagsAdd (10 points each). The simulator runs in
// a child process; shopml runs here with its real SQLite file, group writer and throttled client.
import { fork } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { loadConfig } from '../backend/src/config.ts';
import { createDeps } from '../backend/src/runtime.ts';
import { storeOfflineToken } from '../backend/src/shopify/auth.ts';
import { createAdminClient } from '../backend/src/shopify/admin-client.ts';
import { registerVersion } from '../backend/src/registry/versions.ts';
import { promote } from '../backend/src/registry/aliases.ts';
import { retagChangedCustomers, type RetagCounts } from '../backend/src/flow/retag.ts';
import type { AppDeps } from '../backend/src/app.ts';
import { RETAG_BENCH } from './retag-constants.ts';

export interface RetagRun {
  seconds: number;
  cost: number;
  minSeconds: number;
  ratio: number;
  okCalls: number;
  throttled: number;
  counts: RetagCounts;
}

export interface RetagBenchResult {
  customers: number;
  bucketSize: number;
  restoreRate: number;
  concurrency: number;
  runs: RetagRun[];
  median: RetagRun;
}

const SEGMENTS = ['Champions', 'Loyal', 'At risk', 'New', 'Hibernating'];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function publishSegments(deps: AppDeps, shop: string, ids: string[], shift: number): void {
  const version = createHash('sha256').update(`retag-bench:${shift}`).digest('hex');
  const db = deps.db;
  db.transaction(() => {
    const put = db.prepare('INSERT OR REPLACE INTO customer_outputs (shop, kind, model_version, customer_id, output_json) VALUES (?, ?, ?, ?, ?)');
    ids.forEach((c, i) => {
      const s = SEGMENTS[(i + shift) % SEGMENTS.length]!;
      put.run(shop, 'segment', version, c, JSON.stringify({ segment: s, tag: `shopml:${s.toLowerCase().replace(/[^a-z0-9]+/g, '-')}` }));
    });
    registerVersion(db, { shop, kind: 'segment', version, runId: null, snapshotId: null, codeVersion: 'bench', tensorBackend: null, params: {}, metrics: {}, trainedAt: new Date().toISOString(), trainSeconds: null });
    promote(db, { shop, kind: 'segment', version, reason: 'benchmark', actor: 'bench' });
  })();
}

export async function benchRetag(opts: { runs?: number; concurrency?: number } = {}): Promise<RetagBenchResult> {
  const runs = opts.runs ?? 3;
  const concurrency = opts.concurrency ?? 8;
  const { shop, token, customers, bucketSize, restoreRate } = RETAG_BENCH;
  const child = fork(new URL('./retag-sim.ts', import.meta.url).pathname, [], { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
  const ask = <T>(type: string) => new Promise<T>((resolve) => {
    const on = (m: { type: string }) => { if (m.type === type) { child.off('message', on); resolve(m as T); } };
    child.on('message', on);
    child.send({ type });
  });
  const dir = mkdtempSync(join(tmpdir(), 'shopml-retag-bench-'));
  let deps: AppDeps | null = null;
  try {
    const { url } = await new Promise<{ url: string }>((resolve, reject) => {
      createInterface({ input: child.stdout! }).once('line', (l) => resolve(JSON.parse(l) as { url: string }));
      child.once('exit', (c) => reject(new Error(`simulator process exited with ${c}`)));
    });
    deps = await createDeps(loadConfig({
      SHOPIFY_API_KEY: 'bench-key', SHOPIFY_API_SECRET: 'bench-secret-0123456789', SHOPIFY_APP_URL: 'https://shopml.test',
      DATABASE_PATH: join(dir, 'shopml.db'), ARTIFACTS_DIR: join(dir, 'artifacts'), SHOPML_SECRET_KEY: 'b'.repeat(48),
      SHOPML_ADMIN_TOKEN: 'bench-operator-token', SHOPIFY_ADMIN_BASE_URL: url, LOG_LEVEL: 'silent',
    }), { defaultMetrics: false });
    storeOfflineToken(deps.db, deps.keys, shop, token, 'write_customers', new Date().toISOString());
    const ids = Array.from({ length: customers }, (_, i) => String(5000 + i));
    // One client for the whole benchmark, as the server shares one per shop.
    const client = createAdminClient({ shop, accessToken: token, baseUrl: url, fetch: deps.fetch });

    // Setup (not timed): every customer gets its first tag.
    publishSegments(deps, shop, ids, 0);
    const setup = await retagChangedCustomers(deps, shop, { client, concurrency });
    if (setup.counts.retagged !== customers) throw new Error(`setup tagged ${setup.counts.retagged} customers, expected ${customers}`);

    const results: RetagRun[] = [];
    for (let r = 1; r <= runs; r++) {
      publishSegments(deps, shop, ids, r); // every customer moves to another segment
      await sleep((bucketSize / restoreRate) * 1000 + 500); // start from a full bucket, as the formula assumes
      await ask('reset');
      const t0 = performance.now();
      const res = await retagChangedCustomers(deps, shop, { client, concurrency });
      const seconds = (performance.now() - t0) / 1000;
      const stats = await ask<{ okCalls: number; throttled: number; cost: number; tagged: number }>('stats');
      if (res.counts.retagged !== customers || res.counts.tagCalls !== 2 * customers) throw new Error(`run ${r}: re-tagged ${res.counts.retagged} customers with ${res.counts.tagCalls} calls`);
      const minSeconds = (stats.cost - bucketSize) / restoreRate;
      results.push({ seconds, cost: stats.cost, minSeconds, ratio: seconds / minSeconds, okCalls: stats.okCalls, throttled: stats.throttled, counts: res.counts });
      process.stderr.write(`bench: retag run ${r}: ${seconds.toFixed(2)} s for ${stats.cost} points (minimum ${minSeconds.toFixed(2)} s, ratio ${(seconds / minSeconds).toFixed(3)}, ${stats.throttled} throttled)\n`);
    }
    const sorted = [...results].sort((a, b) => a.ratio - b.ratio);
    return { customers, bucketSize, restoreRate, concurrency, runs: results, median: sorted[sorted.length >> 1]! };
  } finally {
    await deps?.writer.drain();
    deps?.db.close();
    child.send({ type: 'close' });
    await new Promise((r) => child.once('exit', r));
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] === new URL(import.meta.url).pathname) {
  const r = await benchRetag({ runs: Number(process.argv[2] ?? 1) });
  console.log(JSON.stringify(r.median));
}
