// Training a shop: stored orders as of a watermark → the cleaning step → a dataset snapshot →
// the data-quality gate → each model kind trained in a worker thread (or on the calling thread
// in the training's own process) → artifacts stored by content hash, per-customer outputs in
// their table, and a run record for every attempt (succeeded, failed or blocked by the gate).
import { Worker } from 'node:worker_threads';
import type { Db } from '../store/db.ts';
import { cleanOrders } from '../features/clean.ts';
import { latestOrderTime, loadOrders } from '../features/load.ts';
import { FEATURE_CODE_VERSION, snapshotOf, type SnapshotId } from '../features/snapshot.ts';
import { formatQualityReport, runQualityGate, type DataProfile, type QualityReport, type QualityThresholds } from '../quality/gate.ts';
import { loadArtifact, storeArtifact } from '../ml/artifact.ts';
import type { TrainJob, TrainMessage } from './train-job.ts';
import { trainKind, type TrainDone } from './train-kind.ts';
import { registerVersion } from '../registry/versions.ts';
import { applyPromotionGate, gatePolicyFromEnv, type Decision, type GatePolicy } from '../registry/gate.ts';
import type { ModelKind } from './types.ts';
import { CANARY_KIND, reconcile } from '../rollout/canary.ts';

export const MODEL_KINDS: ModelKind[] = ['recommend', 'segment', 'churn', 'forecast'];

export interface TrainShopOptions {
  db: Db;
  shop: string;
  kinds: ModelKind[];
  seed: number;
  artifactsDir: string;
  /** ISO watermark; default: just after the newest stored order. */
  asOf?: string;
  thresholds?: QualityThresholds;
  /** Promotion gate (primary metric and tolerance per kind); default from SHOPML_PROMOTION_TOLERANCE. */
  gate?: GatePolicy;
  onProgress?: (kind: ModelKind, fraction: number, message?: string) => void;
  now?: () => Date;
  /**
   * Train each kind on the calling thread instead of a worker thread of its own. Only for a
   * caller that is itself off any event loop that serves (the training's own process,
   * jobs/train-process.ts): no copy of the cleaned data per kind and one tensor backend for all.
   */
  onThisThread?: boolean;
}

export interface RunOutcome {
  runId: number;
  kind: ModelKind;
  status: 'succeeded' | 'failed' | 'blocked';
  version: string | null;
  metrics: Record<string, number>;
  seconds: number;
  error?: string;
  /** Succeeded runs: the promotion gate's verdict (registry/gate.ts). */
  decision?: { decision: Decision; reason: string; /** A live canary this version's gate move superseded (stopped). */ stoppedExperiment?: number };
}

export interface TrainShopResult {
  snapshot: SnapshotId;
  quality: QualityReport;
  runs: RunOutcome[];
  tensorBackend: string | null;
}

/** Inputs that are not orders: current stock per product and merchant lead times (forecast). */
function inventoryInputs(db: Db, shop: string) {
  const stock = new Map<string, number>();
  for (const r of db.prepare(`SELECT v.product_id AS p, sum(i.available) AS a FROM variants v JOIN inventory i ON i.shop = v.shop AND i.inventory_item_id = v.inventory_item_id
      WHERE v.shop = ? GROUP BY v.product_id`).all(shop) as { p: string; a: number }[]) stock.set(r.p, r.a);
  const leadTimes = new Map<string, number>();
  for (const r of db.prepare('SELECT product_id AS p, lead_time_days AS d FROM product_settings WHERE shop = ? AND lead_time_days IS NOT NULL').all(shop) as { p: string; d: number }[]) leadTimes.set(r.p, r.d);
  return { stock, leadTimes };
}

/** The last successfully trained artifact of a kind (segment names stay stable across retrains). */
function previousArtifact(db: Db, shop: string, kind: ModelKind, dir: string): unknown {
  const sha = db.prepare(`SELECT artifact_sha256 FROM training_runs WHERE shop = ? AND kind = ? AND status = 'succeeded' ORDER BY id DESC LIMIT 1`).pluck().get(shop, kind) as string | undefined;
  if (!sha) return undefined;
  try {
    return loadArtifact<{ artifact: unknown }>(dir, sha).artifact;
  } catch {
    return undefined; // a missing or corrupt file: train from scratch rather than fail
  }
}

function runWorker(job: TrainJob, onProgress: (f: number, m?: string) => void): Promise<TrainDone> {
  return new Promise((resolve, reject) => {
    const w = new Worker(new URL('./train-worker.ts', import.meta.url), { workerData: job });
    let settled = false;
    w.on('message', (m: TrainMessage) => {
      if (m.type === 'progress') onProgress(m.fraction, m.message);
      else if (m.type === 'done') { settled = true; resolve(m); void w.terminate(); }
      else { settled = true; reject(new Error(m.message)); void w.terminate(); }
    });
    w.on('error', (e) => { if (!settled) { settled = true; reject(e); } });
    w.on('exit', (code) => { if (!settled) { settled = true; reject(new Error(`training worker exited with code ${code}`)); } });
  });
}

export async function trainShop(o: TrainShopOptions): Promise<TrainShopResult> {
  const now = o.now ?? (() => new Date());
  const { db, shop } = o;
  const latest = latestOrderTime(db, shop);
  const watermark = o.asOf ?? (latest ? new Date(Date.parse(latest) + 1).toISOString() : now().toISOString());
  const data = cleanOrders(loadOrders(db, shop, { asOf: watermark }));
  const snapshot = snapshotOf(data, watermark);
  const previous = db.prepare(`SELECT profile_json FROM dataset_snapshots WHERE shop = ? AND quality_ok = 1 AND snapshot_id != ?
    ORDER BY created_at DESC LIMIT 1`).pluck().get(shop, snapshot.id) as string | undefined;
  const quality = runQualityGate(data, watermark, previous ? (JSON.parse(previous) as DataProfile) : null, o.thresholds);
  const { profile, ...report } = quality;
  db.prepare(`INSERT OR REPLACE INTO dataset_snapshots (shop, snapshot_id, watermark, code_version, created_at, counts_json, profile_json, quality_ok, quality_json)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(shop, snapshot.id, watermark, FEATURE_CODE_VERSION, now().toISOString(),
    JSON.stringify({ ...snapshot, cleaning: data.stats }), JSON.stringify(profile), quality.ok ? 1 : 0, JSON.stringify(report.checks));

  const insertRun = db.prepare(`INSERT INTO training_runs (shop, kind, status, started_at, snapshot_id, seed, code_version, params_json)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?)`);
  const runs: RunOutcome[] = [];
  if (!quality.ok) {
    const text = formatQualityReport(quality);
    for (const kind of o.kinds) {
      const id = Number(insertRun.run(shop, kind, 'blocked', now().toISOString(), snapshot.id, o.seed, FEATURE_CODE_VERSION, '{}').lastInsertRowid);
      db.prepare('UPDATE training_runs SET finished_at = ?, error = ?, log = ? WHERE id = ?').run(now().toISOString(), 'data-quality gate failed', text, id);
      runs.push({ runId: id, kind, status: 'blocked', version: null, metrics: {}, seconds: 0, error: 'data-quality gate failed' });
    }
    return { snapshot, quality, runs, tensorBackend: null };
  }

  const { stock, leadTimes } = inventoryInputs(db, shop);
  const gate = o.gate ?? gatePolicyFromEnv(process.env);
  let backendName: string | null = null;
  for (const kind of o.kinds) {
    const params: Record<string, unknown> = kind === 'forecast' ? { stock, leadTimes } : kind === 'segment' ? { previous: previousArtifact(db, shop, 'segment', o.artifactsDir) } : {};
    const id = Number(insertRun.run(shop, kind, 'running', now().toISOString(), snapshot.id, o.seed, FEATURE_CODE_VERSION, '{}').lastInsertRowid);
    const t0 = performance.now();
    try {
      const job: TrainJob = { kind, data, params, seed: o.seed, asOf: Date.parse(watermark) };
      const onProgress = (f: number, m?: string) => o.onProgress?.(kind, f, m);
      const r = o.onThisThread ? await trainKind(job, onProgress) : await runWorker(job, onProgress);
      const version = storeArtifact(o.artifactsDir, Buffer.from(r.artifact));
      const seconds = (performance.now() - t0) / 1000;
      backendName = r.backend.description;
      let decision: RunOutcome['decision'];
      db.transaction(() => {
        const put = db.prepare('INSERT OR REPLACE INTO customer_outputs (shop, kind, model_version, customer_id, output_json) VALUES (?, ?, ?, ?, ?)');
        for (const [customer, out] of r.perCustomer) put.run(shop, kind, version, customer, out);
        db.prepare(`UPDATE training_runs SET status = 'succeeded', finished_at = ?, tensor_backend = ?, params_json = ?, metrics_json = ?, durations_json = ?, artifact_sha256 = ?, log = ? WHERE id = ?`)
          .run(now().toISOString(), r.backend.name, JSON.stringify(r.params), JSON.stringify(r.metrics), JSON.stringify({ train_seconds: r.seconds, total_seconds: seconds }),
            version, r.backend.fallbackReason ? `tensor backend: ${r.backend.description} (${r.backend.fallbackReason})` : `tensor backend: ${r.backend.description}`, id);
        // Registry: the version (a no-op for bytes already registered), then the promotion gate.
        const finishedAt = now().toISOString();
        registerVersion(db, { shop, kind, version, runId: id, snapshotId: snapshot.id, codeVersion: FEATURE_CODE_VERSION, tensorBackend: r.backend.name,
          params: r.params, metrics: r.metrics, trainedAt: finishedAt, trainSeconds: r.seconds });
        const d = applyPromotionGate(db, { shop, kind, version, runId: id, policy: gate, at: finishedAt });
        decision = { decision: d.decision, reason: d.reason };
        // A live canary whose challenger the gate just replaced stops in the same transaction:
        // serving never splits traffic between versions the experiment does not record.
        const stopped = kind === CANARY_KIND ? reconcile(db, shop, kind, new Date(finishedAt), 'training') : null;
        if (stopped) decision.stoppedExperiment = stopped.id;
        db.prepare(`UPDATE training_runs SET log = coalesce(log || char(10), '') || ? WHERE id = ?`).run(`promotion gate: ${d.decision} — ${d.reason}`, id);
      })();
      runs.push({ runId: id, kind, status: 'succeeded', version, metrics: r.metrics, seconds, decision });
    } catch (err) {
      const message = (err as Error).message;
      db.prepare(`UPDATE training_runs SET status = 'failed', finished_at = ?, error = ?, log = ?, durations_json = ? WHERE id = ?`)
        .run(now().toISOString(), message.split('\n')[0], message, JSON.stringify({ total_seconds: (performance.now() - t0) / 1000 }), id);
      runs.push({ runId: id, kind, status: 'failed', version: null, metrics: {}, seconds: (performance.now() - t0) / 1000, error: message.split('\n')[0] });
    }
  }
  return { snapshot, quality, runs, tensorBackend: backendName };
}
