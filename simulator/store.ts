// generateStore: a whole simulated Shopify store (catalog, customers, a year of orders) as a pure
// function of the seed. The history ends at `endDate` (a fixed default, never the wall clock),
// so the same options always give byte-identical data.
import { generateCatalog } from './catalog.ts';
import { createDemandCalendar, DAY_MS, DEFAULT_UTC_OFFSET_MINUTES, isoUtc, parseInstant } from './calendar.ts';
import { createIdAllocator, type IdAllocator } from './ids.ts';
import { cancelOrder, fulfilOrder, refundableLines, refundOrder } from './order-lifecycle.ts';
import { draftCustomer, simulateHistory } from './orders.ts';
import { createPeopleFactory, markNote, type PeopleFactory } from './people.ts';
import { createRng, type Rng, type Seed } from './random.ts';
import type { SimCustomer, SimOrder, SimStore } from './types.ts';

export const DEFAULT_SHOP = 'demo-shop.myshopify.com';
export const DEFAULT_END_DATE = '2026-11-01';

export interface GenerateStoreOptions {
  seed: Seed;
  shop?: string;
  products?: number; // default 120
  customers?: number; // default 400
  days?: number; // of history, default 365
  /** End of the history (exclusive), default 2026-11-01. */
  endDate?: string | Date;
  currency?: string; // default USD
  utcOffsetMinutes?: number;
  /**
   * Embedded in every personal field (names, emails, phones, addresses, notes) so a privacy
   * test can search everything shopml stored for it. Use letters, digits and '-' only: it goes
   * into email addresses too.
   */
  personalDataCanary?: string;
}

const CANCEL_REASONS: NonNullable<SimOrder['cancelReason']>[] = ['customer', 'inventory', 'fraud', 'declined', 'other'];
const CANCEL_WEIGHTS = [0.5, 0.15, 0.1, 0.1, 0.15];
const REFUND_NOTES = ['Damaged in transit', 'Wrong size', 'Changed mind', null];

export function generateStore(opts: GenerateStoreOptions): SimStore {
  const rng = createRng(opts.seed);
  const days = opts.days ?? 365;
  const asOfMs = parseInstant(opts.endDate ?? DEFAULT_END_DATE);
  const historyStartMs = asOfMs - days * DAY_MS;
  const utcOffsetMinutes = opts.utcOffsetMinutes ?? DEFAULT_UTC_OFFSET_MINUTES;
  const currency = opts.currency ?? 'USD';
  const canary = opts.personalDataCanary;
  const ids = createIdAllocator(rng.fork('ids'));
  const people = createPeopleFactory(canary);

  const { products, complements } = generateCatalog(rng.fork('catalog'), { count: opts.products ?? 120, historyStartMs, asOfMs, ids });
  const customers = generateCustomers(rng.fork('customers'), people, canary, ids, { count: opts.customers ?? 400, historyStartMs, asOfMs, utcOffsetMinutes });
  const fresh = simulateHistory(rng.fork('orders'), {
    store: { products, customers, currency, complements },
    historyStartMs, asOfMs, utcOffsetMinutes, canary, ids, people,
  });
  const orders = settleHistory(rng.fork('lifecycle'), fresh, asOfMs, ids, canary);

  // Shopify bumps a customer's updated_at when they order.
  const lastActivity = new Map<number, string>();
  for (const o of orders) if (o.customerId !== null) lastActivity.set(o.customerId, o.updatedAt);
  for (const c of customers) {
    const last = lastActivity.get(c.id);
    if (last && last > c.updatedAt) c.updatedAt = last;
  }

  const meta = rng.fork('shop');
  return {
    shop: opts.shop ?? DEFAULT_SHOP,
    currency,
    products,
    customers,
    orders,
    shopId: 60_000_000_000 + meta.int(1, 999_999_999),
    locationId: 71_000_000_000 + meta.int(1, 999_999_999),
    utcOffsetMinutes,
    asOf: isoUtc(asOfMs),
    complements,
  };
}

interface CustomerOptions {
  count: number;
  historyStartMs: number;
  asOfMs: number;
  utcOffsetMinutes: number;
}

/**
 * A third of the accounts predate the history; the rest sign up during it at a pace that grows
 * with the business (sampled by thinning against the growth trend).
 */
function generateCustomers(rng: Rng, people: PeopleFactory, canary: string | undefined, ids: IdAllocator, opts: CustomerOptions): SimCustomer[] {
  const { count, historyStartMs, asOfMs } = opts;
  const calendar = createDemandCalendar(asOfMs, opts.utcOffsetMinutes);
  const created: number[] = [];
  for (let i = 0; i < count; i++) {
    if (rng.chance(0.35)) {
      created.push(historyStartMs - rng.uniform(1, 2 * 365) * DAY_MS);
      continue;
    }
    let t: number;
    do t = rng.uniform(historyStartMs, asOfMs);
    while (rng.next() >= calendar.trend(t)); // trend(asOf) = 1 is the maximum
    created.push(t);
  }
  created.sort((a, b) => a - b);
  return created.map((createdMs) => ({ id: ids.next('customer'), ...draftCustomer(rng, people, canary, { createdMs, historyStartMs, asOfMs }) }));
}

/**
 * Gives past orders what happened to them before `asOf`: most are fulfilled within days, a few
 * are cancelled (refunded or voided), some fulfilled ones are later partly or fully refunded.
 * Orders too recent for an event to have happened yet stay open.
 */
function settleHistory(rng: Rng, orders: SimOrder[], asOfMs: number, ids: IdAllocator, canary: string | undefined): SimOrder[] {
  return orders.map((order) => {
    if (order.test) return order;
    const createdMs = Date.parse(order.createdAt);
    if (rng.chance(0.025)) {
      const at = createdMs + rng.uniform(1, 36) * 3_600_000;
      return at < asOfMs ? cancelOrder(order, at, rng.weightedPick(CANCEL_REASONS, CANCEL_WEIGHTS), ids).order : order;
    }
    if (order.financialStatus === 'pending') return order;
    const fulfilMs = createdMs + rng.uniform(0.3, 4) * DAY_MS;
    if (fulfilMs >= asOfMs) return order;
    let settled = fulfilOrder(order, fulfilMs);
    if (rng.chance(0.05)) {
      const at = fulfilMs + rng.uniform(2, 25) * DAY_MS;
      if (at < asOfMs) {
        const open = refundableLines(settled);
        // Half the refunds return one unit of one line; the rest return everything.
        const lines = rng.chance(0.5) ? [{ lineId: rng.pick(open).lineId, quantity: 1 }] : open;
        const note = rng.pick(REFUND_NOTES);
        settled = refundOrder(settled, at, lines, ids, { note: note === null ? null : markNote(note, canary), restock: rng.chance(0.7) }).order;
      }
    }
    return settled;
  });
}
