// Serving's telemetry writer, main-thread side. Exposures (a unit's first sight of an arm) and
// serving counts (requests, errors, latency per arm) are written by a worker thread
// (telemetry-thread.ts) on its own connection, not on the event loop that answers the storefront.
//
// Why a thread: measured at 500 storefront requests/s, each batch of exposures (every ~50–100 ms)
// wrote ~200 WAL pages on the main thread — 0.5–1.4 ms a batch at the median, up to 7 ms, about
// 2% of the event loop's time — and the first commit after the checkpointer restarted the log
// fsyncs the log's header even under synchronous = NORMAL. Every storefront request and webhook
// that arrived meanwhile waited behind it.
//
// The rows are best-effort, as before: a batch that fails is reported through the returned
// promise (the serving state forgets those units and logs them when they are next served). If the
// thread dies, its unanswered batches are rejected and the next batch starts a new thread.
import { Worker } from 'node:worker_threads';
import { drainThenStop } from '../store/thread-stop.ts';
import type { Exposure, ServingCount } from './state.ts';

export interface TelemetryThreadData {
  path: string;
  busyTimeoutMs: number;
}

export type TelemetryRequest =
  | { type: 'write'; seq: number; exposures?: readonly Exposure[]; counts?: readonly ServingCount[] }
  | { type: 'stop' };

export type TelemetryMessage =
  | { type: 'ready' }
  | { type: 'failed'; message: string }
  | { type: 'done'; seq: number; ok: true }
  | { type: 'done'; seq: number; ok: false; message: string; code?: string };

export interface TelemetryWriter {
  /** Records a batch of exposures (rollout `recordExposures`) in the thread; settles after its commit. */
  exposures(batch: readonly Exposure[]): Promise<void>;
  /** Records serving counts (rollout `recordServing`) in the thread; settles after its commit. */
  serving(counts: readonly ServingCount[]): Promise<void>;
  /** Resolves once the thread has opened the database; rejects if it could not. */
  readonly ready: Promise<void>;
  /** Resolves when every batch handed over so far has been answered. */
  drain(): Promise<void>;
  /** Drains, then closes the thread's connection and ends the thread. */
  stop(): Promise<void>;
  /** Ends the thread at once, as a crash would (tests): unanswered batches are rejected. */
  terminate(): Promise<void>;
  readonly stats: { batches: number; failed: number; threadsStarted: number };
}

export class TelemetryWriteError extends Error {
  readonly code: string | undefined;
  constructor(message: string, code?: string) {
    super(message);
    this.name = 'TelemetryWriteError';
    this.code = code;
  }
}

const THREAD = new URL('./telemetry-thread.ts', import.meta.url);
const RESPAWN_AFTER_FAILURE_MS = 1000;

export function startTelemetryWriter(data: TelemetryThreadData): TelemetryWriter {
  let worker: Worker | null = null;
  let seq = 0;
  const pending = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();
  let drainWaiters: (() => void)[] = [];
  let stopping: Promise<void> | null = null;
  let failedAt = 0;
  const stats = { batches: 0, failed: 0, threadsStarted: 0 };

  const settleDrains = (): void => {
    if (pending.size > 0) return;
    const w = drainWaiters;
    drainWaiters = [];
    for (const f of w) f();
    // Nothing in flight: the thread does not keep the process alive.
    worker?.unref();
  };

  let markReady: () => void = () => {};
  let failReady: (e: Error) => void = () => {};
  const ready = new Promise<void>((resolve, reject) => {
    markReady = resolve;
    failReady = reject;
  });
  ready.catch(() => {}); // observed by whoever awaits it

  const start = (): Worker => {
    const w = new Worker(THREAD, { workerData: data satisfies TelemetryThreadData });
    stats.threadsStarted++;
    let opened = false;
    w.on('message', (m: TelemetryMessage) => {
      if (m.type === 'ready') {
        opened = true;
        return markReady();
      }
      if (m.type === 'failed') return failReady(new TelemetryWriteError(m.message));
      const p = pending.get(m.seq);
      if (!p) return;
      pending.delete(m.seq);
      if (m.ok) {
        stats.batches++;
        p.resolve();
      } else {
        stats.failed++;
        p.reject(new TelemetryWriteError(m.message, m.code));
      }
      settleDrains();
    });
    const lost = (why: string) => {
      if (worker !== w) return;
      worker = null;
      if (!opened) failedAt = Date.now();
      failReady(new TelemetryWriteError(why));
      for (const [s, p] of pending) {
        pending.delete(s);
        stats.failed++;
        p.reject(new TelemetryWriteError(why));
      }
      settleDrains();
    };
    w.on('error', (e) => lost(`telemetry thread failed: ${e.message}`));
    w.on('exit', (code) => lost(`telemetry thread exited (code ${code})`));
    return w;
  };
  worker = start();

  const drain = (): Promise<void> => new Promise<void>((resolve) => {
    drainWaiters.push(resolve);
    settleDrains();
  });

  const send = (batch: { exposures?: readonly Exposure[]; counts?: readonly ServingCount[] }): Promise<void> => {
    if (stopping) return Promise.reject(new TelemetryWriteError('telemetry writer stopped'));
    // A thread that died before it opened the database would die again at once: refuse batches
    // for a second instead of starting a thread per flush.
    if (!worker && Date.now() - failedAt < RESPAWN_AFTER_FAILURE_MS) return Promise.reject(new TelemetryWriteError('telemetry thread failed to start; not restarted yet'));
    worker ??= start();
    const w = worker;
    const s = ++seq;
    return new Promise<void>((resolve, reject) => {
      pending.set(s, { resolve, reject });
      w.ref(); // a batch in flight keeps the process alive until it is answered
      w.postMessage({ type: 'write', seq: s, ...batch } satisfies TelemetryRequest);
    });
  };

  return {
    ready,
    stats,
    exposures: (batch) => send({ exposures: batch }),
    serving: (counts) => send({ counts }),
    drain,
    async terminate() {
      const w = worker;
      if (w) await w.terminate();
    },
    stop() {
      stopping ??= drainThenStop(drain, () => worker, { type: 'stop' } satisfies TelemetryRequest);
      return stopping;
    },
  };
}
