-- Writing back to Shopify (backend/src/flow/): the tags shopml applied, what it last published
-- per customer, resumable publishing passes, and the Flow triggers it sent. See docs/flow.md.

-- The tags shopml itself put on a customer, one per tag prefix ("shopml:" by default; a Flow
-- action may ask for another). A re-tag removes exactly these and never a merchant's own tags.
CREATE TABLE flow_customer_tags (
  shop         TEXT NOT NULL,
  customer_id  TEXT NOT NULL,
  prefix       TEXT NOT NULL,
  tag          TEXT NOT NULL,      -- on the customer in Shopify, as far as shopml knows
  updated_at   TEXT NOT NULL,
  PRIMARY KEY (shop, customer_id, prefix)
) WITHOUT ROWID;

-- What shopml last published about a customer: the segment behind its tags (the "Customer
-- segment changed" trigger compares with it), the churn risk ("Churn risk rose" compares) and a
-- digest of the metafield values written (unchanged values are not written again).
CREATE TABLE flow_customer_state (
  shop               TEXT NOT NULL,
  customer_id        TEXT NOT NULL,
  segment            TEXT,
  churn_risk         REAL,
  metafields_digest  TEXT,
  updated_at         TEXT NOT NULL,
  PRIMARY KEY (shop, customer_id)
) WITHOUT ROWID;

-- One publishing pass per shop and kind (retag | metafields), resumable: customers are visited
-- in customer_id order and `cursor` is the last one done, committed with that batch's state.
CREATE TABLE flow_sync_runs (
  shop         TEXT NOT NULL,
  kind         TEXT NOT NULL CHECK (kind IN ('retag', 'metafields')),
  versions     TEXT NOT NULL,      -- the champion versions being published: segment=…;churn=…
  cursor       TEXT,               -- NULL: not started
  status       TEXT NOT NULL CHECK (status IN ('running', 'done')),
  started_at   TEXT NOT NULL,
  updated_at   TEXT NOT NULL,
  finished_at  TEXT,
  counts_json  TEXT NOT NULL DEFAULT '{}',
  PRIMARY KEY (shop, kind)
) WITHOUT ROWID;

-- Flow triggers shopml fired or decided not to fire. `dedupe_key` makes a trigger fire once per
-- event (a product's predicted stock-out date, a drift report).
CREATE TABLE flow_trigger_sends (
  id            INTEGER PRIMARY KEY,
  shop          TEXT NOT NULL,
  handle        TEXT NOT NULL,
  dedupe_key    TEXT,
  status        TEXT NOT NULL CHECK (status IN ('queued', 'sent', 'failed')),
  customer_id   TEXT,              -- set for customer triggers, so customers/redact removes the row
  product_id    TEXT,
  payload_json  TEXT NOT NULL,
  created_at    TEXT NOT NULL,
  sent_at       TEXT,
  error         TEXT
);
CREATE UNIQUE INDEX flow_trigger_sends_dedupe ON flow_trigger_sends (shop, handle, dedupe_key) WHERE dedupe_key IS NOT NULL;
CREATE INDEX flow_trigger_sends_recent ON flow_trigger_sends (shop, handle, id);
