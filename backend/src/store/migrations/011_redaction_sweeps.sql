-- customers/redact's pass over a long event log, in steps (ingest/redaction-sweep.ts). Two
-- tables cannot be searched by an index for a customer's rows (migration 010): the event log (by
-- customer or email hash) and the orders (by email hash: a customer's guest orders). Past
-- REDACT_INLINE_MAX_EVENTS rows in the log, the webhook's transaction writes the tombstones,
-- deletes everything an index finds, and leaves this row; the sweep then, each step its own
-- short transaction, reads the orders in order_id order and deletes the guest orders with the
-- customer's email hash and every row about them (next_order: the last order_id read; NULL once
-- done or when there is no email), then deletes the log's rows naming the customer or the email
-- hash, by ranges of ids up to last_event (the log's last id when the redaction came: later
-- events about the customer are suppressed by the tombstones), and deletes this row at the end.
-- The row names the customer until then — customers/redact never deletes it (a second redaction
-- of the same customer must not stop the first one's sweep); shop/redact does.
CREATE TABLE redaction_sweeps (
  id           INTEGER PRIMARY KEY,
  shop         TEXT NOT NULL,
  customer_id  TEXT,
  email_hash   TEXT,
  next_order   TEXT,                -- orders pass: after this order_id ('' = from the start); NULL = done
  next_event   INTEGER NOT NULL,    -- log pass: the first events.id not swept yet
  last_event   INTEGER NOT NULL,
  created_at   TEXT NOT NULL
);
