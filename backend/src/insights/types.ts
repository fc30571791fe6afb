// What GET /api/v1/customers/:id/insights and GET /api/v1/products/:id/insights answer: the wire
// format, in one place for the backend (insights/*.ts) and the admin UI extension
// (extensions/customer-insights/src), which imports these types only (no runtime code, no imports
// here, so the extension's bundle and type check stay self-contained).

/**
 * ok: the champion models know this customer / product.
 * not_enough_history: models exist but this customer / product is not in them yet (no orders, or
 *   first orders after the last training's watermark; a product with no sales yet).
 * no_model: nothing trained for the shop yet.
 */
export type InsightStatus = 'ok' | 'not_enough_history' | 'no_model';

/** The model version an answer comes from. */
export interface ModelRef {
  kind: 'segment' | 'churn' | 'forecast' | 'recommend';
  /** sha256 of the artifact (the registry's version). */
  version: string;
  /** ISO: when training finished (null: not in the registry). */
  trained_at: string | null;
  /** ISO: the data watermark the model saw ("as of"). */
  as_of: string | null;
}

export type ChurnRisk = 'low' | 'medium' | 'high';

export interface CustomerInsights {
  shop: string;
  /** Shopify's numeric customer id. */
  customer_id: string;
  status: InsightStatus;
  /** Why the status is not ok: no_model, no_orders, not_scored_yet (orders after the last training). */
  reason: 'no_model' | 'no_orders' | 'not_scored_yet' | null;
  /** Currency of money figures (the customer's latest order, else the shop's); null when unknown. */
  currency: string | null;
  /** What shopml has stored for this customer (orders not cancelled, not test). */
  history: { orders: number; first_order_at: string | null; last_order_at: string | null; total_spent: number };
  /** The champion segment model's label for this customer. */
  segment: { name: string; tag: string; model: ModelRef } | null;
  /** The champion churn model's scores for this customer. */
  churn: {
    /** 1 − order_probability. */
    churn_probability: number;
    /** Calibrated P(at least one order within horizon_days of as_of). */
    order_probability: number;
    /** BG/NBD P(still an active customer), when the model has BG/NBD. */
    p_alive: number | null;
    horizon_days: number;
    /** Share of the shop's scored customers with a lower churn probability (0–1). */
    percentile: number;
    /** By percentile: high ≥ 2/3, medium ≥ 1/3, low below. */
    risk: ChurnRisk;
    model: ModelRef;
  } | null;
  /** When the next order is expected: as_of + BG/NBD's median wait, if the customer is still active. */
  expected_next_order: {
    date: string;
    /** The date is already past (as of the request). */
    overdue: boolean;
    /** More than a year after as_of: a next order is unlikely to come soon. */
    beyond_a_year: boolean;
  } | null;
  /** Predicted spend within the churn model's horizon (currency above). */
  predicted_value: { amount: number; horizon_days: number } | null;
  /** Tags shopml applied to this customer in Shopify (its Flow actions and re-tagging), newest first. */
  tags: AppliedTag[];
}

export interface AppliedTag {
  tag: string;
  /** The tag prefix it was applied under ("shopml:" unless a Flow action asked for another). */
  prefix: string;
  /** ISO time shopml applied it. */
  applied_at: string;
}

export interface ForecastWeek {
  /** Monday (UTC, YYYY-MM-DD) the week starts. */
  week_start: string;
  /** Units forecast for the week, and the prediction interval (interval_level coverage). */
  mean: number;
  lo: number;
  hi: number;
  /** The week in progress (its figure includes the units already sold that week up to as_of). */
  current: boolean;
}

export interface RelatedProduct {
  id: string;
  title: string | null;
  handle: string | null;
  image: string | null;
  /** Shown on the storefront now (active, in stock, not excluded). */
  servable: boolean;
}

export interface ProductInsights {
  shop: string;
  product_id: string;
  status: InsightStatus;
  /** no_model: no forecast model; no_sales: the forecast model has not seen this product sell. */
  reason: 'no_model' | 'no_sales' | null;
  title: string | null;
  forecast: {
    model: ModelRef;
    /** The method behind this product's forecast (ensemble, ses, croston, …). */
    method: string;
    interval_level: number;
    /** Units per day sold over the 28 days before as_of. */
    velocity_per_day: number;
    /** Forecast weeks from the current one to the end of the horizon (empty when expired). */
    weeks: ForecastWeek[];
    /** Forecast units over the next 28 days, from today. */
    next_28_days: number;
    /** The forecast's horizon has passed: retrain for current figures. */
    expired: boolean;
  } | null;
  /** Figures as of now: current stock and the merchant's current lead time over the forecast. */
  inventory: {
    /** Units available now, summed over locations (null: not tracked / unknown). */
    stock: number | null;
    lead_time_days: number;
    lead_time_source: 'merchant' | 'default';
    service_level: number;
    review_days: number;
    safety_stock: number;
    reorder_point: number;
    order_up_to: number;
    /** Units to order now (0: stock above the reorder point; null: stock unknown). */
    suggested_order_qty: number | null;
    /** YYYY-MM-DD of the predicted stock-out (null: stock unknown or not within the forecast). */
    stockout_date: string | null;
  } | null;
  /** Bought together with this product, from the champion recommendation model. */
  related: { model: ModelRef | null; products: RelatedProduct[]; error: string | null };
}
