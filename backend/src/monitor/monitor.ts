// The monitor of a shop: one entry point the scheduler calls, `monitorShop(db, shop, now, opts)`.
// It reads the store (orders, champions, stored predictions, experiments, storefront events),
// computes the drift report (drift-report.ts, drift.ts), live accuracy (accuracy.ts) and KPIs
// (kpi.ts), decides whether a retrain is warranted (decideRetrain, pure), and stores the report
// (tables of migration 007). Everything is synchronous: better-sqlite3 and arithmetic.
//
// Retrain triggers (each names the model kinds it concerns):
//   dataset_drift       share of drifted columns (inputs and outputs together) ≥ datasetShare
//   churn_accuracy      live AUC ≥ aucDrop below validation, or live Brier ≥ brierRise above
//   forecast_accuracy   live RMSSE ≥ forecastErrorRise (relative) above validation
//   champion_vs_holdout champion converts significantly worse than the holdout AND it costs revenue
//   click_through       click-through dropped ≥ ctrDrop, significantly, AND it costs revenue
import type { Db } from '../store/db.ts';
import { cleanOrders, type CleanData } from '../features/clean.ts';
import { loadOrders } from '../features/load.ts';
import { customerHistories, type CustomerHistories } from '../features/customers.ts';
import { loadArtifact } from '../ml/artifact.ts';
import { getAlias } from '../registry/aliases.ts';
import { getVersion } from '../registry/versions.ts';
import type { ModelKind } from '../models/types.ts';
import type { SegmentArtifact } from '../models/segment/train.ts';
import type { ChurnArtifact } from '../models/churn/train.ts';
import type { ForecastArtifact } from '../models/forecast/train.ts';
import { summarizeDrift, driftColumn, type ColumnDrift } from './drift.ts';
import { customerColumns, driftWindows, outputColumns, productColumns, type Champions, type ColumnGroup, type DriftWindows } from './drift-report.ts';
import { churnAccuracy, forecastAccuracy, type ChurnAccuracy, type ChurnCandidate, type ForecastAccuracy } from './accuracy.ts';
import { ctrKpi, experimentKpi, type CtrKpi, type ExperimentKpi } from './kpi.ts';
import { resolveSettings, type MonitorSettings, type MonitorSettingsInput } from './settings.ts';

export type GroupName = ColumnGroup['name'];

export interface GroupDrift {
  name: GroupName;
  referenceRows: number;
  currentRows: number;
  columns: number;
  judged: number;
  drifted: number;
  share: number;
  note?: string;
}

export interface MonitorColumn extends ColumnDrift {
  group: GroupName;
}

export interface DriftSection {
  /** Watermark of the latest successful training (null: never trained). */
  anchor: string | null;
  /** Why drift was not judged (null: it was). */
  skipped: string | null;
  windows: DriftWindows | null;
  groups: GroupDrift[];
  columns: MonitorColumn[];
  judged: number;
  drifted: number;
  share: number;
  threshold: number;
  datasetDrift: boolean;
}

export type TriggerName = 'dataset_drift' | 'churn_accuracy' | 'forecast_accuracy' | 'champion_vs_holdout' | 'click_through';

export interface RetrainTrigger {
  name: TriggerName;
  /** The model kinds the trigger concerns. */
  models: ModelKind[];
  reason: string;
  figures: Record<string, unknown>;
}

export interface RetrainDecision {
  /** Every trigger's reason, joined: what a job or a person reads. */
  reason: string;
  /** Union of the triggers' model kinds, in pipeline order. */
  kinds: ModelKind[];
  triggers: RetrainTrigger[];
  /** The triggers' figures by trigger name. */
  figures: Record<string, Record<string, unknown>>;
}

export interface MonitorReport {
  shop: string;
  asOf: string;
  createdAt: string;
  drift: DriftSection;
  accuracy: { churn: ChurnAccuracy; forecast: ForecastAccuracy };
  kpi: { championVsHoldout: ExperimentKpi; clickThrough: CtrKpi };
  retrain: RetrainDecision | null;
  settings: MonitorSettings;
  seconds: number;
}

export interface MonitorOptions {
  /** Where model artifacts live (ARTIFACTS_DIR): the champions are loaded from there. */
  artifactsDir: string;
  /** Threshold overrides (merge settingsFromEnv / settingsFromFlags into it). */
  settings?: MonitorSettingsInput;
  /** Store the report (default true). */
  store?: boolean;
  /** Wall clock for created_at (default: new Date()). */
  clock?: () => Date;
}

export interface MonitorResult {
  /** monitor_reports.id, or null when not stored. */
  id: number | null;
  report: MonitorReport;
  retrain: { reason: string; kinds: ModelKind[]; figures: Record<string, Record<string, unknown>>; triggers: RetrainTrigger[] } | null;
}

const KIND_ORDER: readonly ModelKind[] = ['recommend', 'segment', 'churn', 'forecast'];
const toMs = (t: Date | string | number): number => {
  const ms = typeof t === 'number' ? t : typeof t === 'string' ? Date.parse(t) : t.getTime();
  if (!Number.isFinite(ms)) throw new RangeError(`not a time: ${String(t)}`);
  return ms;
};

// ---------------------------------------------------------------- reading the store

/** Watermark (epoch ms) of the shop's latest successful training at or before `nowIso`, or null. */
export function lastTrainingWatermark(db: Db, shop: string, nowIso: string): number | null {
  const w = db.prepare(`SELECT max(s.watermark) FROM training_runs r JOIN dataset_snapshots s ON s.shop = r.shop AND s.snapshot_id = r.snapshot_id
    WHERE r.shop = ? AND r.status = 'succeeded' AND s.watermark <= ?`).pluck().get(shop, nowIso) as string | null;
  return w ? Date.parse(w) : null;
}

function champion<A>(db: Db, shop: string, kind: ModelKind, dir: string): { version: string; artifact: A; metrics: Record<string, number | null> } | null {
  const version = getAlias(db, shop, kind, 'champion');
  if (!version) return null;
  try {
    const artifact = loadArtifact<{ artifact: A }>(dir, version).artifact;
    return { version, artifact, metrics: getVersion(db, shop, kind, version)?.metrics ?? {} };
  } catch {
    return null; // a missing or corrupt artifact file: reported as "no champion" for that part
  }
}

function churnCandidates(db: Db, shop: string, nowIso: string): ChurnCandidate[] {
  const rows = db.prepare(`SELECT v.version, v.params_json, v.metrics_json, s.watermark FROM model_versions v
      JOIN dataset_snapshots s ON s.shop = v.shop AND s.snapshot_id = v.snapshot_id
    WHERE v.shop = ? AND v.kind = 'churn' AND s.watermark <= ?
      AND EXISTS (SELECT 1 FROM alias_history a WHERE a.shop = v.shop AND a.kind = v.kind AND a.alias = 'champion' AND a.to_version = v.version)
    ORDER BY s.watermark DESC, v.trained_at DESC`).all(shop, nowIso) as { version: string; params_json: string; metrics_json: string; watermark: string }[];
  return rows.map((r) => {
    const params = JSON.parse(r.params_json) as { horizonDays?: number };
    return { version: r.version, watermark: r.watermark, horizonDays: typeof params.horizonDays === 'number' ? params.horizonDays : 90, metrics: JSON.parse(r.metrics_json) as Record<string, number | null> };
  });
}

function storedChurnPredictions(db: Db, shop: string, version: string): Map<string, number> {
  const out = new Map<string, number>();
  const rows = db.prepare(`SELECT customer_id, output_json FROM customer_outputs WHERE shop = ? AND kind = 'churn' AND model_version = ?`).iterate(shop, version) as IterableIterator<{ customer_id: string; output_json: string }>;
  for (const r of rows) {
    const o = JSON.parse(r.output_json) as { orderProbability?: number };
    if (typeof o.orderProbability === 'number' && Number.isFinite(o.orderProbability)) out.set(r.customer_id, o.orderProbability);
  }
  return out;
}

// ---------------------------------------------------------------- drift of a shop

/** The drift section from cleaned data and champions (pure). */
export function driftSection(data: CleanData, nowMs: number, anchorMs: number | null, champions: Champions, s: MonitorSettings, histories?: CustomerHistories): DriftSection {
  const w = driftWindows(anchorMs, nowMs, s);
  const empty = { groups: [], columns: [], judged: 0, drifted: 0, share: 0, threshold: s.drift.datasetShare, datasetDrift: false };
  if ('skipped' in w) return { anchor: w.anchor, skipped: w.skipped, windows: null, ...empty };
  const ref = { from: Date.parse(w.reference.from), to: Date.parse(w.reference.to) };
  const cur = { from: Date.parse(w.current.from), to: Date.parse(w.current.to) };
  const h = histories ?? customerHistories(data);
  const groups: ColumnGroup[] = [customerColumns(h, ref, cur), productColumns(data, ref, cur)];
  if (champions.segment || champions.churn) groups.push(outputColumns(h, ref, cur, champions));
  const columns: MonitorColumn[] = [];
  const summaries: GroupDrift[] = [];
  for (const g of groups) {
    const cols = g.columns.map((c) => ({ ...driftColumn(c, s.drift), group: g.name }));
    const sum = summarizeDrift(cols, s.drift);
    columns.push(...cols);
    summaries.push({ name: g.name, referenceRows: g.referenceRows, currentRows: g.currentRows, columns: cols.length, judged: sum.judged, drifted: sum.drifted, share: sum.share, ...(g.note ? { note: g.note } : {}) });
  }
  if (!champions.segment && !champions.churn) summaries.push({ name: 'outputs', referenceRows: 0, currentRows: 0, columns: 0, judged: 0, drifted: 0, share: 0, note: 'no segment or churn champion (or its artifact is missing)' });
  const all = summarizeDrift(columns, s.drift);
  return { anchor: w.anchor, skipped: null, windows: w, groups: summaries, columns, judged: all.judged, drifted: all.drifted, share: all.share, threshold: all.threshold, datasetDrift: all.datasetDrift };
}

// ---------------------------------------------------------------- the decision

const pct = (x: number) => `${Math.round(x * 100)}%`;
const num = (x: number) => (Number.isFinite(x) ? String(Number(x.toPrecision(3))) : String(x));

function describeColumn(c: MonitorColumn): string {
  return c.scoreKind === 'p_value' ? `${c.group}.${c.column} (${c.test} p ${num(c.score)} < ${c.threshold})` : `${c.group}.${c.column} (${c.test} ${num(c.score)} > ${c.threshold})`;
}

/** Whether a retrain is warranted, and why (pure). */
export function decideRetrain(r: Pick<MonitorReport, 'drift' | 'accuracy' | 'kpi'>): RetrainDecision | null {
  const triggers: RetrainTrigger[] = [];
  const d = r.drift;
  if (d.datasetDrift) {
    const drifted = d.columns.filter((c) => c.judged && c.drifted);
    const models = new Set<ModelKind>();
    for (const c of drifted) {
      if (c.group === 'products') { models.add('forecast'); models.add('recommend'); }
      else if (c.group === 'customers') { models.add('segment'); models.add('churn'); }
      else models.add(c.column === 'segment' ? 'segment' : 'churn');
    }
    const shown = drifted.slice(0, 6).map(describeColumn).join(', ');
    triggers.push({
      name: 'dataset_drift', models: KIND_ORDER.filter((k) => models.has(k)),
      reason: `dataset drift: ${d.drifted} of ${d.judged} columns drifted (${pct(d.share)} ≥ ${pct(d.threshold)}): ${shown}${drifted.length > 6 ? `, and ${drifted.length - 6} more` : ''}`,
      figures: {
        share: d.share, threshold: d.threshold, judged: d.judged, drifted: d.drifted, windows: d.windows,
        columns: drifted.map((c) => ({ group: c.group, column: c.column, test: c.test, statistic: c.statistic, score: c.score, threshold: c.threshold })),
      },
    });
  }
  const ch = r.accuracy.churn;
  if (ch.status === 'scored' && ch.breached) {
    triggers.push({
      name: 'churn_accuracy', models: ['churn'], reason: `churn accuracy dropped: ${ch.detail}`,
      figures: { version: ch.version, auc: ch.auc, brier: ch.brier, validation: ch.validation, aucDrop: ch.aucDrop, brierRise: ch.brierRise, customers: ch.customers, ordered: ch.ordered, predictedAt: ch.predictedAt },
    });
  }
  const fc = r.accuracy.forecast;
  if (fc.status === 'scored' && fc.breached) {
    triggers.push({
      name: 'forecast_accuracy', models: ['forecast'], reason: `forecast error rose: ${fc.detail}`,
      figures: { version: fc.version, rmsse: fc.rmsse, validation: fc.validation, rise: fc.rise, wape: fc.wape, bias: fc.bias, weeks: fc.weeks, products: fc.products },
    });
  }
  const ex = r.kpi.championVsHoldout;
  if (ex.status === 'scored' && ex.breached) {
    triggers.push({
      name: 'champion_vs_holdout', models: ['recommend'], reason: `recommendations convert worse than the holdout: ${ex.detail}`,
      figures: { experimentId: ex.experimentId, champion: ex.champion, holdout: ex.holdout, sequentialP: ex.sequentialP, revenueImpact: ex.revenueImpact },
    });
  }
  const ct = r.kpi.clickThrough;
  if (ct.status === 'scored' && ct.breached) {
    triggers.push({
      name: 'click_through', models: ['recommend'], reason: `recommendation click-through dropped: ${ct.detail}`,
      figures: { baseline: ct.baseline, current: ct.current, relativeChange: ct.relativeChange, pValue: ct.pValue, revenueAtStake: ct.revenueAtStake },
    });
  }
  if (triggers.length === 0) return null;
  const kinds = new Set(triggers.flatMap((t) => t.models));
  return {
    reason: triggers.map((t) => t.reason).join('; '),
    kinds: KIND_ORDER.filter((k) => kinds.has(k)),
    triggers,
    figures: Object.fromEntries(triggers.map((t) => [t.name, t.figures])),
  };
}

// ---------------------------------------------------------------- compute, store, entry point

/** Computes a shop's report as of `now` (reads only). */
export function computeMonitorReport(db: Db, shop: string, now: Date | string | number, opts: MonitorOptions): MonitorReport {
  const t0 = performance.now();
  const s = resolveSettings(opts.settings);
  const nowMs = toMs(now);
  const nowIso = new Date(nowMs).toISOString();
  const data = cleanOrders(loadOrders(db, shop, { asOf: nowIso }));
  const anchor = lastTrainingWatermark(db, shop, nowIso);
  const seg = champion<SegmentArtifact>(db, shop, 'segment', opts.artifactsDir);
  const churn = champion<ChurnArtifact>(db, shop, 'churn', opts.artifactsDir);
  const h = customerHistories(data);
  const drift = driftSection(data, nowMs, anchor, { segment: seg, churn }, s, h);
  const accuracy = {
    churn: churnAccuracy(churnCandidates(db, shop, nowIso), nowMs, h, (v) => storedChurnPredictions(db, shop, v), s),
    forecast: forecastAccuracy(champion<ForecastArtifact>(db, shop, 'forecast', opts.artifactsDir), data.sales, nowMs, s),
  };
  const kpi = { championVsHoldout: experimentKpi(db, shop, nowMs, s), clickThrough: ctrKpi(db, shop, nowMs, s) };
  const retrain = decideRetrain({ drift, accuracy, kpi });
  return {
    shop, asOf: nowIso, createdAt: (opts.clock?.() ?? new Date()).toISOString(), drift, accuracy, kpi, retrain, settings: s,
    seconds: (performance.now() - t0) / 1000,
  };
}

const finite = (x: number | null | undefined): number | null => (typeof x === 'number' && Number.isFinite(x) ? x : null);
/** JSON with non-finite numbers as null (JSON.stringify would write them as null anyway, silently). */
const json = (x: unknown): string => JSON.stringify(x, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v));

interface MetricRow { name: string; kind: ModelKind | null; value: number | null; baseline: number | null; threshold: number | null; n: number | null; breached: boolean }

function metricRows(r: MonitorReport): MetricRow[] {
  const s = r.settings;
  const rows: MetricRow[] = [];
  if (!r.drift.skipped) rows.push({ name: 'drift_share', kind: null, value: r.drift.share, baseline: null, threshold: r.drift.threshold, n: r.drift.judged, breached: r.drift.datasetDrift });
  const ch = r.accuracy.churn;
  if (ch.status === 'scored') {
    rows.push({ name: 'churn_auc', kind: 'churn', value: ch.auc, baseline: ch.validation.auc, threshold: ch.validation.auc === null ? null : ch.validation.auc - s.aucDrop, n: ch.customers, breached: ch.breached && (ch.aucDrop ?? 0) >= s.aucDrop });
    rows.push({ name: 'churn_brier', kind: 'churn', value: ch.brier, baseline: ch.validation.brier, threshold: ch.validation.brier === null ? null : ch.validation.brier + s.brierRise, n: ch.customers, breached: ch.breached && (ch.brierRise ?? 0) >= s.brierRise });
  }
  const fc = r.accuracy.forecast;
  if (fc.status === 'scored') {
    rows.push({ name: 'forecast_rmsse', kind: 'forecast', value: fc.rmsse, baseline: fc.validation.rmsse, threshold: fc.validation.rmsse === null ? null : fc.validation.rmsse * (1 + s.forecastErrorRise), n: fc.products, breached: fc.breached });
    rows.push({ name: 'forecast_wape', kind: 'forecast', value: fc.wape, baseline: null, threshold: null, n: fc.products, breached: false });
  }
  const ex = r.kpi.championVsHoldout;
  if (ex.status === 'scored') {
    rows.push({ name: 'champion_vs_holdout_conversion', kind: 'recommend', value: ex.champion.conversion, baseline: ex.holdout.conversion, threshold: null, n: ex.champion.units, breached: ex.breached });
    rows.push({ name: 'champion_vs_holdout_rpv', kind: 'recommend', value: ex.champion.revenuePerVisitor, baseline: ex.holdout.revenuePerVisitor, threshold: null, n: ex.champion.units, breached: ex.breached });
  }
  const ct = r.kpi.clickThrough;
  if (ct.status === 'scored') {
    rows.push({ name: 'click_through', kind: 'recommend', value: ct.current.ctr, baseline: ct.baseline.ctr, threshold: ct.baseline.ctr * (1 - s.ctrDrop), n: ct.current.impressions, breached: ct.breached });
  }
  return rows;
}

/** Stores a report and its columns and metrics in one transaction; returns its id. */
export function saveMonitorReport(db: Db, r: MonitorReport): number {
  return db.transaction(() => {
    const w = r.drift.windows;
    const id = Number(db.prepare(`INSERT INTO monitor_reports (shop, created_at, as_of, anchor, basis, reference_from, reference_to, current_from, current_to, drift_skipped,
        judged_columns, drifted_columns, drift_share, share_threshold, dataset_drift, accuracy_json, kpi_json, retrain, retrain_reason, retrain_json, settings_json, seconds)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(
      r.shop, r.createdAt, r.asOf, r.drift.anchor, w?.basis ?? null, w?.reference.from ?? null, w?.reference.to ?? null,
      w?.current.from ?? null, w?.current.to ?? null, r.drift.skipped, r.drift.judged, r.drift.drifted, r.drift.share, r.drift.threshold, r.drift.datasetDrift ? 1 : 0,
      json(r.accuracy), json(r.kpi), r.retrain ? 1 : 0, r.retrain?.reason ?? null, r.retrain ? json({ kinds: r.retrain.kinds, triggers: r.retrain.triggers }) : null,
      json(r.settings), r.seconds,
    ).lastInsertRowid);
    const groupRows = new Map(r.drift.groups.map((g) => [g.name, g]));
    const putCol = db.prepare(`INSERT INTO monitor_drift_columns (report_id, shop, column_group, column_name, position, type, treated_as, test, statistic, score, score_kind, threshold,
        drifted, judged, psi, reason, reference_rows, current_rows, detail_json, histogram_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
    for (const [position, c] of r.drift.columns.entries()) {
      putCol.run(id, r.shop, c.group, c.column, position, c.type, c.treatedAs, c.test, finite(c.statistic), finite(c.score), c.scoreKind, finite(c.threshold),
        c.drifted ? 1 : 0, c.judged ? 1 : 0, finite(c.psi), c.reason, c.reference.rows, c.current.rows,
        json({ reference: c.reference, current: c.current, also: c.also, groupRows: { reference: groupRows.get(c.group)?.referenceRows, current: groupRows.get(c.group)?.currentRows } }),
        json(c.histogram));
    }
    const putMetric = db.prepare(`INSERT INTO monitor_metrics (report_id, shop, as_of, name, model_kind, value, baseline, threshold, n, breached) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
    for (const m of metricRows(r)) putMetric.run(id, r.shop, r.asOf, m.name, m.kind, finite(m.value), finite(m.baseline), finite(m.threshold), m.n, m.breached ? 1 : 0);
    return id;
  })();
}

/**
 * THE entry point for the scheduler: computes the shop's monitor report as of `now`, stores it
 * (unless `store: false`) and says whether a retrain is warranted — `retrain` is null when not,
 * else the reason (one line, every trigger), the model kinds concerned and the figures.
 * Reads orders up to `now` only, so a past `now` reproduces what the monitor would have said then.
 */
export function monitorShop(db: Db, shop: string, now: Date | string | number, opts: MonitorOptions): MonitorResult {
  const report = computeMonitorReport(db, shop, now, opts);
  const id = opts.store === false ? null : saveMonitorReport(db, report);
  const r = report.retrain;
  return { id, report, retrain: r ? { reason: r.reason, kinds: r.kinds, figures: r.figures, triggers: r.triggers } : null };
}

// ---------------------------------------------------------------- reading reports (dashboard, CLI)

export interface ReportSummary {
  id: number;
  shop: string;
  asOf: string;
  createdAt: string;
  anchor: string | null;
  basis: string | null;
  driftSkipped: string | null;
  judged: number;
  drifted: number;
  share: number;
  datasetDrift: boolean;
  retrain: boolean;
  retrainReason: string | null;
}

interface ReportRow {
  id: number; shop: string; created_at: string; as_of: string; anchor: string | null; basis: string | null; reference_from: string | null; reference_to: string | null;
  current_from: string | null; current_to: string | null; drift_skipped: string | null; judged_columns: number; drifted_columns: number; drift_share: number;
  share_threshold: number; dataset_drift: number; accuracy_json: string; kpi_json: string; retrain: number; retrain_reason: string | null; retrain_json: string | null;
  settings_json: string; seconds: number;
}

const summaryOf = (r: ReportRow): ReportSummary => ({
  id: r.id, shop: r.shop, asOf: r.as_of, createdAt: r.created_at, anchor: r.anchor, basis: r.basis, driftSkipped: r.drift_skipped, judged: r.judged_columns,
  drifted: r.drifted_columns, share: r.drift_share, datasetDrift: r.dataset_drift === 1, retrain: r.retrain === 1, retrainReason: r.retrain_reason,
});

/** Newest first. */
export function listMonitorReports(db: Db, shop: string, limit = 20): ReportSummary[] {
  return (db.prepare('SELECT * FROM monitor_reports WHERE shop = ? ORDER BY id DESC LIMIT ?').all(shop, limit) as ReportRow[]).map(summaryOf);
}

export interface StoredColumn {
  group: string;
  column: string;
  type: string;
  treatedAs: string;
  test: string | null;
  statistic: number | null;
  score: number | null;
  scoreKind: string;
  threshold: number | null;
  drifted: boolean;
  judged: boolean;
  psi: number | null;
  reason: string;
  referenceRows: number;
  currentRows: number;
  detail: Record<string, unknown>;
  histogram: unknown;
}

export interface StoredReport extends ReportSummary {
  windows: { reference: { from: string; to: string }; current: { from: string; to: string } } | null;
  shareThreshold: number;
  columns: StoredColumn[];
  accuracy: MonitorReport['accuracy'];
  kpi: MonitorReport['kpi'];
  retrainDetail: { kinds: ModelKind[]; triggers: RetrainTrigger[] } | null;
  settings: MonitorSettings;
  seconds: number;
}

/** A stored report with its columns (histograms included), or null. `shop` guards against reading another shop's report. */
export function getMonitorReport(db: Db, id: number, shop?: string): StoredReport | null {
  const r = db.prepare('SELECT * FROM monitor_reports WHERE id = ? AND (? IS NULL OR shop = ?)').get(id, shop ?? null, shop ?? null) as ReportRow | undefined;
  if (!r) return null;
  const cols = db.prepare('SELECT * FROM monitor_drift_columns WHERE report_id = ? ORDER BY position').all(id) as {
    column_group: string; column_name: string; type: string; treated_as: string; test: string | null; statistic: number | null; score: number | null; score_kind: string;
    threshold: number | null; drifted: number; judged: number; psi: number | null; reason: string; reference_rows: number; current_rows: number; detail_json: string; histogram_json: string;
  }[];
  return {
    ...summaryOf(r),
    windows: r.reference_from && r.reference_to && r.current_from && r.current_to ? { reference: { from: r.reference_from, to: r.reference_to }, current: { from: r.current_from, to: r.current_to } } : null,
    shareThreshold: r.share_threshold,
    columns: cols.map((c) => ({
      group: c.column_group, column: c.column_name, type: c.type, treatedAs: c.treated_as, test: c.test, statistic: c.statistic, score: c.score, scoreKind: c.score_kind,
      threshold: c.threshold, drifted: c.drifted === 1, judged: c.judged === 1, psi: c.psi, reason: c.reason, referenceRows: c.reference_rows, currentRows: c.current_rows,
      detail: JSON.parse(c.detail_json) as Record<string, unknown>, histogram: JSON.parse(c.histogram_json) as unknown,
    })),
    accuracy: JSON.parse(r.accuracy_json) as MonitorReport['accuracy'],
    kpi: JSON.parse(r.kpi_json) as MonitorReport['kpi'],
    retrainDetail: r.retrain_json ? (JSON.parse(r.retrain_json) as StoredReport['retrainDetail']) : null,
    settings: JSON.parse(r.settings_json) as MonitorSettings,
    seconds: r.seconds,
  };
}

export interface MetricPoint { reportId: number; asOf: string; value: number | null; baseline: number | null; threshold: number | null; n: number | null; breached: boolean }

/** One figure over time (oldest first): drift_share, churn_auc, churn_brier, forecast_rmsse, forecast_wape, click_through, champion_vs_holdout_conversion, champion_vs_holdout_rpv. */
export function monitorSeries(db: Db, shop: string, name: string, limit = 200): MetricPoint[] {
  const rows = db.prepare(`SELECT * FROM (SELECT report_id, as_of, value, baseline, threshold, n, breached FROM monitor_metrics WHERE shop = ? AND name = ? ORDER BY as_of DESC, report_id DESC LIMIT ?)
    ORDER BY as_of, report_id`).all(shop, name, limit) as { report_id: number; as_of: string; value: number | null; baseline: number | null; threshold: number | null; n: number | null; breached: number }[];
  return rows.map((r) => ({ reportId: r.report_id, asOf: r.as_of, value: r.value, baseline: r.baseline, threshold: r.threshold, n: r.n, breached: r.breached === 1 }));
}
