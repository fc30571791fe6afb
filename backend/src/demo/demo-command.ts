// `shopml demo`: the whole loop on this machine, no Shopify account, no network. A simulated
// Shopify (store generator, Admin API with bulk exports, signed webhooks, the app proxy, a
// storefront that renders the real theme block) and the real backend on SQLite:
//
//   1. install by token exchange; catalog by a products bulk export; a year of history by an
//      orders bulk export (or a CSV with --data);
//   2. the quality gate and the four models, trained twice (an earlier watermark → champions; the
//      full history → the promotion gate's challengers); a canary with a holdout for the new
//      recommend challenger (demo-train.ts);
//   3. live: signed order webhooks (the store's future, replayed faster than real time — catalog
//      and stock changes too) and simulated shoppers (simulator/shoppers.ts) who ask for
//      recommendations through the signed app proxy, see, click, add to cart with the attribution
//      property and check out — the challenger has a small TRUE lift (--lift) the canary must find;
//      the job runner retrains when the new-order threshold is crossed (--retrain-after) or the
//      drift monitor asks; the canary policy and shadow evaluations run every few seconds
//      (demo-live.ts);
//   4. the dashboard, a storefront preview with the block, the API and /metrics, until Ctrl-C or
//      --for SECONDS (then one JSON line on stdout: demo-report.ts).
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../config.ts';
import { startRuntime } from '../runtime.ts';
import { backfillShop } from '../ingest/backfill-shop.ts';
import { importFile, parseColumnMap, type ImportFormat } from '../ingest/import.ts';
import { shopStatus } from '../store/status.ts';
import { latestOrderTime } from '../features/load.ts';
import { startBackgroundJobs, type BackgroundJobs } from '../jobs/background.ts';
import { BACKFILL_JOB, publishChampions } from '../jobs/loop.ts';
import { claimJob, completeJob } from '../jobs/queue.ts';
import type { Db } from '../store/db.ts';
import type { RunnerLog } from '../jobs/runner.ts';
import { parseArgs, str, UsageError } from '../cli/args.ts';
import { createProgress } from '../cli/progress.ts';
import { generateStore } from '../../../simulator/store.ts';
import { startAdminSimulator, type AdminSimulator } from '../../../simulator/admin-server.ts';
import { flowLifecycleRequest, sessionToken } from '../../../simulator/sign.ts';
import { loadFlowTriggers } from '../../../simulator/flow-extensions.ts';
import { FLOW_TRIGGERS } from '../../../flow-actions/triggers.ts';
import { createWebhookStream, type WebhookStream } from '../../../simulator/webhook-sender.ts';
import { createShopperStream, DEFAULT_FUNNEL, type ShopperStream } from '../../../simulator/shoppers.ts';
import { startStorefront, type Storefront } from '../../../simulator/storefront.ts';
import type { Runtime } from '../runtime.ts';
import { QualityGateFailed, trainForDemo, type DemoTraining } from './demo-train.ts';
import { startLiveLoop, useDemoAfterTraining, type LiveLoop } from './demo-live.ts';
import { canaryLine, canarySummary, driftSummary, modelsSummary, retrainsSummary, shadowsSummary } from './demo-report.ts';
import { freePort } from '../http/free-port.ts';

const DAY_MS = 86_400_000;
const EXTENSIONS_DIR = fileURLToPath(new URL('../../../extensions', import.meta.url));
const EXTENSION_DIR = join(EXTENSIONS_DIR, 'shopml-theme');
/** Written into the data directory: only a directory carrying it (or an empty one) is ever wiped. */
const MARKER = '.shopml-demo';

function wholeNumber(v: string | undefined, name: string, fallback: number, max = Number.MAX_SAFE_INTEGER): number {
  if (v === undefined) return fallback;
  if (!/^\d+$/.test(v) || Number(v) > max) throw new UsageError(`--${name} must be a whole number from 0 to ${max}`);
  return Number(v);
}

function numberOption(v: string | undefined, name: string, fallback: number, max = 1): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n < 0 || n > max) throw new UsageError(`--${name} must be a number from 0 to ${max}`);
  return n;
}

/** A fresh data directory: created, or emptied when it is an earlier demo's (never anything else). */
function prepareDir(dir: string): void {
  if (existsSync(dir) && readdirSync(dir).length > 0) {
    if (!existsSync(join(dir, MARKER))) throw new UsageError(`${dir} is not empty and not a demo directory (no ${MARKER}): choose another --dir`);
    rmSync(dir, { recursive: true, force: true });
  }
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, MARKER), 'created by `shopml demo`; the next demo run with this --dir deletes this directory\n');
}

/**
 * rt.close() stops accepting, sweeps idle keep-alive connections and waits for the requests in
 * flight. A connection that is neither — a client that went away half-way through sending a
 * request — would hold it until Node's headersTimeout (a minute or more); after a grace period
 * such connections are cut, and the demo says so.
 */
async function closeBackend(rt: Runtime, say: (s: string) => void, graceMs = 5000): Promise<void> {
  let cut = false;
  const grace = setTimeout(() => {
    cut = true;
    rt.app.server.closeAllConnections();
  }, graceMs);
  try {
    await rt.close();
  } finally {
    clearTimeout(grace);
  }
  if (cut) say(`shutdown: connections still open after ${graceMs / 1000} s were closed`);
}

/**
 * Installing queues the catalog and history backfill as a job (shopify/install.ts); the demo runs
 * that backfill itself, step by step with progress bars, before the job runner starts — so the
 * queued job is claimed and completed here with a note, not run a second time.
 */
function recordBackfillDone(db: Db, shop: string, note: string): number | null {
  const owner = 'shopml-demo';
  const job = claimJob(db, { owner, now: new Date(), leaseMs: 60_000, types: [BACKFILL_JOB] });
  if (!job || job.shop !== shop) return null;
  completeJob(db, { id: job.id, owner, attempt: job.attempts }, new Date(), { done_by: 'shopml demo', note });
  return job.id;
}

export async function runDemoCommand(argv: string[]): Promise<number> {
  const p = parseArgs(argv, {
    strings: ['for', 'seed', 'port', 'data', 'format', 'map', 'rate', 'dir', 'shoppers', 'lift', 'consent', 'holdout', 'challenger', 'retrain-after', 'policy-every', 'monitor-every'],
  });
  if (p.positional.length > 0) throw new UsageError(`unexpected argument "${p.positional[0]}"`);
  const forSeconds = str(p, 'for') === undefined ? null : wholeNumber(str(p, 'for'), 'for', 0, 86_400);
  const seed = wholeNumber(str(p, 'seed'), 'seed', 42);
  const rate = numberOption(str(p, 'rate'), 'rate', 3, 1000);
  const shopperRate = numberOption(str(p, 'shoppers'), 'shoppers', 15, 1000);
  const lift = numberOption(str(p, 'lift'), 'lift', DEFAULT_FUNNEL.challengerLift, 10);
  const consentRate = numberOption(str(p, 'consent'), 'consent', 0.85);
  const split = { holdoutPct: numberOption(str(p, 'holdout'), 'holdout', 10, 50), challengerPct: numberOption(str(p, 'challenger'), 'challenger', 20, 50) };
  const retrainAfter = wholeNumber(str(p, 'retrain-after'), 'retrain-after', 150, 100_000_000);
  const policyEvery = numberOption(str(p, 'policy-every'), 'policy-every', 10, 86_400);
  const monitorEvery = numberOption(str(p, 'monitor-every'), 'monitor-every', 15, 86_400);
  if (policyEvery < 1 || monitorEvery < 1) throw new UsageError('--policy-every and --monitor-every must be at least 1 second');
  if (!(split.challengerPct > 0)) throw new UsageError('--challenger must be above 0: the canary needs a share of traffic');
  const dataFile = str(p, 'data');
  const format = (str(p, 'format') ?? 'online-retail') as ImportFormat;
  if (!['online-retail', 'csv'].includes(format)) throw new UsageError('--format must be online-retail or csv');
  if (dataFile !== undefined && !existsSync(resolve(dataFile))) throw new UsageError(`--data: no such file ${resolve(dataFile)}`);
  const quiet = forSeconds !== null; // --for prints one JSON line on stdout at the end; everything else goes to stderr
  const say = (s: string) => (quiet ? process.stderr : process.stdout).write(`${s}\n`);

  const dir = resolve(str(p, 'dir') ?? './data/demo');
  prepareDir(dir);
  const artifactsDir = join(dir, 'artifacts');
  const dbPath = join(dir, 'shopml.db');

  const apiKey = 'shopml-demo';
  const apiSecret = randomBytes(24).toString('hex');
  const adminToken = randomBytes(18).toString('hex');
  // The history ends at the start of today (UTC): live shoppers, who act on the wall clock, come
  // right after it. Same seed and same day → the same store.
  const today = new Date(Math.floor(Date.now() / DAY_MS) * DAY_MS);
  const store = generateStore({ seed, days: 365, endDate: today });
  const shop = store.shop;
  const port = str(p, 'port') ? wholeNumber(str(p, 'port'), 'port', 0, 65_535) : await freePort();

  say('shopml demo — a simulated Shopify store and the real shopml backend on this machine (no Shopify account, no network)');
  say(`data         ${dir}   (SQLite ${dbPath}, model artifacts in ${artifactsDir})`);
  say(`store        ${shop}: ${store.products.length} products, ${store.customers.length} customers, ${store.orders.length} orders over the year to ${today.toISOString().slice(0, 10)} (seed ${seed})`);
  let sim: AdminSimulator | null = null;
  let rt: Runtime | null = null;
  let jobs: BackgroundJobs | null = null;
  let stream: WebhookStream | null = null;
  let shoppers: ShopperStream | null = null;
  let storefront: Storefront | null = null;
  let loop: LiveLoop | null = null;
  const shutdown = async () => {
    await shoppers?.stop();
    await stream?.stop();
    await loop?.stop();
    await jobs?.stop();
    await storefront?.close();
    if (rt) await closeBackend(rt, say);
    await sim?.close();
  };

  try {
    sim = await startAdminSimulator({
      store, apiKey, apiSecret, restoreRate: 100, bulkDelayMs: 300,
      webhookTarget: { url: `http://127.0.0.1:${port}/webhooks` },
      // Flow checks every trigger payload against the deployed definitions (the committed tomls).
      flowTriggers: loadFlowTriggers(EXTENSIONS_DIR),
    });
    rt = await startRuntime(loadConfig({
      SHOPIFY_API_KEY: apiKey, SHOPIFY_API_SECRET: apiSecret, SHOPIFY_APP_URL: `http://127.0.0.1:${port}`,
      PORT: String(port), HOST: '127.0.0.1', DATABASE_PATH: dbPath, ARTIFACTS_DIR: artifactsDir,
      SHOPML_SECRET_KEY: randomBytes(32).toString('hex'), SHOPML_ADMIN_TOKEN: adminToken,
      SHOPIFY_ADMIN_BASE_URL: sim.baseUrlTemplate, LOG_LEVEL: 'silent',
      // The demo's retraining schedule: a low new-order threshold, checked every 2 s; no weekly
      // retrain (a week of wall time); at most one retrain a minute.
      SHOPML_RETRAIN_MIN_NEW_ORDERS: String(retrainAfter), SHOPML_RETRAIN_INTERVAL_DAYS: '0',
      SHOPML_RETRAIN_MIN_GAP_MINUTES: '1', SHOPML_SCHEDULER_TICK_SECONDS: '2',
      // The canary policy and the drift monitor run from the demo's own loop (demo-live.ts), every
      // few seconds and on the store's clock, instead of the hourly / daily scheduled jobs.
      SHOPML_POLICY_INTERVAL_MINUTES: '0', SHOPML_MONITOR_INTERVAL_HOURS: '0',
    }), { jobs: false }); // the job runner starts after the first trainings (below)
    const runtime = rt;
    const webhookUrl = `${runtime.url}/webhooks`;

    // 1. Install: the admin's first request carries a session token; the backend exchanges it.
    const install = await fetch(`${runtime.url}/api/v1/session`, { method: 'POST', headers: { Authorization: `Bearer ${sessionToken({ apiKey, secret: apiSecret, shop })}` } });
    if (!install.ok) throw new Error(`install failed: HTTP ${install.status} ${await install.text()}`);
    say('install      offline access token obtained by token exchange, stored encrypted');
    // The merchant turns on a workflow for each of shopml's Flow triggers: Flow's lifecycle
    // callback tells shopml, which from then on fires them (into the simulated Flow).
    for (const t of FLOW_TRIGGERS) {
      const req = flowLifecycleRequest({ secret: apiSecret, shop, shopId: store.shopId ?? 1, flowTriggerDefinitionId: t.handle, hasEnabledFlow: true });
      const res = await fetch(`${runtime.url}/flow/lifecycle`, { method: 'POST', headers: req.headers, body: req.body });
      if (!res.ok) throw new Error(`Flow lifecycle callback for ${t.handle} answered ${res.status}: ${await res.text()}`);
    }
    say(`flow         workflows turned on for the ${FLOW_TRIGGERS.length} shopml triggers (${FLOW_TRIGGERS.map((t) => `"${t.name}"`).join(', ')})`);

    // 2. Catalog: the products bulk export (products that never change would never send a webhook).
    const catalog = createProgress({ label: 'catalog', total: store.products.length });
    const cat = (await backfillShop({
      db: runtime.deps.db, keys: runtime.deps.keys, shop, adminBaseUrl: sim.baseUrlTemplate, pollIntervalMs: 250, what: 'products',
      onProgress: (e) => { if (e.phase === 'recorded' && e.what === 'products') catalog.update(e.counts.products); },
    })).products!;
    catalog.done();
    say(`catalog      ${cat.products} products, ${cat.variants} variants, stock of ${cat.inventory.applied} tracked — through a bulk export`);

    // 3. History: a CSV import, or the store's year through an Admin API bulk export.
    if (dataFile) {
      const progress = createProgress({ label: 'import', total: 0, unit: 'bytes' });
      const s = await importFile({
        db: runtime.deps.db, keys: runtime.deps.keys, shop, file: resolve(dataFile), format,
        map: str(p, 'map') ? parseColumnMap(str(p, 'map')!) : undefined,
        onProgress: (e) => { progress.setTotal(e.total); progress.update(e.done); },
      });
      progress.done();
      say(`history      ${s.rows_imported} of ${s.rows_read} rows imported from ${dataFile} (${s.rows_skipped} skipped) instead of the generated year`);
    } else {
      const progress = createProgress({ label: 'backfill', total: store.orders.length });
      const counts = (await backfillShop({
        db: runtime.deps.db, keys: runtime.deps.keys, shop, adminBaseUrl: sim.baseUrlTemplate, pollIntervalMs: 250, what: 'orders',
        onProgress: (e) => { if (e.phase === 'recorded' && e.what === 'orders') progress.update(e.counts.orders); },
      })).orders!;
      progress.done();
      say(`history      ${counts.orders} orders (${counts.lines} lines) through a bulk export`);
    }

    const backfillJob = recordBackfillDone(runtime.deps.db, shop, dataFile ? 'catalog by the demo; history imported from a CSV' : 'catalog and history by the demo');
    if (backfillJob !== null) say(`             (the backfill the install queued, job ${backfillJob}, is recorded as done: the demo ran it above, with progress bars)`);

    // 4. The quality gate and the four models, twice; the canary.
    let training: DemoTraining;
    try {
      training = await trainForDemo({ db: runtime.deps.db, shop, artifactsDir, seed, split, say, progress: true });
    } catch (err) {
      if (err instanceof QualityGateFailed) {
        say(err.report);
        say('the data-quality gate blocked training: nothing to serve (see the checks above)');
        return 1;
      }
      throw err;
    }
    const c = training.canary?.experiment;
    if (c) say(`canary       #${c.id}: challenger ${c.challengerVersion.slice(0, 12)} vs champion ${c.championVersion.slice(0, 12)} — ${c.holdoutPct}% holdout (popularity, no model), ${c.challengerPct}% challenger, ${100 - c.holdoutPct - c.challengerPct}% champion`);
    say(`             ${training.canaryNote}`);

    // 5. Live: the job runner and scheduler, the order stream, the shoppers, the storefront.
    const print: RunnerLog = {
      info: (obj, msg) => { if (msg === 'retrain scheduled') say(`scheduler    retrain queued (job ${(obj as { job?: number }).job}): ${(obj as { reason?: string }).reason}`); },
      warn: (obj, msg) => say(`jobs         ${msg} ${JSON.stringify(obj)}`),
      error: (obj, msg) => say(`jobs         ${msg} ${JSON.stringify(obj)}`),
    };
    useDemoAfterTraining(runtime.deps, { split, say });
    // The first champions go out to the store as after any training: tags and metafields (jobs).
    const published = await publishChampions(runtime.deps, shop, { forecast: true, reason: 'first training' });
    const queued = [
      ...(published.writeBack ? ['segment tags and customer metafields queued for the store (Admin API jobs)'] : []),
      ...(published.stockOuts ? [`${published.stockOuts} "Stock out predicted" triggers queued`] : []),
    ];
    if (queued.length > 0) say(`publish      ${queued.join('; ')}`);
    jobs = startBackgroundJobs(runtime.deps, {
      log: print,
      runner: { onOutcome: (x) => { if (x.job.type !== 'train' && x.state !== 'done') say(`jobs         ${x.job.type} (job ${x.job.id}): ${x.state}${x.error ? ` — ${x.error}` : ''}`); } },
    });

    let streamClock = Date.parse(latestOrderTime(runtime.deps.db, shop) ?? today.toISOString());
    const storeClock = () => new Date(Math.max(streamClock, Date.now()));
    stream = createWebhookStream({
      url: webhookUrl, secret: apiSecret, store, seed, ratePerSecond: rate, concurrency: 4,
      onDelivery: (event, result) => {
        if (result.ok && !event.stale) streamClock = Math.max(streamClock, Date.parse(event.triggeredAt));
      },
    });
    // --rate 0: no order stream (the sender itself would read 0 as "no pacing").
    const streaming = rate > 0 ? stream.start() : Promise.resolve(stream.stats);
    shoppers = createShopperStream({
      backendUrl: runtime.url, webhookUrl, secret: apiSecret, store, seed, visitsPerSecond: shopperRate, concurrency: 8,
      consentRate, challengerLift: lift,
    });
    const shopping = shoppers.start();
    storefront = await startStorefront({ store, extensionDir: EXTENSION_DIR, secret: apiSecret, backend: runtime.url });
    loop = startLiveLoop({ deps: runtime.deps, shop, storeClock, policyEveryMs: policyEvery * 1000, monitorEveryMs: monitorEvery * 1000, say });

    const showcase = store.products.filter((x) => x.status === 'ACTIVE' && x.variants.some((v) => v.inventoryQuantity > 0))
      .sort((a, b) => (b.popularity ?? 0) - (a.popularity ?? 0) || a.id - b.id)[0]!;
    const urls = {
      dashboard: `${runtime.url}/dashboard?shop=${shop}`,
      login: `${runtime.url}/dashboard/login`,
      storefront: `${storefront.url}/products/${showcase.handle}`,
      cart: `${storefront.url}/cart`,
      backend: runtime.url,
      metrics: `${runtime.url}/metrics`,
      status: `${runtime.url}/api/v1/status?shop=${shop}`,
    };
    say('');
    say(`live         signed order webhooks at ${rate}/s (the store's next days, faster than real time), shoppers at ${shopperRate} visits/s`);
    say(`             (${Math.round(consentRate * 100)}% give analytics consent; the challenger's true lift in click-through is +${Math.round(lift * 100)}%)`);
    say(`             retrain ${retrainAfter > 0 ? `after ${retrainAfter} new orders or ` : ''}when the drift monitor asks; canary policy every ${policyEvery} s, drift monitor every ${monitorEvery} s`);
    say(`dashboard    ${urls.dashboard}`);
    say(`             log in at ${urls.login} with the admin token ${adminToken}`);
    say(`storefront   ${urls.storefront}   (a theme page with the shopml block, through the signed app proxy)`);
    say(`api          curl -H 'Authorization: Bearer ${adminToken}' ${urls.status}`);
    say(`metrics      ${urls.metrics}`);
    say(`database     ${dbPath}   (npx shopml status --db ${dbPath})`);
    say(forSeconds === null ? 'Ctrl-C to stop.' : `stopping by itself in ${forSeconds} s.`);
    say('');

    /** What reached the simulated Shopify from the write-back and Flow (its call log and trigger inbox). */
    const flowSummary = () => {
      const byHandle: Record<string, number> = {};
      for (const t of sim!.state(shop).flowTriggers) if (t.handle) byHandle[t.handle] = (byHandle[t.handle] ?? 0) + 1;
      const ok = (op: string) => sim!.calls.filter((x) => x.shop === shop && x.operationName === op && x.outcome === 'ok').length;
      return { triggers_received: Object.values(byHandle).reduce((a, b) => a + b, 0), triggers_by_handle: byHandle, tags_added: ok('TagsAdd'), tags_removed: ok('TagsRemove'), metafields_set_calls: ok('MetafieldsSet') };
    };
    const started = performance.now();
    const historyOrders = shopStatus(runtime.deps.db, shop)[0]?.orders ?? 0;
    const statusLine = () => {
      const s = shopStatus(runtime.deps.db, shop)[0]!;
      const sh = shoppers!.stats;
      const elapsed = Math.round((performance.now() - started) / 1000);
      const clock = storeClock().toISOString().slice(0, 16).replace('T', ' ');
      const f = flowSummary();
      const flow = `Flow: ${f.triggers_received} triggers, ${f.tags_added} customers tagged`;
      return `[${Math.floor(elapsed / 60)}:${String(elapsed % 60).padStart(2, '0')}] ${s.orders} orders (+${s.orders - historyOrders} live, ${sh.orders} from shoppers) · ${sh.visits} visits, ${sh.clicks} clicks · ${flow} · store clock ${clock}\n       ${canaryLine(canarySummary(runtime.deps.db, shop, new Date()))}`;
    };
    const ticker = setInterval(() => say(statusLine()), 10_000);
    if (forSeconds !== null) {
      await new Promise((r) => setTimeout(r, forSeconds * 1000));
    } else {
      await new Promise<void>((r) => { process.once('SIGINT', () => r()); process.once('SIGTERM', () => r()); });
    }
    clearInterval(ticker);
    await shoppers.stop();
    await shopping.catch(() => undefined);
    await stream.stop();
    await streaming.catch(() => undefined);
    await runtime.deps.writer.drain();
    await loop.flush(); // one last policy run and drift report on everything that arrived
    say(statusLine());

    if (forSeconds !== null) {
      const db = runtime.deps.db;
      const s = shopStatus(db, shop)[0]!;
      console.log(JSON.stringify({
        orders_ingested: s.orders,
        models: modelsSummary(db, shop),
        canary: canarySummary(db, shop, new Date()),
        urls,
        admin_token: adminToken,
        data_dir: dir,
        seed,
        seconds_live: Number(((performance.now() - started) / 1000).toFixed(1)),
        training: {
          canary_note: training.canaryNote,
          passes: training.passes.map((x) => ({ watermark: x.snapshot.watermark, orders: x.snapshot.orders, quality_ok: x.quality.ok, runs: x.runs.map((r) => ({ kind: r.kind, version: r.version, decision: r.decision?.decision ?? r.status })) })),
        },
        retrains: retrainsSummary(db, shop),
        drift: driftSummary(db, shop),
        shadows: shadowsSummary(db, shop),
        loop: loop.counts,
        flow: flowSummary(),
        live: { webhooks: stream.stats, shoppers: shoppers.stats, store_clock: storeClock().toISOString() },
        status: s,
      }));
    }
    return 0;
  } finally {
    await shutdown();
  }
}
