// `shopml controls exclude|include|pin|unpin|show|set|attribution` — the merchant's controls over
// storefront recommendations, from the command line. Writes the database directly; a running
// server notices on its next request (serve_settings.generation).
import { resolve } from 'node:path';
import { openDb } from '../store/db.ts';
import { isShopDomain } from '../shopify/verify.ts';
import { parseArgs, str, UsageError } from '../cli/args.ts';
import { ControlError, PRODUCT_ACTIONS, setProductControl, setServeSettings, showControls, type ControlsView, type ProductAction } from './controls.ts';
import { attributionSummary } from '../track/conversions.ts';

function whole(p: ReturnType<typeof parseArgs>, name: string): number | undefined {
  const v = str(p, name);
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v)) throw new UsageError(`--${name} must be a whole number`);
  return Number(v);
}

function describe(v: ControlsView): string {
  return [
    `${v.shop}`,
    `  excluded: ${v.excluded.length ? v.excluded.join(', ') : '(none)'}`,
    `  pinned:   ${v.pinned.length ? v.pinned.map((p) => `${p.position}. ${p.product_id}`).join(', ') : '(none)'}`,
    `  personal lists from ${v.min_history_orders} order${v.min_history_orders === 1 ? '' : 's'} of history; attribution window ${v.attribution_days} days`,
  ].join('\n');
}

export async function runControlsCommand(argv: string[], env: Record<string, string | undefined>): Promise<number> {
  const [sub, ...rest] = argv;
  const p = parseArgs(rest, { booleans: ['json'], strings: ['shop', 'product', 'position', 'min-history', 'attribution-days', 'since', 'db'] });
  const shop = str(p, 'shop');
  if (!shop || !isShopDomain(shop)) throw new UsageError('--shop must be a *.myshopify.com domain');
  const json = p.options.json === true;
  const db = openDb(resolve(str(p, 'db') ?? env.DATABASE_PATH ?? './data/shopml.db'));
  try {
    const now = new Date().toISOString();
    let view: ControlsView;
    if (PRODUCT_ACTIONS.includes(sub as ProductAction)) {
      const product = str(p, 'product');
      if (!product) throw new UsageError('--product is required');
      const position = whole(p, 'position');
      if (position !== undefined && sub !== 'pin') throw new UsageError('--position applies to pin only');
      try {
        view = db.transaction(() => setProductControl(db, shop, product, sub as ProductAction, now, position))();
      } catch (err) {
        if (err instanceof ControlError) throw new UsageError(err.message);
        throw err;
      }
    } else if (sub === 'set') {
      const minHistoryOrders = whole(p, 'min-history');
      const attributionDays = whole(p, 'attribution-days');
      if (minHistoryOrders === undefined && attributionDays === undefined) throw new UsageError('give --min-history and/or --attribution-days');
      try {
        view = db.transaction(() => setServeSettings(db, shop, { minHistoryOrders, attributionDays }, now))();
      } catch (err) {
        if (err instanceof ControlError) throw new UsageError(err.message);
        throw err;
      }
    } else if (sub === 'show') {
      view = showControls(db, shop);
    } else if (sub === 'attribution') {
      const since = str(p, 'since');
      if (since !== undefined && Number.isNaN(Date.parse(since))) throw new UsageError('--since must be an ISO timestamp');
      const rows = attributionSummary(db, shop, { since: since ? new Date(since).toISOString() : undefined });
      if (json) console.log(JSON.stringify({ shop, since: since ?? null, variants: rows }));
      else if (rows.length === 0) console.log(`${shop}: no attributed orders${since ? ` since ${since}` : ''}`);
      else for (const r of rows) console.log(`${r.variant}\t${r.orders} orders\t${r.lines} lines\t${r.revenue.toFixed(2)} ${r.currency ?? ''}`.trimEnd());
      return 0;
    } else {
      throw new UsageError('expected a subcommand: exclude, include, pin, unpin, show, set or attribution');
    }
    console.log(json ? JSON.stringify(view) : describe(view));
    return 0;
  } finally {
    db.close();
  }
}
