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
import { afterTraining } from '../rollout/canary.ts';
import { runPolicies } from '../rollout/canary.ts';
import { runShadows } from '../rollout/shadow.ts';
import { monitorShop, saveMonitorReport } from '../monitor/monitor.ts';
import { resolveSettings, settingsFromEnv } from '../monitor/settings.ts';
import { backfillShop } from '../ingest/backfill-shop.ts';
import { championVersions, versionsKey } from '../flow/scores.ts';
import { enqueueCustomerWriteBack, flowJobHandlers } from '../flow/jobs.ts';
import { fireModelDrift, fireStockOutsFromForecast } from '../flow/triggers.ts';
import type { JobHandler, TrainedHook } from './handlers.ts';
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

/** After every train job: canary / shadow for new challengers, then publish changed champions. */
export const afterTrainJob: TrainedHook = async ({ deps, shop, result }) => {
  const now = deps.now();
  const runs = result.runs.map((r) => ({ kind: r.kind, status: r.status, version: r.version, decision: r.decision === null ? undefined : { decision: r.decision, reason: r.reason ?? '' } }));
  await deps.writer.write((db) => afterTraining(db, shop, runs, now, { artifactsDir: deps.config.artifactsDir, autoCanary: deps.config.jobs.autoCanary }));
  const championMoved = (k: ModelKind) => result.runs.some((r) => r.kind === k && r.decision === 'champion');
  await publishChampions(deps, shop, { forecast: championMoved('forecast'), reason: 'retrained' });
};

const policyHandler: JobHandler = async ({ deps, shop }) => {
  const now = deps.now();
  // Synchronous and on the main connection: decisions are single transactions (see canary.ts, shadow.ts).
  const canaries = runPolicies(deps.db, now, shop);
  const shadows = runShadows(deps.db, now, deps.config.artifactsDir, { shop });
  const promoted = shadows.filter((s) => s.action === 'promote').map((s) => s.shadow.kind);
  const published = await publishChampions(deps, shop, { forecast: promoted.includes('forecast'), reason: 'shadow evaluation' });
  return {
    canaries: canaries.map((r) => ({ experiment: r.experiment.id, action: r.decision.action, rule: r.decision.rule })),
    shadows: shadows.map((s) => ({ shadow: s.shadow.id, kind: s.shadow.kind, action: s.action })),
    published,
  };
};

const monitorHandler: JobHandler = async ({ deps, shop }) => {
  const now = deps.now();
  const r = monitorShop(deps.db, shop, now, { artifactsDir: deps.config.artifactsDir, settings: settingsFromEnv(process.env), store: false, clock: deps.now });
  const id = await deps.writer.write((db) => saveMonitorReport(db, r.report));
  let drift = null;
  if (r.report.drift.datasetDrift) {
    drift = await fireModelDrift(deps, shop, { model: r.retrain?.kinds.join(', ') || 'all models', driftShare: Number(r.report.drift.share.toFixed(4)), reportId: String(id) });
  }
  let train: number | null = null;
  if (r.retrain) {
    const retrain = r.retrain;
    train = await deps.writer.write((db) => enqueueJob(db, {
      type: 'train', shop, dedupeKey: 'train', reason: `monitor: ${retrain.reason}`, now,
      payload: { kinds: retrain.kinds, triggers: [{ reason: retrain.reason, figures: retrain.figures }] },
    }).id);
  }
  // Also catches champions moved by hand since the last publish (CLI / API promote or rollback).
  const published = await publishChampions(deps, shop, { reason: 'champion changed' });
  return { published, report: id, datasetDrift: r.report.drift.datasetDrift, driftShare: r.report.drift.share, retrain: r.retrain?.reason ?? null, trainJob: train, driftTrigger: drift?.status ?? null };
};

const backfillHandler: JobHandler = async ({ deps, shop, heartbeat }) => {
  const counts = await backfillShop({ db: deps.db, keys: deps.keys, shop, adminBaseUrl: deps.config.adminBaseUrl, fetch: deps.fetch, onProgress: () => heartbeat() });
  return counts;
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
