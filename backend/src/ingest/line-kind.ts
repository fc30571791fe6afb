// The one classification of order lines, used by the CSV import now and by feature cleaning
// later (recommendations, per-product demand, segments). Keep every rule here.
//
//   product      a sale (or a return, on a cancellation) of a real product
//   non_product  revenue or cost that is not a product: postage, fees, manual adjustments,
//                samples, vouchers. Counts in revenue, never in product recommendations or
//                per-product demand.
//   writeoff     a stock movement that is not a sale: negative quantity, no customer, price 0, on
//                an ordinary invoice (not a `C` cancellation). Counts in neither revenue nor demand.
//
// Non-product codes, from the Online Retail data set README and checked against the real file
// (2010-12 … 2011-09: every StockCode that is not 5 digits + up to 2 letters is one of these):
//   POST (postage, 872 lines), DOT (dotcom postage, 603), M / m (manual, 411 + 1),
//   C2 (carriage, 102), D (discount, 61), S (samples, 55), BANK CHARGES (27), AMAZONFEE (27),
//   CRUK (commission, 6), PADS (pads to match cushions, 4), B (bad-debt adjustment, 3),
//   DCGS… (e-bay / party-bag lines, 44 in 16 codes), gift_0001_… (gift vouchers, 32).
// Codes are compared case-insensitively after trimming. A non-product code wins over the
// write-off rule (a written-off DCGS line is non_product): it never enters per-product demand.
import type { LineKind, OrderKind } from './types.ts';

/** Exact non-product codes (upper case). */
export const NON_PRODUCT_CODES: ReadonlySet<string> = new Set([
  'POST', 'DOT', 'M', 'C2', 'D', 'S', 'BANK CHARGES', 'AMAZONFEE', 'CRUK', 'PADS', 'B',
]);

/** Non-product code prefixes (upper case): DCGS0003, DCGSSBOY …; gift_0001_10 … */
export const NON_PRODUCT_PREFIXES: readonly string[] = ['DCGS', 'GIFT_0001_'];

const cache = new Map<string, boolean>();

/** True for postage, fees, adjustments, vouchers … (see the list above). */
export function isNonProductCode(code: string | null | undefined): boolean {
  if (!code) return false;
  const c0 = code.charCodeAt(0);
  if (c0 >= 48 && c0 <= 57) return false; // every non-product code starts with a letter
  let hit = cache.get(code);
  if (hit === undefined) {
    const c = code.trim().toUpperCase();
    hit = NON_PRODUCT_CODES.has(c) || NON_PRODUCT_PREFIXES.some((p) => c.startsWith(p));
    if (cache.size < 100_000) cache.set(code, hit);
  }
  return hit;
}

/**
 * `C…` = cancellation / return, `A…` = bad-debt adjustment, anything else an order. Only for
 * invoice numbers of the Online Retail convention (a Shopify order name never starts so).
 */
export function orderKindOf(invoice: string): OrderKind {
  const c = invoice.charCodeAt(0);
  if (c === 67 || c === 99) return 'cancellation'; // C c
  if (c === 65 || c === 97) return 'adjustment'; // A a
  return 'order';
}

export interface LineKindInput {
  /** StockCode / SKU / product id: whatever identifies the product on the line. */
  stockCode?: string | null;
  sku?: string | null;
  quantity: number;
  price: number;
  customerId?: string | null;
  /** Invoice number; its kind comes from orderKindOf unless orderKind is given. */
  invoice?: string | null;
  orderKind?: OrderKind;
}

/**
 * A line without any product code (order-level data) is non_product: it is revenue, not a
 * product anyone could be recommended.
 */
export function classifyLine(l: LineKindInput): LineKind {
  const code = l.stockCode || l.sku;
  if (!code || isNonProductCode(code)) return 'non_product';
  const kind = l.orderKind ?? (l.invoice ? orderKindOf(l.invoice) : 'order');
  if (l.quantity < 0 && !l.customerId && l.price === 0 && kind !== 'cancellation') return 'writeoff';
  return 'product';
}
