// What a live store emits, as a seeded sequence of webhooks: new orders (continuing the
// history's behaviour), later updates to them (fulfilment, tags), deliberately stale updates
// (an older snapshot re-sent after a newer one — the receiver must not go back in time),
// cancellations, refunds and inventory changes. The content is a pure function of the store and
// the seed; *when* each one is sent is the sender's business (webhook-sender.ts).
//
// The plan writes what it creates into `store` (new customers and orders, order versions, stock
// levels): the store plays Shopify's database, so the Admin API simulator serves the same
// orders the webhooks announced.
import { DAY_MS, isoUtc } from './calendar.ts';
import { createIdAllocator } from './ids.ts';
import { cancelOrder, fulfilOrder, refundableLines, refundOrder, tagOrder } from './order-lifecycle.ts';
import { createOrderFactory } from './orders.ts';
import { markNote } from './people.ts';
import { createRng, type Seed } from './random.ts';
import { inventoryLevelPayload, orderPayload, refundPayload } from './rest-payloads.ts';
import type { SimCustomer, SimOrder, SimStore, SimVariant } from './types.ts';

export type StreamTopic = 'orders/create' | 'orders/updated' | 'orders/cancelled' | 'refunds/create' | 'inventory_levels/update';

export const DEFAULT_TOPIC_WEIGHTS: Record<StreamTopic, number> = {
  'orders/create': 0.62,
  'orders/updated': 0.16,
  'orders/cancelled': 0.05,
  'refunds/create': 0.05,
  'inventory_levels/update': 0.12,
};

export interface PlannedWebhook {
  seq: number;
  topic: StreamTopic;
  payload: Record<string, unknown>;
  webhookId: string;
  eventId: string;
  /** When the change happened (UTC ISO); for a stale update, when the old snapshot was made. */
  triggeredAt: string;
  /** Deliver a second time with the same X-Shopify-Webhook-Id (at-least-once delivery). */
  redeliver: boolean;
  /** An orders/updated carrying an older snapshot than one already sent for that order. */
  stale: boolean;
}

export interface WebhookPlanOptions {
  seed: Seed;
  /** Relative weights of the primary events; follow-ups (see below) come on top. */
  topics?: Partial<Record<StreamTopic, number>>;
  /** Share of orders/updated that re-send an older snapshot (default 0.25). */
  staleShare?: number;
  /** Share of webhooks delivered twice (default 0.05). */
  redeliveryRate?: number;
  /** Volume of new orders in simulated time; by default the history's pace continues. */
  ordersPerDay?: number;
  personalDataCanary?: string;
}

/** Live orders remembered for later updates; older ones are no longer touched. */
const RECENT_ORDERS = 300;
/** A sale that leaves this many units or fewer also sends inventory_levels/update (low stock matters). */
const LOW_STOCK_FOLLOW_UP = 2;
const UPDATE_TAGS = ['gift', 'priority', 'reviewed', 'wholesale'];
const CANCEL_REASONS: NonNullable<SimOrder['cancelReason']>[] = ['customer', 'inventory', 'fraud', 'other'];

export function* webhookPlan(store: SimStore, opts: WebhookPlanOptions): Generator<PlannedWebhook, void, undefined> {
  const rng = createRng(opts.seed).fork('webhook-plan');
  const weights = { ...DEFAULT_TOPIC_WEIGHTS, ...opts.topics };
  const topics = Object.keys(weights) as StreamTopic[];
  const topicWeights = topics.map((t) => weights[t]);
  const staleShare = opts.staleShare ?? 0.25;
  const redeliveryRate = opts.redeliveryRate ?? 0.05;
  const locationId = store.locationId ?? 0;

  const ids = createIdAllocator(rng.fork('ids'), store);
  const variants = new Map<number, SimVariant>(store.products.flatMap((p) => p.variants.map((v) => [v.id, v] as const)));
  // Two views of stock: the factory takes units when it draws a day's orders (so sold-out
  // variants cannot be bought), the store's variants lose them when each order is announced.
  const stock = new Map<number, number>([...variants].map(([id, v]) => [id, v.inventoryQuantity]));
  const factory = createOrderFactory(store, { seed: opts.seed, ids, stock, ordersPerDay: opts.ordersPerDay, personalDataCanary: opts.personalDataCanary });

  // Continue after the history, or after an earlier stream's orders on the same store.
  let latestOrderMs = store.asOf ? Date.parse(store.asOf) : 0;
  for (const o of store.orders) latestOrderMs = Math.max(latestOrderMs, Date.parse(o.createdAt) + 1000);
  let now = latestOrderMs;
  let windowEnd = latestOrderMs;
  const queue: SimOrder[] = [];
  const pendingCustomers = new Map<number, SimCustomer>();
  const recent: { versions: SimOrder[] }[] = [];
  const position = new Map<number, number>(store.orders.map((o, i) => [o.id, i]));
  const followUps: Omit<PlannedWebhook, 'seq' | 'webhookId' | 'eventId' | 'redeliver'>[] = [];
  const sellable = store.products.filter((p) => p.status === 'ACTIVE').flatMap((p) => p.variants);
  let seq = 0;

  const nextOrderTime = (): number => {
    for (let empty = 0; queue.length === 0; empty++) {
      if (empty > 366) throw new Error('this store produces no orders (no customers and no guests)');
      const batch = factory.between(windowEnd, windowEnd + DAY_MS);
      windowEnd += DAY_MS;
      for (const c of batch.customers) pendingCustomers.set(c.id, c);
      queue.push(...batch.orders);
    }
    return Date.parse((queue[0] as SimOrder).createdAt);
  };
  /** Non-order events happen between now and the next order. */
  const advance = (): number => {
    const next = nextOrderTime();
    now = Math.max(now, Math.floor(now + rng.next() * 0.5 * (next - now)));
    return now;
  };
  /** An instant strictly after the order's last change, so updated_at always moves forward. */
  const after = (order: SimOrder) => Math.max(advance(), Date.parse(order.updatedAt) + 1000);

  const save = (order: SimOrder) => {
    const i = position.get(order.id);
    if (i === undefined) {
      position.set(order.id, store.orders.length);
      store.orders.push(order);
    } else store.orders[i] = order;
  };
  /** A change outside sales (restock, count correction, return) reaches both views. */
  const adjustStock = (variantId: number, delta: number) => {
    stock.set(variantId, Math.max(0, (stock.get(variantId) ?? 0) + delta));
    const v = variants.get(variantId);
    if (v) v.inventoryQuantity = Math.max(0, v.inventoryQuantity + delta);
  };
  const inventoryEvent = (variant: SimVariant, atMs: number) => ({
    topic: 'inventory_levels/update' as const,
    payload: inventoryLevelPayload({ inventoryItemId: variant.inventoryItemId, locationId, available: variant.inventoryQuantity, updatedAt: isoUtc(atMs) }, store.utcOffsetMinutes),
    triggeredAt: isoUtc(atMs),
    stale: false,
  });
  const restock = (order: SimOrder, lines: { lineId: number; quantity: number }[]) => {
    for (const rl of lines) {
      const line = order.lines.find((l) => l.id === rl.lineId);
      if (line?.variantId != null) adjustStock(line.variantId, rl.quantity);
    }
  };
  const latest = (r: { versions: SimOrder[] }) => r.versions[r.versions.length - 1] as SimOrder;
  const pickRecent = (ok: (o: SimOrder) => boolean) => {
    const candidates = recent.filter((r) => ok(latest(r)));
    return candidates.length > 0 ? rng.pick(candidates) : null;
  };

  const orderCreated = () => {
    nextOrderTime();
    const order = queue.shift() as SimOrder;
    now = Math.max(now, Date.parse(order.createdAt));
    if (order.customerId !== null && pendingCustomers.has(order.customerId)) {
      store.customers.push(pendingCustomers.get(order.customerId) as SimCustomer);
      pendingCustomers.delete(order.customerId);
    }
    save(order);
    recent.push({ versions: [order] });
    if (recent.length > RECENT_ORDERS) recent.shift();
    for (const line of order.lines) {
      const v = line.variantId !== null ? variants.get(line.variantId) : undefined;
      if (!v) continue;
      v.inventoryQuantity = Math.max(0, v.inventoryQuantity - line.quantity);
      if (v.inventoryQuantity <= LOW_STOCK_FOLLOW_UP) followUps.push(inventoryEvent(v, now));
    }
    return { topic: 'orders/create' as const, payload: orderPayload(order, store), triggeredAt: order.createdAt, stale: false };
  };

  const primary = (topic: StreamTopic): Omit<PlannedWebhook, 'seq' | 'webhookId' | 'eventId' | 'redeliver'> => {
    switch (topic) {
      case 'orders/updated': {
        const updatedBefore = recent.filter((x) => x.versions.length >= 2);
        if (updatedBefore.length > 0 && rng.chance(staleShare)) {
          const r = rng.pick(updatedBefore);
          const old = r.versions[rng.int(0, r.versions.length - 2)] as SimOrder;
          return { topic, payload: orderPayload(old, store), triggeredAt: old.updatedAt, stale: true };
        }
        const r = pickRecent((o) => !o.cancelledAt);
        if (!r) return orderCreated();
        const prev = latest(r);
        const at = after(prev);
        const next = !prev.fulfilledAt && prev.financialStatus !== 'pending' ? fulfilOrder(prev, at) : tagOrder(prev, rng.pick(UPDATE_TAGS), at);
        r.versions.push(next);
        save(next);
        return { topic, payload: orderPayload(next, store), triggeredAt: next.updatedAt, stale: false };
      }
      case 'orders/cancelled': {
        const r = pickRecent((o) => !o.cancelledAt && !o.fulfilledAt);
        if (!r) return orderCreated();
        const prev = latest(r);
        const { order, refund } = cancelOrder(prev, after(prev), rng.pick(CANCEL_REASONS), ids);
        r.versions.push(order);
        save(order);
        if (refund) {
          restock(order, refund.lines);
          followUps.push({ topic: 'refunds/create', payload: refundPayload(refund, order, store), triggeredAt: refund.createdAt, stale: false });
        }
        return { topic, payload: orderPayload(order, store), triggeredAt: order.updatedAt, stale: false };
      }
      case 'refunds/create': {
        const r = pickRecent((o) => !o.cancelledAt && o.financialStatus !== 'pending' && refundableLines(o).length > 0);
        if (!r) return orderCreated();
        const prev = latest(r);
        const line = rng.pick(refundableLines(prev));
        const returned = rng.chance(0.6);
        const { order, refund } = refundOrder(prev, after(prev), [{ lineId: line.lineId, quantity: 1 }], ids, { note: markNote(returned ? 'Returned' : 'Damaged in transit', opts.personalDataCanary), restock: returned });
        r.versions.push(order);
        save(order);
        if (returned) restock(order, refund.lines);
        // Shopify follows a refund with orders/updated carrying the new financial status.
        followUps.push({ topic: 'orders/updated', payload: orderPayload(order, store), triggeredAt: order.updatedAt, stale: false });
        return { topic, payload: refundPayload(refund, order, store), triggeredAt: refund.createdAt, stale: false };
      }
      case 'inventory_levels/update': {
        if (sellable.length === 0) return orderCreated();
        const variant = rng.pick(sellable);
        // Low stock gets replenished; otherwise a stock count corrects a few units down.
        adjustStock(variant.id, variant.inventoryQuantity <= 3 || rng.chance(0.4) ? rng.int(10, 60) : -rng.int(1, 3));
        return inventoryEvent(variant, advance());
      }
      case 'orders/create':
        return orderCreated();
    }
  };

  for (;;) {
    const event = followUps.shift() ?? primary(rng.weightedPick(topics, topicWeights));
    yield { ...event, seq: seq++, webhookId: rng.uuid(), eventId: rng.uuid(), redeliver: rng.chance(redeliveryRate) };
  }
}
