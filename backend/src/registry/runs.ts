// Experiment runs: every training attempt (training_runs, written by models/train-pipeline.ts)
// with its parameters, metrics, durations, snapshot, log and the promotion gate's decision;
// listing, one run in full, and several side by side with deltas.
import type { Db } from '../store/db.ts';
import type { ModelKind } from '../models/types.ts';

export interface RunRecord {
  id: number;
  shop: string;
  kind: ModelKind;
  status: 'running' | 'succeeded' | 'failed' | 'blocked';
  startedAt: string;
  finishedAt: string | null;
  /** finished − started, in seconds (null while running). */
  seconds: number | null;
  snapshotId: string | null;
  /** The snapshot's watermark (orders at or after it were not used). */
  watermark: string | null;
  seed: number;
  tensorBackend: string | null;
  codeVersion: string;
  params: Record<string, unknown>;
  metrics: Record<string, number | null>;
  durations: Record<string, number>;
  /** The model version (artifact sha256); null unless succeeded. */
  version: string | null;
  error: string | null;
  /** Omitted (null) in lists; `getRun` has it. */
  log: string | null;
  decision: string | null;
  decisionDetail: Record<string, unknown> | null;
}

interface RunRow {
  id: number; shop: string; kind: ModelKind; status: RunRecord['status']; started_at: string; finished_at: string | null; snapshot_id: string | null;
  watermark: string | null; seed: number; tensor_backend: string | null; code_version: string; params_json: string | null; metrics_json: string | null;
  durations_json: string | null; artifact_sha256: string | null; error: string | null; log: string | null; decision: string | null; decision_json: string | null;
}

const parse = <T>(s: string | null, fallback: T): T => (s ? (JSON.parse(s) as T) : fallback);

function fromRow(r: RunRow): RunRecord {
  const seconds = r.finished_at ? (Date.parse(r.finished_at) - Date.parse(r.started_at)) / 1000 : null;
  return {
    id: r.id, shop: r.shop, kind: r.kind, status: r.status, startedAt: r.started_at, finishedAt: r.finished_at, seconds,
    snapshotId: r.snapshot_id, watermark: r.watermark, seed: r.seed, tensorBackend: r.tensor_backend, codeVersion: r.code_version,
    params: parse(r.params_json, {}), metrics: parse(r.metrics_json, {}), durations: parse(r.durations_json, {}),
    version: r.artifact_sha256, error: r.error, log: r.log, decision: r.decision, decisionDetail: parse(r.decision_json, null),
  };
}

const SELECT = `SELECT r.id, r.shop, r.kind, r.status, r.started_at, r.finished_at, r.snapshot_id, s.watermark, r.seed, r.tensor_backend, r.code_version,
  r.params_json, r.metrics_json, r.durations_json, r.artifact_sha256, r.error, %LOG% AS log, r.decision, r.decision_json
  FROM training_runs r LEFT JOIN dataset_snapshots s ON s.shop = r.shop AND s.snapshot_id = r.snapshot_id`;

export interface RunFilter {
  shop?: string;
  kind?: ModelKind;
  status?: RunRecord['status'];
  /** Default 50, newest first. */
  limit?: number;
}

/** Newest first, without logs. */
export function listRuns(db: Db, f: RunFilter = {}): RunRecord[] {
  const rows = db.prepare(`${SELECT.replace('%LOG%', 'NULL')} WHERE (@shop IS NULL OR r.shop = @shop) AND (@kind IS NULL OR r.kind = @kind) AND (@status IS NULL OR r.status = @status)
    ORDER BY r.id DESC LIMIT @limit`).all({ shop: f.shop ?? null, kind: f.kind ?? null, status: f.status ?? null, limit: f.limit ?? 50 }) as RunRow[];
  return rows.map(fromRow);
}

export function getRun(db: Db, id: number): RunRecord | null {
  const r = db.prepare(`${SELECT.replace('%LOG%', 'r.log')} WHERE r.id = ?`).get(id) as RunRow | undefined;
  return r ? fromRow(r) : null;
}

/** Nested parameters as dotted keys; arrays and other leaves as JSON text (Maps arrive as {}). */
export function flattenParams(o: Record<string, unknown>, prefix = ''): Record<string, string | number | boolean | null> {
  const out: Record<string, string | number | boolean | null> = {};
  for (const [k, v] of Object.entries(o)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (v !== null && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length > 0) Object.assign(out, flattenParams(v as Record<string, unknown>, key));
    else if (v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') out[key] = v;
    else out[key] = JSON.stringify(v);
  }
  return out;
}

export interface RunComparison {
  runs: RunRecord[];
  /** One row per key any run has; `same` when every run has the same value. */
  params: { key: string; values: (string | number | boolean | null)[]; same: boolean }[];
  /** `deltas[i]` = values[i] − values[0] (null when either is missing); deltas[0] is 0 or null. */
  metrics: { key: string; values: (number | null)[]; deltas: (number | null)[] }[];
  durations: { key: string; values: (number | null)[]; deltas: (number | null)[] }[];
}

function numericRows(maps: Record<string, number | null>[]): { key: string; values: (number | null)[]; deltas: (number | null)[] }[] {
  const keys = [...new Set(maps.flatMap((m) => Object.keys(m)))].sort();
  return keys.map((key) => {
    const values = maps.map((m) => (typeof m[key] === 'number' && Number.isFinite(m[key]) ? m[key] : null));
    const deltas = values.map((v) => (v === null || values[0] === null ? null : v - values[0]!));
    return { key, values, deltas };
  });
}

/** Side by side, deltas against the first run. */
export function compareRuns(runs: RunRecord[]): RunComparison {
  const flat = runs.map((r) => flattenParams(r.params));
  const pkeys = [...new Set(flat.flatMap((f) => Object.keys(f)))].sort();
  const params = pkeys.map((key) => {
    const values = flat.map((f) => (key in f ? f[key]! : null));
    return { key, values, same: values.every((v) => v === values[0]) };
  });
  return { runs, params, metrics: numericRows(runs.map((r) => r.metrics)), durations: numericRows(runs.map((r) => r.durations)) };
}

/** The wire form (`--json`). */
export function runJson(r: RunRecord) {
  return {
    id: r.id, shop: r.shop, kind: r.kind, status: r.status, started_at: r.startedAt, finished_at: r.finishedAt, seconds: r.seconds,
    snapshot_id: r.snapshotId, watermark: r.watermark, seed: r.seed, tensor_backend: r.tensorBackend, code_version: r.codeVersion,
    params: r.params, metrics: r.metrics, durations: r.durations, version: r.version, error: r.error, log: r.log,
    decision: r.decision, decision_detail: r.decisionDetail,
  };
}
