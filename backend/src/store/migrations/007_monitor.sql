-- Monitoring (backend/src/monitor/): one row per monitor run of a shop — drift of model inputs and
-- outputs (reference window vs current window), live accuracy, recommendation KPIs, and whether a
-- retrain is warranted and why. Aggregates only: no customer ids. See docs/monitoring.md.

CREATE TABLE monitor_reports (
  id                INTEGER PRIMARY KEY,
  shop              TEXT NOT NULL,
  created_at        TEXT NOT NULL,      -- wall clock when the report was computed
  as_of             TEXT NOT NULL,      -- the "now" the report describes (end of the current window)
  anchor            TEXT,               -- watermark of the latest successful training (NULL: never trained)
  basis             TEXT,               -- since_training | previous_period | NULL (drift skipped)
  reference_from    TEXT,
  reference_to      TEXT,
  current_from      TEXT,
  current_to        TEXT,
  drift_skipped     TEXT,               -- why drift was not judged (too few days since training)
  judged_columns    INTEGER NOT NULL,
  drifted_columns   INTEGER NOT NULL,
  drift_share       REAL NOT NULL,      -- drifted / judged
  share_threshold   REAL NOT NULL,
  dataset_drift     INTEGER NOT NULL,   -- 1: drift_share >= share_threshold
  accuracy_json     TEXT NOT NULL,      -- live accuracy: churn (AUC, Brier) and forecast (RMSSE, WAPE, bias)
  kpi_json          TEXT NOT NULL,      -- champion vs holdout, click-through
  retrain           INTEGER NOT NULL,   -- 1: a retrain is warranted
  retrain_reason    TEXT,
  retrain_json      TEXT,               -- triggers with their figures, and the model kinds concerned
  settings_json     TEXT NOT NULL,      -- thresholds in force
  seconds           REAL NOT NULL
);
CREATE INDEX monitor_reports_shop ON monitor_reports (shop, id);

-- Per column of a report: the test that ran and why, its statistic against the threshold, PSI,
-- summaries, and the histogram (shared bins) to plot reference against current.
CREATE TABLE monitor_drift_columns (
  report_id       INTEGER NOT NULL,
  shop            TEXT NOT NULL,
  column_group    TEXT NOT NULL,        -- customers | products | outputs
  column_name     TEXT NOT NULL,
  position        INTEGER NOT NULL,     -- order within the report (groups, then the columns' own order)
  type            TEXT NOT NULL,        -- numeric | categorical
  treated_as      TEXT NOT NULL,        -- numeric | categorical | binary
  test            TEXT,                 -- ks | chisquare | z | wasserstein | jensenshannon (NULL: no data)
  statistic       REAL,                 -- D, chi-squared, z, normalized W1 or JS distance
  score           REAL,                 -- p-value (tests) or the distance (what the threshold applies to)
  score_kind      TEXT NOT NULL,        -- p_value | distance
  threshold       REAL,
  drifted         INTEGER NOT NULL,
  judged          INTEGER NOT NULL,     -- 0: too few rows, reported only
  psi             REAL,                 -- reported, never decides
  reason          TEXT NOT NULL,        -- which test ran and why
  reference_rows  INTEGER NOT NULL,
  current_rows    INTEGER NOT NULL,
  detail_json     TEXT NOT NULL,        -- summaries of both samples and the other statistics computed
  histogram_json  TEXT NOT NULL,        -- {kind:'bins', edges, reference, current} | {kind:'categories', categories, reference, current}
  PRIMARY KEY (report_id, column_group, column_name),
  FOREIGN KEY (report_id) REFERENCES monitor_reports (id) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE INDEX monitor_drift_columns_shop ON monitor_drift_columns (shop, report_id);

-- Time series for charts: one row per figure per report (live AUC, live RMSSE, click-through,
-- champion-vs-holdout lift, drift share …) with the baseline and threshold it was judged against.
CREATE TABLE monitor_metrics (
  report_id   INTEGER NOT NULL,
  shop        TEXT NOT NULL,
  as_of       TEXT NOT NULL,
  name        TEXT NOT NULL,            -- drift_share | churn_auc | churn_brier | forecast_rmsse | ctr | champion_vs_holdout_conversion | …
  model_kind  TEXT,                     -- recommend | segment | churn | forecast (NULL: the shop)
  value       REAL,
  baseline    REAL,
  threshold   REAL,
  n           INTEGER,                  -- sample behind the figure (customers, products, impressions, visitors)
  breached    INTEGER NOT NULL,
  PRIMARY KEY (report_id, name),
  FOREIGN KEY (report_id) REFERENCES monitor_reports (id) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE INDEX monitor_metrics_series ON monitor_metrics (shop, name, as_of);
