// A whole training pass (load → clean → quality gate → one worker per model kind → registry) in
// a worker thread with its own database connection, so nothing of it runs on the server's event
// loop. The job handler (train-handler.ts) starts it and terminates it on abort.
import { parentPort, workerData } from 'node:worker_threads';
import { setPriority } from 'node:os';
import { openDb } from '../store/db.ts';
import { trainShop } from '../models/train-pipeline.ts';
import { parseThresholds } from '../quality/gate.ts';
import type { ModelKind } from '../models/types.ts';
import { summarizeTraining, type TrainJobResult } from './train-summary.ts';

export interface TrainThreadInput {
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

export type TrainThreadMessage =
  | { type: 'progress'; kind: ModelKind; fraction: number }
  | { type: 'done'; result: TrainJobResult }
  | { type: 'error'; message: string };

// Background work yields the CPU: this thread, and the per-kind workers it starts (threads inherit
// it), run at the lowest priority, so on a small machine the server's event loop (storefront,
// webhooks) goes first. Linux sets it per thread (elsewhere setpriority would lower the whole
// server, so only there). It cannot remove what threads of one process share (V8's GC helper
// threads, the memory map): test/reliability/load.test.ts measures what is left.
if (process.platform === 'linux') {
  try {
    setPriority(19);
  } catch {
    // not permitted: train at normal priority
  }
}

const input = workerData as TrainThreadInput;
const post = (m: TrainThreadMessage) => parentPort!.postMessage(m);

const db = openDb(input.databasePath, { busyTimeoutMs: input.busyTimeoutMs });
try {
  const env = process.env.SHOPML_QUALITY_THRESHOLDS;
  const thresholds = env ? parseThresholds(env, 'SHOPML_QUALITY_THRESHOLDS') : undefined;
  const t0 = performance.now();
  const r = await trainShop({
    db, shop: input.shop, kinds: input.kinds, seed: input.seed, artifactsDir: input.artifactsDir, asOf: input.asOf, thresholds,
    now: () => new Date(Date.now() + input.clockOffsetMs),
    onProgress: (kind, fraction) => post({ type: 'progress', kind, fraction }),
  });
  post({ type: 'done', result: summarizeTraining(r, (performance.now() - t0) / 1000) });
} catch (err) {
  post({ type: 'error', message: (err as Error).stack ?? String(err) });
} finally {
  db.close();
}
