// The retraining scheduler: on every tick, for every shop, asks each trigger whether the shop's
// models should be retrained and enqueues one `train` job (deduplicated per shop) with the
// reasons and figures of every trigger that fired. Built in: a fixed interval since the last
// training, and the volume of new orders since the last training's watermark. Others (drift,
// live accuracy) plug in as RetrainTrigger functions. Time is deps.now(), so tests move it.
import type { AppDeps } from '../app.ts';
import type { Db } from '../store/db.ts';
import type { ModelKind } from '../models/types.ts';
import { enqueueJob, pruneDoneJobs } from './queue.ts';
import type { TrainPayload } from './train-handler.ts';
import type { RunnerLog } from './runner.ts';

/** What a trigger reports when it fires: a readable reason and the figures that decided. */
export interface TriggerResult { reason: string; figures?: Record<string, unknown> }

/** Should this shop be retrained now? null: no. Reads only; must not write. */
export type RetrainTrigger = (db: Db, shop: string, now: Date) => TriggerResult | null;

const DAY_MS = 86_400_000;

/** When the shop's models were last trained (any outcome), by the run records. */
export function lastTrainingAt(db: Db, shop: string): string | null {
  return (db.prepare('SELECT max(started_at) FROM training_runs WHERE shop = ?').pluck().get(shop) as string | null) ?? null;
}

/** The watermark of the dataset the latest training run used: orders at or after it are new to the models. */
export function lastTrainingWatermark(db: Db, shop: string): string | null {
  return (db.prepare(`SELECT d.watermark FROM training_runs r JOIN dataset_snapshots d ON d.shop = r.shop AND d.snapshot_id = r.snapshot_id
    WHERE r.shop = ? ORDER BY r.id DESC LIMIT 1`).pluck().get(shop) as string | undefined) ?? null;
}

/**
 * Fires when `days` have passed since the last training. A shop never trained counts from its
 * install (its first webhook) and only once it has an order.
 */
export function intervalTrigger(days: number): RetrainTrigger {
  return (db, shop, now) => {
    const last = lastTrainingAt(db, shop);
    let since = last;
    if (since === null) {
      if (db.prepare('SELECT 1 FROM orders WHERE shop = ? LIMIT 1').get(shop) === undefined) return null;
      since = (db.prepare('SELECT installed_at FROM shops WHERE shop = ?').pluck().get(shop) as string | undefined) ?? null;
      if (since === null) return null;
    }
    const elapsed = (now.getTime() - Date.parse(since)) / DAY_MS;
    if (elapsed < days) return null;
    const what = last ? 'since the last training' : 'since install, never trained';
    return { reason: `interval: ${elapsed.toFixed(1)} days ${what} (every ${days} days)`, figures: { days_since: Number(elapsed.toFixed(3)), interval_days: days, since } };
  };
}

/** Fires when at least `minOrders` orders newer than the last training's watermark are stored. */
export function volumeTrigger(minOrders: number): RetrainTrigger {
  return (db, shop) => {
    const watermark = lastTrainingWatermark(db, shop);
    const n = db.prepare(`SELECT count(*) FROM orders WHERE shop = ? AND kind = 'order' AND test = 0 AND created_at >= ?`).pluck().get(shop, watermark ?? '') as number;
    if (n < minOrders) return null;
    const what = watermark ? `since the last training (watermark ${watermark})` : 'and never trained';
    return { reason: `volume: ${n} new orders ${what}, threshold ${minOrders}`, figures: { new_orders: n, threshold: minOrders, watermark } };
  };
}

export interface ScheduleOptions {
  /** Days between retrains; 0 turns the interval trigger off. */
  intervalDays: number;
  /** New orders that start a retrain; 0 turns the volume trigger off. */
  minNewOrders: number;
  /** No scheduled retrain of a shop within this many minutes of its last train job finishing (stops a persistent trigger from looping). */
  minGapMinutes: number;
  /** More triggers (drift, live accuracy …), asked after the built-in ones. */
  triggers?: RetrainTrigger[];
  kinds?: ModelKind[];
  seed?: number;
  maxAttempts?: number;
}

/** Shops the scheduler looks after: installed ones, and any with training history that was not uninstalled. */
export function scheduledShops(db: Db): string[] {
  return db.prepare(`SELECT shop FROM shops WHERE uninstalled_at IS NULL
    UNION SELECT DISTINCT shop FROM dataset_snapshots WHERE shop NOT IN (SELECT shop FROM shops WHERE uninstalled_at IS NOT NULL)
    ORDER BY 1`).pluck().all() as string[];
}

export interface RetrainPlan {
  shop: string;
  fired: TriggerResult[];
  /** Why nothing is enqueued although a trigger fired (or why triggers were not asked). */
  skipped?: string;
  /** Triggers that threw (the others still count). */
  errors?: string[];
}

function triggersOf(o: ScheduleOptions): RetrainTrigger[] {
  const t: RetrainTrigger[] = [];
  if (o.intervalDays > 0) t.push(intervalTrigger(o.intervalDays));
  if (o.minNewOrders > 0) t.push(volumeTrigger(o.minNewOrders));
  return [...t, ...(o.triggers ?? [])];
}

/** Asks every trigger about every shop (reads only). */
export function planRetrains(db: Db, now: Date, o: ScheduleOptions): RetrainPlan[] {
  const triggers = triggersOf(o);
  const plans: RetrainPlan[] = [];
  for (const shop of scheduledShops(db)) {
    const open = db.prepare(`SELECT id FROM jobs WHERE shop = ? AND type = 'train' AND status IN ('pending', 'running', 'failed') LIMIT 1`).pluck().get(shop) as number | undefined;
    if (open !== undefined) {
      plans.push({ shop, fired: [], skipped: `train job ${open} is still to run` });
      continue;
    }
    const lastFinished = db.prepare(`SELECT max(finished_at) FROM jobs WHERE shop = ? AND type = 'train' AND status IN ('done', 'dead')`).pluck().get(shop) as string | null;
    if (lastFinished && now.getTime() - Date.parse(lastFinished) < o.minGapMinutes * 60_000) {
      plans.push({ shop, fired: [], skipped: `last train job finished at ${lastFinished}, less than ${o.minGapMinutes} min ago` });
      continue;
    }
    const fired: TriggerResult[] = [];
    const errors: string[] = [];
    for (const t of triggers) {
      try {
        const r = t(db, shop, now);
        if (r) fired.push(r);
      } catch (err) {
        errors.push(`${t.name || 'trigger'}: ${(err as Error).message}`);
      }
    }
    plans.push(errors.length ? { shop, fired, errors } : { shop, fired });
  }
  return plans;
}

export interface ScheduledRetrain { shop: string; jobId: number; created: boolean; reason: string }

/** Enqueues one train job for each plan with a fired trigger (dedupe key `train`: one open job per shop). */
export function enqueueRetrains(db: Db, now: Date, plans: RetrainPlan[], o: Pick<ScheduleOptions, 'kinds' | 'seed' | 'maxAttempts'> = {}): ScheduledRetrain[] {
  const out: ScheduledRetrain[] = [];
  for (const p of plans) {
    if (p.skipped || p.fired.length === 0) continue;
    const reason = p.fired.map((f) => f.reason).join('; ');
    const payload: TrainPayload = { triggers: p.fired, ...(o.kinds ? { kinds: o.kinds } : {}), ...(o.seed !== undefined ? { seed: o.seed } : {}) };
    const r = enqueueJob(db, { type: 'train', shop: p.shop, payload, reason, dedupeKey: 'train', maxAttempts: o.maxAttempts, now });
    out.push({ shop: p.shop, jobId: r.id, created: r.created, reason });
  }
  return out;
}

export interface Scheduler {
  /** Mutable: add a trigger (e.g. the drift monitor's) at any time. */
  readonly triggers: RetrainTrigger[];
  /** What the latest pass found per shop: triggers fired, skips, trigger errors. */
  readonly lastPlans: RetrainPlan[];
  /** One pass over every shop now; what it enqueued. */
  tick(): Promise<ScheduledRetrain[]>;
  stop(): Promise<void>;
}

export interface SchedulerOptions extends ScheduleOptions {
  /** Period of the passes (ms); default 60 s. The first pass runs one period after start. */
  tickMs?: number;
  log?: RunnerLog;
  /** Called after a pass that enqueued jobs (the runtime wakes its runner). */
  onEnqueued?: (r: ScheduledRetrain[]) => void;
  /** false: no timer, passes only when tick() is called (tests, CLI). Default true. */
  autoStart?: boolean;
  /** Done jobs older than this are deleted (once an hour at most); default 30. Failed and dead jobs stay. */
  keepDoneDays?: number;
  /** Other periodic work of each pass (the loop's policy and monitor jobs, jobs/loop.ts); returns jobs enqueued. */
  onPass?: (now: Date) => Promise<number>;
}

export function startScheduler(deps: AppDeps, o: SchedulerOptions): Scheduler {
  const triggers = [...(o.triggers ?? [])];
  const log = o.log;
  let timer: NodeJS.Timeout | null = null;
  let stopped = false;
  let running: Promise<ScheduledRetrain[]> | null = null;
  let lastPlans: RetrainPlan[] = [];
  let lastPrune = 0;

  const pass = async (): Promise<ScheduledRetrain[]> => {
    const now = deps.now();
    if (now.getTime() - lastPrune >= 3_600_000) {
      lastPrune = now.getTime();
      const n = await deps.writer.write((db) => pruneDoneJobs(db, new Date(now.getTime() - (o.keepDoneDays ?? 30) * DAY_MS)));
      if (n > 0) log?.info({ deleted: n }, 'old done jobs pruned');
    }
    if (o.onPass) {
      try {
        if ((await o.onPass(now)) > 0) o.onEnqueued?.([]);
      } catch (err) {
        log?.error({ err: (err as Error).message }, 'periodic jobs pass failed');
      }
    }
    // Triggers read (drift, volume) outside the write transaction; the enqueue rechecks dedupe inside it.
    const plans = planRetrains(deps.db, now, { ...o, triggers });
    lastPlans = plans;
    for (const p of plans) if (p.errors) log?.warn({ shop: p.shop, errors: p.errors }, 'retrain trigger failed');
    if (!plans.some((p) => !p.skipped && p.fired.length > 0)) return [];
    const r = await deps.writer.write((db) => enqueueRetrains(db, now, plans, o));
    for (const x of r) if (x.created) log?.info({ shop: x.shop, job: x.jobId, reason: x.reason }, 'retrain scheduled');
    if (r.some((x) => x.created)) o.onEnqueued?.(r);
    return r;
  };

  const tick = (): Promise<ScheduledRetrain[]> => {
    if (running) return running;
    running = pass().finally(() => { running = null; });
    return running;
  };

  const loop = () => {
    if (stopped) return;
    timer = setTimeout(() => {
      tick().catch((err: unknown) => log?.error({ err: (err as Error).message }, 'retrain scheduler pass failed')).finally(loop);
    }, o.tickMs ?? 60_000);
  };
  if (o.autoStart ?? true) loop();

  return {
    triggers,
    get lastPlans() { return lastPlans; },
    tick,
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      if (running) await running.catch(() => undefined);
    },
  };
}
