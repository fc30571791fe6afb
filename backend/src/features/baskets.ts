// Baskets: what the recommendation models learn from, built from the cleaned sales (clean.ts) so
// non-product lines, write-offs and reversed entries are already gone (order-level lines, which
// name no product, are skipped here). Three views of the same
// sales, all indexed by dense integers so the models can work on typed arrays:
//   - orders: the set of distinct products in each order (guest orders included: they are real
//     co-purchases even without a customer),
//   - customer histories: for every known customer, each product they bought with the number of
//     distinct orders it was in, the units, and the last time they bought it,
//   - product popularity: orders, distinct customers, units, first and last sale.
// Product and customer indexes are sorted by id, so the same sales always give the same indexes.
import { ORDER_LEVEL_PRODUCT, type CleanData, type SaleLine } from './clean.ts';

export interface BasketOrder {
  id: string;
  /** Index into `customers`, or -1 for a guest order. */
  customer: number;
  time: number;
  /** Distinct product indexes, ascending. */
  items: Int32Array;
}

export interface CustomerHistory {
  /** Distinct product indexes, ascending. */
  items: Int32Array;
  /** Number of distinct orders containing items[k]. */
  counts: Int32Array;
  /** Units of items[k] bought over all orders. */
  units: Float64Array;
  /** Last time (epoch ms) items[k] was bought. */
  last: Float64Array;
  /** Number of distinct orders. */
  orders: number;
  firstTime: number;
  lastTime: number;
}

export interface ProductPopularity {
  /** Distinct orders (guest orders included) containing the product. */
  orders: Int32Array;
  /** Distinct known customers who bought it. */
  customers: Int32Array;
  units: Float64Array;
  firstSold: Float64Array;
  lastSold: Float64Array;
}

export interface Baskets {
  products: string[];
  productIndex: Map<string, number>;
  /** A title per product (the most recent one seen), for display only. */
  titles: (string | null)[];
  customers: string[];
  customerIndex: Map<string, number>;
  /** Oldest first (ties by order id). */
  orders: BasketOrder[];
  histories: CustomerHistory[];
  popularity: ProductPopularity;
  /** Time of the first and last sale (NaN when there are none). */
  firstTime: number;
  lastTime: number;
}

export interface BasketOptions {
  /** Only sales strictly before this instant (epoch ms). */
  until?: number;
  /** Only sales at or after this instant. */
  from?: number;
}

const byString = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

export function buildBaskets(data: CleanData | readonly SaleLine[], opts: BasketOptions = {}): Baskets {
  const all = Array.isArray(data) ? (data as readonly SaleLine[]) : (data as CleanData).sales;
  const until = opts.until ?? Infinity;
  const from = opts.from ?? -Infinity;
  // Order-level lines (orders naming no product, clean.ts rule 5) are not products: never here.
  const sales = all.filter((s) => s.time < until && s.time >= from && s.productId !== ORDER_LEVEL_PRODUCT);

  const products = [...new Set(sales.map((s) => s.productId))].sort(byString);
  const productIndex = new Map(products.map((p, i) => [p, i]));
  const customers = [...new Set(sales.map((s) => s.customerId).filter((c): c is string => c !== null))].sort(byString);
  const customerIndex = new Map(customers.map((c, i) => [c, i]));
  const n = products.length;

  const titles: (string | null)[] = new Array(n).fill(null);
  const titleTime = new Float64Array(n).fill(-Infinity);

  // Group lines by order (an order's lines share one time; the first line's customer wins).
  interface Acc { id: string; customer: number; time: number; items: Map<number, number> }
  const byOrder = new Map<string, Acc>();
  for (const s of sales) {
    const p = productIndex.get(s.productId)!;
    if (s.title !== null && s.time >= titleTime[p]!) { titles[p] = s.title; titleTime[p] = s.time; }
    let o = byOrder.get(s.orderId);
    if (!o) {
      o = { id: s.orderId, customer: s.customerId === null ? -1 : customerIndex.get(s.customerId)!, time: s.time, items: new Map() };
      byOrder.set(s.orderId, o);
    }
    if (s.time < o.time) o.time = s.time;
    o.items.set(p, (o.items.get(p) ?? 0) + s.quantity);
  }
  const accs = [...byOrder.values()].sort((a, b) => a.time - b.time || byString(a.id, b.id));

  const pop: ProductPopularity = {
    orders: new Int32Array(n), customers: new Int32Array(n), units: new Float64Array(n),
    firstSold: new Float64Array(n).fill(Infinity), lastSold: new Float64Array(n).fill(-Infinity),
  };
  // Per-customer accumulators: product → [orders, units, last].
  const perCustomer: Map<number, [number, number, number]>[] = customers.map(() => new Map());
  const custOrders = new Int32Array(customers.length);
  const custFirst = new Float64Array(customers.length).fill(Infinity);
  const custLast = new Float64Array(customers.length).fill(-Infinity);

  const orders: BasketOrder[] = accs.map((o) => {
    const items = Int32Array.from([...o.items.keys()].sort((a, b) => a - b));
    for (const p of items) {
      pop.orders[p]!++;
      pop.units[p]! += o.items.get(p)!;
      if (o.time < pop.firstSold[p]!) pop.firstSold[p] = o.time;
      if (o.time > pop.lastSold[p]!) pop.lastSold[p] = o.time;
    }
    if (o.customer >= 0) {
      const c = o.customer;
      custOrders[c]!++;
      if (o.time < custFirst[c]!) custFirst[c] = o.time;
      if (o.time > custLast[c]!) custLast[c] = o.time;
      const h = perCustomer[c]!;
      for (const p of items) {
        const e = h.get(p);
        if (e) { e[0]++; e[1] += o.items.get(p)!; if (o.time > e[2]) e[2] = o.time; } else h.set(p, [1, o.items.get(p)!, o.time]);
      }
    }
    return { id: o.id, customer: o.customer, time: o.time, items };
  });

  const histories: CustomerHistory[] = perCustomer.map((h, c) => {
    const items = Int32Array.from([...h.keys()].sort((a, b) => a - b));
    const counts = new Int32Array(items.length);
    const units = new Float64Array(items.length);
    const last = new Float64Array(items.length);
    items.forEach((p, k) => {
      const e = h.get(p)!;
      counts[k] = e[0]; units[k] = e[1]; last[k] = e[2];
      pop.customers[p]!++;
    });
    return { items, counts, units, last, orders: custOrders[c]!, firstTime: custFirst[c]!, lastTime: custLast[c]! };
  });

  return {
    products, productIndex, titles, customers, customerIndex, orders, histories, popularity: pop,
    firstTime: orders.length ? orders[0]!.time : NaN,
    lastTime: orders.length ? orders[orders.length - 1]!.time : NaN,
  };
}

/** Distinct orders containing each product (indexes of `b.products`) with a time in [from, to). */
export function ordersInWindow(b: Baskets, from: number, to: number): Int32Array {
  const out = new Int32Array(b.products.length);
  for (const o of b.orders) {
    if (o.time < from || o.time >= to) continue;
    for (const p of o.items) out[p]!++;
  }
  return out;
}

/** Distinct products each known customer bought in a set of sales (e.g. a test period). */
export function productsByCustomer(sales: readonly SaleLine[]): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const s of sales) {
    if (s.customerId === null) continue;
    let set = out.get(s.customerId);
    if (!set) out.set(s.customerId, (set = new Set()));
    set.add(s.productId);
  }
  return out;
}
