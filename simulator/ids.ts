// Shopify-looking numeric ids. Real ids are large (13–14 digits), increase over time and are
// not contiguous, and stay below 2^53 — the simulator mimics all three so the backend meets
// realistic values (and any float or 32-bit mistake shows up). Ids the simulator never stores
// (addresses, images, transactions) are derived from their owner's id by a fixed offset.
import type { Rng } from './random.ts';
import type { SimStore } from './types.ts';

export type IdKind = 'product' | 'variant' | 'inventoryItem' | 'customer' | 'order' | 'lineItem' | 'refund' | 'refundLine';

const BASE: Record<IdKind, number> = {
  product: 8_120_000_000_000,
  variant: 45_100_000_000_000,
  inventoryItem: 47_300_000_000_000,
  customer: 7_400_000_000_000,
  order: 6_050_000_000_000,
  lineItem: 15_800_000_000_000,
  refund: 980_000_000_000,
  refundLine: 530_000_000_000,
};
/** Average gap between consecutive ids: other shops share Shopify's sequences. */
const STRIDE: Record<IdKind, number> = {
  product: 40_000,
  variant: 60_000,
  inventoryItem: 60_000,
  customer: 25_000,
  order: 12_000,
  lineItem: 9_000,
  refund: 3_000,
  refundLine: 2_000,
};

export const FIRST_ORDER_NUMBER = 1001;

const DERIVED_OFFSET = {
  address: 1_700_000_000_000, // customer id → default address id
  image: 30_000_000_000_000, // product id → first image id
  option: 2_000_000_000_000, // product id → option id
  transaction: 4_000_000_000_000, // refund id → refund transaction id
  fulfillment: 5_000_000_000_000, // order id → its (single) fulfillment id
  shippingLine: 1_000_000_000_000, // order id → its shipping line id
};
export function derivedId(kind: keyof typeof DERIVED_OFFSET, ownerId: number): number {
  return ownerId + DERIVED_OFFSET[kind];
}

/** Admin GraphQL global id: gid://shopify/Order/6050000012345. */
export function gid(type: string, id: number | string): string {
  return `gid://shopify/${type}/${id}`;
}

export interface IdAllocator {
  next(kind: IdKind): number;
  nextOrderNumber(): number;
}

/** Continues after the largest ids already in `store` (or starts at the bases for an empty one). */
export function createIdAllocator(rng: Rng, store?: Pick<SimStore, 'products' | 'customers' | 'orders'>): IdAllocator {
  const last: Record<IdKind, number> = { ...BASE };
  let orderNumber = FIRST_ORDER_NUMBER - 1;
  const bump = (kind: IdKind, id: number) => {
    if (id > last[kind]) last[kind] = id;
  };
  if (store) {
    for (const p of store.products) {
      bump('product', p.id);
      for (const v of p.variants) {
        bump('variant', v.id);
        bump('inventoryItem', v.inventoryItemId);
      }
    }
    for (const c of store.customers) bump('customer', c.id);
    for (const o of store.orders) {
      bump('order', o.id);
      if (o.orderNumber > orderNumber) orderNumber = o.orderNumber;
      for (const l of o.lines) bump('lineItem', l.id);
      for (const r of o.refunds ?? []) {
        bump('refund', r.id);
        for (const rl of r.lines) bump('refundLine', rl.id);
      }
    }
  }
  // One stream per kind, so how many products were minted does not shift customer ids.
  const streams = new Map<IdKind, Rng>();
  return {
    next(kind) {
      let stream = streams.get(kind);
      if (!stream) streams.set(kind, (stream = rng.fork(kind)));
      last[kind] += 1 + Math.floor(stream.next() * 2 * STRIDE[kind]);
      return last[kind];
    },
    nextOrderNumber: () => ++orderNumber,
  };
}
