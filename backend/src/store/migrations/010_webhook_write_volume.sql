-- Two indexes that only customers/redact and customers/data_request ever read, dropped: every
-- orders/create wrote a random leaf page of each (a customer's or an email hash's place in the
-- index), ~19 of the ~62 KB of WAL and checkpoint writes per webhook, and a third of the server's disk
-- writes at 1,000 webhooks/s (docs/RELIABILITY.md §2). Redaction already read the whole event log
-- once (events has no email_hash index); it now finds a customer's rows with one statement per
-- table (compliance.ts), so the event log is still read once and the orders table once more.
DROP INDEX IF EXISTS orders_shop_email;
DROP INDEX IF EXISTS events_shop_customer;
