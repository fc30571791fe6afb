// Closing the loop: what runs after a training, and what runs on a schedule, so that new orders
// become retrained models, canaries, decisions and write-backs without anyone typing a command.
//
//   after a train job   the promotion gate's challengers meet traffic (canary for recommend) or run
//                       in shadow (segment, churn, forecast); changed champions are published.
//   rollout.policy      (hourly, shops with a live canary or a running shadow) every live canary
//                       evaluated and acted on; matured shadows decided; changed champions published.
//   monitor.shop        (daily) drift, live accuracy and KPI report stored; "Model drift detected"
//                       fired on dataset drift; a retrain enqueued when the monitor asks for one.
//   backfill            (once, after install) the catalog and the order history through bulk exports.
//   publish             segment / churn champion ≠ what Shopify last got → re-tag + metafields jobs;
//                       forecast champion → "Stock out predicted" (once per product and date).
import type { AppDeps } from '../app.ts';
import type { Db } from '../store/db.ts';
import type { ModelKind } from '../models/types.ts';
import { loadArtifact } from '../ml/artifact.ts';
import type { ForecastArtifact } from '../models/forecast/train.ts';
import { getAlias } from '../registry/aliases.ts';
import { afterTraining, type PlanOptions } from '../rollout/canary.ts';
import { runPolicies } from '../rollout/canary.ts';
import { dueShadows, runShadows, type PrecomputedComparison } from '../rollout/shadow.ts';
import type { ShadowThreadInput } from '../rollout/shadow-thread.ts';
import { computeMonitorReport, saveMonitorReport, type MonitorReport } from '../monitor/monitor.ts';
import type { MonitorThreadInput } from '../monitor/monitor-thread.ts';
import { inThread } from './thread.ts';
import { resolveSettings, settingsFromEnv } from '../monitor/settings.ts';
import { backfillShop } from '../ingest/backfill-shop.ts';
import { championVersions, versionsKey } from '../flow/scores.ts';
import { asOutage, enqueueCustomerWriteBack, flowJobHandlers } from '../flow/jobs.ts';
import { fireModelDrift, fireStockOutsFromForecast } from '../flow/triggers.ts';
import type { JobHandler, TrainedHook, TrainJobResult } from './handlers.ts';
import { enqueueJob } from './queue.ts';
import { scheduledShops } from './scheduler.ts';

export const POLICY_JOB = 'rollout.policy';
export const MONITOR_JOB = 'monitor.shop';
export const BACKFILL_JOB = 'backfill';

/** Publishes what changed: write-back for segment / churn champions, stock-out triggers for the forecast. */
export async function publishChampions(deps: AppDeps, shop: string, o: { forecast?: boolean; reason?: string } = {}): Promise<{ writeBack: boolean; stockOuts: number }> {
  // Only an installed shop can be written to (an imported history has nowhere to publish).
  if (!isInstalled(deps.db, shop)) return { writeBack: false, stockOuts: 0 };
  const key = versionsKey(championVersions(deps.db, shop));
  const published = deps.db.prepare(`SELECT versions FROM flow_sync_runs WHERE shop = ? AND kind = 'retag'`).pluck().get(shop) as string | undefined;
  let writeBack = false;
  if (key !== 'segment=-;churn=-' && key !== published) {
    await enqueueCustomerWriteBack(deps, shop, o.reason ?? 'champion changed');
    writeBack = true;
  }
  let stockOuts = 0;
  if (o.forecast) {
    const v = getAlias(deps.db, shop, 'forecast', 'champion');
    if (v) {
      const a = loadArtifact<{ artifact: ForecastArtifact }>(deps.config.artifactsDir, v).artifact;
      stockOuts = (await fireStockOutsFromForecast(deps, shop, a)).queued;
    }
  }
  return { writeBack, stockOuts };
}

function isInstalled(db: Db, shop: string): boolean {
  return db.prepare('SELECT 1 FROM shops WHERE shop = ? AND uninstalled_at IS NULL AND access_token_enc IS NOT NULL').get(shop) !== undefined;
}

/**
 * After a training pass: canary / shadow for new challengers (the canary's shares from the
 * config unless given), then changed champions published. What happened, for whoever prints it.
 */
export async function afterTrainingPass(deps: AppDeps, shop: string, result: TrainJobResult, split?: PlanOptions) {
  const now = deps.now();
  const runs = result.runs.map((r) => ({ kind: r.kind, status: r.status, version: r.version, decision: r.decision === null ? undefined : { decision: r.decision, reason: r.reason ?? '' } }));
  const after = await deps.writer.write((db) => afterTraining(db, shop, runs, now, {
    artifactsDir: deps.config.artifactsDir, autoCanary: deps.config.jobs.autoCanary,
    split: split ?? { holdoutPct: deps.config.jobs.canaryHoldoutPct, challengerPct: deps.config.jobs.canaryChallengerPct },
  }));
  const championMoved = (k: ModelKind) => result.runs.some((r) => r.kind === k && r.decision === 'champion');
  const published = await publishChampions(deps, shop, { forecast: championMoved('forecast'), reason: 'retrained' });
  return { after, published };
}

/** The runtime's after-training hook. */
export const afterTrainJob: TrainedHook = async ({ deps, shop, result }) => {
  await afterTrainingPass(deps, shop, result);
};

/**
 * One policy pass for a shop: every live canary evaluated and acted on (cheap: aggregates), the
 * matured shadows compared off the event loop and decided, promoted champions published. The
 * scheduled `rollout.policy` job runs it at the server's clock; the demo with its store clock for
 * the shadows.
 */
export async function policyPass(deps: AppDeps, shop: string, now: Date, o: { shadowsAt?: Date; signal?: AbortSignal } = {}) {
  const shadowsAt = o.shadowsAt ?? now;
  const due = dueShadows(deps.db, shadowsAt, shop);
  let comparisons: Record<number, PrecomputedComparison> | undefined;
  if (due.length > 0 && deps.config.databasePath !== ':memory:') {
    const input: ShadowThreadInput = {
      databasePath: deps.config.databasePath, busyTimeoutMs: Math.max(deps.config.busyTimeoutMs, 10_000), artifactsDir: deps.config.artifactsDir,
      ids: due.map((d) => d.id), now: shadowsAt.toISOString(),
    };
    comparisons = await inThread<Record<number, PrecomputedComparison>>(new URL('../rollout/shadow-thread.ts', import.meta.url), input, o.signal);
  }
  // Decisions are single transactions (canary.ts, shadow.ts): alias moves made meanwhile stop what they supersede.
  const { canaries, shadows } = await deps.writer.write((db) => ({
    canaries: runPolicies(db, now, shop),
    shadows: runShadows(db, shadowsAt, deps.config.artifactsDir, { shop, comparisons }),
  }));
  const promoted = shadows.filter((s) => s.action === 'promote').map((s) => s.shadow.kind);
  const published = await publishChampions(deps, shop, { forecast: promoted.includes('forecast'), reason: 'shadow evaluation' });
  return { canaries, shadows, published };
}

const policyHandler: JobHandler = async ({ deps, shop, signal }) => {
  const r = await policyPass(deps, shop, deps.now(), { signal });
  return {
    canaries: r.canaries.map((c) => ({ experiment: c.experiment.id, action: c.decision.action, rule: c.decision.rule })),
    shadows: r.shadows.map((s) => ({ shadow: s.shadow.id, kind: s.shadow.kind, action: s.action })),
    published: r.published,
  };
};

/** The monitor's report for `now`, computed off the event loop (a worker thread with its own connection). */
export async function computeReportOffThread(deps: AppDeps, shop: string, now: Date, signal?: AbortSignal): Promise<MonitorReport> {
  const settings = settingsFromEnv(process.env);
  if (deps.config.databasePath === ':memory:') {
    // A second connection cannot open an in-memory database.
    return computeMonitorReport(deps.db, shop, now, { artifactsDir: deps.config.artifactsDir, settings, store: false, clock: () => now });
  }
  const input: MonitorThreadInput = {
    databasePath: deps.config.databasePath, busyTimeoutMs: Math.max(deps.config.busyTimeoutMs, 10_000), artifactsDir: deps.config.artifactsDir,
    shop, now: now.toISOString(), settings,
  };
  return inThread<MonitorReport>(new URL('../monitor/monitor-thread.ts', import.meta.url), input, signal);
}

/**
 * One monitor pass at `now`: the report (stored), "Model drift detected" on dataset drift, a
 * `train` job when the monitor asks for a retrain, and champions moved by hand published. The
 * scheduled `monitor.shop` job runs it at the server's clock; the demo at its store's clock.
 */
export async function monitorAndAct(deps: AppDeps, shop: string, now: Date, signal?: AbortSignal) {
  const report = await computeReportOffThread(deps, shop, now, signal);
  const id = await deps.writer.write((db) => saveMonitorReport(db, report));
  const retrain = report.retrain;
  let drift = null;
  if (report.drift.datasetDrift) {
    drift = await fireModelDrift(deps, shop, { model: retrain?.kinds.join(', ') || 'all models', driftShare: Number(report.drift.share.toFixed(4)), reportId: String(id) });
  }
  let train: number | null = null;
  if (retrain) {
    train = await deps.writer.write((db) => enqueueJob(db, {
      type: 'train', shop, dedupeKey: 'train', reason: `monitor: ${retrain.reason}`, now,
      payload: { kinds: retrain.kinds, triggers: [{ reason: retrain.reason, figures: retrain.figures }] },
    }).id);
  }
  // Also catches champions moved by hand since the last publish (CLI / API promote or rollback).
  const published = await publishChampions(deps, shop, { reason: 'champion changed' });
  return { published, report: id, datasetDrift: report.drift.datasetDrift, driftShare: report.drift.share, retrain: retrain?.reason ?? null, trainJob: train, driftTrigger: drift?.status ?? null };
}

const monitorHandler: JobHandler = ({ deps, shop, signal }) => monitorAndAct(deps, shop, deps.now(), signal);

const backfillHandler: JobHandler = async ({ deps, shop, heartbeat }) => {
  try {
    return await backfillShop({ db: deps.db, keys: deps.keys, shop, adminBaseUrl: deps.config.adminBaseUrl, fetch: deps.fetch, onProgress: () => heartbeat() });
  } catch (err) {
    // An Admin API outage at install time: wait it out rather than use up the attempts.
    throw asOutage(err);
  }
};

/** Every job type the loop needs, beside `train`. */
export function loopJobHandlers(): Record<string, JobHandler> {
  return { ...flowJobHandlers(), [POLICY_JOB]: policyHandler, [MONITOR_JOB]: monitorHandler, [BACKFILL_JOB]: backfillHandler };
}

export interface PeriodicSettings {
  policyEveryMs: number;
  monitorEveryMs: number;
}

function due(db: Db, shop: string, type: string, now: Date, everyMs: number): boolean {
  const open = db.prepare(`SELECT 1 FROM jobs WHERE shop = ? AND type = ? AND status IN ('pending', 'running', 'failed') LIMIT 1`).pluck().get(shop, type);
  if (open) return false;
  const last = db.prepare(`SELECT max(finished_at) FROM jobs WHERE shop = ? AND type = ? AND status IN ('done', 'dead')`).pluck().get(shop, type) as string | null;
  return last === null || now.getTime() - Date.parse(last) >= everyMs;
}

/** Shops with something for the policy to look at. */
function hasLiveRollout(db: Db, shop: string): boolean {
  return Boolean(db.prepare(`SELECT 1 FROM rollout_experiments WHERE shop = ? AND status IN ('running', 'broken')
    UNION ALL SELECT 1 FROM shadow_evaluations WHERE shop = ? AND status = 'running' LIMIT 1`).pluck().get(shop, shop));
}

/** One scheduler pass's periodic jobs: policy (shops with a live rollout) and monitor (shops with a trained model). */
export function enqueuePeriodicJobs(db: Db, now: Date, s: PeriodicSettings): number {
  let n = 0;
  for (const shop of scheduledShops(db)) {
    if (s.policyEveryMs > 0 && hasLiveRollout(db, shop) && due(db, shop, POLICY_JOB, now, s.policyEveryMs)) {
      if (enqueueJob(db, { type: POLICY_JOB, shop, dedupeKey: POLICY_JOB, reason: 'scheduled', now }).created) n++;
    }
    const trained = db.prepare(`SELECT 1 FROM training_runs WHERE shop = ? AND status = 'succeeded' LIMIT 1`).pluck().get(shop);
    if (s.monitorEveryMs > 0 && trained && due(db, shop, MONITOR_JOB, now, s.monitorEveryMs)) {
      if (enqueueJob(db, { type: MONITOR_JOB, shop, dedupeKey: MONITOR_JOB, reason: 'scheduled', now }).created) n++;
    }
  }
  return n;
}

/** Wires the loop into a runtime's dependencies: job handlers and the after-training hook. */
export function installLoop(deps: AppDeps): void {
  for (const [type, h] of Object.entries(loopJobHandlers())) deps.jobHandlers.set(type, h);
  deps.onTrained = [...(deps.onTrained ?? []), afterTrainJob];
}

/** After a shop installed the app: its catalog and order history, once. */
export function enqueueBackfill(db: Db, shop: string, now: Date): { id: number; created: boolean } {
  return enqueueJob(db, { type: BACKFILL_JOB, shop, dedupeKey: BACKFILL_JOB, reason: 'installed', now });
}
