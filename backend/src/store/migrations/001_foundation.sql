-- Foundation schema. Every row carries `shop` (the myshopify domain). Personal data is never
-- stored: customers are known by Shopify's id and, for guest matching, a keyed hash of the email.

CREATE TABLE shops (
  shop              TEXT PRIMARY KEY,
  installed_at      TEXT NOT NULL,
  uninstalled_at    TEXT,
  access_token_enc  TEXT,            -- AES-256-GCM under SHOPML_SECRET_KEY; NULL once uninstalled
  scopes            TEXT,
  updated_at        TEXT NOT NULL
);

-- Append-only event log. Projections below are rebuildable by replaying it in id order.
CREATE TABLE events (
  id              INTEGER PRIMARY KEY,
  shop            TEXT NOT NULL,
  topic           TEXT NOT NULL,
  source          TEXT NOT NULL,      -- webhook | bulk | import | flow | admin
  source_id       TEXT NOT NULL,      -- X-Shopify-Webhook-Id, import row key, action_run_id ...
  received_at     TEXT NOT NULL,
  triggered_at    TEXT,
  customer_id     TEXT,               -- these three let customers/redact find every event about a customer
  email_hash      TEXT,
  order_id        TEXT,
  outcome         TEXT NOT NULL,      -- applied | stale | suppressed
  payload_sha256  TEXT NOT NULL,      -- of the raw bytes received
  payload         TEXT NOT NULL,      -- normalized, pseudonymized JSON
  UNIQUE (shop, source_id)
);
CREATE INDEX events_shop_customer ON events (shop, customer_id) WHERE customer_id IS NOT NULL;
CREATE INDEX events_shop_order ON events (shop, order_id) WHERE order_id IS NOT NULL;

CREATE TABLE orders (
  shop              TEXT NOT NULL,
  order_id          TEXT NOT NULL,
  name              TEXT,
  kind              TEXT NOT NULL DEFAULT 'order',   -- order | cancellation | adjustment
  customer_id       TEXT,
  email_hash        TEXT,
  created_at        TEXT NOT NULL,
  updated_at        TEXT NOT NULL,
  cancelled_at      TEXT,
  currency          TEXT,
  total_price       REAL,
  financial_status  TEXT,
  source_name       TEXT,
  country           TEXT,
  test              INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (shop, order_id)
) WITHOUT ROWID;
CREATE INDEX orders_shop_customer ON orders (shop, customer_id);
CREATE INDEX orders_shop_created ON orders (shop, created_at);

CREATE TABLE order_lines (
  shop               TEXT NOT NULL,
  order_id           TEXT NOT NULL,
  line_id            TEXT NOT NULL,
  product_id         TEXT,
  variant_id         TEXT,
  sku                TEXT,
  title              TEXT,
  quantity           REAL NOT NULL,
  price              REAL NOT NULL,
  refunded_quantity  REAL NOT NULL DEFAULT 0,
  line_kind          TEXT NOT NULL DEFAULT 'product',  -- product | non_product | writeoff
  PRIMARY KEY (shop, order_id, line_id),
  FOREIGN KEY (shop, order_id) REFERENCES orders (shop, order_id) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE INDEX orders_shop_email ON orders (shop, email_hash) WHERE email_hash IS NOT NULL;

CREATE TABLE customers (
  shop          TEXT NOT NULL,
  customer_id   TEXT NOT NULL,
  email_hash    TEXT,
  created_at    TEXT,
  updated_at    TEXT,
  state         TEXT,
  tags          TEXT,
  PRIMARY KEY (shop, customer_id)
) WITHOUT ROWID;

CREATE TABLE products (
  shop          TEXT NOT NULL,
  product_id    TEXT NOT NULL,
  title         TEXT,
  handle        TEXT,
  product_type  TEXT,
  vendor        TEXT,
  status        TEXT,
  tags          TEXT,
  created_at    TEXT,
  updated_at    TEXT,
  deleted_at    TEXT,
  PRIMARY KEY (shop, product_id)
) WITHOUT ROWID;

CREATE TABLE variants (
  shop               TEXT NOT NULL,
  variant_id         TEXT NOT NULL,
  product_id         TEXT NOT NULL,
  title              TEXT,
  sku                TEXT,
  price              REAL,
  inventory_item_id  TEXT,
  image              TEXT,
  PRIMARY KEY (shop, variant_id)
) WITHOUT ROWID;
CREATE INDEX variants_product ON variants (shop, product_id);
CREATE INDEX variants_inventory_item ON variants (shop, inventory_item_id);

CREATE TABLE inventory (
  shop               TEXT NOT NULL,
  inventory_item_id  TEXT NOT NULL,
  location_id        TEXT NOT NULL,
  available          INTEGER NOT NULL,
  updated_at         TEXT NOT NULL,
  PRIMARY KEY (shop, inventory_item_id, location_id)
) WITHOUT ROWID;

CREATE TABLE refunds (
  shop        TEXT NOT NULL,
  refund_id   TEXT NOT NULL,
  order_id    TEXT NOT NULL,
  created_at  TEXT NOT NULL,
  PRIMARY KEY (shop, refund_id)
) WITHOUT ROWID;

-- Authentic requests whose content failed validation: kept with the reason, PII scrubbed.
CREATE TABLE quarantine (
  id           INTEGER PRIMARY KEY,
  shop         TEXT NOT NULL,
  topic        TEXT NOT NULL,
  source_id    TEXT NOT NULL,
  received_at  TEXT NOT NULL,
  reason       TEXT NOT NULL,
  payload      TEXT NOT NULL,
  UNIQUE (shop, source_id)
);

-- customers/redact: keyed hashes of the customer id and email hash, so redeliveries and
-- re-imports cannot bring the customer back.
CREATE TABLE tombstones (
  shop          TEXT NOT NULL,
  subject_hash  TEXT NOT NULL,
  created_at    TEXT NOT NULL,
  PRIMARY KEY (shop, subject_hash)
) WITHOUT ROWID;

CREATE TABLE data_requests (
  shop          TEXT NOT NULL,
  request_id    TEXT NOT NULL,
  customer_id   TEXT,
  created_at    TEXT NOT NULL,
  export_json   TEXT NOT NULL,
  PRIMARY KEY (shop, request_id)
) WITHOUT ROWID;

CREATE TABLE flow_action_runs (
  shop           TEXT NOT NULL,
  action_run_id  TEXT NOT NULL,
  handle         TEXT NOT NULL,
  received_at    TEXT NOT NULL,
  status         TEXT NOT NULL,
  result         TEXT,
  PRIMARY KEY (shop, action_run_id)
) WITHOUT ROWID;

CREATE TABLE flow_trigger_lifecycle (
  shop                        TEXT NOT NULL,
  flow_trigger_definition_id  TEXT NOT NULL,
  has_enabled_flow            INTEGER NOT NULL,
  timestamp                   TEXT NOT NULL,
  PRIMARY KEY (shop, flow_trigger_definition_id)
) WITHOUT ROWID;

CREATE TABLE storefront_events (
  shop         TEXT NOT NULL,
  event_id     TEXT NOT NULL,
  type         TEXT NOT NULL,
  unit         TEXT,                  -- the rollout unit: customer id or the block's anonymous id
  customer_id  TEXT,                  -- set when the shopper was logged in
  product_id   TEXT,
  rec_id       TEXT,
  occurred_at  TEXT NOT NULL,
  PRIMARY KEY (shop, event_id)
) WITHOUT ROWID;

CREATE TABLE bulk_operations (
  shop          TEXT NOT NULL,
  operation_id  TEXT NOT NULL,
  status        TEXT NOT NULL,
  started_at    TEXT NOT NULL,
  finished_at   TEXT,
  objects       INTEGER,
  error         TEXT,
  PRIMARY KEY (shop, operation_id)
) WITHOUT ROWID;
