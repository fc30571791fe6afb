// What happens to an order after checkout: fulfilment, cancellation, refunds, tags. Each
// function returns a new SimOrder (the old one is left untouched), so a caller can keep earlier
// versions — the webhook stream re-sends them as deliberately stale orders/updated deliveries.
import { isoUtc } from './calendar.ts';
import type { IdAllocator } from './ids.ts';
import type { SimOrder, SimRefund } from './types.ts';

type CancelReason = NonNullable<SimOrder['cancelReason']>;

const later = (a: string, ms: number) => (Date.parse(a) > ms ? a : isoUtc(ms));

export function fulfilOrder(order: SimOrder, atMs: number): SimOrder {
  return { ...order, fulfilledAt: isoUtc(atMs), updatedAt: later(order.updatedAt, atMs) };
}

export function tagOrder(order: SimOrder, tag: string, atMs: number): SimOrder {
  const tags = order.tags ?? [];
  return { ...order, tags: tags.includes(tag) ? tags : [...tags, tag], updatedAt: later(order.updatedAt, atMs) };
}

/** Quantity of each line not yet refunded. */
export function refundableLines(order: SimOrder): { lineId: number; quantity: number }[] {
  const refunded = new Map<number, number>();
  for (const r of order.refunds ?? []) for (const l of r.lines) refunded.set(l.lineId, (refunded.get(l.lineId) ?? 0) + l.quantity);
  return order.lines
    .map((l) => ({ lineId: l.id, quantity: l.quantity - (refunded.get(l.id) ?? 0) }))
    .filter((l) => l.quantity > 0);
}

/** Refunds the given quantities; the status follows from what is left. */
export function refundOrder(
  order: SimOrder,
  atMs: number,
  lines: { lineId: number; quantity: number }[],
  ids: IdAllocator,
  opts: { note?: string | null; restock?: boolean } = {},
): { order: SimOrder; refund: SimRefund } {
  const refund: SimRefund = {
    id: ids.next('refund'),
    createdAt: isoUtc(atMs),
    note: opts.note ?? null,
    restock: opts.restock ?? true,
    lines: lines.map((l) => ({ id: ids.next('refundLine'), lineId: l.lineId, quantity: l.quantity })),
  };
  const next: SimOrder = { ...order, refunds: [...(order.refunds ?? []), refund], updatedAt: later(order.updatedAt, atMs) };
  next.financialStatus = refundableLines(next).length === 0 ? 'refunded' : 'partially_refunded';
  return { order: next, refund };
}

/**
 * Cancels an order as a merchant does in the admin: a paid order is refunded in full (and
 * restocked), an unpaid one is voided.
 */
export function cancelOrder(order: SimOrder, atMs: number, reason: CancelReason, ids: IdAllocator): { order: SimOrder; refund: SimRefund | null } {
  const base: SimOrder = { ...order, cancelledAt: isoUtc(atMs), cancelReason: reason, updatedAt: later(order.updatedAt, atMs) };
  if (order.financialStatus === 'pending') return { order: { ...base, financialStatus: 'voided' }, refund: null };
  const remaining = refundableLines(order);
  if (remaining.length === 0) return { order: base, refund: null };
  return refundOrder(base, atMs, remaining, ids, { note: 'Order cancelled', restock: true });
}
