// The products bulk query's JSONL (documents.ts bulkProductsQuery) → the same NormalizedProduct a
// products/create|update webhook becomes, plus each tracked variant's stock. Ungrouped layout:
// a product line, then (not necessarily right after it) one line per variant with `__parentId`.
import type { NormalizedProduct, NormalizedVariant } from '../ingest/types.ts';
import { BulkAssembler, type BulkShape, instant } from './bulk-jsonl.ts';
import { gidToId } from './gid.ts';

interface RawImage {
  url?: string | null;
  altText?: string | null;
}

interface RawProduct {
  id: string;
  title?: string | null;
  handle?: string | null;
  status?: string | null;
  productType?: string | null;
  vendor?: string | null;
  tags?: string[] | string | null;
  createdAt?: string | null;
  updatedAt?: string | null;
  featuredMedia?: { alt?: string | null; image?: RawImage | null; preview?: { image?: RawImage | null } | null } | null;
}

interface RawVariant {
  id: string;
  title?: string | null;
  price?: string | number | null;
  sku?: string | null;
  inventoryQuantity?: number | null;
  inventoryItem?: { id?: string; tracked?: boolean } | null;
}

/** A variant as read, with its stock: `available` is null when Shopify does not track it. */
export interface BulkVariant extends NormalizedVariant {
  available: number | null;
}

/** A reassembled product: GID, Shopify's updatedAt verbatim (source ids), sha256 of its lines. */
export interface BulkProduct {
  gid: string;
  rawUpdatedAt: string;
  payloadSha256: string;
  product: NormalizedProduct;
  /** Tracked variants' stock, summed by Shopify over every location (`inventoryQuantity`). */
  stock: { inventoryItemId: string; available: number }[];
}

const text = (v: unknown, what: string): string | null => {
  if (v === undefined || v === null) return null;
  if (typeof v !== 'string') throw new Error(`${what} is not a string: ${JSON.stringify(v)}`);
  return v;
};

export function normalizeBulkVariant(raw: RawVariant): BulkVariant {
  const id = gidToId(raw.id, 'ProductVariant');
  let price: number | null = null;
  if (raw.price !== undefined && raw.price !== null) {
    price = typeof raw.price === 'number' ? raw.price : /^-?\d+(\.\d+)?$/.test(raw.price) ? Number(raw.price) : NaN;
    if (!Number.isFinite(price)) throw new Error(`variant ${raw.id} price is not a number: ${JSON.stringify(raw.price)}`);
  }
  const item = raw.inventoryItem?.id ? gidToId(raw.inventoryItem.id, 'InventoryItem') : null;
  const q = raw.inventoryQuantity;
  if (q !== undefined && q !== null && !Number.isSafeInteger(q)) throw new Error(`variant ${raw.id} inventoryQuantity is not an integer: ${JSON.stringify(q)}`);
  // Untracked (or not selected): no stock row, as no inventory_levels/update would ever come.
  const available = item && raw.inventoryItem?.tracked !== false && typeof q === 'number' ? q : null;
  return { id, title: text(raw.title, 'variant title'), sku: text(raw.sku, 'sku'), price, inventoryItemId: item, available };
}

export function normalizeBulkProduct(raw: RawProduct, variants: BulkVariant[]): NormalizedProduct {
  const media = raw.featuredMedia ?? null;
  const image = media?.image ?? media?.preview?.image ?? null;
  const tags = Array.isArray(raw.tags) ? raw.tags.join(', ') : text(raw.tags, 'tags');
  const status = text(raw.status, 'status');
  return {
    id: gidToId(raw.id, 'Product'),
    title: text(raw.title, 'title'),
    handle: text(raw.handle, 'handle'),
    productType: text(raw.productType, 'productType'),
    vendor: text(raw.vendor, 'vendor'),
    status: status ? status.toUpperCase() : null,
    tags,
    createdAt: raw.createdAt ? instant(raw.createdAt, 'createdAt') : null,
    // Required: the stale-update rule compares it with what a webhook stored.
    updatedAt: instant(raw.updatedAt, 'updatedAt'),
    image: text(image?.url, 'image url') || null,
    imageAlt: text(media?.alt, 'alt') || text(image?.altText, 'altText') || null,
    variants: variants.map(({ available: _, ...v }) => v),
  };
}

const PRODUCT_SHAPE: BulkShape<RawProduct, BulkVariant, BulkProduct> = {
  rootType: 'Product',
  childType: 'ProductVariant',
  noun: 'product',
  child: (raw) => normalizeBulkVariant(raw as unknown as RawVariant),
  build: (gid, raw, variants, payloadSha256) => {
    const product = normalizeBulkProduct(raw, variants);
    const stock = variants.flatMap((v) => (v.inventoryItemId !== null && v.available !== null ? [{ inventoryItemId: v.inventoryItemId, available: v.available }] : []));
    return { gid, rawUpdatedAt: raw.updatedAt ?? product.updatedAt!, payloadSha256, product, stock };
  },
};

/** Products with their variants (the products bulk query). */
export class BulkProductAssembler extends BulkAssembler<RawProduct, BulkVariant, BulkProduct> {
  constructor(maxPending = 10_000) {
    super(PRODUCT_SHAPE, maxPending);
  }

  /** Variants read. */
  get variants(): number {
    return this.children;
  }
}
