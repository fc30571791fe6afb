// `shopml demo`: the whole loop on this machine, no Shopify account, no network. A simulated
// Shopify (store generator + Admin API + signed webhooks) and the real backend on SQLite:
// install by token exchange, catalog by webhooks, history by a bulk export (or a CSV with
// --data), then live signed orders until Ctrl-C or --for SECONDS.
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { mkdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadConfig } from '../config.ts';
import { startRuntime } from '../runtime.ts';
import { backfillShop } from '../ingest/backfill-shop.ts';
import { importFile, parseColumnMap, type ImportFormat } from '../ingest/import.ts';
import { shopStatus } from '../store/status.ts';
import { parseArgs, str, UsageError } from '../cli/args.ts';
import { createProgress } from '../cli/progress.ts';
import { generateStore } from '../../../simulator/store.ts';
import { startAdminSimulator } from '../../../simulator/admin-server.ts';
import { sessionToken } from '../../../simulator/sign.ts';
import { createWebhookStream, sendWebhook } from '../../../simulator/webhook-sender.ts';
import { inventoryLevelPayload, productPayload } from '../../../simulator/rest-payloads.ts';

async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolvePort(port));
    });
  });
}

function wholeNumber(v: string | undefined, name: string, fallback: number): number {
  if (v === undefined) return fallback;
  if (!/^\d+$/.test(v)) throw new UsageError(`--${name} must be a whole number`);
  return Number(v);
}

export async function runDemoCommand(argv: string[]): Promise<number> {
  const p = parseArgs(argv, { strings: ['for', 'seed', 'port', 'data', 'format', 'map', 'rate', 'dir'] });
  const forSeconds = str(p, 'for') === undefined ? null : wholeNumber(str(p, 'for'), 'for', 0);
  const seed = wholeNumber(str(p, 'seed'), 'seed', 42);
  const rate = wholeNumber(str(p, 'rate'), 'rate', 5);
  const dataFile = str(p, 'data');
  const format = (str(p, 'format') ?? 'online-retail') as ImportFormat;
  if (!['online-retail', 'csv'].includes(format)) throw new UsageError('--format must be online-retail or csv');
  const quiet = forSeconds !== null; // --for prints one JSON line at the end, nothing else on stdout
  const say = (s: string) => (quiet ? process.stderr : process.stdout).write(`${s}\n`);

  const dir = resolve(str(p, 'dir') ?? './data/demo');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });

  const apiKey = 'shopml-demo';
  const apiSecret = randomBytes(24).toString('hex');
  const adminToken = randomBytes(18).toString('hex');
  const store = generateStore({ seed, days: 365 });
  const shop = store.shop;
  const port = str(p, 'port') ? wholeNumber(str(p, 'port'), 'port', 0) : await freePort();

  say(`shopml demo — simulated store ${shop}: ${store.products.length} products, ${store.customers.length} customers, ${store.orders.length} orders over a year`);
  const sim = await startAdminSimulator({
    store, apiKey, apiSecret, restoreRate: 100, bulkDelayMs: 300,
    webhookTarget: { url: `http://127.0.0.1:${port}/webhooks` },
  });
  const rt = await startRuntime(loadConfig({
    SHOPIFY_API_KEY: apiKey, SHOPIFY_API_SECRET: apiSecret, SHOPIFY_APP_URL: `http://127.0.0.1:${port}`,
    PORT: String(port), HOST: '127.0.0.1', DATABASE_PATH: join(dir, 'shopml.db'), ARTIFACTS_DIR: join(dir, 'artifacts'),
    SHOPML_SECRET_KEY: randomBytes(32).toString('hex'), SHOPML_ADMIN_TOKEN: adminToken,
    SHOPIFY_ADMIN_BASE_URL: sim.baseUrlTemplate, LOG_LEVEL: 'silent',
  }));
  const webhookUrl = `${rt.url}/webhooks`;
  let stream: ReturnType<typeof createWebhookStream> | null = null;
  const shutdown = async () => {
    await stream?.stop();
    await rt.close();
    await sim.close();
  };

  try {
    // 1. Install: the admin's first request carries a session token; the backend exchanges it.
    const install = await fetch(`${rt.url}/api/v1/session`, { method: 'POST', headers: { Authorization: `Bearer ${sessionToken({ apiKey, secret: apiSecret, shop })}` } });
    if (!install.ok) throw new Error(`install failed: HTTP ${install.status} ${await install.text()}`);
    say('installed: offline access token obtained by token exchange and stored encrypted');

    // 2. Catalog: products/create and inventory_levels/update, signed as Shopify signs them.
    const catalog = createProgress({ label: 'catalog', total: store.products.length });
    for (const product of store.products) {
      await sendWebhook({ url: webhookUrl, secret: apiSecret, shop, topic: 'products/create', payload: productPayload(product, store) });
      for (const v of product.variants) {
        await sendWebhook({
          url: webhookUrl, secret: apiSecret, shop, topic: 'inventory_levels/update',
          payload: inventoryLevelPayload({ inventoryItemId: v.inventoryItemId, locationId: store.locationId ?? 1, available: v.inventoryQuantity, updatedAt: product.updatedAt }),
        });
      }
      catalog.tick(1);
    }
    catalog.done();

    // 3. History: a CSV import, or the store's year through an Admin API bulk export.
    if (dataFile) {
      const progress = createProgress({ label: 'import', total: 0, unit: 'bytes' });
      const s = await importFile({
        db: rt.deps.db, keys: rt.deps.keys, shop, file: resolve(dataFile), format,
        map: str(p, 'map') ? parseColumnMap(str(p, 'map')!) : undefined,
        onProgress: (e) => { progress.setTotal(e.total); progress.update(e.done); },
      });
      progress.done();
      say(`imported ${s.rows_imported} of ${s.rows_read} rows from ${dataFile} (${s.rows_skipped} skipped)`);
    } else {
      const progress = createProgress({ label: 'backfill', total: store.orders.length });
      const counts = await backfillShop({
        db: rt.deps.db, keys: rt.deps.keys, shop, adminBaseUrl: sim.baseUrlTemplate, pollIntervalMs: 250,
        onProgress: (e) => { if (e.phase === 'recorded') progress.update(e.counts.orders); },
      });
      progress.done();
      say(`backfilled ${counts.orders} orders (${counts.lines} lines) through a bulk export`);
    }

    // 4. Live orders: signed webhooks, with Shopify's redeliveries and stale updates.
    stream = createWebhookStream({ url: webhookUrl, secret: apiSecret, store, seed, ratePerSecond: rate, concurrency: 4 });
    const streaming = stream.start();
    const auth = `?shop=${shop}`;
    say('');
    say(`backend      ${rt.url}`);
    say(`status       curl -H 'Authorization: Bearer ${adminToken}' ${rt.url}/api/v1/status${auth}`);
    say(`metrics      ${rt.url}/metrics`);
    say(`database     ${join(dir, 'shopml.db')}   (npx shopml status --db ${join(dir, 'shopml.db')})`);
    say(`streaming live signed orders at ${rate}/s${forSeconds === null ? ' — Ctrl-C to stop' : ` for ${forSeconds} s`}`);

    const statusLine = () => {
      const s = shopStatus(rt.deps.db, shop)[0]!;
      return `${s.orders} orders, ${s.order_lines} lines, ${s.customers} customers, ${s.products} products, ${s.quarantined} quarantined; live: ${stream!.stats.delivered} delivered, ${stream!.stats.redelivered} redelivered`;
    };
    const ticker = setInterval(() => say(statusLine()), 5000);
    if (forSeconds !== null) {
      await new Promise((r) => setTimeout(r, forSeconds * 1000));
    } else {
      await new Promise<void>((r) => { process.once('SIGINT', () => r()); process.once('SIGTERM', () => r()); });
    }
    clearInterval(ticker);
    await stream.stop();
    await streaming.catch(() => undefined);
    const s = shopStatus(rt.deps.db, shop)[0]!;
    if (forSeconds !== null) {
      console.log(JSON.stringify({
        orders_ingested: s.orders,
        models: {},
        canary: null,
        urls: { backend: rt.url, metrics: `${rt.url}/metrics`, status: `${rt.url}/api/v1/status${auth}` },
        status: s,
        live: stream.stats,
      }));
    } else {
      say(statusLine());
    }
    return 0;
  } finally {
    await shutdown();
  }
}
