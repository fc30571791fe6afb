-- Durable background jobs (backend/src/jobs/): training, re-tagging, anything slow.
-- A runner claims a ready job with one UPDATE … RETURNING, holds a lease it extends with
-- heartbeats, and records the outcome. A lease that runs out (the worker died) makes the job
-- claimable again. See docs/jobs.md.
CREATE TABLE jobs (
  id            INTEGER PRIMARY KEY,
  shop          TEXT NOT NULL,
  type          TEXT NOT NULL,        -- handler name: train | ...
  payload       TEXT NOT NULL DEFAULT 'null',   -- JSON, given to the handler
  reason        TEXT,                 -- why it was enqueued (scheduler: interval | volume | a trigger's reason)
  status        TEXT NOT NULL DEFAULT 'pending'
                CHECK (status IN ('pending', 'running', 'done', 'failed', 'dead')),
                                    -- failed: the last attempt failed, retried at run_at; dead: gave up
  run_at        TEXT,                 -- ISO: not claimed before; NULL: as soon as possible
  attempts      INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),   -- claims so far
  max_attempts  INTEGER NOT NULL DEFAULT 5 CHECK (max_attempts >= 1),
  lease_owner   TEXT,                 -- runner id holding the job while running
  lease_until   TEXT,                 -- ISO: past this, another runner may take the job over
  heartbeat_at  TEXT,
  last_error    TEXT,                 -- the latest attempt's error (kept on dead jobs)
  dedupe_key    TEXT,                 -- at most one unfinished job per (shop, dedupe_key)
  customer_id   TEXT,                 -- set when the job is about one customer or order, so
  order_id      TEXT,                 --   customers/redact deletes it with the rest of their data
  created_at    TEXT NOT NULL,
  started_at    TEXT,                 -- the latest claim
  finished_at   TEXT,
  result        TEXT                  -- JSON: what the handler returned
);
-- The claim reads ready jobs in order from here (partial: only jobs still to run).
CREATE INDEX jobs_claim ON jobs (coalesce(run_at, created_at), id) WHERE status IN ('pending', 'failed');
CREATE INDEX jobs_lease ON jobs (status, lease_until);
CREATE INDEX jobs_shop_type ON jobs (shop, type, id);
CREATE UNIQUE INDEX jobs_dedupe ON jobs (shop, dedupe_key)
  WHERE dedupe_key IS NOT NULL AND status IN ('pending', 'running', 'failed');
