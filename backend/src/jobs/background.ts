// The server's background work: one job runner and the retraining scheduler, configured from
// config.jobs (SHOPML_JOBS_*, SHOPML_RETRAIN_*). runtime.ts starts it and stops it on close().
import type { AppDeps } from '../app.ts';
import type { JobsConfig } from '../config.ts';
import type { ConcurrencyLimits } from './queue.ts';
import { startJobRunner, type JobRunner, type RunnerLog, type RunnerOptions } from './runner.ts';
import { startScheduler, type RetrainTrigger, type Scheduler, type SchedulerOptions } from './scheduler.ts';
import { enqueuePeriodicJobs } from './loop.ts';

export interface BackgroundJobs {
  runner: JobRunner;
  scheduler: Scheduler;
  stop(): Promise<void>;
}

export interface BackgroundOptions {
  log?: RunnerLog;
  /** Retrain triggers beyond interval and volume (drift, live accuracy). */
  triggers?: RetrainTrigger[];
  /** Overrides (tests: short leases, fast polling). */
  runner?: Partial<RunnerOptions>;
  scheduler?: Partial<SchedulerOptions>;
}

export function limitsFrom(c: JobsConfig): ConcurrencyLimits {
  return { global: c.concurrency, perType: { train: c.trainConcurrency }, perShopType: { train: 1 } };
}

export function startBackgroundJobs(deps: AppDeps, o: BackgroundOptions = {}): BackgroundJobs {
  const c = deps.config.jobs;
  const runner = startJobRunner(deps, { limits: limitsFrom(c), leaseMs: c.leaseSeconds * 1000, log: o.log, ...o.runner });
  const scheduler = startScheduler(deps, {
    intervalDays: c.retrainIntervalDays, minNewOrders: c.retrainMinNewOrders, minGapMinutes: c.retrainMinGapMinutes,
    maxAttempts: c.maxAttempts, tickMs: c.schedulerTickSeconds * 1000, log: o.log, triggers: o.triggers,
    onEnqueued: () => void runner.poll(),
    onPass: (now) => deps.writer.write((db) => enqueuePeriodicJobs(db, now, { policyEveryMs: c.policyIntervalMinutes * 60_000, monitorEveryMs: c.monitorIntervalHours * 3_600_000 })),
    ...o.scheduler,
  });
  return {
    runner,
    scheduler,
    async stop() {
      await scheduler.stop();
      await runner.stop();
    },
  };
}
