// Per-shop counts for `shopml status` and GET /api/v1/status.
import type { Db } from './db.ts';

export interface ShopStatus {
  shop: string;
  events: number;
  orders: number;
  order_lines: number;
  customers: number;
  products: number;
  quarantined: number;
}

export function shopStatus(db: Db, shop?: string): ShopStatus[] {
  const shops = shop
    ? [shop]
    : (db.prepare(`SELECT shop FROM shops UNION SELECT DISTINCT shop FROM events UNION SELECT DISTINCT shop FROM quarantine ORDER BY 1`).pluck().all() as string[]);
  const count = (table: string) => db.prepare(`SELECT count(*) FROM ${table} WHERE shop = ?`).pluck();
  const q = {
    events: count('events'), orders: count('orders'), order_lines: count('order_lines'),
    customers: count('customers'), products: count('products'), quarantined: count('quarantine'),
  };
  return shops.map((s) => ({
    shop: s,
    events: q.events.get(s) as number,
    orders: q.orders.get(s) as number,
    order_lines: q.order_lines.get(s) as number,
    customers: q.customers.get(s) as number,
    products: q.products.get(s) as number,
    quarantined: q.quarantined.get(s) as number,
  }));
}
