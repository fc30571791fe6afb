-- customers/data_request on a long store, in steps (ingest/data-request-export.ts). The export
-- needs the customer's guest orders, found only by their email hash — and no index has it
-- (migration 010), so finding them reads the shop's whole orders table: ~110 ms on a store of
-- 307,840 orders, with the write lock held and every webhook behind it waiting. Past
-- REDACT_INLINE_MAX_EVENTS rows in the event log, the webhook's transaction leaves this row
-- instead; each step, its own short transaction, reads the next orders in order_id order and
-- adds those with the email hash to `found`; the last step writes the export to data_requests
-- (the customer's orders by customer id, the requested and the found orders, read again by key
-- then, so an order redacted meanwhile is not in it) and deletes this row. The row names the
-- customer: a customers/redact of them deletes it, and no export about them is written later.
CREATE TABLE data_request_scans (
  id                INTEGER PRIMARY KEY,
  shop              TEXT NOT NULL,
  request_id        TEXT NOT NULL,
  customer_id       TEXT,
  email_hash        TEXT NOT NULL,
  orders_requested  TEXT NOT NULL,               -- JSON array of order ids
  found             TEXT NOT NULL DEFAULT '[]',  -- JSON array: guest orders found so far
  next_order        TEXT NOT NULL DEFAULT '',    -- after this order_id ('' = from the start)
  created_at        TEXT NOT NULL
);
CREATE INDEX data_request_scans_request ON data_request_scans (shop, request_id);

-- The export names the orders it found by email hash; with the hash beside it, a customers/redact
-- naming that email deletes a guest's export too (it had only customer_id, NULL for a guest).
ALTER TABLE data_requests ADD COLUMN email_hash TEXT;
