// Who buys what, when. Each customer is a Poisson process with their own rate (orders per 30
// days), modulated by the store calendar (weekday × season × trend) and cut off at their churn
// date; guests are one more process at a rate tied to the customer base. A basket draws mostly
// from the shopper's preferred product types, popular products more often (Zipf), re-buys
// consumables the shopper bought before, and pulls in planted complements.
//
// The same code writes the history (generateStore) and the live orders after it
// (generateOrders / the webhook stream), so live traffic continues the history's patterns.
import { CATEGORIES, CUSTOMER_NOTES, CUSTOM_ITEMS, DISCOUNTS, ORDER_NOTES } from './catalog-data.ts';
import { createDemandCalendar, DAY_MS, DEFAULT_UTC_OFFSET_MINUTES, isoUtc, parseInstant, type DemandCalendar } from './calendar.ts';
import { createIdAllocator, type IdAllocator } from './ids.ts';
import { createPeopleFactory, markNote, type FakePerson, type PeopleFactory } from './people.ts';
import { createRng, createWeightedSampler, type Rng, type Seed, type WeightedSampler } from './random.ts';
import type { SimCustomer, SimLine, SimOrder, SimProduct, SimStore } from './types.ts';

/** Guest checkouts as a share of all orders. */
const GUEST_SHARE = 0.16;
/** Chance that a guest order comes from an email that already checked out as a guest. */
const GUEST_RETURN = 0.12;
/** Chance a basket line comes from the shopper's preferred types rather than the whole store. */
const PREFERENCE_STRENGTH = 0.75;
/** Chance an order re-buys a consumable the shopper bought before. */
const REPURCHASE = 0.4;
/** Chance that picking one side of a complement pair adds the other side too. */
const COMPLEMENT_PULL = 0.4;
const CUSTOM_ITEM_RATE = 0.02;

const SOURCES = ['web', 'pos', 'shopify_draft_order', 'iphone'];
const SOURCE_WEIGHTS = [0.88, 0.05, 0.03, 0.04];

interface Shopper {
  customer: SimCustomer | null; // null: guest
  person: FakePerson;
  preferred: string[];
  /** Consumable product ids this shopper bought, most recent last (repurchase candidates). */
  favorites: number[];
  ordersPlaced: number;
}

interface ProductInfo {
  product: SimProduct;
  /** Sellable in [fromMs, untilMs): drafts never, archived ones until their archive date. */
  fromMs: number;
  untilMs: number;
  consumable: boolean;
  variantSampler: WeightedSampler;
}

interface Catalog {
  byId: Map<number, ProductInfo>;
  byType: Map<string, { items: ProductInfo[]; sampler: WeightedSampler }>;
  typeNames: string[];
  typeSampler: WeightedSampler;
  partners: Map<number, number[]>;
}

function buildCatalog(products: SimProduct[], complements: Array<[number, number]>): Catalog {
  const byId = new Map<number, ProductInfo>();
  const grouped = new Map<string, ProductInfo[]>();
  for (const product of products) {
    if (product.status === 'DRAFT' || product.variants.length === 0) continue;
    const spec = CATEGORIES.find((c) => c.productType === product.productType);
    const info: ProductInfo = {
      product,
      fromMs: Date.parse(product.createdAt),
      untilMs: product.status === 'ARCHIVED' ? Date.parse(product.updatedAt) : Infinity,
      consumable: spec?.consumable ?? false,
      // The first listed variant (the default size or weight) sells most.
      variantSampler: createWeightedSampler(product.variants.map((_, i) => 1 / (i + 1))),
    };
    byId.set(product.id, info);
    grouped.set(product.productType, [...(grouped.get(product.productType) ?? []), info]);
  }
  const byType = new Map<string, { items: ProductInfo[]; sampler: WeightedSampler }>();
  for (const [type, items] of grouped) byType.set(type, { items, sampler: createWeightedSampler(items.map((i) => i.product.popularity ?? 1)) });
  const typeNames = [...byType.keys()];
  // Store-wide type choice follows total popularity mass, so popular types sell more overall.
  const typeSampler = createWeightedSampler(typeNames.map((t) => byType.get(t)!.items.reduce((a, i) => a + (i.product.popularity ?? 1), 0)));
  const partners = new Map<number, number[]>();
  for (const [a, b] of complements) {
    partners.set(a, [...(partners.get(a) ?? []), b]);
    partners.set(b, [...(partners.get(b) ?? []), a]);
  }
  if (typeNames.length === 0) throw new Error('the store has no sellable products');
  return { byId, byType, typeNames, typeSampler, partners };
}

type DraftLine = Omit<SimLine, 'id'>;
interface DraftOrder {
  atMs: number;
  shopper: Shopper;
  lines: DraftLine[];
  seq: number; // tie-breaker for identical timestamps
}

interface Context {
  rng: Rng;
  catalog: Catalog;
  calendar: DemandCalendar;
  people: PeopleFactory;
  canary: string | undefined;
  currency: string;
  ids: IdAllocator;
}

const available = (info: ProductInfo, atMs: number) => atMs >= info.fromMs && atMs < info.untilMs;

function drawProduct(ctx: Context, type: string, atMs: number): ProductInfo | null {
  const group = ctx.catalog.byType.get(type);
  if (!group) return null;
  for (let tries = 0; tries < 8; tries++) {
    const info = group.items[group.sampler.draw(ctx.rng)] as ProductInfo;
    if (available(info, atMs)) return info;
  }
  return null;
}

/** One basket. `stock` (variant id → units), when given, is respected and decremented. */
function drawBasket(ctx: Context, shopper: Shopper, atMs: number, stock: Map<number, number> | null): DraftLine[] {
  const { rng, catalog } = ctx;
  const lines = new Map<number, DraftLine>(); // by variant id
  const products = new Set<number>();

  const add = (info: ProductInfo) => {
    if (products.has(info.product.id) || !available(info, atMs)) return;
    const variants = info.product.variants;
    let vi = info.variantSampler.draw(rng);
    if (stock) {
      // Shopify's default inventory policy is "deny": a sold-out variant cannot be bought.
      const order = [vi, ...variants.map((_, i) => i).filter((i) => i !== vi)];
      const inStock = order.find((i) => (stock.get((variants[i] as SimProduct['variants'][number]).id) ?? 0) > 0);
      if (inStock === undefined) return;
      vi = inStock;
    }
    const variant = variants[vi] as SimProduct['variants'][number];
    let quantity = rng.weightedPick([1, 2, 3], info.consumable ? [0.7, 0.22, 0.08] : [0.86, 0.11, 0.03]);
    if (stock) {
      const left = stock.get(variant.id) ?? 0;
      quantity = Math.min(quantity, left);
      stock.set(variant.id, left - quantity);
    }
    products.add(info.product.id);
    lines.set(variant.id, {
      productId: info.product.id,
      variantId: variant.id,
      sku: variant.sku,
      title: info.product.title,
      quantity,
      price: variant.price,
    });
    for (const partnerId of catalog.partners.get(info.product.id) ?? []) {
      const partner = catalog.byId.get(partnerId);
      if (partner && rng.chance(COMPLEMENT_PULL)) add(partner);
    }
  };

  if (shopper.favorites.length > 0 && rng.chance(REPURCHASE)) {
    const favorite = catalog.byId.get(rng.pick(shopper.favorites));
    if (favorite) add(favorite);
  }
  const wanted = 1 + Math.min(5, rng.poisson(0.6));
  for (let tries = 0; products.size < wanted && tries < 12; tries++) {
    const type = shopper.preferred.length > 0 && rng.chance(PREFERENCE_STRENGTH)
      ? rng.pick(shopper.preferred)
      : (catalog.typeNames[catalog.typeSampler.draw(rng)] as string);
    const info = drawProduct(ctx, type, atMs);
    if (info) add(info);
  }
  for (const line of lines.values()) {
    const info = catalog.byId.get(line.productId as number);
    if (!info?.consumable) continue;
    shopper.favorites = [...shopper.favorites.filter((id) => id !== line.productId), line.productId as number].slice(-6);
  }
  const result = [...lines.values()];
  if (result.length > 0 && rng.chance(CUSTOM_ITEM_RATE)) {
    const item = rng.pick(CUSTOM_ITEMS);
    result.push({ productId: null, variantId: null, sku: null, title: item.title, quantity: 1, price: item.price });
  }
  return result;
}

/** Purchase instants of a process with daily intensity `perDay × calendar.at(t)` on [from, to), by thinning. */
function purchaseTimes(ctx: Context, perDay: number, fromMs: number, toMs: number): number[] {
  if (!(perDay > 0) || toMs <= fromMs) return [];
  const { rng, calendar } = ctx;
  const max = calendar.maxOn(fromMs, toMs);
  const candidates = rng.poisson((perDay * max * (toMs - fromMs)) / DAY_MS);
  const times: number[] = [];
  for (let i = 0; i < candidates; i++) {
    const t = rng.uniform(fromMs, toMs);
    if (rng.next() * max >= calendar.at(t)) continue;
    // Keep the day, re-draw the hour from the diurnal profile.
    const at = calendar.timeOnDay(rng, calendar.localDayStart(t));
    if (at >= fromMs && at < toMs) times.push(at);
  }
  return times.sort((a, b) => a - b);
}

function shopperFromCustomer(customer: SimCustomer): Shopper {
  return {
    customer,
    person: { firstName: customer.firstName, lastName: customer.lastName, phone: customer.phone, address: customer.address, email: customer.email },
    preferred: customer.preferredTypes ?? [],
    favorites: [],
    ordersPlaced: 0,
  };
}

/** Sum of purchase rates (per day, at trend 1) of customers active at `atMs`. */
function activeCustomerRate(customers: SimCustomer[], atMs: number): number {
  let perDay = 0;
  for (const c of customers) {
    if (Date.parse(c.createdAt) > atMs) continue;
    if (c.churnedAt && Date.parse(c.churnedAt) <= atMs) continue;
    perDay += c.purchaseRate / 30;
  }
  return perDay;
}

/** New accounts per day over the last 90 days of history (at trend 1). */
function arrivalRate(customers: SimCustomer[], asOfMs: number): number {
  const from = asOfMs - 90 * DAY_MS;
  return customers.filter((c) => {
    const t = Date.parse(c.createdAt);
    return t >= from && t < asOfMs;
  }).length / 90;
}

/** Guests keep a fixed share of orders relative to the customer base at `asOf`. */
function guestRate(customers: SimCustomer[], asOfMs: number): number {
  return (GUEST_SHARE / (1 - GUEST_SHARE)) * (activeCustomerRate(customers, asOfMs) + arrivalRate(customers, asOfMs));
}

function randomPreferences(rng: Rng): string[] {
  const worlds = [...new Set(CATEGORIES.map((c) => c.world))];
  const worldWeights = worlds.map((w) => CATEGORIES.filter((c) => c.world === w).reduce((a, c) => a + c.share, 0));
  const world = rng.weightedPick(worlds, worldWeights);
  const inWorld = rng.shuffle(CATEGORIES.filter((c) => c.world === world).map((c) => c.productType));
  const preferred = inWorld.slice(0, rng.int(1, 2));
  // A third of shoppers also like one type from another world.
  if (rng.chance(0.35)) preferred.push(rng.pick(CATEGORIES.filter((c) => c.world !== world)).productType);
  return preferred;
}

export interface CustomerDraftOptions {
  createdMs: number;
  /** The window the history covers: churn dates are drawn relative to it. */
  historyStartMs: number;
  asOfMs: number;
}

/**
 * A customer with hidden behaviour: 45% are one-off buyers (rate ~0.03/30 days); the rest have a
 * log-normal rate (median 0.6/30 days, heavy right tail, capped at 15); a third of the repeat
 * buyers churn at a date that may fall after the history (a churn model's ground truth).
 */
export function draftCustomer(rng: Rng, people: PeopleFactory, canary: string | undefined, opts: CustomerDraftOptions): Omit<SimCustomer, 'id'> {
  const person = people.person(rng);
  const oneOff = rng.chance(0.45);
  const purchaseRate = oneOff ? rng.uniform(0.01, 0.06) : Math.min(15, rng.logNormal(0.6, 1.0));
  let churnedAt: string | null = null;
  if (!oneOff && rng.chance(0.33)) {
    const earliest = Math.max(opts.createdMs, opts.historyStartMs) + 21 * DAY_MS;
    churnedAt = isoUtc(rng.uniform(earliest, Math.max(earliest, opts.asOfMs + 120 * DAY_MS)));
  }
  const newsletter = rng.chance(0.4);
  const tags: string[] = [];
  if (purchaseRate >= 3) tags.push('vip');
  if (newsletter) tags.push('newsletter');
  if (rng.chance(0.02)) tags.push('wholesale');
  const r = rng.next();
  return {
    email: person.email,
    firstName: person.firstName,
    lastName: person.lastName,
    phone: person.phone,
    note: markNote(rng.pick(CUSTOMER_NOTES), canary),
    address: person.address,
    createdAt: isoUtc(opts.createdMs),
    updatedAt: isoUtc(opts.createdMs),
    tags,
    // Accounts made at checkout stay "disabled" until the shopper activates them.
    state: r < 0.7 ? 'enabled' : r < 0.95 ? 'disabled' : 'invited',
    purchaseRate,
    preferredTypes: randomPreferences(rng),
    churnedAt,
    acceptsMarketing: newsletter,
  };
}

function finalizeOrders(ctx: Context, drafts: DraftOrder[]): SimOrder[] {
  const { rng, ids } = ctx;
  drafts.sort((a, b) => a.atMs - b.atMs || a.seq - b.seq);
  return drafts.map((d) => {
    const { shopper } = d;
    const at = isoUtc(d.atMs);
    let discount: SimOrder['discount'] = null;
    if (shopper.customer && shopper.ordersPlaced === 0 && rng.chance(0.3)) discount = { ...DISCOUNTS.welcome };
    else if (rng.chance(0.06)) discount = { ...DISCOUNTS.seasonal };
    shopper.ordersPlaced++;
    const orderNumber = ids.nextOrderNumber();
    return {
      id: ids.next('order'),
      name: `#${orderNumber}`,
      orderNumber,
      customerId: shopper.customer?.id ?? null,
      email: shopper.person.email,
      createdAt: at,
      updatedAt: at,
      processedAt: at,
      cancelledAt: null,
      currency: ctx.currency,
      financialStatus: rng.chance(0.015) ? 'pending' : 'paid',
      lines: d.lines.map((l) => ({ ...l, id: ids.next('lineItem'), ...(ctx.canary ? { properties: [{ name: 'Engraving', value: markNote(`For ${shopper.person.firstName}`, ctx.canary) }] } : {}) })),
      note: rng.chance(0.08) ? markNote(rng.pick(ORDER_NOTES), ctx.canary) : null,
      test: rng.chance(0.002),
      buyer: { firstName: shopper.person.firstName, lastName: shopper.person.lastName, phone: shopper.person.phone, address: shopper.person.address },
      cancelReason: null,
      fulfilledAt: null,
      refunds: [],
      discount,
      sourceName: rng.weightedPick(SOURCES, SOURCE_WEIGHTS),
      tags: [],
      ...(ctx.canary ? canaryExtras(ctx.canary, orderNumber, shopper.person.firstName) : {}),
    };
  });
}

/**
 * A canary store's cart attributes and browser details (no random draws). The IP is in
 * TEST-NET-2 (198.51.100.0/24, RFC 5737): it cannot carry the canary text, but no real data
 * contains that prefix, so a privacy test searches for it as well.
 */
function canaryExtras(canary: string, orderNumber: number, firstName: string): Pick<SimOrder, 'noteAttributes' | 'clientDetails'> {
  return {
    noteAttributes: [{ name: 'gift_message', value: markNote(`Happy birthday, ${firstName}!`, canary) }],
    clientDetails: {
      browserIp: `198.51.100.${(orderNumber % 254) + 1}`,
      userAgent: `Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0 ${canary}`,
      acceptLanguage: 'en-US,en;q=0.9',
    },
  };
}

interface WindowInput {
  fromMs: number;
  toMs: number;
  /** Customers who may buy in the window (those created inside it place a first order at sign-up). */
  shoppers: Shopper[];
  guests: Shopper[];
  guestPerDay: number;
  /** Multiplies every rate (live traffic at a chosen volume). */
  scale: number;
  stock: Map<number, number> | null;
}

/** All orders of one window, in time order, with ids assigned. */
function simulateWindow(ctx: Context, input: WindowInput): SimOrder[] {
  const { rng } = ctx;
  const drafts: DraftOrder[] = [];
  let seq = 0;
  const place = (shopper: Shopper, atMs: number) => {
    const lines = drawBasket(ctx, shopper, atMs, input.stock);
    if (lines.length > 0) drafts.push({ atMs, shopper, lines, seq: seq++ });
  };
  for (const shopper of input.shoppers) {
    const c = shopper.customer as SimCustomer;
    const createdMs = Date.parse(c.createdAt);
    const churnMs = c.churnedAt ? Date.parse(c.churnedAt) : Infinity;
    const times: number[] = [];
    let from = Math.max(input.fromMs, createdMs);
    if (createdMs >= input.fromMs && createdMs < input.toMs) {
      // Most accounts are created at checkout: the first order follows within minutes.
      const first = createdMs + 1000 + Math.round(rng.exponential(1 / 600_000) / 1000) * 1000;
      if (first < input.toMs) times.push(first);
      from = first + 1000;
    }
    times.push(...purchaseTimes(ctx, (c.purchaseRate / 30) * input.scale, from, Math.min(input.toMs, churnMs)));
    for (const t of times) place(shopper, t);
  }
  for (const t of purchaseTimes(ctx, input.guestPerDay * input.scale, input.fromMs, input.toMs)) {
    let shopper: Shopper;
    if (input.guests.length > 0 && rng.chance(GUEST_RETURN)) shopper = rng.pick(input.guests);
    else {
      shopper = { customer: null, person: ctx.people.person(rng, rng.pick(['example.com', 'example.net', 'example.org'])), preferred: randomPreferences(rng), favorites: [], ordersPlaced: 0 };
      input.guests.push(shopper);
    }
    place(shopper, t);
  }
  return finalizeOrders(ctx, drafts);
}

function makeContext(rng: Rng, store: Pick<SimStore, 'products' | 'customers' | 'orders' | 'currency' | 'complements'>, asOfMs: number, utcOffsetMinutes: number, canary: string | undefined, ids: IdAllocator, people: PeopleFactory): Context {
  return {
    rng,
    catalog: buildCatalog(store.products, store.complements ?? []),
    calendar: createDemandCalendar(asOfMs, utcOffsetMinutes),
    people,
    canary,
    currency: store.currency,
    ids,
  };
}

export interface HistoryInput {
  store: Pick<SimStore, 'products' | 'customers' | 'currency' | 'complements'>;
  historyStartMs: number;
  asOfMs: number;
  utcOffsetMinutes: number;
  canary: string | undefined;
  ids: IdAllocator;
  people: PeopleFactory;
}

/** The history's orders (fresh, not yet fulfilled/cancelled/refunded: see store.ts). */
export function simulateHistory(rng: Rng, input: HistoryInput): SimOrder[] {
  const ctx = makeContext(rng, { ...input.store, orders: [] }, input.asOfMs, input.utcOffsetMinutes, input.canary, input.ids, input.people);
  return simulateWindow(ctx, {
    fromMs: input.historyStartMs,
    toMs: input.asOfMs,
    shoppers: input.store.customers.map(shopperFromCustomer),
    guests: [],
    guestPerDay: guestRate(input.store.customers, input.asOfMs),
    scale: 1,
    stock: null,
  });
}

// ───────────────────────── live orders after the history ─────────────────────────

export interface OrderBatch {
  orders: SimOrder[];
  /** Customers who signed up in the window (their first order is in `orders`). */
  customers: SimCustomer[];
}

export interface OrderFactoryOptions {
  seed: Seed;
  personalDataCanary?: string;
  /** Target volume; by default the history's own rate continues. */
  ordersPerDay?: number;
  /** Shared with other id minters for the same store (the webhook stream's refunds). */
  ids?: IdAllocator;
  /**
   * Respect and decrement stock (sold-out variants cannot be bought). Defaults to a private
   * copy of the store's inventory; pass a map to share it.
   */
  stock?: Map<number, number>;
}

export interface OrderFactory {
  /** Orders (and sign-ups) in [from, to). Successive calls continue ids, favorites and stock. */
  between(from: string | Date | number, to: string | Date | number): OrderBatch;
}

/**
 * Live orders for a generated store, continuing its behaviour (rates, churn, preferences,
 * repurchases, arrivals, guests). Pure with respect to `store`: nothing in it is modified.
 */
export function createOrderFactory(store: SimStore, opts: OrderFactoryOptions): OrderFactory {
  const rng = createRng(opts.seed).fork('live-orders');
  const asOfMs = store.asOf ? Date.parse(store.asOf) : Math.max(...store.orders.map((o) => Date.parse(o.createdAt)), 0);
  const ids = opts.ids ?? createIdAllocator(rng.fork('ids'), store);
  const taken = [...store.customers.map((c) => c.email), ...store.orders.flatMap((o) => (o.email ? [o.email] : []))];
  const people = createPeopleFactory(opts.personalDataCanary, taken);
  const ctx = makeContext(rng, store, asOfMs, store.utcOffsetMinutes ?? DEFAULT_UTC_OFFSET_MINUTES, opts.personalDataCanary, ids, people);
  const stock = opts.stock ?? new Map(store.products.flatMap((p) => p.variants.map((v) => [v.id, v.inventoryQuantity] as const)));

  // Rebuild what shoppers remember from the history: favorites, order counts, guest identities.
  const shoppers = new Map<number, Shopper>(store.customers.map((c) => [c.id, shopperFromCustomer(c)]));
  const guests = new Map<string, Shopper>();
  for (const order of [...store.orders].sort((a, b) => Date.parse(a.createdAt) - Date.parse(b.createdAt))) {
    let shopper = order.customerId !== null ? shoppers.get(order.customerId) : undefined;
    if (!shopper && order.customerId === null && order.email && order.buyer) {
      shopper = guests.get(order.email);
      if (!shopper) {
        shopper = { customer: null, person: { ...order.buyer, email: order.email }, preferred: [], favorites: [], ordersPlaced: 0 };
        guests.set(order.email, shopper);
      }
    }
    if (!shopper) continue;
    shopper.ordersPlaced++;
    for (const line of order.lines) {
      if (line.productId !== null && ctx.catalog.byId.get(line.productId)?.consumable) {
        shopper.favorites = [...shopper.favorites.filter((id) => id !== line.productId), line.productId].slice(-6);
      }
    }
  }
  const guestPool = [...guests.values()];
  const allCustomers = [...store.customers];
  const arrivalsPerDay = arrivalRate(store.customers, asOfMs);
  const guestPerDay = guestRate(store.customers, asOfMs);

  return {
    between(fromValue, toValue) {
      const fromMs = typeof fromValue === 'number' ? fromValue : parseInstant(fromValue);
      const toMs = typeof toValue === 'number' ? toValue : parseInstant(toValue);
      if (!(toMs > fromMs)) return { orders: [], customers: [] };
      const natural = (activeCustomerRate(allCustomers, fromMs) + arrivalsPerDay + guestPerDay) * ctx.calendar.trend(fromMs);
      const scale = opts.ordersPerDay !== undefined && natural > 0 ? opts.ordersPerDay / natural : 1;

      // New sign-ups arrive at the history's recent pace (× scale), following the calendar.
      const arrivals = purchaseTimes(ctx, arrivalsPerDay * scale, fromMs, toMs);
      const newcomers: SimCustomer[] = arrivals.map((t) => {
        const draft = draftCustomer(rng, people, opts.personalDataCanary, { createdMs: t, historyStartMs: fromMs, asOfMs: toMs });
        const customer: SimCustomer = { id: ids.next('customer'), ...draft };
        allCustomers.push(customer);
        shoppers.set(customer.id, shopperFromCustomer(customer));
        return customer;
      });

      const active = allCustomers.filter((c) => {
        if (Date.parse(c.createdAt) >= toMs) return false;
        return !c.churnedAt || Date.parse(c.churnedAt) > fromMs;
      }).map((c) => shoppers.get(c.id) as Shopper);
      const orders = simulateWindow(ctx, { fromMs, toMs, shoppers: active, guests: guestPool, guestPerDay, scale, stock });
      return { orders, customers: newcomers };
    },
  };
}

export interface GenerateOrdersOptions extends OrderFactoryOptions {
  from: string | Date | number;
  to: string | Date | number;
}

/** One-shot form of createOrderFactory: the live orders (and sign-ups) in [from, to). */
export function generateOrders(store: SimStore, opts: GenerateOrdersOptions): OrderBatch {
  return createOrderFactory(store, opts).between(opts.from, opts.to);
}
