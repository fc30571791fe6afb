// `shopml products set-lead-time --shop DOMAIN --product ID --days N` (and `list-lead-times`).
import { resolve } from 'node:path';
import { openDb } from '../store/db.ts';
import { isShopDomain } from '../shopify/verify.ts';
import { setLeadTime, listLeadTimes } from '../store/product-settings.ts';
import { parseArgs, str, UsageError } from './args.ts';

export async function runProductsCommand(argv: string[], env: Record<string, string | undefined>): Promise<number> {
  const [sub, ...rest] = argv;
  const p = parseArgs(rest, { booleans: ['json', 'clear'], strings: ['shop', 'product', 'days', 'db'] });
  const shop = str(p, 'shop');
  if (!shop || !isShopDomain(shop)) throw new UsageError('--shop must be a *.myshopify.com domain');
  const db = openDb(resolve(str(p, 'db') ?? env.DATABASE_PATH ?? './data/shopml.db'));
  try {
    if (sub === 'set-lead-time') {
      const product = str(p, 'product');
      if (!product) throw new UsageError('--product is required');
      const days = p.options.clear ? null : Number(str(p, 'days'));
      if (days !== null && !(Number.isFinite(days) && days > 0 && days <= 365)) throw new UsageError('--days must be a number of days from 0 to 365 (or --clear)');
      setLeadTime(db, shop, product, days, new Date().toISOString());
      console.log(p.options.json ? JSON.stringify({ shop, product_id: product, lead_time_days: days }) : `${shop} ${product}: lead time ${days === null ? 'cleared (default 14 days)' : `${days} days`}`);
      return 0;
    }
    if (sub === 'lead-times') {
      const rows = listLeadTimes(db, shop);
      if (p.options.json) console.log(JSON.stringify({ shop, lead_times: rows }));
      else for (const r of rows) console.log(`${r.product_id}\t${r.lead_time_days} days`);
      return 0;
    }
    throw new UsageError('expected a subcommand: set-lead-time or lead-times');
  } finally {
    db.close();
  }
}
