// The projections (orders, order lines, customers, products, variants, inventory, refunds) are
// derived state: this rebuilds a shop's from its event log, replayed in arrival order.
import type { Db } from '../store/db.ts';
import { applyEvent, decodeEventPayload } from './record.ts';

export const PROJECTION_TABLES = ['order_lines', 'orders', 'customers', 'variants', 'products', 'inventory', 'refunds'] as const;

export function rebuildProjections(db: Db, shop: string): { events: number } {
  let events = 0;
  db.transaction(() => {
    for (const t of PROJECTION_TABLES) db.prepare(`DELETE FROM ${t} WHERE shop = ?`).run(shop);
    // Only events that carry a normalized data event (not compliance or lifecycle log lines).
    // Paged: better-sqlite3 cannot write while an iterator on the same connection is open.
    const page = db.prepare(`SELECT id, payload FROM events WHERE shop = ? AND id > ? AND outcome IN ('applied', 'stale')
      AND json_extract(payload, '$.type') IS NOT NULL ORDER BY id LIMIT 5000`);
    for (let last = 0; ;) {
      const rows = page.all(shop, last) as { id: number; payload: string }[];
      if (rows.length === 0) break;
      for (const r of rows) applyEvent(db, shop, decodeEventPayload(r.payload));
      events += rows.length;
      last = rows[rows.length - 1]!.id;
    }
  }).immediate();
  return { events };
}
