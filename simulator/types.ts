// The simulated store's canonical data. The generator (store.ts) produces it; the webhook
// builders turn it into Shopify's REST webhook JSON (with the personal fields Shopify really
// sends, so shopml's stripping is tested); the Admin GraphQL endpoint serves it as GraphQL.
// IDs are numbers, as in REST webhook bodies; GraphQL ids are gid://shopify/<Type>/<id>.

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
}

export interface SimAddress {
  address1: string;
  city: string;
  zip: string;
  country: string;
  countryCode: string;
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
}

export interface SimLine {
  id: number;
  productId: number | null; // null for custom items
  variantId: number | null;
  sku: string | null;
  title: string;
  quantity: number;
  price: string;
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
}

export interface SimStore {
  shop: string; // myshopify domain
  currency: string;
  products: SimProduct[];
  customers: SimCustomer[];
  orders: SimOrder[];
}
