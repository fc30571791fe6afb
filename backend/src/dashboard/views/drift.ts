// Drift reports (backend/src/monitor/, migration 007): the latest stored monitor report of the
// shop — windows compared, dataset drift share against its threshold, per column the test that
// ran (and why), its statistic and score against the threshold, PSI, and the histogram of the
// reference window against the current one — plus the drift share over the recent reports and
// the live accuracy / KPI figures the same report judged.
import type { Db } from '../../store/db.ts';
import { getMonitorReport, listMonitorReports, type StoredColumn } from '../../monitor/monitor.ts';

export interface DriftColumnView {
  id: string;
  group: string;
  column: string;
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
}

/** A histogram as shares of each window's rows (the windows differ in size), with bar labels. */
export interface DriftHistogram {
  id: string;
  title: string;
  labels: string[];
  reference: number[];
  current: number[];
  drifted: boolean;
}

export interface DriftView {
  available: boolean;
  missing: string | null;
  report: {
    id: number;
    asOf: string;
    createdAt: string;
    basis: string | null;
    anchor: string | null;
    windows: { reference: { from: string; to: string }; current: { from: string; to: string } } | null;
    skipped: string | null;
    judged: number;
    drifted: number;
    share: number;
    shareThreshold: number;
    datasetDrift: boolean;
    retrain: boolean;
    retrainReason: string | null;
    method: string | null;
  } | null;
  columns: DriftColumnView[];
  histograms: DriftHistogram[];
  /** Drift share per stored report, oldest first (x: seconds since epoch of as_of). */
  shareSeries: { x: number[]; share: number[]; threshold: number[] };
  metrics: { name: string; modelKind: string | null; value: number | null; baseline: number | null; threshold: number | null; n: number | null; breached: boolean }[];
}

const compact = (x: number): string => {
  const a = Math.abs(x);
  if (a >= 1e6) return `${Number((x / 1e6).toPrecision(3))}M`;
  if (a >= 1e3) return `${Number((x / 1e3).toPrecision(3))}k`;
  return String(Number(x.toPrecision(3)));
};

/** Bar labels and shares from a stored histogram (monitor/drift.ts Histogram). */
export function histogramShares(h: unknown): { labels: string[]; reference: number[]; current: number[] } | null {
  const x = h as { kind?: string; edges?: number[]; categories?: string[]; reference?: number[]; current?: number[] } | null;
  if (!x || !Array.isArray(x.reference) || !Array.isArray(x.current) || x.reference.length !== x.current.length || x.reference.length === 0) return null;
  let labels: string[];
  if (x.kind === 'bins' && Array.isArray(x.edges) && x.edges.length === x.reference.length - 1) {
    const e = x.edges;
    labels = x.reference.map((_, i) => (i === 0 ? `<${compact(e[0]!)}` : i === e.length ? `≥${compact(e[i - 1]!)}` : `${compact(e[i - 1]!)}–${compact(e[i]!)}`));
  } else if (x.kind === 'categories' && Array.isArray(x.categories) && x.categories.length === x.reference.length) {
    labels = x.categories.map(String);
  } else {
    return null;
  }
  const share = (c: number[]) => {
    const n = c.reduce((s, v) => s + v, 0);
    return c.map((v) => (n > 0 ? v / n : 0));
  };
  return { labels, reference: share(x.reference), current: share(x.current) };
}

const hasTable = (db: Db, name: string) => db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?`).pluck().get(name) !== undefined;

export function driftView(db: Db, shop: string, maxHistograms = 12): DriftView {
  const none = { report: null, columns: [], histograms: [], shareSeries: { x: [], share: [], threshold: [] }, metrics: [] };
  if (!hasTable(db, 'monitor_reports')) return { available: false, missing: 'drift monitoring (migration 007_monitor.sql) is not installed in this database', ...none };
  const reports = listMonitorReports(db, shop, 30);
  if (reports.length === 0) return { available: true, missing: null, ...none };
  const latest = getMonitorReport(db, reports[0]!.id, shop)!;
  const columnId = (c: StoredColumn) => `${c.group}-${c.column}`.replace(/[^\w-]/g, '_');
  const columns = latest.columns.map((c): DriftColumnView => ({
    id: columnId(c), group: c.group, column: c.column, treatedAs: c.treatedAs, test: c.test, statistic: c.statistic, score: c.score, scoreKind: c.scoreKind,
    threshold: c.threshold, drifted: c.drifted, judged: c.judged, psi: c.psi, reason: c.reason, referenceRows: c.referenceRows, currentRows: c.currentRows,
  }));
  // Drifted columns first, then judged ones, in the report's order.
  const order = [...latest.columns].sort((a, b) => Number(b.drifted) - Number(a.drifted) || Number(b.judged) - Number(a.judged));
  const histograms: DriftHistogram[] = [];
  for (const c of order) {
    if (histograms.length >= maxHistograms) break;
    const h = histogramShares(c.histogram);
    if (h) histograms.push({ id: columnId(c), title: `${c.group} · ${c.column}`, drifted: c.drifted, ...h });
  }
  const series = [...reports].reverse();
  const metrics = hasTable(db, 'monitor_metrics')
    ? (db.prepare('SELECT name, model_kind AS modelKind, value, baseline, threshold, n, breached FROM monitor_metrics WHERE report_id = ? ORDER BY name').all(latest.id) as
      { name: string; modelKind: string | null; value: number | null; baseline: number | null; threshold: number | null; n: number | null; breached: number }[])
      .map((m) => ({ ...m, breached: m.breached === 1 }))
    : [];
  return {
    available: true, missing: null,
    report: {
      id: latest.id, asOf: latest.asOf, createdAt: latest.createdAt, basis: latest.basis, anchor: latest.anchor, windows: latest.windows, skipped: latest.driftSkipped,
      judged: latest.judged, drifted: latest.drifted, share: latest.share, shareThreshold: latest.shareThreshold, datasetDrift: latest.datasetDrift,
      retrain: latest.retrain, retrainReason: latest.retrainReason, method: latest.settings.drift?.method ?? null,
    },
    columns,
    histograms,
    shareSeries: { x: series.map((r) => Date.parse(r.asOf) / 1000), share: series.map((r) => r.share), threshold: series.map(() => latest.shareThreshold) },
    metrics,
  };
}
