// The shapes every source (webhooks, bulk export, CSV import, Flow) is normalized into before
// anything is stored. No personal data: customers by Shopify id, emails only as keyed hashes.

export type LineKind = 'product' | 'non_product' | 'writeoff';
export type OrderKind = 'order' | 'cancellation' | 'adjustment';

export interface NormalizedLine {
  id: string;
  productId: string | null;
  variantId: string | null;
  sku: string | null;
  title: string | null;
  quantity: number;
  price: number;
  lineKind: LineKind;
  refundedQuantity?: number;
}

export interface NormalizedOrder {
  id: string;
  name: string | null;
  kind: OrderKind;
  customerId: string | null;
  emailHash: string | null;
  createdAt: string; // ISO 8601, UTC
  updatedAt: string;
  cancelledAt: string | null;
  currency: string | null;
  totalPrice: number | null;
  financialStatus: string | null;
  sourceName: string | null;
  country: string | null;
  test: boolean;
  lines: NormalizedLine[];
}

export interface NormalizedCustomer {
  id: string;
  emailHash: string | null;
  createdAt: string | null;
  updatedAt: string | null;
  state: string | null;
  tags: string | null;
}

export interface NormalizedVariant {
  id: string;
  title: string | null;
  sku: string | null;
  price: number | null;
  inventoryItemId: string | null;
}

export interface NormalizedProduct {
  id: string;
  title: string | null;
  handle: string | null;
  productType: string | null;
  vendor: string | null;
  status: string | null;
  tags: string | null;
  createdAt: string | null;
  updatedAt: string | null;
  image: string | null;
  /** The image's alt text (event log only: the projections have no column for it yet). */
  imageAlt?: string | null;
  variants: NormalizedVariant[];
}

export interface NormalizedInventoryLevel {
  inventoryItemId: string;
  locationId: string;
  available: number;
  updatedAt: string;
}

export interface NormalizedRefund {
  id: string;
  orderId: string;
  createdAt: string;
  lines: { lineId: string; quantity: number }[];
}

/** One validated event, ready for the log and the projections. */
export type NormalizedEvent =
  | { type: 'order'; order: NormalizedOrder }
  | { type: 'refund'; refund: NormalizedRefund }
  | { type: 'product'; product: NormalizedProduct }
  | { type: 'product_deleted'; productId: string; deletedAt: string }
  | { type: 'inventory'; level: NormalizedInventoryLevel };

export type IngestOutcome = 'applied' | 'stale' | 'duplicate' | 'suppressed' | 'quarantined';
