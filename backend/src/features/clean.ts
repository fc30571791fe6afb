// THE cleaning step — one function used by training, evaluation and the dashboard alike, so
// every figure shopml shows is computed on the same sales. Input: normalized orders (from the
// store, a CSV file or a bulk export). Output: the sales lines models learn from, the returns
// they may use as a signal, and counts of what was left out and why.
//
// Rules (each counted in CleaningStats):
//  1. test orders, cancelled orders (Shopify `cancelled_at`) and bad-debt adjustments (`A…`
//     invoices) are not sales: dropped.
//  2. non-product lines (postage, fees, vouchers, manual adjustments, custom items) and stock
//     write-offs are not demand for a product: dropped (`lineKind` from ingest/line-kind.ts).
//  3. a cancellation line (`C…` invoice, negative quantity) that reverses an earlier sale of the
//     same product to the same customer with the same quantity within 48 hours is an entry
//     error undone (the data set's wholesale lines of tens of thousands of units entered and
//     reversed within minutes): both lines are removed. Other cancellation lines are returns:
//     kept apart (returns rate feature), not subtracted from demand.
//  4. sales lines with a price ≤ 0 (free samples, corrections) or a quantity ≤ 0 after refunds
//     are dropped.
//  5. an order none of whose lines names a product (order-level data: a CSV without a product
//     column, or a Shopify order of custom items only) is still a purchase for the customer
//     models: it is kept as one sales line of ORDER_LEVEL_PRODUCT, quantity 1, at its value.
//     Product models never see these lines (productSales()).
//  6. exact duplicate lines are kept — the import keeps both scans as separate lines and they are
//     summed here as real units (the data set's convention: a second scan is a second unit).
import type { NormalizedOrder } from '../ingest/types.ts';

export interface SaleLine {
  orderId: string;
  customerId: string | null;
  productId: string;
  title: string | null;
  time: number; // epoch ms of the order
  quantity: number; // > 0
  price: number; // unit price > 0
  country: string | null;
}

export interface ReturnLine {
  orderId: string;
  customerId: string | null;
  productId: string;
  time: number;
  quantity: number; // > 0 units returned
  price: number;
}

export interface CleaningStats {
  orders_in: number;
  lines_in: number;
  sales_lines: number;
  return_lines: number;
  dropped: {
    test_orders: number;
    cancelled_orders: number;
    adjustment_orders: number;
    non_product_lines: number;
    writeoff_lines: number;
    reversed_pairs: number;
    nonpositive_price: number;
    nonpositive_quantity: number;
    missing_product: number;
  };
}

export interface CleanData {
  sales: SaleLine[];
  returns: ReturnLine[];
  stats: CleaningStats;
}

export const REVERSAL_WINDOW_MS = 48 * 3600 * 1000;

/** The product id of an order-level sales line (rule 5): never a product to recommend or forecast. */
export const ORDER_LEVEL_PRODUCT = '__order__';

/** Sales of real products only: what recommendation and demand models learn from. */
export function productSales(data: CleanData): CleanData {
  if (!data.sales.some((s) => s.productId === ORDER_LEVEL_PRODUCT)) return data;
  return { ...data, sales: data.sales.filter((s) => s.productId !== ORDER_LEVEL_PRODUCT) };
}

/** True when no sales line names a product: only the customer models can learn from this data. */
export function isOrderLevelOnly(data: CleanData): boolean {
  return data.sales.length > 0 && data.sales.every((s) => s.productId === ORDER_LEVEL_PRODUCT);
}

export function cleanOrders(orders: Iterable<NormalizedOrder>): CleanData {
  const stats: CleaningStats = {
    orders_in: 0, lines_in: 0, sales_lines: 0, return_lines: 0,
    dropped: {
      test_orders: 0, cancelled_orders: 0, adjustment_orders: 0, non_product_lines: 0, writeoff_lines: 0,
      reversed_pairs: 0, nonpositive_price: 0, nonpositive_quantity: 0, missing_product: 0,
    },
  };
  const sales: (SaleLine | null)[] = [];
  const cancellations: ReturnLine[] = [];
  for (const o of orders) {
    stats.orders_in++;
    stats.lines_in += o.lines.length;
    if (o.test) { stats.dropped.test_orders++; continue; }
    if (o.kind === 'adjustment') { stats.dropped.adjustment_orders++; continue; }
    if (o.kind === 'order' && o.cancelledAt) { stats.dropped.cancelled_orders++; continue; }
    const time = Date.parse(o.createdAt);
    if (o.kind === 'order' && o.lines.length > 0 && o.lines.every((l) => !l.productId)) {
      const value = o.lines.reduce((a, l) => a + l.quantity * l.price, 0) || (o.totalPrice ?? 0);
      if (value > 0) sales.push({ orderId: o.id, customerId: o.customerId, productId: ORDER_LEVEL_PRODUCT, title: null, time, quantity: 1, price: value, country: o.country });
      else stats.dropped.nonpositive_price++;
      continue;
    }
    for (const l of o.lines) {
      if (l.lineKind === 'non_product') { stats.dropped.non_product_lines++; continue; }
      if (l.lineKind === 'writeoff') { stats.dropped.writeoff_lines++; continue; }
      if (!l.productId) { stats.dropped.missing_product++; continue; }
      if (o.kind === 'cancellation' || l.quantity < 0) {
        cancellations.push({ orderId: o.id, customerId: o.customerId, productId: l.productId, time, quantity: Math.abs(l.quantity), price: l.price });
        continue;
      }
      const quantity = l.quantity - (l.refundedQuantity ?? 0);
      if (l.price <= 0) { stats.dropped.nonpositive_price++; continue; }
      if (quantity <= 0) { stats.dropped.nonpositive_quantity++; continue; }
      sales.push({ orderId: o.id, customerId: o.customerId, productId: l.productId, title: l.title, time, quantity, price: l.price, country: o.country });
    }
  }
  // Rule 3: match each cancellation to the latest earlier identical sale within the window.
  const byKey = new Map<string, number[]>();
  sales.forEach((s, i) => {
    if (!s) return;
    const k = `${s.customerId ?? ''}\u0000${s.productId}\u0000${s.quantity}`;
    let arr = byKey.get(k);
    if (!arr) byKey.set(k, (arr = []));
    arr.push(i);
  });
  const returns: ReturnLine[] = [];
  for (const c of cancellations.sort((a, b) => a.time - b.time)) {
    const arr = byKey.get(`${c.customerId ?? ''}\u0000${c.productId}\u0000${c.quantity}`);
    let matched = -1;
    if (arr) {
      for (let j = arr.length - 1; j >= 0; j--) {
        const s = sales[arr[j]!];
        if (s && s.time <= c.time && c.time - s.time <= REVERSAL_WINDOW_MS) { matched = j; break; }
      }
    }
    if (matched >= 0) {
      sales[arr![matched]!] = null;
      arr!.splice(matched, 1);
      stats.dropped.reversed_pairs++;
    } else {
      returns.push(c);
    }
  }
  const kept = sales.filter((s): s is SaleLine => s !== null).sort((a, b) => a.time - b.time || (a.orderId < b.orderId ? -1 : a.orderId > b.orderId ? 1 : 0));
  stats.sales_lines = kept.length;
  stats.return_lines = returns.length;
  return { sales: kept, returns, stats };
}
