import { describe, expect, it } from 'vitest';
import {
  appUninstalledPayload,
  customersDataRequestPayload,
  customersRedactPayload,
  inventoryLevelPayload,
  orderPayload,
  productDeletePayload,
  productPayload,
  refundPayload,
  shopRedactPayload,
} from '../../simulator/rest-payloads.ts';
import { generateStore } from '../../simulator/store.ts';
import type { SimOrder } from '../../simulator/types.ts';

const canary = 'CANARY-77aa';
const store = generateStore({ seed: 'payloads', personalDataCanary: canary });
type Json = Record<string, any>;

const MONEY = /^\d+\.\d{2}$/;
const LOCAL_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}-05:00$/;
const find = (f: (o: SimOrder) => boolean) => {
  const o = store.orders.find(f);
  if (!o) throw new Error('fixture order not found');
  return o;
};
const cents = (s: string) => Math.round(Number(s) * 100);

/** Every `*_set` bag in the payload: shop and presentment money as strings. */
function checkMoneySets(value: unknown): number {
  let n = 0;
  if (Array.isArray(value)) for (const v of value) n += checkMoneySets(v);
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (k.endsWith('_set') && v !== null && typeof v === 'object' && 'shop_money' in v) {
        const bag = v as Json;
        expect(bag.shop_money.amount).toMatch(MONEY);
        expect(bag.presentment_money.amount).toBe(bag.shop_money.amount);
        expect(bag.shop_money.currency_code).toBe('USD');
        n++;
      }
      n += checkMoneySets(v);
    }
  }
  return n;
}

describe('orderPayload (orders/create)', () => {
  const order = find((o) => o.customerId !== null && o.lines.length >= 2 && !!o.discount && !o.cancelledAt && !o.refunds?.length);
  const p = JSON.parse(JSON.stringify(orderPayload(order, store))) as Json;

  it('has the REST top-level keys with Shopify types', () => {
    for (const key of ['id', 'admin_graphql_api_id', 'name', 'order_number', 'email', 'created_at', 'updated_at', 'processed_at', 'cancelled_at',
      'cancel_reason', 'currency', 'presentment_currency', 'total_price', 'subtotal_price', 'total_tax', 'total_discounts', 'financial_status',
      'fulfillment_status', 'tags', 'test', 'source_name', 'customer', 'line_items', 'shipping_address', 'billing_address', 'note', 'note_attributes', 'refunds']) {
      expect(p, key).toHaveProperty(key);
    }
    expect(typeof p.id).toBe('number');
    expect(p.id).toBe(order.id);
    expect(p.admin_graphql_api_id).toBe(`gid://shopify/Order/${order.id}`);
    expect(p.name).toBe(order.name);
    expect(p.order_number).toBe(order.orderNumber);
    expect(p.created_at).toMatch(LOCAL_TIME);
    expect(Date.parse(p.created_at)).toBe(Date.parse(order.createdAt)); // same instant, shop offset
    expect(typeof p.tags).toBe('string');
    expect(p.cancelled_at).toBeNull();
    expect(p.refunds).toEqual([]);
    for (const key of ['total_price', 'subtotal_price', 'total_tax', 'total_discounts', 'total_line_items_price', 'current_total_price']) expect(p[key]).toMatch(MONEY);
    expect(checkMoneySets(p)).toBeGreaterThan(10);
  });

  it('totals add up', () => {
    const lineSum = p.line_items.reduce((a: number, l: Json) => a + cents(l.price) * l.quantity, 0);
    expect(cents(p.total_line_items_price)).toBe(lineSum);
    const discounts = p.line_items.reduce((a: number, l: Json) => a + cents(l.total_discount), 0);
    expect(cents(p.total_discounts)).toBe(discounts);
    expect(discounts).toBeGreaterThan(0);
    expect(p.discount_codes[0].code).toBe(order.discount!.code);
    expect(cents(p.subtotal_price)).toBe(lineSum - discounts);
    const shipping = cents(p.total_shipping_price_set.shop_money.amount);
    expect(cents(p.total_price)).toBe(cents(p.subtotal_price) + shipping + cents(p.total_tax));
    const lineTax = p.line_items.reduce((a: number, l: Json) => a + l.tax_lines.reduce((b: number, t: Json) => b + cents(t.price), 0), 0);
    expect(cents(p.total_tax)).toBe(lineTax);
  });

  it('line items carry ids as numbers, money as strings, product data', () => {
    for (const [i, l] of (p.line_items as Json[]).entries()) {
      const sim = order.lines[i]!;
      expect(l.id).toBe(sim.id);
      expect(l.admin_graphql_api_id).toBe(`gid://shopify/LineItem/${sim.id}`);
      expect(typeof l.product_id).toBe('number');
      expect(typeof l.variant_id).toBe('number');
      expect(l.price).toBe(sim.price);
      expect(l.price_set.shop_money.amount).toBe(sim.price);
      expect(l.quantity).toBe(sim.quantity);
      expect(l.current_quantity).toBe(sim.quantity);
      expect(l.product_exists).toBe(true);
      expect(l.properties).toEqual(sim.properties ?? []); // the canary store's engraving text
      expect(l.gift_card).toBe(false);
      expect(typeof l.vendor).toBe('string');
      expect(l.name.startsWith(sim.title)).toBe(true);
    }
  });

  it('customer has the personal fields Shopify sends (carrying the canary)', () => {
    const c = p.customer as Json;
    for (const key of ['id', 'email', 'first_name', 'last_name', 'phone', 'created_at', 'updated_at', 'state', 'tags', 'verified_email', 'default_address']) {
      expect(c, key).toHaveProperty(key);
    }
    expect(c.id).toBe(order.customerId);
    for (const v of [c.email, c.first_name, c.last_name, c.phone, c.note, c.default_address.address1, p.shipping_address.address1, p.shipping_address.name, p.billing_address.phone]) {
      expect(v).toContain(canary);
    }
  });
});

describe('orderPayload: guests, custom items, cancellations, refunds', () => {
  it('a guest checkout has customer null and an email', () => {
    const p = orderPayload(find((o) => o.customerId === null), store) as Json;
    expect(p.customer).toBeNull();
    expect(p.email).toContain('@example.');
    expect(p.billing_address.first_name).toContain(canary);
  });

  it('a custom line item has null product and variant ids', () => {
    const order = find((o) => o.lines.some((l) => l.productId === null));
    const p = orderPayload(order, store) as Json;
    const custom = (p.line_items as Json[]).find((l) => l.product_id === null)!;
    expect(custom.variant_id).toBeNull();
    expect(custom.sku).toBeNull();
    expect(custom.product_exists).toBe(false);
    expect(custom.requires_shipping).toBe(false);
  });

  it('a cancelled order has cancelled_at, a reason and (if paid) a full refund', () => {
    const order = find((o) => o.cancelledAt !== null && o.financialStatus === 'refunded');
    const p = orderPayload(order, store) as Json;
    expect(p.cancelled_at).toMatch(LOCAL_TIME);
    expect(['customer', 'inventory', 'fraud', 'declined', 'other']).toContain(p.cancel_reason);
    expect(p.financial_status).toBe('refunded');
    expect(p.refunds).toHaveLength(1);
    for (const l of p.line_items) expect(l.current_quantity).toBe(0);
  });

  it('a partial refund lowers current totals and current quantities', () => {
    const order = find((o) => o.financialStatus === 'partially_refunded');
    const p = orderPayload(order, store) as Json;
    expect(cents(p.current_total_price)).toBeLessThan(cents(p.total_price));
    const refunded = p.refunds.flatMap((r: Json) => r.refund_line_items);
    expect(refunded.length).toBeGreaterThan(0);
    const byLine = new Map((p.line_items as Json[]).map((l) => [l.id, l]));
    for (const rl of refunded) expect(byLine.get(rl.line_item_id)!.current_quantity).toBe(byLine.get(rl.line_item_id)!.quantity - rl.quantity);
  });
});

describe('refundPayload (refunds/create)', () => {
  const order = find((o) => (o.refunds?.length ?? 0) > 0 && !o.cancelledAt);
  const refund = order.refunds![0]!;
  const p = refundPayload(refund, order, store) as Json;

  it('has the REST Refund shape: numbers for ids and line subtotals, strings in money bags', () => {
    expect(p.id).toBe(refund.id);
    expect(p.order_id).toBe(order.id);
    expect(p.created_at).toMatch(LOCAL_TIME);
    expect(p.admin_graphql_api_id).toBe(`gid://shopify/Refund/${refund.id}`);
    const rl = p.refund_line_items[0] as Json;
    expect(rl.id).toBe(refund.lines[0]!.id);
    expect(rl.line_item_id).toBe(refund.lines[0]!.lineId);
    expect(rl.quantity).toBe(refund.lines[0]!.quantity);
    expect(typeof rl.subtotal).toBe('number');
    expect(rl.subtotal_set.shop_money.amount).toBe(rl.subtotal.toFixed(2));
    expect(rl.line_item.id).toBe(rl.line_item_id);
    const tx = p.transactions[0] as Json;
    expect(tx.kind).toBe('refund');
    expect(tx.amount).toMatch(MONEY);
    const sum = p.refund_line_items.reduce((a: number, x: Json) => a + Math.round(x.subtotal * 100) + Math.round(x.total_tax * 100), 0);
    expect(cents(tx.amount)).toBe(sum);
  });
});

describe('product, inventory and compliance payloads', () => {
  it('productPayload: REST Product with lower-case status and comma tags', () => {
    const product = store.products.find((x) => x.variants.length > 1 && x.image)!;
    const p = productPayload(product, store) as Json;
    expect(p.id).toBe(product.id);
    expect(p.handle).toBe(product.handle);
    expect(p.product_type).toBe(product.productType);
    expect(p.status).toBe(product.status.toLowerCase());
    expect(p.tags).toBe(product.tags.join(', '));
    expect(p.created_at).toMatch(LOCAL_TIME);
    expect(p.admin_graphql_api_id).toBe(`gid://shopify/Product/${product.id}`);
    expect(p.variants).toHaveLength(product.variants.length);
    for (const [i, v] of (p.variants as Json[]).entries()) {
      const sim = product.variants[i]!;
      expect(v).toMatchObject({ id: sim.id, product_id: product.id, title: sim.title, sku: sim.sku, price: sim.price, inventory_item_id: sim.inventoryItemId, inventory_quantity: sim.inventoryQuantity });
    }
    expect(p.options[0].values).toEqual(product.variants.map((v) => v.title));
    expect(p.image.src).toBe(product.image);
    expect(p.images).toHaveLength(1);
    expect(productDeletePayload(product.id)).toEqual({ id: product.id });
  });

  it('inventoryLevelPayload', () => {
    const p = inventoryLevelPayload({ inventoryItemId: 47300000000001, locationId: 71000000001, available: 3, updatedAt: '2026-11-02T15:00:00Z' });
    expect(p).toEqual({
      inventory_item_id: 47300000000001,
      location_id: 71000000001,
      available: 3,
      updated_at: '2026-11-02T10:00:00-05:00',
      admin_graphql_api_id: 'gid://shopify/InventoryLevel/71000000001?inventory_item_id=47300000000001',
    });
  });

  it('compliance payloads', () => {
    const customer = store.customers.find((c) => store.orders.some((o) => o.customerId === c.id))!;
    const orders = store.orders.filter((o) => o.customerId === customer.id).map((o) => o.id);
    expect(customersRedactPayload(store, customer.id)).toEqual({
      shop_id: store.shopId,
      shop_domain: 'demo-shop.myshopify.com',
      customer: { id: customer.id, email: customer.email, phone: customer.phone },
      orders_to_redact: orders,
    });
    expect(customersDataRequestPayload(store, customer.id, { dataRequestId: 9999 })).toEqual({
      shop_id: store.shopId,
      shop_domain: 'demo-shop.myshopify.com',
      orders_requested: orders,
      customer: { id: customer.id, email: customer.email, phone: customer.phone },
      data_request: { id: 9999 },
    });
    expect(shopRedactPayload(store)).toEqual({ shop_id: store.shopId, shop_domain: 'demo-shop.myshopify.com' });
    expect(() => customersRedactPayload(store, 1)).toThrow(/no customer/);
    const shop = appUninstalledPayload(store) as Json;
    expect(shop.id).toBe(store.shopId);
    expect(shop.myshopify_domain).toBe(store.shop);
    expect(shop.domain).toBe(store.shop);
    expect(shop.currency).toBe('USD');
  });
});
