// Generates the product catalog: types from catalog-data.ts, per-type price distributions,
// 1–3 variants, stock levels (some low or sold out), a Zipf-like popularity ranking and planted
// complement pairs across types (the co-purchase structure the recommender should find).
import { CATEGORIES, type CategorySpec } from './catalog-data.ts';
import { DAY_MS, isoUtc } from './calendar.ts';
import type { IdAllocator } from './ids.ts';
import type { Rng } from './random.ts';
import type { SimProduct, SimVariant } from './types.ts';

export interface CatalogOptions {
  count: number;
  historyStartMs: number;
  asOfMs: number;
  ids: IdAllocator;
}

/** Zipf exponent of product popularity: the top tenth of products gets roughly half the demand. */
const ZIPF_EXPONENT = 1.0;
/** Share of products in each type that get a planted complement in the partner type. */
const COMPLEMENT_SHARE = 0.5;

function slugify(text: string): string {
  return text.toLowerCase().normalize('NFKD').replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
}

/** Retail price points: whole dollars minus a cent, at least $2.99. */
function pricePoint(dollars: number): number {
  return Math.max(300, Math.round(dollars) * 100) - 1;
}

function centsString(cents: number): string {
  return `${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, '0')}`;
}

/** How many products of each type: largest-remainder apportionment of the catalog shares. */
function apportion(count: number): number[] {
  const total = CATEGORIES.reduce((a, c) => a + c.share, 0);
  const exact = CATEGORIES.map((c) => (c.share / total) * count);
  const counts = exact.map(Math.floor);
  const order = exact.map((e, i) => [e - Math.floor(e), i] as const).sort((a, b) => b[0] - a[0]);
  for (let k = 0; counts.reduce((a, b) => a + b, 0) < count; k++) {
    const i = (order[k % order.length] as readonly [number, number])[1];
    counts[i] = (counts[i] as number) + 1;
  }
  return counts;
}

function stockLevel(rng: Rng): number {
  const r = rng.next();
  if (r < 0.07) return 0; // sold out
  if (r < 0.17) return rng.int(1, 5); // running low
  return Math.round(rng.logNormal(40, 0.7));
}

export function generateCatalog(rng: Rng, opts: CatalogOptions): { products: SimProduct[]; complements: Array<[number, number]> } {
  const { count, historyStartMs, asOfMs, ids } = opts;
  const usedTitles = new Set<string>();
  const usedHandles = new Set<string>();

  interface Draft { spec: CategorySpec; title: string; createdMs: number; }
  const drafts: Draft[] = [];
  apportion(count).forEach((n, ci) => {
    const spec = CATEGORIES[ci] as CategorySpec;
    for (let i = 0; i < n; i++) {
      let title = `${rng.pick(spec.adjectives)} ${rng.pick(spec.nouns)}`;
      for (let tries = 0; usedTitles.has(title) && tries < 20; tries++) title = `${rng.pick(spec.adjectives)} ${rng.pick(spec.nouns)}`;
      for (let n2 = 2; usedTitles.has(title); n2++) title = `${title.replace(/ No\. \d+$/, '')} No. ${n2}`;
      usedTitles.add(title);
      // Most of the catalog predates the history; a fifth launches during it (new products).
      const createdMs = rng.chance(0.8)
        ? historyStartMs - rng.uniform(1, 3 * 365) * DAY_MS
        : rng.uniform(historyStartMs, asOfMs - 7 * DAY_MS);
      drafts.push({ spec, title, createdMs });
    }
  });
  // Shopify ids grow with time: number products in creation order.
  drafts.sort((a, b) => a.createdMs - b.createdMs);

  // Popularity rank is independent of type and age: a random permutation, weight 1/rank^s.
  const ranks = rng.shuffle(drafts.map((_, i) => i + 1));

  const products: SimProduct[] = drafts.map((d, i) => {
    const id = ids.next('product');
    const rank = ranks[i] as number;
    const r = rng.next();
    const status: SimProduct['status'] = r < 0.05 ? 'DRAFT' : r < 0.08 ? 'ARCHIVED' : 'ACTIVE';
    // An archived product was sold until its archive date (its updatedAt).
    const updatedMs = status === 'ARCHIVED'
      ? rng.uniform(Math.max(d.createdMs, historyStartMs) + 30 * DAY_MS, asOfMs - DAY_MS)
      : rng.uniform(d.createdMs, asOfMs);
    let handle = slugify(d.title);
    for (let n = 2; usedHandles.has(handle); n++) handle = `${slugify(d.title)}-${n}`;
    usedHandles.add(handle);

    const spec = d.spec;
    const basePrice = rng.logNormal(spec.priceMedian, spec.priceSigma);
    const nVariants = spec.options.length === 1 ? 1 : Math.min(spec.options.length, rng.weightedPick([1, 2, 3], [0.25, 0.35, 0.4]));
    const firstOption = rng.int(0, spec.options.length - nVariants);
    const vendor = rng.pick(spec.vendors);
    const variants: SimVariant[] = spec.options.slice(firstOption, firstOption + nVariants).map((opt, vi) => ({
      id: ids.next('variant'),
      title: opt.value,
      sku: `${spec.productType.slice(0, 3).toUpperCase()}-${String(i + 1).padStart(4, '0')}-${vi + 1}`,
      price: centsString(pricePoint(basePrice * opt.priceFactor)),
      inventoryItemId: ids.next('inventoryItem'),
      inventoryQuantity: status === 'DRAFT' ? 0 : stockLevel(rng),
    }));
    const tags = [...spec.tags];
    if (rank <= Math.max(3, Math.round(drafts.length * 0.08))) tags.push('bestseller');
    if (d.createdMs > asOfMs - 60 * DAY_MS) tags.push('new');
    if (rng.chance(0.05)) tags.push('limited');
    return {
      id,
      title: d.title,
      handle,
      productType: spec.productType,
      vendor,
      tags,
      status,
      createdAt: isoUtc(d.createdMs),
      updatedAt: isoUtc(Math.max(updatedMs, d.createdMs)),
      image: rng.chance(0.95) ? `https://cdn.example.com/shopml-sim/products/${handle}.jpg` : null,
      variants,
      optionName: spec.optionName,
      description: `${d.title} by ${vendor}. ${spec.productType} from our ${spec.world} range.`,
      popularity: 1 / Math.pow(rank, ZIPF_EXPONENT),
    };
  });

  return { products, complements: plantComplements(rng, products) };
}

/**
 * For half the sellable products of a type with a partner type, pick one partner product
 * (popular ones more likely). Orders containing one side then add the other side often.
 */
function plantComplements(rng: Rng, products: SimProduct[]): Array<[number, number]> {
  const sellable = products.filter((p) => p.status !== 'DRAFT');
  const byType = new Map<string, SimProduct[]>();
  for (const p of sellable) byType.set(p.productType, [...(byType.get(p.productType) ?? []), p]);
  const seen = new Set<string>();
  const pairs: Array<[number, number]> = [];
  for (const spec of CATEGORIES) {
    if (!spec.complementType) continue;
    const partners = byType.get(spec.complementType);
    if (!partners?.length) continue;
    const weights = partners.map((p) => p.popularity ?? 1);
    for (const p of byType.get(spec.productType) ?? []) {
      if (!rng.chance(COMPLEMENT_SHARE)) continue;
      const q = rng.weightedPick(partners, weights);
      const key = p.id < q.id ? `${p.id}:${q.id}` : `${q.id}:${p.id}`;
      if (seen.has(key)) continue;
      seen.add(key);
      pairs.push(p.id < q.id ? [p.id, q.id] : [q.id, p.id]);
    }
  }
  return pairs;
}
