// The `train` job: one training pass of a shop (models/train-pipeline.ts trainShop) in a child
// process at the lowest CPU priority (SCHED_IDLE and nice 19, one busy thread) with its own
// database connection (train-process.ts), so serving never waits on it and never competes with it.
// trainShop writes a kind's outputs, run record, registry version and alias move in one
// transaction at the end of that kind's training: a kill before it leaves that kind's aliases as
// they were, and the job — claimed again once its lease runs out — trains again from the start.
import { spawn, type ChildProcess } from 'node:child_process';
import type { AppDeps } from '../app.ts';
import type { Db } from '../store/db.ts';
import type { ModelKind } from '../models/types.ts';
import { MODEL_KINDS, trainShop } from '../models/train-pipeline.ts';
import type { JobContext, JobHandler } from './handlers.ts';
import { PermanentJobError, RetryableJobError } from './job-errors.ts';
import { summarizeTraining, type TrainJobResult } from './train-summary.ts';
import { lowPriorityLauncher } from './low-priority.ts';
import type { TrainProcessInput, TrainProcessMessage } from './train-process.ts';

export interface TrainPayload {
  /** Default: every kind. */
  kinds?: ModelKind[];
  /** Default 42 (as `shopml train`). */
  seed?: number;
  /** ISO watermark; default just after the newest stored order. */
  asOf?: string;
  /** Set by the scheduler: what fired (reason and figures per trigger). */
  triggers?: { reason: string; figures?: Record<string, unknown> }[];
}

/** After a train job trained (whatever the gate decided): re-tagging, Flow triggers, monitors. */
export interface TrainedEvent {
  deps: AppDeps;
  shop: string;
  jobId: number;
  /** Why the training ran (the job's payload triggers; empty when enqueued by hand). */
  triggers: { reason: string; figures?: Record<string, unknown> }[];
  result: TrainJobResult;
}

/**
 * Runs after the training committed, before the job is marked done. Keep it short and durable:
 * enqueue follow-up jobs rather than doing slow work here. A hook that throws is logged in the
 * job's result (hookErrors); the training stands and the job still completes.
 */
export type TrainedHook = (e: TrainedEvent) => void | Promise<void>;

export function parseTrainPayload(p: unknown): Required<Pick<TrainPayload, 'kinds' | 'seed'>> & Pick<TrainPayload, 'asOf' | 'triggers'> {
  const o = (p ?? {}) as Record<string, unknown>;
  if (typeof o !== 'object' || Array.isArray(o)) throw new PermanentJobError('train payload must be an object');
  const kinds = o.kinds ?? MODEL_KINDS;
  if (!Array.isArray(kinds) || kinds.length === 0 || !kinds.every((k) => MODEL_KINDS.includes(k as ModelKind))) {
    throw new PermanentJobError(`train payload kinds must be a non-empty list of ${MODEL_KINDS.join(', ')}`);
  }
  const seed = o.seed ?? 42;
  if (!Number.isSafeInteger(seed) || (seed as number) < 0) throw new PermanentJobError('train payload seed must be a whole number ≥ 0');
  if (o.asOf !== undefined && (typeof o.asOf !== 'string' || Number.isNaN(Date.parse(o.asOf)))) throw new PermanentJobError('train payload asOf must be an ISO timestamp');
  const triggers = Array.isArray(o.triggers) ? (o.triggers as TrainPayload['triggers']) : undefined;
  return { kinds: [...new Set(kinds as ModelKind[])], seed: seed as number, asOf: o.asOf as string | undefined, triggers };
}

/**
 * Training runs of this shop that an earlier attempt of this job started and never finished
 * (its worker was killed): marked failed, so run history does not show them running forever.
 */
export function markInterruptedRuns(db: Db, shop: string, jobId: number, now: Date): number[] {
  return db.prepare(`UPDATE training_runs SET status = 'failed', finished_at = ?, error = ?
      WHERE shop = ? AND status = 'running' AND started_at >= (SELECT coalesce(min(created_at), '9') FROM jobs WHERE id = ?) RETURNING id`).pluck()
    .all(now.toISOString(), `interrupted: the worker of job ${jobId} stopped mid-training (killed or lost its lease); the job ran again`, shop, jobId) as number[];
}

const TRAIN_PROCESS = new URL('./train-process.ts', import.meta.url).pathname;

/**
 * V8 flags of the training's process. `--single-threaded-gc`: V8 otherwise collects garbage with
 * helper threads on every core, so a training that is one thread of JavaScript spreads onto the
 * core serving needs; with it, the training is one busy thread. Measured (docs/RELIABILITY.md §2,
 * sixth session), an unrelated request/response pair at 500/s beside a `train all` at nice 19:
 * p99 2.9–4.0 ms in 7 runs with it against 3.5–4.2 in 3 without (idle 1.5–1.7), for a training
 * ~5% longer.
 */
export const TRAIN_PROCESS_NODE_FLAGS = ['--single-threaded-gc'] as const;

/**
 * Starts train-process.ts at the lowest CPU priority (low-priority.ts: SCHED_IDLE and nice 19
 * where the system has them), with an IPC channel. The process inherits the server's environment.
 */
async function startTrainProcess(): Promise<ChildProcess> {
  // Node 22.12–22.17 runs TypeScript only with the flag (bin/shopml.js adds it there too).
  const args = [...(process.features.typescript ? [] : ['--experimental-strip-types']), '--no-warnings', ...TRAIN_PROCESS_NODE_FLAGS, TRAIN_PROCESS];
  const [cmd, ...argv] = [...(await lowPriorityLauncher()).prefix, process.execPath, ...args];
  return new Promise<ChildProcess>((resolve, reject) => {
    const child = spawn(cmd!, argv, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    child.once('spawn', () => resolve(child));
    child.once('error', reject);
  });
}

async function trainInProcess(input: TrainProcessInput, signal: AbortSignal): Promise<TrainJobResult> {
  if (signal.aborted) throw signal.reason;
  const child = await startTrainProcess();
  return new Promise((resolve, reject) => {
    let settled = false;
    const settle = (f: () => void) => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      f();
    };
    const onAbort = () => settle(() => { child.kill('SIGKILL'); reject(signal.reason instanceof Error ? signal.reason : new Error('training aborted')); });
    signal.addEventListener('abort', onAbort, { once: true });
    child.on('message', (m: TrainProcessMessage) => {
      if (m.type === 'done') settle(() => resolve(m.result));
      else if (m.type === 'error') settle(() => reject(new Error(m.message)));
    });
    child.on('error', (e) => settle(() => { child.kill('SIGKILL'); reject(e); }));
    child.on('exit', (code, sig) => settle(() => reject(new Error(`training process exited with ${sig ?? `code ${code}`}`))));
    if (signal.aborted) onAbort();
    else child.send(input);
  });
}

export const trainHandler: JobHandler = async (ctx: JobContext) => {
  const { deps, shop } = ctx;
  const p = parseTrainPayload(ctx.payload);
  const interrupted = ctx.attempt > 1 ? await deps.writer.write((db) => markInterruptedRuns(db, shop, ctx.jobId, deps.now())) : [];
  let result: TrainJobResult;
  if (deps.config.databasePath === ':memory:') {
    // A second connection cannot open an in-memory database: the pass runs here (each kind
    // still trains in its own worker thread).
    const t0 = performance.now();
    result = summarizeTraining(await trainShop({ db: deps.db, shop, kinds: p.kinds, seed: p.seed, asOf: p.asOf, artifactsDir: deps.config.artifactsDir, now: deps.now }), (performance.now() - t0) / 1000);
  } else {
    result = await trainInProcess({
      databasePath: deps.config.databasePath, busyTimeoutMs: Math.max(deps.config.busyTimeoutMs, 10_000), artifactsDir: deps.config.artifactsDir,
      shop, kinds: p.kinds, seed: p.seed, asOf: p.asOf, clockOffsetMs: deps.now().getTime() - Date.now(),
    }, ctx.signal);
  }
  if (interrupted.length > 0) result.interruptedRuns = interrupted;
  if (result.runs.length > 0 && result.runs.every((r) => r.status === 'failed')) {
    throw new RetryableJobError(`every kind failed to train: ${result.runs.map((r) => `${r.kind}: ${r.error}`).join('; ')}`);
  }
  const hookErrors: string[] = [];
  for (const hook of deps.onTrained ?? []) {
    try {
      await hook({ deps, shop, jobId: ctx.jobId, triggers: p.triggers ?? [], result });
    } catch (err) {
      hookErrors.push((err as Error).message ?? String(err));
    }
  }
  if (hookErrors.length > 0) result.hookErrors = hookErrors;
  return result;
};
