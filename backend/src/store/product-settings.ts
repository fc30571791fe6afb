// Merchant settings per product (supplier lead time for reorder suggestions).
import type { Db } from './db.ts';

export const DEFAULT_LEAD_TIME_DAYS = 14;

export function setLeadTime(db: Db, shop: string, productId: string, days: number | null, now: string): void {
  db.prepare(`INSERT INTO product_settings (shop, product_id, lead_time_days, updated_at) VALUES (?, ?, ?, ?)
    ON CONFLICT (shop, product_id) DO UPDATE SET lead_time_days = excluded.lead_time_days, updated_at = excluded.updated_at`).run(shop, productId, days, now);
}

export function listLeadTimes(db: Db, shop: string): { product_id: string; lead_time_days: number }[] {
  return db.prepare('SELECT product_id, lead_time_days FROM product_settings WHERE shop = ? AND lead_time_days IS NOT NULL ORDER BY product_id').all(shop) as
    { product_id: string; lead_time_days: number }[];
}
