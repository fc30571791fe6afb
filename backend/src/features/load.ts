// Reads a shop's stored orders back as NormalizedOrder[], as of a watermark, for the cleaning
// step (clean.ts). Training reads the store through this; evaluation reads files through the
// import parser; both then share cleanOrders().
import type { Db } from '../store/db.ts';
import type { LineKind, NormalizedOrder, OrderKind } from '../ingest/types.ts';

interface OrderRow {
  order_id: string; name: string | null; kind: OrderKind; customer_id: string | null; email_hash: string | null;
  created_at: string; updated_at: string; cancelled_at: string | null; currency: string | null; total_price: number | null;
  financial_status: string | null; source_name: string | null; country: string | null; test: number;
}
interface LineRow {
  order_id: string; line_id: string; product_id: string | null; variant_id: string | null; sku: string | null; title: string | null;
  quantity: number; price: number; refunded_quantity: number; line_kind: LineKind;
}

/** Orders created before `asOf` (ISO; default: everything), oldest first. */
export function loadOrders(db: Db, shop: string, opts: { asOf?: string } = {}): NormalizedOrder[] {
  const asOf = opts.asOf ?? '9999-12-31T23:59:59.999Z';
  const orders = db.prepare(`SELECT * FROM orders WHERE shop = ? AND created_at < ? ORDER BY created_at, order_id`).all(shop, asOf) as OrderRow[];
  const byId = new Map<string, NormalizedOrder>();
  const out = orders.map((o) => {
    const n: NormalizedOrder = {
      id: o.order_id, name: o.name, kind: o.kind, customerId: o.customer_id, emailHash: o.email_hash, createdAt: o.created_at,
      updatedAt: o.updated_at, cancelledAt: o.cancelled_at, currency: o.currency, totalPrice: o.total_price,
      financialStatus: o.financial_status, sourceName: o.source_name, country: o.country, test: o.test === 1, lines: [],
    };
    byId.set(o.order_id, n);
    return n;
  });
  const lines = db.prepare(`SELECT l.* FROM order_lines l JOIN orders o ON o.shop = l.shop AND o.order_id = l.order_id
    WHERE l.shop = ? AND o.created_at < ? ORDER BY l.order_id, l.line_id`).iterate(shop, asOf) as IterableIterator<LineRow>;
  for (const l of lines) {
    byId.get(l.order_id)?.lines.push({
      id: l.line_id, productId: l.product_id, variantId: l.variant_id, sku: l.sku, title: l.title, quantity: l.quantity,
      price: l.price, refundedQuantity: l.refunded_quantity, lineKind: l.line_kind,
    });
  }
  return out;
}

/** The newest order time stored for a shop: the watermark a snapshot is taken at. */
export function latestOrderTime(db: Db, shop: string): string | null {
  return (db.prepare('SELECT max(created_at) FROM orders WHERE shop = ?').pluck().get(shop) as string | null) ?? null;
}
