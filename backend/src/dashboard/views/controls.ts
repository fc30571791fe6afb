// Merchant controls as the dashboard shows them: excluded and pinned products (with titles),
// the serving settings, and the lead times set per product.
import type { Db } from '../../store/db.ts';
import { showControls } from '../../serve/controls.ts';
import { listLeadTimes } from '../../store/product-settings.ts';

export function controlsView(db: Db, shop: string) {
  const c = showControls(db, shop);
  const title = db.prepare('SELECT title FROM products WHERE shop = ? AND product_id = ?').pluck();
  const named = (id: string) => ({ productId: id, title: (title.get(shop, id) as string | undefined) ?? null });
  return {
    excluded: c.excluded.map(named),
    pinned: c.pinned.map((p) => ({ ...named(p.product_id), position: p.position })),
    minHistoryOrders: c.min_history_orders,
    attributionDays: c.attribution_days,
    updatedAt: c.updated_at,
    leadTimes: listLeadTimes(db, shop).map((l) => ({ ...named(l.product_id), leadTimeDays: l.lead_time_days })),
  };
}
