-- Model registry: immutable versions, the append-only alias history, the promotion gate's
-- decision on each training run.

-- One row per model version of a (shop, kind): the sha256 of the artifact bytes (the file
-- `<ARTIFACTS_DIR>/<version>.json.gz`). Identical bytes are the same version: registering
-- again changes nothing. Rows are never updated (trigger below); shop/redact deletes them.
CREATE TABLE model_versions (
  shop            TEXT NOT NULL,
  kind            TEXT NOT NULL,      -- recommend | segment | churn | forecast
  version         TEXT NOT NULL,      -- sha256 hex of the artifact bytes
  run_id          INTEGER,            -- the training run that first produced these bytes
  snapshot_id     TEXT,               -- dataset snapshot it was trained on (dataset_snapshots)
  code_version    TEXT NOT NULL,
  tensor_backend  TEXT,
  params_json     TEXT NOT NULL,
  metrics_json    TEXT NOT NULL,      -- offline metrics on the validation slice of its snapshot
  trained_at      TEXT NOT NULL,      -- ISO: when training finished
  train_seconds   REAL,
  registered_at   TEXT NOT NULL,
  PRIMARY KEY (shop, kind, version)
) WITHOUT ROWID;
CREATE INDEX model_versions_recent ON model_versions (shop, kind, trained_at);

CREATE TRIGGER model_versions_immutable BEFORE UPDATE ON model_versions
BEGIN
  SELECT RAISE(ABORT, 'model versions are immutable');
END;

-- Every alias move, in order: the current target of an alias is its latest row, and the version
-- an alias pointed to at time T is the latest row with at <= T (times never go backwards within
-- a shop and kind). Rows are never updated (trigger below); shop/redact deletes them.
CREATE TABLE alias_history (
  id              INTEGER PRIMARY KEY,
  shop            TEXT NOT NULL,
  kind            TEXT NOT NULL,
  alias           TEXT NOT NULL CHECK (alias IN ('champion', 'challenger')),
  at              TEXT NOT NULL,      -- ISO, millisecond precision, UTC
  from_version    TEXT,               -- NULL: the alias was unset
  to_version      TEXT,               -- NULL: the alias was cleared (challenger withdrawn)
  action          TEXT NOT NULL CHECK (action IN ('gate', 'promote', 'rollback', 'clear')),
  reason          TEXT NOT NULL,
  actor           TEXT NOT NULL,      -- cli:<user> | api:operator | api:<shop user id> | train:gate | ...
  figures_json    TEXT,               -- the figures that decided (gate metrics, rollout statistics)
  FOREIGN KEY (shop, kind, to_version) REFERENCES model_versions (shop, kind, version) ON DELETE CASCADE
);
CREATE INDEX alias_history_lookup ON alias_history (shop, kind, alias, at, id);

CREATE TRIGGER alias_history_append_only BEFORE UPDATE ON alias_history
BEGIN
  SELECT RAISE(ABORT, 'alias history is append-only');
END;

-- Bumped in the same transaction as every alias move of a shop: a serving cache polls this one
-- row to know, across processes, that it must re-read the aliases (and reload artifacts).
CREATE TABLE alias_generations (
  shop            TEXT PRIMARY KEY,
  generation      INTEGER NOT NULL
) WITHOUT ROWID;

-- The promotion gate's verdict on a succeeded run: champion (first good version), challenger,
-- kept (not deployed; decision_json says why) or unchanged (already that alias).
ALTER TABLE training_runs ADD COLUMN decision TEXT;
ALTER TABLE training_runs ADD COLUMN decision_json TEXT;
