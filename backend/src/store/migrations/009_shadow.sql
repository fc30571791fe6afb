-- Shadow evaluations: a segment / churn / forecast challenger scored beside the champion from the
-- challenger's training watermark, compared when the labels have matured (rollout/shadow.ts).
CREATE TABLE shadow_evaluations (
  id                  INTEGER PRIMARY KEY,
  shop                TEXT NOT NULL,
  kind                TEXT NOT NULL,
  champion_version    TEXT NOT NULL,
  challenger_version  TEXT NOT NULL,
  as_of               TEXT NOT NULL,   -- both versions are scored as of this instant
  matures_at          TEXT NOT NULL,   -- labels complete from here
  started_at          TEXT NOT NULL,
  status              TEXT NOT NULL CHECK (status IN ('running', 'promoted', 'rolled_back', 'stopped')),
  ended_at            TEXT,
  reason              TEXT,
  figures_json        TEXT             -- the last comparison (metric, both values, interval, verdict)
);
CREATE UNIQUE INDEX shadow_evaluations_running ON shadow_evaluations (shop, kind) WHERE status = 'running';
CREATE INDEX shadow_evaluations_shop ON shadow_evaluations (shop, kind, id);
