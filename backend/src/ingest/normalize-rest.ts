// Shopify REST webhook bodies (API 2026-07) → normalized, pseudonymized events. Validation is
// strict on what the models rely on (ids, timestamps, quantities, prices) and lenient on the
// rest: Shopify adds fields over time, and a missing optional field must not quarantine an order.
import { z } from 'zod';
import type { Keys } from '../keys.ts';
import type {
  NormalizedEvent, NormalizedInventoryLevel, NormalizedOrder, NormalizedProduct, NormalizedRefund,
} from './types.ts';

const id = z.union([z.number().int().nonnegative(), z.string().regex(/^\d+$/)]).transform(String);
const optionalId = z.union([id, z.null()]).optional().transform((v) => v ?? null);
const timestamp = z.string().refine((s) => !Number.isNaN(Date.parse(s)), 'not a valid timestamp')
  .transform((s) => new Date(s).toISOString());
const optionalTimestamp = z.union([timestamp, z.null()]).optional().transform((v) => v ?? null);
const money = z.union([z.string().regex(/^-?\d+(\.\d+)?$/, 'not a decimal amount'), z.number().finite()]).transform(Number);
const optionalText = z.union([z.string(), z.null()]).optional().transform((v) => v ?? null);

const lineItem = z.object({
  id,
  product_id: optionalId,
  variant_id: optionalId,
  sku: optionalText,
  title: optionalText,
  quantity: z.number().int().nonnegative(),
  price: money,
  gift_card: z.boolean().optional(),
});

const refundLine = z.object({ line_item_id: id, quantity: z.number().int().nonnegative() });
const refund = z.object({ id, order_id: id, created_at: timestamp, refund_line_items: z.array(refundLine).default([]) });

const order = z.object({
  id,
  name: optionalText,
  email: optionalText,
  created_at: timestamp,
  updated_at: timestamp,
  cancelled_at: optionalTimestamp,
  currency: optionalText,
  total_price: z.union([money, z.null()]).optional().transform((v) => v ?? null),
  financial_status: optionalText,
  source_name: optionalText,
  test: z.boolean().optional().default(false),
  customer: z.union([z.object({ id, email: optionalText }).loose(), z.null()]).optional().transform((v) => v ?? null),
  billing_address: z.union([z.object({ country_code: optionalText }).loose(), z.null()]).optional(),
  shipping_address: z.union([z.object({ country_code: optionalText }).loose(), z.null()]).optional(),
  line_items: z.array(lineItem),
  refunds: z.array(refund).optional().default([]),
});

const variant = z.object({ id, title: optionalText, sku: optionalText, price: z.union([money, z.null()]).optional().transform((v) => v ?? null), inventory_item_id: optionalId });
const product = z.object({
  id,
  title: optionalText,
  handle: optionalText,
  product_type: optionalText,
  vendor: optionalText,
  status: optionalText,
  tags: z.union([z.string(), z.array(z.string())]).optional().transform((t) => (Array.isArray(t) ? t.join(', ') : t ?? null)),
  created_at: optionalTimestamp,
  updated_at: optionalTimestamp,
  image: z.union([z.object({ src: z.string() }).loose(), z.null()]).optional(),
  images: z.array(z.object({ src: z.string() }).loose()).optional(),
  variants: z.array(variant).default([]),
});
const productDelete = z.object({ id });
const inventoryLevel = z.object({ inventory_item_id: id, location_id: id, available: z.number().int().nullable(), updated_at: timestamp });

export class ValidationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ValidationError';
  }
}

function parse<T>(schema: z.ZodType<T>, payload: unknown, what: string): T {
  const r = schema.safeParse(payload);
  if (r.success) return r.data;
  const issues = r.error.issues.slice(0, 5).map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
  throw new ValidationError(`invalid ${what}: ${issues.join('; ')}`);
}

export function normalizeOrder(payload: unknown, shop: string, keys: Keys): NormalizedOrder {
  const o = parse(order, payload, 'order');
  const refunded = new Map<string, number>();
  for (const r of o.refunds) for (const l of r.refund_line_items) refunded.set(l.line_item_id, (refunded.get(l.line_item_id) ?? 0) + l.quantity);
  const email = o.customer?.email ?? o.email;
  return {
    id: o.id,
    name: o.name,
    kind: 'order',
    customerId: o.customer?.id ?? null,
    emailHash: email ? keys.emailHash(shop, email) : null,
    createdAt: o.created_at,
    updatedAt: o.updated_at,
    cancelledAt: o.cancelled_at,
    currency: o.currency,
    totalPrice: o.total_price,
    financialStatus: o.financial_status,
    sourceName: o.source_name,
    country: (o.shipping_address?.country_code ?? o.billing_address?.country_code ?? null) as string | null,
    test: o.test,
    lines: o.line_items.map((l) => ({
      id: l.id,
      productId: l.product_id,
      variantId: l.variant_id,
      sku: l.sku,
      title: l.title,
      quantity: l.quantity,
      price: l.price,
      // Gift cards and custom items (no product) are revenue, not products to recommend.
      lineKind: l.product_id && !l.gift_card ? 'product' : 'non_product',
      refundedQuantity: refunded.get(l.id) ?? 0,
    })),
  };
}

export function normalizeRefund(payload: unknown): NormalizedRefund {
  const r = parse(refund, payload, 'refund');
  return { id: r.id, orderId: r.order_id, createdAt: r.created_at, lines: r.refund_line_items.map((l) => ({ lineId: l.line_item_id, quantity: l.quantity })) };
}

export function normalizeProduct(payload: unknown): NormalizedProduct {
  const p = parse(product, payload, 'product');
  return {
    id: p.id, title: p.title, handle: p.handle, productType: p.product_type, vendor: p.vendor,
    status: p.status ? p.status.toUpperCase() : null, tags: p.tags, createdAt: p.created_at, updatedAt: p.updated_at,
    image: p.image?.src ?? p.images?.[0]?.src ?? null,
    variants: p.variants.map((v) => ({ id: v.id, title: v.title, sku: v.sku, price: v.price, inventoryItemId: v.inventory_item_id })),
  };
}

export function normalizeInventoryLevel(payload: unknown): NormalizedInventoryLevel {
  const l = parse(inventoryLevel, payload, 'inventory level');
  return { inventoryItemId: l.inventory_item_id, locationId: l.location_id, available: l.available ?? 0, updatedAt: l.updated_at };
}

/** Topics whose body becomes an event in the log. Others (compliance, lifecycle) are handled apart. */
export const DATA_TOPICS = new Set([
  'orders/create', 'orders/updated', 'orders/cancelled', 'refunds/create',
  'products/create', 'products/update', 'products/delete', 'inventory_levels/update',
]);

export function normalizeWebhook(topic: string, payload: unknown, shop: string, keys: Keys, receivedAt: string): NormalizedEvent {
  switch (topic) {
    case 'orders/create':
    case 'orders/updated':
    case 'orders/cancelled':
      return { type: 'order', order: normalizeOrder(payload, shop, keys) };
    case 'refunds/create':
      return { type: 'refund', refund: normalizeRefund(payload) };
    case 'products/create':
    case 'products/update':
      return { type: 'product', product: normalizeProduct(payload) };
    case 'products/delete':
      return { type: 'product_deleted', productId: parse(productDelete, payload, 'product delete').id, deletedAt: receivedAt };
    case 'inventory_levels/update':
      return { type: 'inventory', level: normalizeInventoryLevel(payload) };
    default:
      throw new ValidationError(`unsupported topic ${topic}`);
  }
}
