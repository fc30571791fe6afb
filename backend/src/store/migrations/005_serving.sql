-- Storefront serving: merchant controls, what impressions and clicks need for attribution, and
-- the conversions attributed to recommendations.

-- Per-shop serving settings. `generation` is bumped by every control change (CLI or API), so a
-- server notices a change made by another process with one primary-key read per request.
CREATE TABLE serve_settings (
  shop                TEXT PRIMARY KEY,
  min_history_orders  INTEGER NOT NULL DEFAULT 1,   -- orders a customer needs before personal lists
  attribution_days    INTEGER NOT NULL DEFAULT 7,   -- window from a recommendation to an order line
  generation          INTEGER NOT NULL DEFAULT 0,
  updated_at          TEXT NOT NULL
) WITHOUT ROWID;

-- Products the merchant excluded (never served) or pinned (served first, by position).
CREATE TABLE serve_product_controls (
  shop        TEXT NOT NULL,
  product_id  TEXT NOT NULL,
  action      TEXT NOT NULL CHECK (action IN ('exclude', 'pin')),
  position    INTEGER,                             -- pins only: ascending order at the top
  updated_at  TEXT NOT NULL,
  PRIMARY KEY (shop, product_id)
) WITHOUT ROWID;

-- Impressions and clicks carry what attribution needs, taken from the signed rec_id (never from
-- what the storefront claims): the arm, the model version that produced the list (NULL:
-- popularity) and the live experiment, and for an impression of a whole list the products shown
-- (comma-separated).
ALTER TABLE storefront_events ADD COLUMN variant TEXT;
ALTER TABLE storefront_events ADD COLUMN model_version TEXT;
ALTER TABLE storefront_events ADD COLUMN experiment_id INTEGER;
ALTER TABLE storefront_events ADD COLUMN product_ids TEXT;
CREATE INDEX storefront_events_unit ON storefront_events (shop, unit, occurred_at) WHERE unit IS NOT NULL;
CREATE INDEX storefront_events_rec ON storefront_events (shop, rec_id) WHERE rec_id IS NOT NULL;

-- One row per order line attributed to a recommendation (orders/create). `method`: 'property'
-- (the line carries the `_shopml_rec` line-item property) or 'window' (the product was shown to
-- or clicked by the same logged-in customer within the attribution window).
CREATE TABLE rec_conversions (
  shop           TEXT NOT NULL,
  order_id       TEXT NOT NULL,
  line_id        TEXT NOT NULL,
  product_id     TEXT NOT NULL,
  unit           TEXT,
  customer_id    TEXT,
  variant        TEXT NOT NULL,
  model_version  TEXT,                              -- NULL: the list came from popularity
  experiment_id  INTEGER,                           -- the live experiment when the list was served
  rec_id         TEXT NOT NULL,
  method         TEXT NOT NULL,
  revenue        REAL NOT NULL,                     -- price × quantity of the line, order currency
  currency       TEXT,
  ordered_at     TEXT NOT NULL,
  recommended_at TEXT NOT NULL,
  PRIMARY KEY (shop, order_id, line_id)
) WITHOUT ROWID;
CREATE INDEX rec_conversions_variant ON rec_conversions (shop, variant, ordered_at);
