// Per-product demand forecasts from the champion forecast model: weekly forecasts with their
// prediction interval, stock, the predicted stock-out date and the reorder suggestion, the
// merchant's lead time (product_settings; the artifact keeps the one it was trained with), and,
// for one product, the weekly units actually ordered before the forecast origin.
import type { Db } from '../../store/db.ts';
import { getAlias } from '../../registry/aliases.ts';
import type { Band, ForecastArtifact } from '../../models/forecast/index.ts';
import { DEFAULT_LEAD_TIME_DAYS } from '../../store/product-settings.ts';
import type { SummaryCache } from './artifact-summaries.ts';

const WEEK_MS = 7 * 86_400_000;

interface ProductSummary {
  productId: string;
  title: string | null;
  method: string;
  weekly: Band;
  velocityPerDay: number;
  stock: number | null;
  leadTimeDays: number;
  safetyStock: number;
  reorderPoint: number;
  suggestedOrderQty: number | null;
  stockoutDate: string | null;
}

interface ForecastSummary {
  asOf: string;
  weekStart: string;
  horizonWeeks: number;
  intervalLevel: number;
  serviceLevel: number;
  chosen: string;
  products: ProductSummary[];
}

function summarize(a: unknown): ForecastSummary {
  const f = a as ForecastArtifact;
  return {
    asOf: f.asOf, weekStart: f.weekStart, horizonWeeks: f.horizonWeeks, intervalLevel: f.intervalLevel, serviceLevel: f.serviceLevel, chosen: f.chosen,
    products: f.products.map((p) => ({
      productId: p.productId, title: p.title, method: p.method, weekly: p.weekly, velocityPerDay: p.velocityPerDay, stock: p.stock,
      leadTimeDays: p.leadTimeDays, safetyStock: p.safetyStock, reorderPoint: p.reorderPoint, suggestedOrderQty: p.suggestedOrderQty, stockoutDate: p.stockoutDate,
    })),
  };
}

export interface ForecastRow {
  productId: string;
  title: string | null;
  method: string;
  stock: number | null;
  velocityPerDay: number;
  nextWeek: { mean: number; lo: number; hi: number } | null;
  /** Lead time the forecast used, and the merchant's current setting (applies at the next training). */
  leadTimeDays: number;
  leadTimeSetting: number | null;
  safetyStock: number;
  reorderPoint: number;
  suggestedOrderQty: number | null;
  stockoutDate: string | null;
}

export interface ForecastView {
  version: string | null;
  asOf: string | null;
  weekStart: string | null;
  horizonWeeks: number | null;
  intervalLevel: number | null;
  serviceLevel: number | null;
  chosen: string | null;
  products: number;
  stockouts: number;
  rows: ForecastRow[];
  defaultLeadTimeDays: number;
  error: string | null;
}

function leadTimes(db: Db, shop: string): Map<string, number> {
  const m = new Map<string, number>();
  for (const r of db.prepare('SELECT product_id, lead_time_days FROM product_settings WHERE shop = ? AND lead_time_days IS NOT NULL').all(shop) as { product_id: string; lead_time_days: number }[]) m.set(r.product_id, r.lead_time_days);
  return m;
}

/** Products at risk first: soonest stock-out, then largest suggested order, then fastest sellers. */
function atRiskFirst(a: ForecastRow, b: ForecastRow): number {
  if (a.stockoutDate !== b.stockoutDate) {
    if (a.stockoutDate === null) return 1;
    if (b.stockoutDate === null) return -1;
    return a.stockoutDate < b.stockoutDate ? -1 : 1;
  }
  const qa = a.suggestedOrderQty ?? -1, qb = b.suggestedOrderQty ?? -1;
  if (qa !== qb) return qb - qa;
  return b.velocityPerDay - a.velocityPerDay || (a.productId < b.productId ? -1 : 1);
}

export function forecastView(db: Db, shop: string, artifactsDir: string, cache: SummaryCache, limit = 200): ForecastView {
  const version = getAlias(db, shop, 'forecast', 'champion');
  const empty: ForecastView = { version, asOf: null, weekStart: null, horizonWeeks: null, intervalLevel: null, serviceLevel: null, chosen: null, products: 0, stockouts: 0, rows: [], defaultLeadTimeDays: DEFAULT_LEAD_TIME_DAYS, error: null };
  if (!version) return empty;
  const s = cache.get(artifactsDir, version, summarize);
  if (!s.ok) return { ...empty, error: s.error };
  const f = s.value;
  const settings = leadTimes(db, shop);
  const rows = f.products.map((p): ForecastRow => ({
    productId: p.productId, title: p.title, method: p.method, stock: p.stock, velocityPerDay: p.velocityPerDay,
    nextWeek: p.weekly.mean.length > 1 ? { mean: p.weekly.mean[1]!, lo: p.weekly.lo[1]!, hi: p.weekly.hi[1]! } : p.weekly.mean.length ? { mean: p.weekly.mean[0]!, lo: p.weekly.lo[0]!, hi: p.weekly.hi[0]! } : null,
    leadTimeDays: p.leadTimeDays, leadTimeSetting: settings.get(p.productId) ?? null,
    safetyStock: p.safetyStock, reorderPoint: p.reorderPoint, suggestedOrderQty: p.suggestedOrderQty, stockoutDate: p.stockoutDate,
  })).sort(atRiskFirst);
  return {
    version, asOf: f.asOf, weekStart: f.weekStart, horizonWeeks: f.horizonWeeks, intervalLevel: f.intervalLevel, serviceLevel: f.serviceLevel, chosen: f.chosen,
    products: rows.length, stockouts: rows.filter((r) => r.stockoutDate !== null).length, rows: rows.slice(0, limit), defaultLeadTimeDays: DEFAULT_LEAD_TIME_DAYS, error: null,
  };
}

export interface ProductForecastChart {
  productId: string;
  title: string | null;
  version: string;
  intervalLevel: number;
  /** Week starts (seconds since epoch): history weeks, then forecast weeks. */
  x: number[];
  /** Units ordered per week (null on forecast weeks). */
  actual: (number | null)[];
  /** Forecast mean and interval (null on history weeks). */
  mean: (number | null)[];
  lo: (number | null)[];
  hi: (number | null)[];
  stock: number | null;
  stockoutDate: string | null;
  suggestedOrderQty: number | null;
  reorderPoint: number;
}

/** One product's chart: `historyWeeks` of units ordered before the forecast origin, then the forecast band. */
export function productForecastChart(db: Db, shop: string, artifactsDir: string, cache: SummaryCache, productId: string, historyWeeks = 26): ProductForecastChart | null {
  const version = getAlias(db, shop, 'forecast', 'champion');
  if (!version) return null;
  const s = cache.get(artifactsDir, version, summarize);
  if (!s.ok) return null;
  const p = s.value.products.find((x) => x.productId === productId);
  if (!p) return null;
  const origin = Date.parse(s.value.weekStart);
  const from = new Date(origin - historyWeeks * WEEK_MS).toISOString();
  const lines = db.prepare(`SELECT o.created_at AS at, l.quantity - l.refunded_quantity AS units FROM order_lines l
      JOIN orders o ON o.shop = l.shop AND o.order_id = l.order_id
      WHERE l.shop = ? AND l.product_id = ? AND l.line_kind = 'product' AND o.kind = 'order' AND o.cancelled_at IS NULL AND o.test = 0
        AND o.created_at >= ? AND o.created_at < ?`).all(shop, productId, from, s.value.weekStart) as { at: string; units: number }[];
  const hist = new Array<number>(historyWeeks).fill(0);
  for (const l of lines) {
    const w = Math.floor((Date.parse(l.at) - origin) / WEEK_MS) + historyWeeks;
    if (w >= 0 && w < historyWeeks) hist[w]! += Math.max(0, l.units);
  }
  const H = p.weekly.mean.length;
  const x: number[] = [];
  for (let i = -historyWeeks; i < H; i++) x.push((origin + i * WEEK_MS) / 1000);
  const pad = <T>(n: number) => new Array<T | null>(n).fill(null);
  return {
    productId, title: p.title, version, intervalLevel: s.value.intervalLevel, x,
    actual: [...hist, ...pad<number>(H)],
    mean: [...pad<number>(historyWeeks), ...p.weekly.mean],
    lo: [...pad<number>(historyWeeks), ...p.weekly.lo],
    hi: [...pad<number>(historyWeeks), ...p.weekly.hi],
    stock: p.stock, stockoutDate: p.stockoutDate, suggestedOrderQty: p.suggestedOrderQty, reorderPoint: p.reorderPoint,
  };
}
