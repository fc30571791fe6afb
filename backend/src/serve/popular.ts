// Popularity: what every storefront request can always be answered with, and what the holdout
// arm is served (no model at all). Units sold in the 90 days up to the shop's latest order (not
// the wall clock: an imported history is "now" at its end), product lines of real orders only,
// net of refunds. Stock, deletion and merchant exclusions are applied at serve time (catalog.ts,
// controls.ts), so this list only changes when orders do and is cached for minutes.
import type { Db } from '../store/db.ts';
import { perConnection } from '../store/per-connection.ts';

export type { ServedProduct } from './catalog.ts';

const popularStatement = perConnection((db: Db) => db.prepare(`
  WITH last AS (SELECT max(created_at) AS t FROM orders WHERE shop = @shop)
  SELECT l.product_id
  FROM order_lines l JOIN orders o ON o.shop = l.shop AND o.order_id = l.order_id, last
  WHERE l.shop = @shop AND l.line_kind = 'product' AND l.product_id IS NOT NULL AND o.cancelled_at IS NULL
    AND o.kind = 'order' AND o.created_at >= datetime(last.t, '-' || @days || ' days')
  GROUP BY l.product_id
  HAVING sum(l.quantity - l.refunded_quantity) > 0
  ORDER BY sum(l.quantity - l.refunded_quantity) DESC, l.product_id
  LIMIT @cap`).pluck());

export function popularIds(db: Db, shop: string, opts: { cap?: number; windowDays?: number } = {}): string[] {
  return popularStatement(db).all({ shop, days: opts.windowDays ?? 90, cap: opts.cap ?? 200 }) as string[];
}
