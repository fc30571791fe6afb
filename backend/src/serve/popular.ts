// Popularity: the fallback every storefront request can always answer with. Units sold in the
// 90 days up to the shop's latest order (not the wall clock: an imported history is "now" at its
// end), product lines only, never deleted or out-of-stock products.
import type { Db } from '../store/db.ts';

export interface ServedProduct {
  id: string;
  variant_id: string | null;
  handle: string | null;
  title: string | null;
  price: { amount: string; currency: string } | null;
  image: string | null;
  url: string | null;
}

export function popularProducts(db: Db, shop: string, opts: { limit: number; exclude?: string[]; windowDays?: number }): ServedProduct[] {
  const windowDays = opts.windowDays ?? 90;
  const exclude = new Set(opts.exclude ?? []);
  const currency = (db.prepare(`SELECT currency FROM orders WHERE shop = ? AND currency IS NOT NULL ORDER BY created_at DESC LIMIT 1`).pluck().get(shop) as string | undefined) ?? 'USD';
  const rows = db.prepare(`
    WITH last AS (SELECT max(created_at) AS t FROM orders WHERE shop = @shop),
    sold AS (
      SELECT l.product_id, sum(l.quantity - l.refunded_quantity) AS units
      FROM order_lines l JOIN orders o ON o.shop = l.shop AND o.order_id = l.order_id, last
      WHERE l.shop = @shop AND l.line_kind = 'product' AND l.product_id IS NOT NULL AND o.cancelled_at IS NULL
        AND o.kind = 'order' AND o.created_at >= datetime(last.t, '-' || @days || ' days')
      GROUP BY l.product_id
    ),
    stock AS (
      SELECT v.product_id, sum(i.available) AS available, count(i.available) AS known
      FROM variants v LEFT JOIN inventory i ON i.shop = v.shop AND i.inventory_item_id = v.inventory_item_id
      WHERE v.shop = @shop GROUP BY v.product_id
    )
    SELECT s.product_id AS id, p.handle, p.title, p.deleted_at,
      (SELECT v.variant_id FROM variants v WHERE v.shop = @shop AND v.product_id = s.product_id ORDER BY v.variant_id LIMIT 1) AS variant_id,
      (SELECT v.price FROM variants v WHERE v.shop = @shop AND v.product_id = s.product_id ORDER BY v.variant_id LIMIT 1) AS price,
      (SELECT v.image FROM variants v WHERE v.shop = @shop AND v.product_id = s.product_id ORDER BY v.variant_id LIMIT 1) AS image,
      st.available, st.known
    FROM sold s LEFT JOIN products p ON p.shop = @shop AND p.product_id = s.product_id
      LEFT JOIN stock st ON st.product_id = s.product_id
    WHERE s.units > 0 AND p.deleted_at IS NULL AND (p.status IS NULL OR p.status = 'ACTIVE')
      AND (st.known IS NULL OR st.known = 0 OR st.available > 0)
    ORDER BY s.units DESC, s.product_id
    LIMIT @cap`).all({ shop, days: windowDays, cap: opts.limit + exclude.size }) as {
      id: string; handle: string | null; title: string | null; variant_id: string | null; price: number | null; image: string | null;
    }[];
  return rows
    .filter((r) => !exclude.has(r.id))
    .slice(0, opts.limit)
    .map((r) => ({
      id: r.id,
      variant_id: r.variant_id,
      handle: r.handle,
      title: r.title,
      price: r.price === null ? null : { amount: r.price.toFixed(2), currency },
      image: r.image,
      url: r.handle ? `/products/${r.handle}` : null,
    }));
}
