-- Dataset snapshots, training runs, per-customer model outputs, merchant inventory settings.

-- One row per dataset version taken for a shop: identity, watermark, the quality gate's verdict.
CREATE TABLE dataset_snapshots (
  shop            TEXT NOT NULL,
  snapshot_id     TEXT NOT NULL,      -- sha256 of the canonical cleaned data + watermark + code version
  watermark       TEXT NOT NULL,
  code_version    TEXT NOT NULL,
  created_at      TEXT NOT NULL,
  counts_json     TEXT NOT NULL,
  profile_json    TEXT NOT NULL,      -- what the next snapshot's quality gate compares with
  quality_ok      INTEGER NOT NULL,
  quality_json    TEXT NOT NULL,      -- every check: name, ok, value, threshold, detail
  PRIMARY KEY (shop, snapshot_id)
) WITHOUT ROWID;
CREATE INDEX dataset_snapshots_recent ON dataset_snapshots (shop, created_at);

-- Every training attempt, successful or not (experiment tracking).
CREATE TABLE training_runs (
  id               INTEGER PRIMARY KEY,
  shop             TEXT NOT NULL,
  kind             TEXT NOT NULL,      -- recommend | segment | churn | forecast
  status           TEXT NOT NULL,      -- running | succeeded | failed | blocked
  started_at       TEXT NOT NULL,
  finished_at      TEXT,
  snapshot_id      TEXT,
  seed             INTEGER NOT NULL,
  tensor_backend   TEXT,
  code_version     TEXT NOT NULL,
  params_json      TEXT,
  metrics_json     TEXT,
  durations_json   TEXT,
  artifact_sha256  TEXT,               -- the model version: content hash of the artifact bytes
  error            TEXT,
  log              TEXT
);
CREATE INDEX training_runs_shop_kind ON training_runs (shop, kind, id);

-- Per-customer outputs (segment, scores, personal lists), keyed by model version and customer,
-- never inside the immutable artifact, so customers/redact can delete them.
CREATE TABLE customer_outputs (
  shop           TEXT NOT NULL,
  kind           TEXT NOT NULL,
  model_version  TEXT NOT NULL,
  customer_id    TEXT NOT NULL,
  output_json    TEXT NOT NULL,
  PRIMARY KEY (shop, model_version, customer_id)
) WITHOUT ROWID;
CREATE INDEX customer_outputs_customer ON customer_outputs (shop, customer_id);

-- Merchant settings for reorder suggestions: supplier lead time per product.
CREATE TABLE product_settings (
  shop            TEXT NOT NULL,
  product_id      TEXT NOT NULL,
  lead_time_days  REAL,
  updated_at      TEXT NOT NULL,
  PRIMARY KEY (shop, product_id)
) WITHOUT ROWID;
