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

/** The fields of an orders/* body that normalizeOrder reads, as the `order` schema outputs them. */
interface OrderInput {
  id: string;
  name: string | null;
  email: string | null;
  created_at: string;
  updated_at: string;
  cancelled_at: string | null;
  currency: string | null;
  total_price: number | null;
  financial_status: string | null;
  source_name: string | null;
  test: boolean;
  customer: { id: string; email: string | null } | null;
  billing_address?: { country_code: string | null } | null;
  shipping_address?: { country_code: string | null } | null;
  line_items: { id: string; product_id: string | null; variant_id: string | null; sku: string | null; title: string | null; quantity: number; price: number; gift_card?: boolean }[];
  refunds: { refund_line_items: { line_item_id: string; quantity: number }[] }[];
}

// The hot path: orders/create and orders/updated are most of the webhook traffic, and the zod
// schema costs ~45 µs on a typical 8 KB order (as much as JSON.parse). fastOrder checks the
// same rules by hand and returns exactly what the schema would — but only when every rule
// holds: on anything it is not sure of it returns undefined and the schema decides, so a
// quarantined order keeps zod's message and paths. A test compares both on many payloads.
// Each helper returns FAIL when its rule does not hold.
const FAIL = Symbol('fail');
type Fail = typeof FAIL;
const DIGITS = /^\d+$/;
const DECIMAL = /^-?\d+(\.\d+)?$/;

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const fId = (v: unknown): string | Fail =>
  typeof v === 'number' ? (Number.isSafeInteger(v) && v >= 0 ? String(v) : FAIL) : typeof v === 'string' && DIGITS.test(v) ? v : FAIL;
const fOptionalId = (v: unknown): string | null | Fail => (v === undefined || v === null ? null : fId(v));
const fTimestamp = (v: unknown): string | Fail => {
  if (typeof v !== 'string') return FAIL;
  const t = Date.parse(v); // new Date(v) parses exactly as Date.parse: parse once
  return Number.isNaN(t) ? FAIL : new Date(t).toISOString();
};
const fOptionalTimestamp = (v: unknown): string | null | Fail => (v === undefined || v === null ? null : fTimestamp(v));
const fMoney = (v: unknown): number | Fail =>
  typeof v === 'string' ? (DECIMAL.test(v) ? Number(v) : FAIL) : typeof v === 'number' && Number.isFinite(v) ? v : FAIL;
const fOptionalText = (v: unknown): string | null | Fail => (v === undefined || v === null ? null : typeof v === 'string' ? v : FAIL);
const fCount = (v: unknown): number | Fail => (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? v : FAIL);
const fAddress = (v: unknown): { country_code: string | null } | null | undefined | Fail => {
  if (v === undefined || v === null) return v;
  if (!isRecord(v)) return FAIL;
  const c = fOptionalText(v.country_code);
  return c === FAIL ? FAIL : { country_code: c };
};

type LineInput = OrderInput['line_items'][number];
function fLine(v: unknown): LineInput | Fail {
  if (!isRecord(v)) return FAIL;
  const id = fId(v.id);
  const productId = fOptionalId(v.product_id);
  const variantId = fOptionalId(v.variant_id);
  const sku = fOptionalText(v.sku);
  const title = fOptionalText(v.title);
  const quantity = fCount(v.quantity);
  const price = fMoney(v.price);
  const gift = v.gift_card;
  if (id === FAIL || productId === FAIL || variantId === FAIL || sku === FAIL || title === FAIL || quantity === FAIL || price === FAIL) return FAIL;
  if (gift !== undefined && typeof gift !== 'boolean') return FAIL;
  return { id, product_id: productId, variant_id: variantId, sku, title, quantity, price, gift_card: gift };
}

type RefundInput = OrderInput['refunds'][number];
function fRefund(v: unknown): RefundInput | Fail {
  // The order schema validates each refund in full (id, order_id, created_at) though only the
  // lines are used: the same checks here, or a refund the schema rejects would slip through.
  if (!isRecord(v) || fId(v.id) === FAIL || fId(v.order_id) === FAIL || fTimestamp(v.created_at) === FAIL) return FAIL;
  const raw = v.refund_line_items;
  if (raw === undefined) return { refund_line_items: [] };
  if (!Array.isArray(raw)) return FAIL;
  const lines: RefundInput['refund_line_items'] = [];
  for (const l of raw) {
    if (!isRecord(l)) return FAIL;
    const lineItemId = fId(l.line_item_id);
    const quantity = fCount(l.quantity);
    if (lineItemId === FAIL || quantity === FAIL) return FAIL;
    lines.push({ line_item_id: lineItemId, quantity });
  }
  return { refund_line_items: lines };
}

/** What `order.safeParse(payload).data` would hold, or undefined to let the schema decide. */
export function fastOrder(payload: unknown): OrderInput | undefined {
  if (!isRecord(payload)) return undefined;
  const p = payload;
  const id = fId(p.id);
  const name = fOptionalText(p.name);
  const email = fOptionalText(p.email);
  const createdAt = fTimestamp(p.created_at);
  const updatedAt = fTimestamp(p.updated_at);
  const cancelledAt = fOptionalTimestamp(p.cancelled_at);
  const currency = fOptionalText(p.currency);
  const totalPrice = p.total_price === undefined || p.total_price === null ? null : fMoney(p.total_price);
  const financialStatus = fOptionalText(p.financial_status);
  const sourceName = fOptionalText(p.source_name);
  const billing = fAddress(p.billing_address);
  const shipping = fAddress(p.shipping_address);
  if (id === FAIL || name === FAIL || email === FAIL || createdAt === FAIL || updatedAt === FAIL || cancelledAt === FAIL || currency === FAIL
    || totalPrice === FAIL || financialStatus === FAIL || sourceName === FAIL || billing === FAIL || shipping === FAIL) return undefined;
  if (p.test !== undefined && typeof p.test !== 'boolean') return undefined;
  let customer: OrderInput['customer'] = null;
  if (p.customer !== undefined && p.customer !== null) {
    if (!isRecord(p.customer)) return undefined;
    const cid = fId(p.customer.id);
    const cemail = fOptionalText(p.customer.email);
    if (cid === FAIL || cemail === FAIL) return undefined;
    customer = { id: cid, email: cemail };
  }
  if (!Array.isArray(p.line_items)) return undefined;
  const lines: LineInput[] = [];
  for (const l of p.line_items) {
    const line = fLine(l);
    if (line === FAIL) return undefined;
    lines.push(line);
  }
  const refunds: RefundInput[] = [];
  if (p.refunds !== undefined) {
    if (!Array.isArray(p.refunds)) return undefined;
    for (const r of p.refunds) {
      const refund = fRefund(r);
      if (refund === FAIL) return undefined;
      refunds.push(refund);
    }
  }
  return {
    id, name, email, created_at: createdAt, updated_at: updatedAt, cancelled_at: cancelledAt, currency, total_price: totalPrice,
    financial_status: financialStatus, source_name: sourceName, test: (p.test as boolean | undefined) ?? false, customer,
    billing_address: billing, shipping_address: shipping, line_items: lines, refunds,
  };
}

/** The order schema alone, without the hand-written path (for the test that compares them). */
export function parseOrderWithSchema(payload: unknown): OrderInput {
  return parse(order, payload, 'order');
}

export function normalizeOrder(payload: unknown, shop: string, keys: Keys, opts: { schemaOnly?: boolean } = {}): NormalizedOrder {
  const o: OrderInput = (opts.schemaOnly ? undefined : fastOrder(payload)) ?? parseOrderWithSchema(payload);
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

const altOf = (image: Record<string, unknown> | null | undefined): string | null => (typeof image?.alt === 'string' && image.alt ? image.alt : null);

export function normalizeProduct(payload: unknown): NormalizedProduct {
  const p = parse(product, payload, 'product');
  return {
    id: p.id, title: p.title, handle: p.handle, productType: p.product_type, vendor: p.vendor,
    status: p.status ? p.status.toUpperCase() : null, tags: p.tags, createdAt: p.created_at, updatedAt: p.updated_at,
    image: p.image?.src ?? p.images?.[0]?.src ?? null,
    imageAlt: altOf(p.image ?? p.images?.[0]),
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
