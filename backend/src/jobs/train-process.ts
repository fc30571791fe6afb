// A whole training pass (load → clean → quality gate → each model kind → registry) in a child
// process with its own database connection, so nothing of it runs on the server's event loop or
// competes with it. The kinds train on this process's own thread, one after another: a worker
// thread per kind (as `shopml train` uses) would copy the cleaned data into a fresh heap and load
// the tensor backend again for each — a third more page faults and a fifth more time, measured.
// The job handler (train-handler.ts) starts it under SCHED_IDLE and `nice -n 19`
// (low-priority.ts) — every thread of the process at the lowest priority from its first
// instruction, V8's garbage-collection helper threads included, which a niced worker thread in
// the server's own process shares at normal priority — with V8's garbage collection on the
// JavaScript thread (`--single-threaded-gc`), and kills it on abort.
//
// The input comes in the first IPC message; progress, the result or the error go back the same
// way. When the server goes away (killed, even with -9) the IPC channel closes and this process
// exits: a training is never left running without its job. Whatever it committed is whole (each
// kind's outputs, run, version and alias move are one transaction); the job, claimed again once
// its lease runs out, trains again from the start.
import { openDb } from '../store/db.ts';
import { trainShop } from '../models/train-pipeline.ts';
import { parseThresholds } from '../quality/gate.ts';
import type { ModelKind } from '../models/types.ts';
import { summarizeTraining, type TrainJobResult } from './train-summary.ts';

export interface TrainProcessInput {
  databasePath: string;
  busyTimeoutMs: number;
  artifactsDir: string;
  shop: string;
  kinds: ModelKind[];
  seed: number;
  asOf?: string;
  /** deps.now() − Date.now() when the job started: run records carry the server's clock. */
  clockOffsetMs: number;
}

export type TrainProcessMessage =
  | { type: 'progress'; kind: ModelKind; fraction: number }
  | { type: 'done'; result: TrainJobResult }
  | { type: 'error'; message: string };

async function run(input: TrainProcessInput, post: (m: TrainProcessMessage) => Promise<void>): Promise<void> {
  const db = openDb(input.databasePath, { busyTimeoutMs: input.busyTimeoutMs });
  try {
    const env = process.env.SHOPML_QUALITY_THRESHOLDS;
    const thresholds = env ? parseThresholds(env, 'SHOPML_QUALITY_THRESHOLDS') : undefined;
    const t0 = performance.now();
    const r = await trainShop({
      db, shop: input.shop, kinds: input.kinds, seed: input.seed, artifactsDir: input.artifactsDir, asOf: input.asOf, thresholds, onThisThread: true,
      now: () => new Date(Date.now() + input.clockOffsetMs),
      onProgress: (kind, fraction) => void post({ type: 'progress', kind, fraction }),
    });
    await post({ type: 'done', result: summarizeTraining(r, (performance.now() - t0) / 1000) });
  } catch (err) {
    await post({ type: 'error', message: (err as Error).stack ?? String(err) });
  } finally {
    db.close();
  }
}

if (process.send) {
  // Resolves once the message is handed to the channel: the result is out before disconnecting.
  const send = (m: TrainProcessMessage) => new Promise<void>((resolve) => {
    process.send!(m, undefined, undefined, () => resolve());
  });
  // The server is gone: stop at once.
  process.on('disconnect', () => process.exit(0));
  const parent = process.ppid;
  setInterval(() => { if (process.ppid !== parent) process.exit(0); }, 500).unref();
  process.once('message', (input: TrainProcessInput) => {
    void run(input, send).then(() => process.disconnect?.());
  });
}
