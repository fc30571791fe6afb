// Simulated shoppers on the storefront, for the demo and tests: each visit does what the theme
// block (extensions/shopml-theme) and Shopify do for one page view, over real HTTP with real
// signatures —
//
//   1. GET  {backend}/proxy/recommendations   signed as Shopify's app proxy signs it (shop,
//      logged_in_customer_id, path_prefix, timestamp, signature), with the product(s) of the page,
//      the block's anonymous id and `consent=1` when the shopper granted analytics consent;
//   2. POST {backend}/proxy/events            an impression of the list (consent only);
//   3. maybe a click (an event, consent only), an add to cart — the line carries the
//      `_shopml_rec` property with the list's rec_id only with consent, as the block does — and a
//      checkout: an `orders/create` webhook signed with the app secret, at the wall clock.
//
// Who visits: logged-in customers of the store (`loggedInShare`) or anonymous shoppers, who come
// back with the same anonymous id (`returningShare`); consent is granted with `consentRate`.
// What they do is a funnel of seeded draws made before the list is seen, so the arm the backend
// assigns changes nothing but the one thing it is meant to change: the challenger's click
// probability is multiplied by (1 + `challengerLift`) — the simulation's TRUE effect, which the
// canary has to find on its own from exposures and attributed orders. Champion and holdout
// shoppers behave alike (no true effect between them).
//
// Orders placed here are appended to `store.orders` (the Admin API simulator serves them); ids
// come from a range of their own so they never collide with the webhook stream's. Stock is not
// decremented (the webhook stream owns the stock levels).
import { randomUUID } from 'node:crypto';
import { createIdAllocator, type IdAllocator } from './ids.ts';
import { isoUtc } from './calendar.ts';
import { createPeopleFactory, type PeopleFactory } from './people.ts';
import { createRng, type Rng, type Seed } from './random.ts';
import { orderPayload } from './rest-payloads.ts';
import { appProxyQuery } from './sign.ts';
import { sendWebhook, type PayloadFields, type RetryPolicy } from './webhook-sender.ts';
import type { SimCustomer, SimOrder, SimProduct, SimStore, SimVariant } from './types.ts';

/** The line-item property the block adds on add to cart (backend/src/track/conversions.ts). */
export const REC_PROPERTY = '_shopml_rec';

export type Arm = 'champion' | 'challenger' | 'holdout' | 'fallback';
const ARMS: readonly Arm[] = ['champion', 'challenger', 'holdout', 'fallback'];

export interface FunnelRates {
  /** Chance that a shopper who sees a list clicks one of its products (champion and holdout). */
  clickRate: number;
  /** Chance that a click ends in an add to cart. */
  addToCartRate: number;
  /** Chance that a cart ends in an order. */
  checkoutRate: number;
  /** Relative lift of the challenger's click rate: 0.2 = +20% (the simulation's true effect). */
  challengerLift: number;
}

export const DEFAULT_FUNNEL: Readonly<FunnelRates> = Object.freeze({ clickRate: 0.3, addToCartRate: 0.6, checkoutRate: 0.55, challengerLift: 0.2 });

export interface ShopperOptions extends Partial<FunnelRates> {
  /** Where Shopify's app proxy forwards /apps/shopml/* (the backend: `${backend}/proxy/*`). */
  backendUrl: string;
  /** The backend's webhook endpoint (orders/create). */
  webhookUrl: string;
  /** The app's client secret: app proxy and webhook signatures. */
  secret: string;
  /** The store (read for products and customers; orders are appended). */
  store: SimStore;
  seed: Seed;
  /** Page views started per second (default 10); 0: none; Infinity: as fast as `concurrency` allows. */
  visitsPerSecond?: number;
  /** Visits in flight at once (default 8). */
  concurrency?: number;
  /** Share of visits that granted analytics consent (default 0.85). */
  consentRate?: number;
  /** Share of visits by a logged-in customer (default 0.4). */
  loggedInShare?: number;
  /** Share of anonymous visits by a shopper seen before (same anonymous id; default 0.5). */
  returningShare?: number;
  /** Share of visits on the cart page (the cart's products) rather than a product page (default 0.15). */
  cartShare?: number;
  /** Products per list (default 8). */
  limit?: number;
  /** Stop after this many visits (default: until stop()). */
  maxVisits?: number;
  /** Webhook retries (default: 3 retries from 250 ms). */
  retry?: Partial<RetryPolicy>;
  /** The orders' fields (webhook-sender.ts; default `subscribed`, as Shopify sends them). */
  payloadFields?: PayloadFields;
  fetchImpl?: typeof fetch;
  /** Wall clock for order timestamps (default Date.now). */
  now?: () => number;
}

export interface ShopperStats {
  visits: number;
  consented: number;
  loggedIn: number;
  /** Lists served, by the arm the backend answered with. */
  served: Record<Arm, number>;
  impressions: number;
  clicks: number;
  carts: number;
  orders: number;
  /** Orders placed by arm of the list the product came from. */
  ordersByArm: Record<Arm, number>;
  /** Orders whose line carries the rec_id property (consent given). */
  ordersWithProperty: number;
  /** Σ of those orders' recommended lines (shop currency). */
  revenue: number;
  /** Requests answered 429 (the events rate limit). */
  rateLimited: number;
  errors: number;
  lastError: string | null;
}

/** What one visit will do, drawn before anything is requested (pure function of the stream). */
export interface VisitPlan {
  unit: string;
  anonymousId: string;
  customer: SimCustomer | null;
  consent: boolean;
  /** The page's products: one (product page) or the cart's. */
  productIds: number[];
  /** Uniform draws for the funnel: click, add to cart, checkout, which product. */
  u: [number, number, number, number];
  quantity: number;
}

/** The funnel's outcome for a list served in `arm` (pure). */
export function funnel(arm: Arm, u: VisitPlan['u'], r: FunnelRates): { click: boolean; cart: boolean; buy: boolean } {
  const pClick = Math.min(1, r.clickRate * (arm === 'challenger' ? 1 + r.challengerLift : 1));
  const click = u[0] < pClick;
  const cart = click && u[1] < r.addToCartRate;
  return { click, cart, buy: cart && u[2] < r.checkoutRate };
}

/** Which shown product is clicked: position-biased (1/(rank+1)), from a uniform draw (pure). */
export function pickPosition(n: number, u: number): number {
  if (n <= 0) return -1;
  let total = 0;
  for (let i = 0; i < n; i++) total += 1 / (i + 1);
  let acc = 0;
  for (let i = 0; i < n; i++) {
    acc += 1 / (i + 1) / total;
    if (u < acc) return i;
  }
  return n - 1;
}

function checkRate(name: string, v: number, max = 1): void {
  if (!(Number.isFinite(v) && v >= 0 && v <= max)) throw new RangeError(`${name} must be a number from 0 to ${max}, got ${v}`);
}

const purchasable = (p: SimProduct): SimVariant | null => (p.status === 'ACTIVE' ? p.variants.find((v) => v.inventoryQuantity > 0) ?? null : null);

/** A store order for one shopper's cart, at `atMs` (ids from the shoppers' own range). */
export function shopperOrder(o: { store: SimStore; ids: IdAllocator; people: PeopleFactory; rng: Rng; customer: SimCustomer | null; lines: { product: SimProduct; variant: SimVariant; quantity: number }[]; atMs: number }): SimOrder {
  const at = isoUtc(o.atMs);
  const c = o.customer;
  const guest = c ? null : o.people.person(o.rng);
  const orderNumber = o.ids.nextOrderNumber();
  return {
    id: o.ids.next('order'),
    name: `#${orderNumber}`,
    orderNumber,
    customerId: c?.id ?? null,
    email: c?.email ?? guest!.email,
    createdAt: at,
    updatedAt: at,
    processedAt: at,
    cancelledAt: null,
    currency: o.store.currency,
    financialStatus: 'paid',
    lines: o.lines.map((l) => ({
      id: o.ids.next('lineItem'), productId: l.product.id, variantId: l.variant.id, sku: l.variant.sku,
      title: l.product.title, quantity: l.quantity, price: l.variant.price,
    })),
    note: null,
    test: false,
    buyer: c ? { firstName: c.firstName, lastName: c.lastName, phone: c.phone, address: c.address } : { firstName: guest!.firstName, lastName: guest!.lastName, phone: guest!.phone, address: guest!.address },
    cancelReason: null,
    fulfilledAt: null,
    refunds: [],
    discount: null,
    sourceName: 'web',
    tags: [],
  };
}

/** The REST orders/create body of `order`, with the rec_id property on the recommended line. */
export function orderWithProperty(order: SimOrder, store: SimStore, recLineId: number | null, recId: string | null): Record<string, unknown> {
  const payload = orderPayload(order, store) as Record<string, unknown>;
  if (recLineId !== null && recId !== null) {
    for (const li of payload.line_items as { id: number; properties: { name: string; value: string }[] }[]) {
      if (li.id === recLineId) li.properties = [{ name: REC_PROPERTY, value: recId }];
    }
  }
  return payload;
}

/**
 * An id allocator in a range of its own: far above everything in the store, so ids minted by the
 * webhook stream (which continues right after the store's largest ids) never meet these.
 */
export function shopperIds(rng: Rng, store: SimStore): IdAllocator {
  let maxOrder = 0, maxLine = 0, maxNumber = 0;
  for (const o of store.orders) {
    maxOrder = Math.max(maxOrder, o.id);
    maxNumber = Math.max(maxNumber, o.orderNumber);
    for (const l of o.lines) maxLine = Math.max(maxLine, l.id);
  }
  const marker: SimOrder = {
    id: maxOrder + 500_000_000_000, name: '', orderNumber: maxNumber + 500_000, customerId: null, email: null, createdAt: '', updatedAt: '', processedAt: '',
    cancelledAt: null, currency: store.currency, financialStatus: 'paid', note: null, test: false,
    lines: [{ id: maxLine + 500_000_000_000, productId: null, variantId: null, sku: null, title: '', quantity: 1, price: '0' }],
  };
  return createIdAllocator(rng, { products: [], customers: [], orders: [marker] });
}

export interface ShopperStream {
  /** Runs until maxVisits or stop(); resolves with the final stats. Calling it again returns the same run. */
  start(): Promise<ShopperStats>;
  /** Stops starting visits and waits for those in flight to finish (their requests are not cut off). */
  stop(): Promise<ShopperStats>;
  readonly stats: ShopperStats;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted || ms <= 0) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const t = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

interface Served { variant?: string; rec_id?: string; products?: { id?: unknown; variant_id?: unknown }[] }

export function createShopperStream(o: ShopperOptions): ShopperStream {
  const rates: FunnelRates = {
    clickRate: o.clickRate ?? DEFAULT_FUNNEL.clickRate,
    addToCartRate: o.addToCartRate ?? DEFAULT_FUNNEL.addToCartRate,
    checkoutRate: o.checkoutRate ?? DEFAULT_FUNNEL.checkoutRate,
    challengerLift: o.challengerLift ?? DEFAULT_FUNNEL.challengerLift,
  };
  checkRate('clickRate', rates.clickRate);
  checkRate('addToCartRate', rates.addToCartRate);
  checkRate('checkoutRate', rates.checkoutRate);
  checkRate('challengerLift', rates.challengerLift, 10);
  const consentRate = o.consentRate ?? 0.85;
  const loggedInShare = o.loggedInShare ?? 0.4;
  const returningShare = o.returningShare ?? 0.5;
  const cartShare = o.cartShare ?? 0.15;
  for (const [k, v] of Object.entries({ consentRate, loggedInShare, returningShare, cartShare })) checkRate(k, v);
  const rate = o.visitsPerSecond ?? 10;
  const concurrency = Math.max(1, o.concurrency ?? 8);
  const limit = o.limit ?? 8;
  const now = o.now ?? Date.now;
  const fetchImpl = o.fetchImpl ?? fetch;
  const store = o.store;
  const rng = createRng(o.seed).fork('shoppers');
  const plans = rng.fork('visits');
  const ids = shopperIds(rng.fork('ids'), store);
  const people = createPeopleFactory(undefined, [...store.customers.map((c) => c.email), ...store.orders.flatMap((x) => (x.email ? [x.email] : []))]);
  const peopleRng = rng.fork('people');
  const byId = new Map<number, SimProduct>(store.products.map((p) => [p.id, p]));
  const pages = store.products.filter((p) => purchasable(p) !== null);
  if (pages.length === 0) throw new Error('the store has no purchasable product to visit');
  const pageWeights = pages.map((p) => p.popularity ?? 1);
  const anonymous: string[] = [];
  const stopper = new AbortController();
  const zero = () => Object.fromEntries(ARMS.map((a) => [a, 0])) as Record<Arm, number>;
  const stats: ShopperStats = { visits: 0, consented: 0, loggedIn: 0, served: zero(), impressions: 0, clicks: 0, carts: 0, orders: 0, ordersByArm: zero(), ordersWithProperty: 0, revenue: 0, rateLimited: 0, errors: 0, lastError: null };
  let run: Promise<ShopperStats> | null = null;

  const plan = (): VisitPlan => {
    let customer: SimCustomer | null = null;
    let anonymousId: string;
    const enabled = store.customers.filter((c) => c.state === 'enabled');
    if (enabled.length > 0 && plans.chance(loggedInShare)) customer = plans.pick(enabled);
    if (anonymous.length > 0 && plans.chance(returningShare)) anonymousId = plans.pick(anonymous);
    else {
      anonymousId = `sa-${plans.uuid().replace(/-/g, '').slice(0, 20)}`;
      anonymous.push(anonymousId);
      if (anonymous.length > 5000) anonymous.shift();
    }
    const consent = plans.chance(consentRate);
    const first = plans.weightedPick(pages, pageWeights).id;
    const productIds = plans.chance(cartShare) ? [...new Set([first, plans.weightedPick(pages, pageWeights).id])] : [first];
    const u: VisitPlan['u'] = [plans.next(), plans.next(), plans.next(), plans.next()];
    const quantity = plans.chance(0.85) ? 1 : 2;
    return { unit: customer ? String(customer.id) : anonymousId, anonymousId, customer, consent, productIds, u, quantity };
  };

  const fail = (what: string) => {
    stats.errors++;
    stats.lastError = what;
  };

  const proxyUrl = (path: string, p: VisitPlan, extra: Record<string, string | string[]>) =>
    `${o.backendUrl}/proxy/${path}?${appProxyQuery({ secret: o.secret, shop: store.shop, loggedInCustomerId: p.customer ? String(p.customer.id) : '', extra })}`;

  const postEvents = async (p: VisitPlan, events: Record<string, unknown>[]) => {
    const res = await fetchImpl(proxyUrl('events', p, {}), {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ consent: true, anonymous_id: p.anonymousId, events }),
    });
    await res.arrayBuffer();
    if (res.status === 429) stats.rateLimited++;
    else if (res.status >= 300) fail(`POST /proxy/events answered ${res.status}`);
    return res.status < 300;
  };

  const visit = async (p: VisitPlan) => {
    stats.visits++;
    if (p.consent) stats.consented++;
    if (p.customer) stats.loggedIn++;
    const res = await fetchImpl(proxyUrl('recommendations', p, {
      product_id: p.productIds.map(String), anonymous_id: p.anonymousId, limit: String(limit), ...(p.consent ? { consent: '1' } : {}),
    }));
    if (res.status !== 200) {
      await res.arrayBuffer();
      return fail(`GET /proxy/recommendations answered ${res.status}`);
    }
    const served = (await res.json()) as Served;
    const arm = (ARMS as readonly string[]).includes(served.variant ?? '') ? (served.variant as Arm) : 'fallback';
    stats.served[arm]++;
    // The shelf shows the products the storefront can name (Shopify ids, known to the store).
    const shown = (served.products ?? []).map((x) => String(x.id)).filter((id) => /^\d{1,20}$/.test(id));
    if (shown.length === 0 || typeof served.rec_id !== 'string') return;
    const recId = served.rec_id;
    if (p.consent && await postEvents(p, [{ id: `e-${randomUUID()}`, type: 'impression', rec_id: recId, product_ids: shown.slice(0, 50) }])) stats.impressions++;

    const outcome = funnel(arm, p.u, rates);
    if (!outcome.click) return;
    const product = byId.get(Number(shown[pickPosition(shown.length, p.u[3])]));
    const variant = product ? purchasable(product) : null;
    if (!product || !variant) return; // gone from the store, or sold out since the list was made
    stats.clicks++;
    if (p.consent) await postEvents(p, [{ id: `e-${randomUUID()}`, type: 'click', rec_id: recId, product_id: String(product.id) }]);
    if (!outcome.cart) return;
    stats.carts++;
    if (!outcome.buy) return;

    const order = shopperOrder({ store, ids, people, rng: peopleRng, customer: p.customer, lines: [{ product, variant, quantity: p.quantity }], atMs: now() });
    const property = p.consent ? recId : null; // the block adds the property only with consent
    const payload = orderWithProperty(order, store, order.lines[0]!.id, property);
    store.orders.push(order);
    const delivered = await sendWebhook({
      url: o.webhookUrl, secret: o.secret, shop: store.shop, topic: 'orders/create', payload, payloadFields: o.payloadFields,
      triggeredAt: order.createdAt, retry: { maxRetries: 3, baseDelayMs: 250, ...o.retry }, signal: stopper.signal, fetchImpl,
    });
    if (!delivered.ok) return fail(`orders/create for order ${order.id} was not accepted (${delivered.attempts.at(-1)?.status ?? delivered.attempts.at(-1)?.error})`);
    stats.orders++;
    stats.ordersByArm[arm]++;
    if (property) {
      stats.ordersWithProperty++;
      stats.revenue += Number(variant.price) * p.quantity;
    }
  };

  const loop = async (): Promise<ShopperStats> => {
    const inFlight = new Set<Promise<void>>();
    const startedAt = performance.now();
    if (!(rate > 0)) return stats;
    for (let issued = 0; o.maxVisits === undefined || issued < o.maxVisits; issued++) {
      if (Number.isFinite(rate)) await sleep(startedAt + (issued * 1000) / rate - performance.now(), stopper.signal);
      while (inFlight.size >= concurrency && !stopper.signal.aborted) await Promise.race(inFlight);
      if (stopper.signal.aborted) break;
      const p = plan();
      const task: Promise<void> = visit(p)
        .catch((err: unknown) => fail((err as Error).message ?? String(err)))
        .finally(() => inFlight.delete(task));
      inFlight.add(task);
    }
    await Promise.all(inFlight);
    return stats;
  };

  return {
    start() {
      run ??= loop();
      return run;
    },
    async stop() {
      stopper.abort();
      return run ? run : stats;
    },
    get stats() {
      return stats;
    },
  };
}
