// A shop's catalog in memory, for serving: per product the object the storefront receives (first
// purchasable variant, its price, image, URL) and whether it may be served at all (not deleted,
// active, in stock). Loaded once; afterwards kept current from the event log: every product and
// inventory webhook (and every catalog backfill row) appends an event, so a request reads `max(events.id)` and, only when the log
// grew, looks at the new catalog events of its shop and reloads just the products they touch.
//
// Stock: a variant with inventory levels is in stock when their sum is > 0; a variant without
// levels is untracked (always purchasable). A product is servable when it is not deleted, its
// status is ACTIVE (or unknown) and one of its variants is in stock (or it has none on record).
// Products the catalog has never seen (orders imported before any product webhook or catalog
// backfill) are served with what is known — the id — as popularity does.
import type { Db } from '../store/db.ts';
import { perConnection } from '../store/per-connection.ts';

export interface ServedProduct {
  id: string;
  variant_id: string | null;
  handle: string | null;
  title: string | null;
  price: { amount: string; currency: string } | null;
  image: string | null;
  url: string | null;
}

interface Entry {
  served: ServedProduct;
  ok: boolean;
}

// Webhooks, and the catalog backfill's events (backfill.ts), which carry the same payloads.
const CATALOG_TOPICS = ['products/create', 'products/update', 'products/delete', 'inventory_levels/update', 'bulk/products', 'bulk/inventory'];
/** Above this many changed products in one refresh, reload everything (one query). */
const FULL_RELOAD_OVER = 300;

interface ProductRow { product_id: string; title: string | null; handle: string | null; status: string | null; deleted_at: string | null }
interface VariantRow { product_id: string; variant_id: string; price: number | null; image: string | null; levels: number; available: number | null }

function prepare(db: Db) {
  // Variants with their stock summed over locations. (Two queries joined in memory: without
  // statistics SQLite would otherwise scan the shop's variants once per product.)
  const variants = (hint: string) => `SELECT v.product_id, v.variant_id, v.price, v.image, count(i.available) AS levels, sum(i.available) AS available
    FROM variants v ${hint} LEFT JOIN inventory i ON i.shop = v.shop AND i.inventory_item_id = v.inventory_item_id`;
  return {
    products: db.prepare('SELECT product_id, title, handle, status, deleted_at FROM products WHERE shop = ?'),
    variants: db.prepare(`${variants('')} WHERE v.shop = ? GROUP BY v.variant_id`),
    product: db.prepare('SELECT product_id, title, handle, status, deleted_at FROM products WHERE shop = ? AND product_id = ?'),
    variantsOf: db.prepare(`${variants('INDEXED BY variants_product')} WHERE v.shop = ? AND v.product_id = ? GROUP BY v.variant_id`),
    currency: db.prepare(`SELECT currency FROM orders WHERE shop = ? AND currency IS NOT NULL ORDER BY created_at DESC LIMIT 1`).pluck(),
    maxEvent: db.prepare('SELECT max(id) FROM events').pluck(),
    // `+shop`: walk the new events by rowid (`id > ?`). Without it SQLite picks the (shop,
    // source_id) index and reads every event the shop ever had, on every refresh — while orders
    // stream in, once per request (test/reliability/load.test.ts found it).
    catalogEvents: db.prepare(`SELECT id, topic, payload FROM events WHERE id > ? AND +shop = ? AND topic IN (${CATALOG_TOPICS.map(() => '?').join(',')}) ORDER BY id`),
    productOfItem: db.prepare('SELECT product_id FROM variants INDEXED BY variants_inventory_item WHERE shop = ? AND inventory_item_id = ?').pluck(),
  };
}
const stmts = perConnection(prepare);

function entryOf(p: ProductRow, variants: VariantRow[], currency: string): Entry {
  variants.sort((a, b) => (a.variant_id.length - b.variant_id.length) || (a.variant_id < b.variant_id ? -1 : a.variant_id > b.variant_id ? 1 : 0));
  const inStock = (r: VariantRow) => r.levels === 0 || (r.available ?? 0) > 0;
  const chosen = variants.find(inStock) ?? variants[0] ?? null;
  const active = p.deleted_at === null && (p.status === null || p.status === 'ACTIVE');
  const ok = active && (variants.length === 0 || variants.some(inStock));
  const served: ServedProduct = Object.freeze({
    id: p.product_id,
    variant_id: chosen?.variant_id ?? null,
    handle: p.handle,
    title: p.title,
    price: chosen?.price === null || chosen?.price === undefined ? null : { amount: chosen.price.toFixed(2), currency },
    image: chosen?.image ?? null,
    url: p.handle ? `/products/${p.handle}` : null,
  });
  return { served, ok };
}

export class Catalog {
  readonly shop: string;
  private entries = new Map<string, Entry>();
  private unknown = new Map<string, ServedProduct>();
  private eventsSeen = 0;
  currency = 'USD';
  loadedAt = 0;
  /** Bumped whenever what the catalog says about any product changes (cached lists compare it). */
  version = 0;
  /** Approximate bytes held (for the shop cache's budget). */
  bytes = 0;

  constructor(shop: string) {
    this.shop = shop;
  }

  /** May this product be served (known and servable, or never seen)? */
  isServable(id: string): boolean {
    const e = this.entries.get(id);
    return e === undefined ? true : e.ok;
  }

  /** The storefront's object for a product (a bare one for a product the catalog never saw). */
  product(id: string): ServedProduct {
    const e = this.entries.get(id);
    if (e) return e.served;
    let u = this.unknown.get(id);
    if (!u) {
      if (this.unknown.size > 10_000) this.unknown.clear();
      u = Object.freeze({ id, variant_id: null, handle: null, title: null, price: null, image: null, url: null });
      this.unknown.set(id, u);
    }
    return u;
  }

  get size(): number {
    return this.entries.size;
  }

  load(db: Db, nowMs: number): void {
    const s = stmts(db);
    this.eventsSeen = (s.maxEvent.get() as number | null) ?? 0;
    this.currency = (s.currency.get(this.shop) as string | undefined) ?? 'USD';
    const byProduct = new Map<string, VariantRow[]>();
    for (const v of s.variants.iterate(this.shop) as Iterable<VariantRow>) {
      const list = byProduct.get(v.product_id);
      if (list) list.push(v);
      else byProduct.set(v.product_id, [v]);
    }
    const next = new Map<string, Entry>();
    let bytes = 0;
    for (const p of s.products.iterate(this.shop) as Iterable<ProductRow>) {
      const e = entryOf(p, byProduct.get(p.product_id) ?? [], this.currency);
      next.set(p.product_id, e);
      bytes += 240 + (p.title?.length ?? 0) * 2 + (p.handle?.length ?? 0) * 4 + (e.served.image?.length ?? 0) * 2;
    }
    this.entries = next;
    this.unknown.clear();
    this.bytes = bytes;
    this.loadedAt = nowMs;
    this.version++;
  }

  /**
   * Brings the catalog up to date with the event log: one `max(id)` read when nothing changed;
   * otherwise the shop's new catalog events, and a reload of the products they name.
   */
  refresh(db: Db): void {
    const s = stmts(db);
    const max = (s.maxEvent.get() as number | null) ?? 0;
    if (max === this.eventsSeen) return;
    const changed = new Set<string>();
    let full = false;
    for (const ev of s.catalogEvents.iterate(this.eventsSeen, this.shop, ...CATALOG_TOPICS) as Iterable<{ id: number; topic: string; payload: string }>) {
      if (full) continue;
      try {
        const p = JSON.parse(ev.payload) as { type: string; product?: { id: string }; productId?: string; level?: { inventoryItemId: string } };
        if (p.type === 'product' && p.product) changed.add(p.product.id);
        else if (p.type === 'product_deleted' && p.productId) changed.add(p.productId);
        else if (p.type === 'inventory' && p.level) {
          for (const id of s.productOfItem.all(this.shop, p.level.inventoryItemId) as string[]) changed.add(id);
        }
      } catch {
        full = true;
      }
      if (changed.size > FULL_RELOAD_OVER) full = true;
    }
    if (full) {
      this.load(db, this.loadedAt);
      return;
    }
    for (const id of changed) {
      const p = s.product.get(this.shop, id) as ProductRow | undefined;
      if (!p) this.entries.delete(id);
      else this.entries.set(id, entryOf(p, s.variantsOf.all(this.shop, id) as VariantRow[], this.currency));
      this.unknown.delete(id);
    }
    if (changed.size > 0) this.version++;
    this.eventsSeen = max;
  }
}
