// `shopml backfill --shop DOMAIN [--what products|orders|all] [--json]`: bulk exports of the
// shop's catalog (products, variants, images, stock) and order history, ingested.
import { resolve } from 'node:path';
import { createKeys } from '../keys.ts';
import { openDb } from '../store/db.ts';
import { BACKFILL_WHAT, type BackfillWhat, backfillShop, NotInstalledError } from '../ingest/backfill-shop.ts';
import { isShopDomain } from '../shopify/verify.ts';
import { parseArgs, str, UsageError } from './args.ts';
import { createProgress, type Progress } from './progress.ts';

export async function runBackfillCommand(argv: string[], env: Record<string, string | undefined>): Promise<number> {
  const p = parseArgs(argv, { booleans: ['json'], strings: ['shop', 'db', 'what'] });
  const shop = str(p, 'shop');
  if (!shop || !isShopDomain(shop)) throw new UsageError('--shop must be a *.myshopify.com domain');
  const what = (str(p, 'what') ?? 'all') as BackfillWhat;
  if (!BACKFILL_WHAT.includes(what)) throw new UsageError(`--what must be one of ${BACKFILL_WHAT.join(', ')}`);
  const secret = env.SHOPML_SECRET_KEY;
  if (!secret || secret.length < 32) {
    console.error('configuration error: SHOPML_SECRET_KEY is required (at least 32 characters) to read the stored access token');
    return 78;
  }
  const db = openDb(resolve(str(p, 'db') ?? env.DATABASE_PATH ?? './data/shopml.db'));
  // One bar per export, drawn while its chunks are recorded.
  const bars = new Map<string, Progress>();
  const bar = (label: string): Progress | null => {
    if (p.options.json) return null;
    let b = bars.get(label);
    if (!b) {
      for (const other of bars.values()) other.done();
      bars.set(label, (b = createProgress({ label, total: 0 })));
    }
    return b;
  };
  try {
    const counts = await backfillShop({
      db, keys: createKeys(secret), shop, what, adminBaseUrl: env.SHOPIFY_ADMIN_BASE_URL || 'https://{shop}',
      onProgress: (e) => {
        if (e.phase !== 'recorded') return;
        if (e.what === 'products') bar('products')?.update(e.counts.products);
        else bar('orders')?.update(e.counts.orders);
      },
    });
    for (const b of bars.values()) b.done();
    if (p.options.json) {
      console.log(JSON.stringify(counts));
      return 0;
    }
    const c = counts.products;
    if (c) {
      console.log(`${shop}: ${c.products} products (${c.variants} variants) read; ${c.applied} applied, ${c.duplicate} already stored, ${c.stale} stale (a newer webhook kept); `
        + `stock of ${c.inventory.applied + c.inventory.unchanged + c.inventory.stale} tracked variants: ${c.inventory.applied} applied, ${c.inventory.unchanged} unchanged, ${c.inventory.stale} stale`);
    }
    const o = counts.orders;
    if (o) console.log(`${shop}: ${o.orders} orders (${o.lines} lines) read; ${o.applied} applied, ${o.duplicate} already stored, ${o.stale} stale, ${o.suppressed} suppressed (redacted customers)`);
    return 0;
  } catch (err) {
    for (const b of bars.values()) b.done();
    if (err instanceof NotInstalledError) {
      console.error(`error: ${err.message}`);
      return 1;
    }
    throw err;
  } finally {
    db.close();
  }
}
