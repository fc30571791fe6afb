// `shopml backfill --shop DOMAIN [--json]`: a bulk export of the shop's orders, ingested.
import { resolve } from 'node:path';
import { createKeys } from '../keys.ts';
import { openDb } from '../store/db.ts';
import { backfillShop, NotInstalledError } from '../ingest/backfill-shop.ts';
import { isShopDomain } from '../shopify/verify.ts';
import { parseArgs, str, UsageError } from './args.ts';
import { createProgress } from './progress.ts';

export async function runBackfillCommand(argv: string[], env: Record<string, string | undefined>): Promise<number> {
  const p = parseArgs(argv, { booleans: ['json'], strings: ['shop', 'db'] });
  const shop = str(p, 'shop');
  if (!shop || !isShopDomain(shop)) throw new UsageError('--shop must be a *.myshopify.com domain');
  const secret = env.SHOPML_SECRET_KEY;
  if (!secret || secret.length < 32) {
    console.error('configuration error: SHOPML_SECRET_KEY is required (at least 32 characters) to read the stored access token');
    return 78;
  }
  const db = openDb(resolve(str(p, 'db') ?? env.DATABASE_PATH ?? './data/shopml.db'));
  const progress = p.options.json ? null : createProgress({ label: 'backfill', total: 0 });
  try {
    const counts = await backfillShop({
      db, keys: createKeys(secret), shop, adminBaseUrl: env.SHOPIFY_ADMIN_BASE_URL || 'https://{shop}',
      onProgress: (e) => { if (e.phase === 'recorded') progress?.update(e.counts.orders); },
    });
    progress?.done();
    if (p.options.json) console.log(JSON.stringify(counts));
    else console.log(`${shop}: ${counts.orders} orders (${counts.lines} lines) read; ${counts.applied} applied, ${counts.duplicate} already stored, ${counts.stale} stale, ${counts.suppressed} suppressed (redacted customers)`);
    return 0;
  } catch (err) {
    progress?.done();
    if (err instanceof NotInstalledError) {
      console.error(`error: ${err.message}`);
      return 1;
    }
    throw err;
  } finally {
    db.close();
  }
}
