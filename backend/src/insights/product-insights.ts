// One product as the merchant sees it on the product page of the Shopify admin: the champion
// forecast (weekly forecast with its interval), the stock-out date and reorder suggestion as of
// now (forecast-now.ts: current stock, current lead time), and the products bought with it from
// the champion recommendation model (the same artifact and catalog the storefront is served from).
// Reads only; everything is scoped to one shop.
import type { Db } from '../store/db.ts';
import type { SummaryCache } from '../dashboard/views/artifact-summaries.ts';
import type { ForecastArtifact } from '../models/forecast/train.ts';
import type { ServeState } from '../serve/state.ts';
import { relatedToOne } from '../serve/recommend.ts';
import { DEFAULT_LEAD_TIME_DAYS } from '../store/product-settings.ts';
import { champion } from './champion.ts';
import { forecastNow, type StoredForecast } from './forecast-now.ts';
import type { ProductInsights, RelatedProduct } from './types.ts';

interface ForecastIndex {
  intervalLevel: number;
  leadTimeDays: number;
  products: Map<string, StoredForecast & { title: string | null; method: string; velocityPerDay: number }>;
}

function indexForecast(a: unknown): ForecastIndex {
  const f = a as ForecastArtifact;
  if (f?.kind !== 'forecast' || !Array.isArray(f.products)) throw new Error('not a forecast artifact');
  const products = new Map<string, StoredForecast & { title: string | null; method: string; velocityPerDay: number }>();
  for (const p of f.products) {
    products.set(p.productId, {
      weekStart: f.weekStart, dayStart: f.dayStart, serviceLevel: f.serviceLevel, reviewDays: f.reviewDays, dayOfWeekShare: f.dayOfWeekShare,
      weekly: p.weekly, daily: p.daily, sigmaWeekly: p.sigmaWeekly, title: p.title, method: p.method, velocityPerDay: p.velocityPerDay,
    });
  }
  return { intervalLevel: f.intervalLevel, leadTimeDays: f.leadTimeDays ?? DEFAULT_LEAD_TIME_DAYS, products };
}

/** Units available now over the product's variants and locations; null when no variant has inventory levels (untracked or unknown). */
export function stockNow(db: Db, shop: string, productId: string): number | null {
  const r = db.prepare(`SELECT count(i.available) AS levels, sum(i.available) AS available FROM variants v INDEXED BY variants_product
      JOIN inventory i ON i.shop = v.shop AND i.inventory_item_id = v.inventory_item_id WHERE v.shop = ? AND v.product_id = ?`).get(shop, productId) as
    { levels: number; available: number | null };
  return r.levels > 0 ? (r.available ?? 0) : null;
}

export interface ProductInsightsContext {
  db: Db;
  artifactsDir: string;
  artifacts: SummaryCache;
  serve: ServeState;
  now: Date;
}

export const RELATED_LIMIT = 5;

function relatedProducts(c: ProductInsightsContext, shop: string, productId: string): ProductInsights['related'] {
  const model = champion(c.db, shop, 'recommend');
  if (!model) return { model: null, products: [], error: null };
  try {
    const s = c.serve.shop(shop);
    const art = s.artifact(model.ref.version);
    const products: RelatedProduct[] = relatedToOne(art, productId).slice(0, RELATED_LIMIT).map((id) => {
      const p = s.catalog.product(id);
      return { id, title: p.title, handle: p.handle, image: p.image, servable: s.catalog.isServable(id) && !s.controls.excluded.has(id) };
    });
    return { model: model.ref, products, error: null };
  } catch (err) {
    return { model: model.ref, products: [], error: (err as Error).message };
  }
}

export function productInsights(c: ProductInsightsContext, shop: string, productId: string): ProductInsights {
  const { db } = c;
  const title = (db.prepare('SELECT title FROM products WHERE shop = ? AND product_id = ?').pluck().get(shop, productId) ?? null) as string | null;
  const out: ProductInsights = {
    shop, product_id: productId, status: 'ok', reason: null, title, forecast: null, inventory: null,
    related: relatedProducts(c, shop, productId),
  };
  const model = champion(db, shop, 'forecast');
  if (!model) return { ...out, status: 'no_model', reason: 'no_model' };
  const idx = c.artifacts.get(c.artifactsDir, model.ref.version, indexForecast);
  if (!idx.ok) throw new Error(idx.error);
  const f = idx.value.products.get(productId);
  if (!f) return { ...out, status: 'not_enough_history', reason: 'no_sales' };

  const setting = db.prepare('SELECT lead_time_days FROM product_settings WHERE shop = ? AND product_id = ? AND lead_time_days IS NOT NULL').pluck().get(shop, productId) as number | undefined;
  const leadTimeDays = setting ?? idx.value.leadTimeDays;
  const stock = stockNow(db, shop, productId);
  const now = forecastNow({ forecast: f, nowMs: c.now.getTime(), stock, leadTimeDays });
  out.title ??= f.title;
  out.forecast = {
    model: model.ref, method: f.method, interval_level: idx.value.intervalLevel, velocity_per_day: f.velocityPerDay,
    weeks: now.weeks, next_28_days: now.next28Days, expired: now.expired,
  };
  if (now.inventory) {
    out.inventory = {
      stock, lead_time_days: leadTimeDays, lead_time_source: setting === undefined ? 'default' : 'merchant',
      service_level: f.serviceLevel, review_days: f.reviewDays,
      safety_stock: now.inventory.safetyStock, reorder_point: now.inventory.reorderPoint, order_up_to: now.inventory.orderUpTo,
      suggested_order_qty: now.inventory.suggestedOrderQty, stockout_date: now.inventory.stockoutDate,
    };
  }
  return out;
}
