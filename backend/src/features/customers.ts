// Customer features as of a watermark `asOf` (epoch ms; never the wall clock): one row per
// customer with at least one sale strictly before `asOf`, columnar (ids + Float64Arrays).
// Guests (customerId null) are left out: nothing links their orders together.
//
// Definitions (days are 86,400,000 ms; an "order" is one orderId among the clean sales lines):
//  recencyDays      asOf − last order
//  frequency        orders
//  monetary         Σ quantity × price over the orders
//  avgOrderValue    monetary / frequency
//  repeatRate       share of the customer's distinct products bought in two or more orders
//                   (0 for a one-product customer) — how much of the basket is re-bought
//  tenureDays       asOf − first order
//  meanGapDays      mean days between consecutive orders (NaN with fewer than two orders)
//  sdGapDays        population sd of those gaps (NaN with fewer than two orders)
//  distinctProducts distinct productIds bought
//  returnRate       returned value / purchased value (returns = cancellation lines that were
//                   not entry errors, features/clean.ts rule 3), both before asOf
//  returnOrderRate  distinct return invoices / orders
//  purchaseDays     distinct UTC days with an order (what BG/NBD counts as transactions)
//  orders30d/90d    orders in the last 30 / 90 days before asOf
//  spend90d         monetary of those last-90-day orders
import type { CleanData } from './clean.ts';

export const DAY_MS = 86_400_000;

export interface CustomerOrder {
  orderId: string;
  time: number;
  value: number;
  /** Indices into CustomerHistories.products. */
  products: number[];
}

export interface CustomerHistory {
  customerId: string;
  /** Sorted by time (then orderId). */
  orders: CustomerOrder[];
  /** Sorted by time. */
  returns: { orderId: string; time: number; value: number }[];
}

export interface CustomerHistories {
  /** Sorted by customer id. */
  customers: CustomerHistory[];
  products: string[];
}

export const FEATURE_NAMES = [
  'recencyDays', 'frequency', 'monetary', 'avgOrderValue', 'repeatRate', 'tenureDays', 'meanGapDays', 'sdGapDays',
  'distinctProducts', 'returnRate', 'returnOrderRate', 'purchaseDays', 'orders30d', 'orders90d', 'spend90d',
] as const;
export type FeatureName = (typeof FEATURE_NAMES)[number];

export type CustomerFeatures = { asOf: number; ids: string[] } & Record<FeatureName, Float64Array>;

const byString = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Groups the clean sales and returns by customer (guests dropped), orders sorted by time. */
export function customerHistories(data: Pick<CleanData, 'sales' | 'returns'>): CustomerHistories {
  const productIndex = new Map<string, number>();
  const products: string[] = [];
  const perCustomer = new Map<string, { orders: Map<string, CustomerOrder>; returns: Map<string, { orderId: string; time: number; value: number }> }>();
  const slot = (id: string) => {
    let c = perCustomer.get(id);
    if (!c) perCustomer.set(id, (c = { orders: new Map(), returns: new Map() }));
    return c;
  };
  for (const s of data.sales) {
    if (s.customerId === null) continue;
    const c = slot(s.customerId);
    let o = c.orders.get(s.orderId);
    if (!o) c.orders.set(s.orderId, (o = { orderId: s.orderId, time: s.time, value: 0, products: [] }));
    if (s.time < o.time) o.time = s.time; // an invoice with two timestamps: the first is the order time
    o.value += s.quantity * s.price;
    let p = productIndex.get(s.productId);
    if (p === undefined) { productIndex.set(s.productId, (p = products.length)); products.push(s.productId); }
    o.products.push(p);
  }
  for (const r of data.returns) {
    if (r.customerId === null) continue;
    const c = perCustomer.get(r.customerId) ?? slot(r.customerId);
    let ret = c.returns.get(r.orderId);
    if (!ret) c.returns.set(r.orderId, (ret = { orderId: r.orderId, time: r.time, value: 0 }));
    if (r.time < ret.time) ret.time = r.time;
    ret.value += r.quantity * r.price;
  }
  const customers: CustomerHistory[] = [];
  for (const id of [...perCustomer.keys()].sort(byString)) {
    const c = perCustomer.get(id)!;
    if (c.orders.size === 0) continue; // returns only: not a customer of this period
    const orders = [...c.orders.values()].sort((a, b) => a.time - b.time || byString(a.orderId, b.orderId));
    for (const o of orders) o.products = [...new Set(o.products)];
    const returns = [...c.returns.values()].sort((a, b) => a.time - b.time || byString(a.orderId, b.orderId));
    customers.push({ customerId: id, orders, returns });
  }
  return { customers, products };
}

function isHistories(x: CustomerHistories | Pick<CleanData, 'sales' | 'returns'>): x is CustomerHistories {
  return (x as CustomerHistories).customers !== undefined;
}

/** Features of every customer with an order strictly before `asOf`, sorted by customer id. */
export function customerFeatures(source: CustomerHistories | Pick<CleanData, 'sales' | 'returns'>, asOf: number): CustomerFeatures {
  const h = isHistories(source) ? source : customerHistories(source);
  const rows: { c: CustomerHistory; n: number }[] = [];
  for (const c of h.customers) {
    let n = 0;
    while (n < c.orders.length && c.orders[n]!.time < asOf) n++;
    if (n > 0) rows.push({ c, n });
  }
  const m = rows.length;
  const cols = Object.fromEntries(FEATURE_NAMES.map((k) => [k, new Float64Array(m)])) as Record<FeatureName, Float64Array>;
  const ids: string[] = new Array(m);
  const seen = new Map<number, number>(); // product → orders containing it (reused per customer)
  for (let i = 0; i < m; i++) {
    const { c, n } = rows[i]!;
    ids[i] = c.customerId;
    const first = c.orders[0]!.time, last = c.orders[n - 1]!.time;
    let monetary = 0, o30 = 0, o90 = 0, s90 = 0, days = 0, prevDay = NaN, gapSum = 0, gapSq = 0;
    seen.clear();
    for (let j = 0; j < n; j++) {
      const o = c.orders[j]!;
      monetary += o.value;
      const age = asOf - o.time;
      if (age <= 30 * DAY_MS) o30++;
      if (age <= 90 * DAY_MS) { o90++; s90 += o.value; }
      const day = Math.floor(o.time / DAY_MS);
      if (day !== prevDay) { days++; prevDay = day; }
      if (j > 0) {
        const g = (o.time - c.orders[j - 1]!.time) / DAY_MS;
        gapSum += g; gapSq += g * g;
      }
      for (const p of o.products) seen.set(p, (seen.get(p) ?? 0) + 1);
    }
    let repeated = 0;
    for (const v of seen.values()) if (v >= 2) repeated++;
    let returned = 0;
    const returnOrders = new Set<string>();
    for (const r of c.returns) {
      if (r.time >= asOf) break;
      returned += r.value;
      returnOrders.add(r.orderId);
    }
    cols.recencyDays[i] = (asOf - last) / DAY_MS;
    cols.frequency[i] = n;
    cols.monetary[i] = monetary;
    cols.avgOrderValue[i] = monetary / n;
    cols.repeatRate[i] = seen.size > 0 ? repeated / seen.size : 0;
    cols.tenureDays[i] = (asOf - first) / DAY_MS;
    if (n >= 2) {
      const g = gapSum / (n - 1);
      cols.meanGapDays[i] = g;
      cols.sdGapDays[i] = Math.sqrt(Math.max(0, gapSq / (n - 1) - g * g));
    } else {
      cols.meanGapDays[i] = NaN;
      cols.sdGapDays[i] = NaN;
    }
    cols.distinctProducts[i] = seen.size;
    cols.returnRate[i] = monetary > 0 ? returned / monetary : 0;
    cols.returnOrderRate[i] = returnOrders.size / n;
    cols.purchaseDays[i] = days;
    cols.orders30d[i] = o30;
    cols.orders90d[i] = o90;
    cols.spend90d[i] = s90;
  }
  return { asOf, ids, ...cols };
}

/** Orders and spend of the given customers in [from, to) — labels and targets for the models. */
export function customerActivity(source: CustomerHistories | Pick<CleanData, 'sales' | 'returns'>, ids: readonly string[], from: number, to: number): { orders: Float64Array; spend: Float64Array } {
  const h = isHistories(source) ? source : customerHistories(source);
  const index = new Map(h.customers.map((c) => [c.customerId, c]));
  const orders = new Float64Array(ids.length), spend = new Float64Array(ids.length);
  ids.forEach((id, i) => {
    const c = index.get(id);
    if (!c) return;
    for (const o of c.orders) {
      if (o.time < from) continue;
      if (o.time >= to) break;
      orders[i]!++;
      spend[i]! += o.value;
    }
  });
  return { orders, spend };
}
