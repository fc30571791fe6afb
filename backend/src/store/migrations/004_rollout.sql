-- Canary rollouts against a holdout: one experiment per (shop, kind) at a time, who saw which
-- variant, what they bought, how serving behaved, and every decision taken with its figures.

CREATE TABLE rollout_experiments (
  id                  INTEGER PRIMARY KEY,
  shop                TEXT NOT NULL,
  kind                TEXT NOT NULL,      -- recommend (the kind shoppers see)
  salt                TEXT NOT NULL,      -- GrowthBook v2 hash seed: bucket = hash(salt, unit)
  holdout_pct         REAL NOT NULL,      -- buckets [0, holdout): popularity, no personal model
  challenger_pct      REAL NOT NULL,      -- buckets [holdout, holdout + challenger)
  champion_version    TEXT NOT NULL,      -- model versions (artifact sha256) compared
  challenger_version  TEXT NOT NULL,
  started_at          TEXT NOT NULL,
  ended_at            TEXT,
  status              TEXT NOT NULL CHECK (status IN ('running', 'promoted', 'rolled_back', 'stopped', 'broken')),
  status_reason       TEXT,
  config_json         TEXT NOT NULL,      -- policy settings fixed at start: alpha, mixing variance, guardrails, plan
  UNIQUE (id, shop)
);
-- At most one live experiment (running, or broken and waiting for a person) per shop and kind.
CREATE UNIQUE INDEX rollout_experiments_live ON rollout_experiments (shop, kind) WHERE status IN ('running', 'broken');
CREATE INDEX rollout_experiments_shop_kind ON rollout_experiments (shop, kind, id);

-- One row per (unit, variant) per experiment: written once at the first exposure (INSERT OR
-- IGNORE); the unit's attributed orders and revenue accumulate on the same row. `customer_id` is
-- set when the unit is a logged-in customer, so customers/redact (which deletes by that column)
-- removes the row; the daily aggregates below hold counts only.
CREATE TABLE rollout_exposures (
  experiment_id   INTEGER NOT NULL,
  unit            TEXT NOT NULL,
  variant         TEXT NOT NULL CHECK (variant IN ('holdout', 'challenger', 'champion')),
  shop            TEXT NOT NULL,
  customer_id     TEXT,
  first_seen_at   TEXT NOT NULL,
  conversions     INTEGER NOT NULL DEFAULT 0,
  revenue         REAL NOT NULL DEFAULT 0,
  PRIMARY KEY (experiment_id, unit, variant),
  FOREIGN KEY (experiment_id, shop) REFERENCES rollout_experiments (id, shop) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE INDEX rollout_exposures_customer ON rollout_exposures (shop, customer_id) WHERE customer_id IS NOT NULL;

-- Orders already counted (when the caller passes the order id), so a redelivered orders/create
-- does not count twice. Named order_id so customers/redact finds it with the customer's orders.
CREATE TABLE rollout_conversions (
  experiment_id   INTEGER NOT NULL,
  order_id        TEXT NOT NULL,
  shop            TEXT NOT NULL,
  recorded_at     TEXT NOT NULL,
  PRIMARY KEY (experiment_id, order_id),
  FOREIGN KEY (experiment_id, shop) REFERENCES rollout_experiments (id, shop) ON DELETE CASCADE
) WITHOUT ROWID;

-- Daily aggregates per variant (UTC days). units = units first exposed that day; converters =
-- units whose first conversion fell on that day; revenue_sq accumulates the change in Σ (revenue
-- per unit)², so cumulative sums through any day give the variance of revenue per visitor.
-- requests / errors / latency come from serving (batched counts) for the guardrails.
CREATE TABLE rollout_daily (
  experiment_id   INTEGER NOT NULL,
  day             TEXT NOT NULL,          -- YYYY-MM-DD, UTC
  variant         TEXT NOT NULL CHECK (variant IN ('holdout', 'challenger', 'champion')),
  shop            TEXT NOT NULL,
  units           INTEGER NOT NULL DEFAULT 0,
  converters      INTEGER NOT NULL DEFAULT 0,
  conversions     INTEGER NOT NULL DEFAULT 0,
  revenue         REAL NOT NULL DEFAULT 0,
  revenue_sq      REAL NOT NULL DEFAULT 0,
  requests        INTEGER NOT NULL DEFAULT 0,
  errors          INTEGER NOT NULL DEFAULT 0,
  latency_ms_sum  REAL NOT NULL DEFAULT 0,
  slow_requests   INTEGER NOT NULL DEFAULT 0,  -- answered slower than the experiment's slow threshold
  PRIMARY KEY (experiment_id, day, variant),
  FOREIGN KEY (experiment_id, shop) REFERENCES rollout_experiments (id, shop) ON DELETE CASCADE
) WITHOUT ROWID;

-- Decision log: every evaluation that changed something, and every manual action, with the
-- figures that decided (the alias history keeps the same figures for alias moves).
CREATE TABLE rollout_decisions (
  id              INTEGER PRIMARY KEY,
  experiment_id   INTEGER NOT NULL,
  shop            TEXT NOT NULL,
  at              TEXT NOT NULL,
  action          TEXT NOT NULL,          -- start | hold | promote | rollback | stop | mark_broken
  reason          TEXT NOT NULL,
  actor           TEXT NOT NULL,          -- policy | cli:<user> | api:<key> ...
  figures_json    TEXT NOT NULL,
  FOREIGN KEY (experiment_id, shop) REFERENCES rollout_experiments (id, shop) ON DELETE CASCADE
);
CREATE INDEX rollout_decisions_experiment ON rollout_decisions (experiment_id, id);
CREATE INDEX rollout_decisions_shop ON rollout_decisions (shop, id);  -- experimentGeneration: max(id) per shop
