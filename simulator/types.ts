// The simulated store's canonical data. The generator (store.ts) produces it; the webhook
// builders turn it into Shopify's REST webhook JSON (with the personal fields Shopify really
// sends, so shopml's stripping is tested); the Admin GraphQL endpoint serves it as GraphQL.
// IDs are numbers, as in REST webhook bodies; GraphQL ids are gid://shopify/<Type>/<id>.
// Timestamps are UTC ISO 8601 ("2026-03-14T23:22:05Z"); the REST builders re-express them in
// the shop's UTC offset, as Shopify does. Optional fields marked "hidden truth" are the
// generator's latent parameters: never sent to the backend, used to evaluate models.

export interface SimVariant {
  id: number;
  title: string;
  sku: string;
  price: string; // money as a string, as Shopify sends it
  inventoryItemId: number;
  inventoryQuantity: number;
}

export interface SimProduct {
  id: number;
  title: string;
  handle: string;
  productType: string; // the category
  vendor: string;
  tags: string[];
  status: 'ACTIVE' | 'DRAFT' | 'ARCHIVED';
  createdAt: string;
  updatedAt: string;
  image: string | null;
  variants: SimVariant[];
  /** Option name the variant titles are values of ("Size", "Weight"); "Title" for one variant. */
  optionName?: string;
  /** Plain-text description (REST `body_html`). */
  description?: string;
  /** Hidden truth: relative demand weight (Zipf-like) within the catalog. */
  popularity?: number;
}

export interface SimAddress {
  address1: string;
  city: string;
  zip: string;
  country: string;
  countryCode: string;
  province?: string;
  provinceCode?: string;
  /** Second address line and company: set only in a privacy-canary store (null in Shopify's payloads otherwise). */
  address2?: string;
  company?: string;
}

/** Contact and address as typed at checkout (for a customer, a copy of their default address). */
export interface SimBuyer {
  firstName: string;
  lastName: string;
  phone: string;
  address: SimAddress;
}

export interface SimRefund {
  id: number;
  createdAt: string;
  note: string | null;
  restock: boolean;
  lines: { id: number; lineId: number; quantity: number }[];
}

export interface SimCustomer {
  id: number;
  email: string;
  firstName: string;
  lastName: string;
  phone: string;
  note: string;
  address: SimAddress;
  createdAt: string;
  updatedAt: string;
  tags: string[];
  state: 'enabled' | 'disabled' | 'invited';
  /** Orders per 30 days this customer tends to place (the generator's hidden truth). */
  purchaseRate: number;
  /** Hidden truth: the product types this customer mostly buys from. */
  preferredTypes?: string[];
  /** Hidden truth: from this instant on the customer places no more orders (may lie after the history). */
  churnedAt?: string | null;
  /** Email marketing consent. */
  acceptsMarketing?: boolean;
}

export interface SimLine {
  id: number;
  productId: number | null; // null for custom items
  variantId: number | null;
  sku: string | null;
  title: string;
  quantity: number;
  price: string;
  /** Line item properties typed at checkout (engraving text ...); set only in a privacy-canary store. */
  properties?: { name: string; value: string }[];
}

export interface SimOrder {
  id: number;
  name: string; // "#1001"
  orderNumber: number;
  customerId: number | null; // null for a guest checkout
  email: string | null; // guests have one too
  createdAt: string;
  updatedAt: string;
  processedAt: string;
  cancelledAt: string | null;
  currency: string;
  financialStatus: 'paid' | 'pending' | 'refunded' | 'partially_refunded' | 'voided';
  lines: SimLine[];
  note: string | null;
  test: boolean;
  buyer?: SimBuyer;
  cancelReason?: 'customer' | 'inventory' | 'fraud' | 'declined' | 'other' | null;
  fulfilledAt?: string | null;
  refunds?: SimRefund[];
  /** Percentage discount code applied to every line (allocation in order-totals.ts). */
  discount?: { code: string; percent: number } | null;
  sourceName?: string; // 'web' | 'pos' | 'shopify_draft_order' | 'iphone'
  tags?: string[];
  /** Cart attributes (`note_attributes`) and the buyer's browser (`browser_ip`, `client_details`): set only in a privacy-canary store. */
  noteAttributes?: { name: string; value: string }[];
  clientDetails?: { browserIp: string; userAgent: string; acceptLanguage: string };
}

export interface SimStore {
  shop: string; // myshopify domain
  currency: string;
  products: SimProduct[];
  customers: SimCustomer[];
  orders: SimOrder[];
  shopId?: number;
  /** The single inventory location (inventory levels are per item and location). */
  locationId?: number;
  /** The shop's fixed offset from UTC, in minutes (REST timestamps carry it). */
  utcOffsetMinutes?: number;
  /** End of the generated history: live orders continue from here. */
  asOf?: string;
  /** Hidden truth: product pairs planted as complements (bought together more often). */
  complements?: Array<[number, number]>;
}
