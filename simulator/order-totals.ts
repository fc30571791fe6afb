// Money for a simulated order, in integer cents so totals add up exactly: discount allocation
// per line, tax, shipping, refunds. One place for these rules, so the webhook JSON and the
// Admin GraphQL view of the same order always agree.
import type { SimOrder, SimRefund } from './types.ts';

/** "19.99" → 1999. */
export function toCents(money: string): number {
  return Math.round(Number.parseFloat(money) * 100);
}

/** 1999 → "19.99". */
export function fromCents(cents: number): string {
  const sign = cents < 0 ? '-' : '';
  const abs = Math.abs(Math.round(cents));
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}

/** Sales tax / VAT by destination country (added on top of prices). */
const TAX_RATE: Record<string, number> = { US: 0.07, CA: 0.13, GB: 0.2, DE: 0.19 };
/** Flat shipping below a free-shipping threshold, by destination. */
const SHIPPING: Record<string, { cents: number; freeFromCents: number }> = {
  US: { cents: 695, freeFromCents: 5000 },
  CA: { cents: 1495, freeFromCents: 10000 },
};
const SHIPPING_INTERNATIONAL = { cents: 1995, freeFromCents: 15000 };

export interface LineMoney {
  quantity: number;
  grossCents: number; // unit price × quantity
  discountCents: number;
  taxCents: number;
}

export interface OrderMoney {
  taxRate: number;
  lines: Map<number, LineMoney>;
  lineItemsCents: number; // sum of gross
  discountCents: number;
  subtotalCents: number; // line items − discounts
  shippingCents: number;
  taxCents: number;
  totalCents: number;
  refundedCents: number;
}

export function orderCountry(order: SimOrder): string {
  return order.buyer?.address.countryCode ?? 'US';
}

export function orderMoney(order: SimOrder): OrderMoney {
  const country = orderCountry(order);
  const taxRate = TAX_RATE[country] ?? 0;
  const percent = order.discount?.percent ?? 0;
  const lines = new Map<number, LineMoney>();
  let lineItemsCents = 0;
  let discountCents = 0;
  let taxCents = 0;
  let shippable = false;
  for (const line of order.lines) {
    const grossCents = toCents(line.price) * line.quantity;
    const lineDiscount = Math.round((grossCents * percent) / 100);
    const lineTax = Math.round((grossCents - lineDiscount) * taxRate);
    lines.set(line.id, { quantity: line.quantity, grossCents, discountCents: lineDiscount, taxCents: lineTax });
    lineItemsCents += grossCents;
    discountCents += lineDiscount;
    taxCents += lineTax;
    if (line.productId !== null) shippable = true; // custom items (gift wrap, cards) ship with the goods
  }
  const subtotalCents = lineItemsCents - discountCents;
  const rule = SHIPPING[country] ?? SHIPPING_INTERNATIONAL;
  const shippingCents = shippable && subtotalCents < rule.freeFromCents ? rule.cents : 0;
  const money: OrderMoney = {
    taxRate, lines, lineItemsCents, discountCents, subtotalCents, shippingCents, taxCents,
    totalCents: subtotalCents + shippingCents + taxCents,
    refundedCents: 0,
  };
  for (const refund of order.refunds ?? []) money.refundedCents += refundMoney(money, refund).totalCents;
  return money;
}

export interface RefundLineMoney {
  subtotalCents: number; // the refunded share of the line after its discount
  taxCents: number;
}

/** What a refund gives back: each refunded line's share of its discounted price and tax. */
export function refundMoney(money: OrderMoney, refund: SimRefund): { lines: Map<number, RefundLineMoney>; totalCents: number } {
  const lines = new Map<number, RefundLineMoney>();
  let totalCents = 0;
  for (const rl of refund.lines) {
    const line = money.lines.get(rl.lineId);
    if (!line) continue;
    const share = Math.min(1, rl.quantity / line.quantity);
    const subtotalCents = Math.round((line.grossCents - line.discountCents) * share);
    const taxCents = Math.round(line.taxCents * share);
    lines.set(rl.lineId, { subtotalCents, taxCents });
    totalCents += subtotalCents + taxCents;
  }
  return { lines, totalCents };
}
