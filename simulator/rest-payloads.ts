// Simulated data → the JSON bodies Shopify sends in webhooks (REST resource shapes, API
// 2026-07). Faithful on the points a receiver can get wrong: ids are JSON numbers, money is a
// string ("19.99") except where Shopify itself sends numbers (refund line subtotals), times carry
// the shop's UTC offset, `customer` is null for guests, custom lines have null product ids,
// and every personal field Shopify really sends is present (shopml must strip them).
import { createHash } from 'node:crypto';
import { DEFAULT_UTC_OFFSET_MINUTES, isoWithOffset } from './calendar.ts';
import { derivedId, gid } from './ids.ts';
import { fromCents, orderCountry, orderMoney, refundMoney, toCents, type OrderMoney } from './order-totals.ts';
import { refundableLines } from './order-lifecycle.ts';
import type { SimAddress, SimBuyer, SimCustomer, SimLine, SimOrder, SimProduct, SimRefund, SimStore, SimVariant } from './types.ts';

type Json = Record<string, unknown>;

interface StoreIndex {
  products: Map<number, SimProduct>;
  variants: Map<number, SimVariant>;
  customers: Map<number, SimCustomer>;
  sizes: [SimProduct[], number, SimCustomer[], number];
}
const indexes = new WeakMap<SimStore, StoreIndex>();

/** Id lookups, rebuilt when the store's product or customer list changes (the stream appends). */
function indexOf(store: SimStore): StoreIndex {
  const cached = indexes.get(store);
  const [p, pn, c, cn] = cached?.sizes ?? [];
  if (cached && p === store.products && pn === store.products.length && c === store.customers && cn === store.customers.length) return cached;
  const index: StoreIndex = {
    products: new Map(store.products.map((x) => [x.id, x])),
    variants: new Map(store.products.flatMap((x) => x.variants.map((v) => [v.id, v] as const))),
    customers: new Map(store.customers.map((x) => [x.id, x])),
    sizes: [store.products, store.products.length, store.customers, store.customers.length],
  };
  indexes.set(store, index);
  return index;
}

const offsetOf = (store: SimStore) => store.utcOffsetMinutes ?? DEFAULT_UTC_OFFSET_MINUTES;

function time(iso: string, store: SimStore): string;
function time(iso: string | null | undefined, store: SimStore): string | null;
function time(iso: string | null | undefined, store: SimStore): string | null {
  return iso ? isoWithOffset(iso, offsetOf(store)) : null;
}

function moneySet(cents: number, currency: string): Json {
  const amount = { amount: fromCents(cents), currency_code: currency };
  return { shop_money: amount, presentment_money: { ...amount } };
}

function addressPayload(person: SimBuyer): Json {
  const a: SimAddress = person.address;
  return {
    first_name: person.firstName,
    address1: a.address1,
    phone: person.phone,
    city: a.city,
    zip: a.zip,
    province: a.province ?? null,
    country: a.country,
    last_name: person.lastName,
    address2: a.address2 ?? null,
    company: a.company ?? null,
    latitude: null,
    longitude: null,
    name: `${person.firstName} ${person.lastName}`,
    country_code: a.countryCode,
    province_code: a.provinceCode ?? null,
  };
}

function defaultAddressPayload(customer: SimCustomer): Json {
  const a = customer.address;
  return {
    id: derivedId('address', customer.id),
    customer_id: customer.id,
    first_name: customer.firstName,
    last_name: customer.lastName,
    company: a.company ?? null,
    address1: a.address1,
    address2: a.address2 ?? null,
    city: a.city,
    province: a.province ?? null,
    country: a.country,
    zip: a.zip,
    phone: customer.phone,
    name: `${customer.firstName} ${customer.lastName}`,
    province_code: a.provinceCode ?? null,
    country_code: a.countryCode,
    country_name: a.country,
    default: true,
  };
}

/** The REST Customer resource (as embedded in orders and sent in customers/* webhooks). */
export function customerPayload(customer: SimCustomer, store: SimStore): Json {
  const subscribed = customer.acceptsMarketing ?? false;
  return {
    id: customer.id,
    email: customer.email,
    created_at: time(customer.createdAt, store),
    updated_at: time(customer.updatedAt, store),
    first_name: customer.firstName,
    last_name: customer.lastName,
    state: customer.state,
    note: customer.note,
    verified_email: customer.state === 'enabled',
    multipass_identifier: null,
    tax_exempt: false,
    phone: customer.phone,
    email_marketing_consent: {
      state: subscribed ? 'subscribed' : 'not_subscribed',
      opt_in_level: 'single_opt_in',
      consent_updated_at: subscribed ? time(customer.createdAt, store) : null,
    },
    sms_marketing_consent: null,
    tags: customer.tags.join(', '),
    currency: store.currency,
    tax_exemptions: [],
    admin_graphql_api_id: gid('Customer', customer.id),
    default_address: defaultAddressPayload(customer),
  };
}

const TAX_TITLE: Record<string, string> = { US: 'Sales Tax', CA: 'HST', GB: 'VAT', DE: 'MwSt' };

function lineItemPayload(line: SimLine, order: SimOrder, money: OrderMoney, store: SimStore, currentQuantity: number): Json {
  const index = indexOf(store);
  const product = line.productId !== null ? index.products.get(line.productId) : undefined;
  const variant = line.variantId !== null ? index.variants.get(line.variantId) : undefined;
  const variantTitle = variant && variant.title !== 'Default Title' ? variant.title : null;
  const m = money.lines.get(line.id) ?? { grossCents: 0, discountCents: 0, taxCents: 0 };
  const country = orderCountry(order);
  const open = order.cancelledAt || order.fulfilledAt ? 0 : currentQuantity;
  return {
    id: line.id,
    admin_graphql_api_id: gid('LineItem', line.id),
    attributed_staffs: [],
    current_quantity: currentQuantity,
    fulfillable_quantity: open,
    fulfillment_service: 'manual',
    fulfillment_status: order.fulfilledAt ? 'fulfilled' : null,
    gift_card: false,
    grams: line.productId !== null ? 300 : 0,
    name: variantTitle ? `${line.title} - ${variantTitle}` : line.title,
    price: line.price,
    price_set: moneySet(toCents(line.price), order.currency),
    product_exists: product !== undefined,
    product_id: line.productId,
    properties: line.properties?.map((p) => ({ ...p })) ?? [],
    quantity: line.quantity,
    requires_shipping: line.productId !== null,
    sku: line.sku,
    taxable: true,
    title: line.title,
    total_discount: fromCents(m.discountCents),
    total_discount_set: moneySet(m.discountCents, order.currency),
    variant_id: line.variantId,
    variant_inventory_management: line.variantId !== null ? 'shopify' : null,
    variant_title: variantTitle,
    vendor: product?.vendor ?? null,
    tax_lines: m.taxCents > 0
      ? [{ channel_liable: false, price: fromCents(m.taxCents), price_set: moneySet(m.taxCents, order.currency), rate: money.taxRate, title: TAX_TITLE[country] ?? 'Tax' }]
      : [],
    duties: [],
    discount_allocations: m.discountCents > 0
      ? [{ amount: fromCents(m.discountCents), amount_set: moneySet(m.discountCents, order.currency), discount_application_index: 0 }]
      : [],
  };
}

function refundObject(refund: SimRefund, order: SimOrder, money: OrderMoney, store: SimStore): Json {
  const amounts = refundMoney(money, refund);
  const linesById = new Map(order.lines.map((l) => [l.id, l]));
  const restockLocation = refund.restock ? (store.locationId ?? null) : null;
  return {
    id: refund.id,
    admin_graphql_api_id: gid('Refund', refund.id),
    created_at: time(refund.createdAt, store),
    note: refund.note,
    order_id: order.id,
    processed_at: time(refund.createdAt, store),
    restock: refund.restock,
    total_duties_set: moneySet(0, order.currency),
    user_id: null,
    order_adjustments: [],
    transactions: amounts.totalCents > 0
      ? [{
          id: derivedId('transaction', refund.id),
          order_id: order.id,
          kind: 'refund',
          gateway: 'shopify_payments',
          status: 'success',
          message: 'Refunded',
          created_at: time(refund.createdAt, store),
          test: order.test,
          authorization: null,
          location_id: null,
          user_id: null,
          parent_id: null,
          processed_at: time(refund.createdAt, store),
          device_id: null,
          error_code: null,
          source_name: 'web',
          receipt: {},
          amount: fromCents(amounts.totalCents),
          currency: order.currency,
          payment_id: `${order.name.replace('#', 'c')}.2`,
          manual_payment_gateway: false,
          admin_graphql_api_id: gid('OrderTransaction', derivedId('transaction', refund.id)),
        }]
      : [],
    refund_line_items: refund.lines.map((rl) => {
      const line = linesById.get(rl.lineId);
      const m = amounts.lines.get(rl.lineId) ?? { subtotalCents: 0, taxCents: 0 };
      return {
        id: rl.id,
        line_item_id: rl.lineId,
        location_id: restockLocation,
        quantity: rl.quantity,
        restock_type: refund.restock ? 'return' : 'no_restock',
        // Shopify sends these two as JSON numbers (the *_set twins carry strings).
        subtotal: m.subtotalCents / 100,
        subtotal_set: moneySet(m.subtotalCents, order.currency),
        total_tax: m.taxCents / 100,
        total_tax_set: moneySet(m.taxCents, order.currency),
        line_item: line ? lineItemPayload(line, order, money, store, line.quantity) : null,
      };
    }),
    duties: [],
    additional_fees: [],
    refund_shipping_lines: [],
    return: null,
  };
}

/** orders/create, orders/updated, orders/cancelled, orders/paid ...: the REST Order resource. */
export function orderPayload(order: SimOrder, store: SimStore): Json {
  const money = orderMoney(order);
  const cur = order.currency;
  const customer = order.customerId !== null ? indexOf(store).customers.get(order.customerId) : undefined;
  const remaining = new Map(refundableLines(order).map((l) => [l.lineId, l.quantity]));
  let refundedSubtotal = 0;
  let refundedTax = 0;
  for (const r of order.refunds ?? []) {
    for (const m of refundMoney(money, r).lines.values()) {
      refundedSubtotal += m.subtotalCents;
      refundedTax += m.taxCents;
    }
  }
  const currentSubtotal = money.subtotalCents - refundedSubtotal;
  const currentTax = money.taxCents - refundedTax;
  const currentTotal = money.totalCents - money.refundedCents;
  const pending = order.financialStatus === 'pending';
  const closedAt = order.cancelledAt ?? (order.fulfilledAt && !pending ? order.fulfilledAt : null);
  const token = createHash('sha256').update(`order-token:${order.id}`).digest('hex').slice(0, 32);
  const country = orderCountry(order);

  return {
    id: order.id,
    admin_graphql_api_id: gid('Order', order.id),
    app_id: order.sourceName === 'pos' ? 129785 : 580111,
    browser_ip: order.clientDetails?.browserIp ?? null,
    buyer_accepts_marketing: customer?.acceptsMarketing ?? false,
    cancel_reason: order.cancelledAt ? (order.cancelReason ?? 'other') : null,
    cancelled_at: time(order.cancelledAt, store),
    cart_token: null,
    checkout_id: null,
    checkout_token: null,
    client_details: order.clientDetails
      ? { accept_language: order.clientDetails.acceptLanguage, browser_height: null, browser_ip: order.clientDetails.browserIp, browser_width: null, session_hash: null, user_agent: order.clientDetails.userAgent }
      : null,
    closed_at: time(closedAt, store),
    confirmation_number: order.id.toString(36).toUpperCase().slice(-9),
    confirmed: true,
    contact_email: order.email,
    created_at: time(order.createdAt, store),
    currency: cur,
    current_subtotal_price: fromCents(currentSubtotal),
    current_subtotal_price_set: moneySet(currentSubtotal, cur),
    current_total_discounts: fromCents(money.discountCents),
    current_total_discounts_set: moneySet(money.discountCents, cur),
    current_total_duties_set: null,
    current_total_price: fromCents(currentTotal),
    current_total_price_set: moneySet(currentTotal, cur),
    current_total_tax: fromCents(currentTax),
    current_total_tax_set: moneySet(currentTax, cur),
    customer_locale: 'en',
    device_id: null,
    discount_codes: order.discount
      ? [{ code: order.discount.code, amount: fromCents(money.discountCents), type: 'percentage' }]
      : [],
    email: order.email,
    estimated_taxes: false,
    financial_status: order.financialStatus,
    fulfillment_status: order.fulfilledAt ? 'fulfilled' : null,
    landing_site: order.sourceName === 'web' ? '/' : null,
    landing_site_ref: null,
    location_id: order.sourceName === 'pos' ? (store.locationId ?? null) : null,
    merchant_of_record_app_id: null,
    name: order.name,
    note: order.note,
    note_attributes: order.noteAttributes?.map((a) => ({ ...a })) ?? [],
    number: order.orderNumber - 1000,
    order_number: order.orderNumber,
    order_status_url: `https://${store.shop}/${store.shopId ?? 0}/orders/${token}/authenticate?key=${token.slice(-16)}`,
    original_total_duties_set: null,
    payment_gateway_names: pending ? ['manual'] : ['shopify_payments'],
    phone: order.buyer?.phone ?? null,
    po_number: null,
    presentment_currency: cur,
    processed_at: time(order.processedAt, store),
    reference: null,
    referring_site: null,
    source_identifier: null,
    source_name: order.sourceName ?? 'web',
    source_url: null,
    subtotal_price: fromCents(money.subtotalCents),
    subtotal_price_set: moneySet(money.subtotalCents, cur),
    tags: (order.tags ?? []).join(', '),
    tax_exempt: false,
    tax_lines: money.taxCents > 0
      ? [{ price: fromCents(money.taxCents), rate: money.taxRate, title: TAX_TITLE[country] ?? 'Tax', price_set: moneySet(money.taxCents, cur), channel_liable: false }]
      : [],
    taxes_included: false,
    test: order.test,
    token,
    total_discounts: fromCents(money.discountCents),
    total_discounts_set: moneySet(money.discountCents, cur),
    total_line_items_price: fromCents(money.lineItemsCents),
    total_line_items_price_set: moneySet(money.lineItemsCents, cur),
    total_outstanding: fromCents(pending ? money.totalCents : 0),
    total_price: fromCents(money.totalCents),
    total_price_set: moneySet(money.totalCents, cur),
    total_shipping_price_set: moneySet(money.shippingCents, cur),
    total_tax: fromCents(money.taxCents),
    total_tax_set: moneySet(money.taxCents, cur),
    total_tip_received: '0.00',
    total_weight: order.lines.reduce((a, l) => a + (l.productId !== null ? 300 * l.quantity : 0), 0),
    updated_at: time(order.updatedAt, store),
    user_id: null,
    billing_address: order.buyer ? addressPayload(order.buyer) : null,
    customer: customer ? customerPayload(customer, store) : null,
    discount_applications: order.discount
      ? [{
          target_type: 'line_item', type: 'discount_code', value: `${order.discount.percent}.0`, value_type: 'percentage',
          allocation_method: 'across', target_selection: 'all', code: order.discount.code,
        }]
      : [],
    fulfillments: order.fulfilledAt
      ? [{
          id: derivedId('fulfillment', order.id),
          admin_graphql_api_id: gid('Fulfillment', derivedId('fulfillment', order.id)),
          created_at: time(order.fulfilledAt, store),
          location_id: store.locationId ?? null,
          name: `${order.name}.1`,
          order_id: order.id,
          service: 'manual',
          shipment_status: null,
          status: 'success',
          tracking_company: 'USPS',
          tracking_number: null,
          tracking_numbers: [],
          tracking_url: null,
          tracking_urls: [],
          updated_at: time(order.fulfilledAt, store),
        }]
      : [],
    line_items: order.lines.map((l) => lineItemPayload(l, order, money, store, remaining.get(l.id) ?? 0)),
    payment_terms: null,
    refunds: (order.refunds ?? []).map((r) => refundObject(r, order, money, store)),
    shipping_address: order.buyer && order.lines.some((l) => l.productId !== null) ? addressPayload(order.buyer) : null,
    shipping_lines: money.shippingCents > 0 || order.lines.some((l) => l.productId !== null)
      ? [{
          id: derivedId('shippingLine', order.id),
          carrier_identifier: null,
          code: 'Standard',
          discounted_price: fromCents(money.shippingCents),
          discounted_price_set: moneySet(money.shippingCents, cur),
          is_removed: false,
          phone: null,
          price: fromCents(money.shippingCents),
          price_set: moneySet(money.shippingCents, cur),
          requested_fulfillment_service_id: null,
          source: 'shopify',
          title: 'Standard Shipping',
          tax_lines: [],
          discount_allocations: [],
        }]
      : [],
  };
}

/** refunds/create: the REST Refund resource. */
export function refundPayload(refund: SimRefund, order: SimOrder, store: SimStore): Json {
  return refundObject(refund, order, orderMoney(order), store);
}

/** products/create and products/update: the REST Product resource. */
export function productPayload(product: SimProduct, store?: SimStore): Json {
  const offset = store?.utcOffsetMinutes ?? DEFAULT_UTC_OFFSET_MINUTES;
  const t = (iso: string) => isoWithOffset(iso, offset);
  const imageId = derivedId('image', product.id);
  const images = product.image
    ? [{
        id: imageId,
        alt: product.title,
        position: 1,
        product_id: product.id,
        created_at: t(product.createdAt),
        updated_at: t(product.updatedAt),
        admin_graphql_api_id: gid('ProductImage', imageId),
        width: 1200,
        height: 1200,
        src: product.image,
        variant_ids: [],
      }]
    : [];
  return {
    id: product.id,
    title: product.title,
    body_html: product.description ? `<p>${product.description}</p>` : '',
    vendor: product.vendor,
    product_type: product.productType,
    created_at: t(product.createdAt),
    handle: product.handle,
    updated_at: t(product.updatedAt),
    published_at: product.status === 'ACTIVE' ? t(product.createdAt) : null,
    template_suffix: null,
    published_scope: 'global',
    tags: product.tags.join(', '),
    status: product.status.toLowerCase(),
    admin_graphql_api_id: gid('Product', product.id),
    variants: product.variants.map((v, i) => ({
      id: v.id,
      product_id: product.id,
      title: v.title,
      price: v.price,
      position: i + 1,
      inventory_policy: 'deny',
      compare_at_price: null,
      option1: v.title,
      option2: null,
      option3: null,
      created_at: t(product.createdAt),
      updated_at: t(product.updatedAt),
      taxable: true,
      barcode: null,
      sku: v.sku,
      inventory_item_id: v.inventoryItemId,
      inventory_quantity: v.inventoryQuantity,
      old_inventory_quantity: v.inventoryQuantity,
      admin_graphql_api_id: gid('ProductVariant', v.id),
      image_id: null,
    })),
    options: [{
      id: derivedId('option', product.id),
      product_id: product.id,
      name: product.optionName ?? 'Title',
      position: 1,
      values: product.variants.map((v) => v.title),
    }],
    images,
    image: images[0] ?? null,
    variant_gids: product.variants.map((v) => ({ admin_graphql_api_id: gid('ProductVariant', v.id), updated_at: new Date(Date.parse(product.updatedAt)).toISOString() })),
    has_variants_that_requires_components: false,
    category: null,
  };
}

/** products/delete: only the id survives. */
export function productDeletePayload(id: number): Json {
  return { id };
}

export interface InventoryLevel {
  inventoryItemId: number;
  locationId: number;
  available: number;
  updatedAt: string;
}

/** inventory_levels/update. */
export function inventoryLevelPayload(level: InventoryLevel, utcOffsetMinutes = DEFAULT_UTC_OFFSET_MINUTES): Json {
  return {
    inventory_item_id: level.inventoryItemId,
    location_id: level.locationId,
    available: level.available,
    updated_at: isoWithOffset(level.updatedAt, utcOffsetMinutes),
    admin_graphql_api_id: `gid://shopify/InventoryLevel/${level.locationId}?inventory_item_id=${level.inventoryItemId}`,
  };
}

function requireCustomer(store: SimStore, customerId: number): SimCustomer {
  const customer = indexOf(store).customers.get(customerId);
  if (!customer) throw new Error(`no customer ${customerId} in ${store.shop}`);
  return customer;
}

const ordersOf = (store: SimStore, customerId: number) => store.orders.filter((o) => o.customerId === customerId).map((o) => o.id);

/** customers/redact (compliance). Orders default to all of the customer's orders. */
export function customersRedactPayload(store: SimStore, customerId: number, ordersToRedact?: number[]): Json {
  const c = requireCustomer(store, customerId);
  return {
    shop_id: store.shopId ?? 0,
    shop_domain: store.shop,
    customer: { id: c.id, email: c.email, phone: c.phone },
    orders_to_redact: ordersToRedact ?? ordersOf(store, customerId),
  };
}

/** customers/data_request (compliance). */
export function customersDataRequestPayload(store: SimStore, customerId: number, opts: { dataRequestId: number; ordersRequested?: number[] }): Json {
  const c = requireCustomer(store, customerId);
  return {
    shop_id: store.shopId ?? 0,
    shop_domain: store.shop,
    orders_requested: opts.ordersRequested ?? ordersOf(store, customerId),
    customer: { id: c.id, email: c.email, phone: c.phone },
    data_request: { id: opts.dataRequestId },
  };
}

/** shop/redact (compliance), sent 48 hours after uninstall. */
export function shopRedactPayload(store: SimStore): Json {
  return { shop_id: store.shopId ?? 0, shop_domain: store.shop };
}

/** app/uninstalled: the REST Shop resource. */
export function appUninstalledPayload(store: SimStore): Json {
  const name = store.shop.replace('.myshopify.com', '').split('-').map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join(' ');
  const offset = offsetOf(store);
  const hours = `${offset < 0 ? '-' : '+'}${String(Math.floor(Math.abs(offset) / 60)).padStart(2, '0')}:${String(Math.abs(offset) % 60).padStart(2, '0')}`;
  return {
    id: store.shopId ?? 0,
    name,
    email: `owner@${store.shop.replace('.myshopify.com', '')}.example.com`,
    domain: store.shop,
    province: 'New York',
    country: 'US',
    address1: '1 Demo Plaza',
    zip: '10001',
    city: 'New York',
    source: null,
    phone: '+12125550100',
    latitude: 40.75,
    longitude: -73.99,
    primary_locale: 'en',
    address2: null,
    created_at: '2021-03-01T09:00:00' + hours,
    updated_at: time(store.asOf ?? '2021-03-01T14:00:00Z', store),
    country_code: 'US',
    country_name: 'United States',
    currency: store.currency,
    customer_email: `hello@${store.shop.replace('.myshopify.com', '')}.example.com`,
    timezone: `(GMT${hours}) Eastern Time (US & Canada)`,
    iana_timezone: 'America/New_York',
    shop_owner: 'Demo Owner',
    money_format: '${{amount}}',
    money_with_currency_format: `\${{amount}} ${store.currency}`,
    weight_unit: 'lb',
    province_code: 'NY',
    taxes_included: false,
    auto_configure_tax_inclusivity: null,
    tax_shipping: null,
    county_taxes: true,
    plan_display_name: 'Basic',
    plan_name: 'basic',
    has_discounts: true,
    has_gift_cards: false,
    myshopify_domain: store.shop,
    google_apps_domain: null,
    google_apps_login_enabled: null,
    money_in_emails_format: '${{amount}}',
    money_with_currency_in_emails_format: `\${{amount}} ${store.currency}`,
    eligible_for_payments: true,
    requires_extra_payments_agreement: false,
    password_enabled: false,
    has_storefront: true,
    finances: true,
    primary_location_id: store.locationId ?? null,
    checkout_api_supported: true,
    multi_location_enabled: true,
    setup_required: false,
    pre_launch_enabled: false,
    enabled_presentment_currencies: [store.currency],
    marketing_sms_consent_enabled_at_checkout: false,
    transactional_sms_disabled: false,
  };
}
