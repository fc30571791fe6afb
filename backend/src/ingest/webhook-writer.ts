// The webhook writer thread, main-thread side. The route verifies the HMAC on the main thread
// and hands the delivery (plain strings) to a worker thread (webhook-writer-thread.ts) that
// owns webhook writes on its own SQLite connection: it parses, validates, records and commits
// (synchronous = FULL) and answers each delivery after its COMMIT. The main thread never runs
// the transaction or waits on its fsync, and the two cores both work.
//
// Deliveries of one event-loop turn go to the thread in one message; the thread answers each
// group commit in one message. If the thread dies, every unanswered delivery is rejected with
// StoreUnavailableError (503 + Retry-After: Shopify delivers again, and the delivery id dedupes
// whatever did commit) and the next write starts a new thread.
//
// Every other writer (Flow, app proxy events, API, import, backfill, training) keeps the main
// connection and its group writer. The two connections serialize on SQLite's write lock; see
// docs/architecture.md ("Two writers in one process") for why that cannot deadlock or starve.
import { Worker } from 'node:worker_threads';
import type { AppDeps } from '../app.ts';
import { StoreUnavailableError } from '../store/writer.ts';
import { drainThenStop } from '../store/thread-stop.ts';
import type { WebhookDelivery, WebhookResult } from './webhooks.ts';

export interface WebhookWriterThreadData {
  path: string;
  /** SHOPML_SECRET_KEY: the thread derives the same pseudonym keys (createKeys) as the main thread. */
  secretKey: string;
  busyTimeoutMs: number;
  maxBatch?: number;
  redactInlineMaxEvents?: number;
}

export type ThreadRequest =
  | { type: 'write'; items: { seq: number; delivery: WebhookDelivery }[] }
  | { type: 'stats' }
  | { type: 'stop' };

export type ThreadReply =
  | { seq: number; ok: true; value: WebhookResult }
  | { seq: number; ok: false; message: string; unavailable?: string; name?: string; stack?: string };

export interface ThreadStats {
  /** Transactions committed by the thread's group writer, and the deliveries in them. */
  batches: number;
  writes: number;
  /** Batches run again one savepoint per delivery because one delivery threw. */
  isolatedRetries: number;
}

type ThreadMessage = { type: 'ready' } | { type: 'stopped' } | { type: 'replies'; replies: ThreadReply[] } | { type: 'stats'; stats: ThreadStats };

export interface WebhookWriter {
  /** Applies one verified delivery (applyWebhook) in the writer thread; settles after the COMMIT. */
  write(delivery: WebhookDelivery): Promise<WebhookResult>;
  /** Resolves once the thread has opened the database; rejects if it could not. */
  readonly ready: Promise<void>;
  /** Resolves when every delivery handed over so far has been answered. */
  drain(): Promise<void>;
  /** Drains, then closes the thread's connection and ends the thread. */
  stop(): Promise<void>;
  /**
   * Ends the thread at once, as a crash would: unanswered deliveries get StoreUnavailableError
   * (whatever they wrote is either committed whole or rolled back by SQLite) and the next write
   * starts a new thread.
   */
  terminate(): Promise<void>;
  /** Main-thread counts: messages posted, deliveries handed over and answered, threads restarted. */
  readonly stats: { posts: number; writes: number; replies: number; restarts: number };
  /** The thread's group-writer counts (of the current thread: a restart starts from zero). */
  threadStats(): Promise<ThreadStats>;
}

const RESPAWN_AFTER_FAILURE_MS = 1000;

interface Pending {
  resolve: (v: WebhookResult) => void;
  reject: (e: unknown) => void;
}

export function startWebhookWriter(data: WebhookWriterThreadData): WebhookWriter {
  const pending = new Map<number, Pending>();
  let outbox: { seq: number; delivery: WebhookDelivery }[] = [];
  let scheduled = false;
  let seq = 0;
  let worker: Worker | null = null;
  let stopping: Promise<void> | null = null;
  let drainWaiters: (() => void)[] = [];
  let statsWaiters: ((s: ThreadStats) => void)[] = [];
  let failedAt = 0;
  const stats = { posts: 0, writes: 0, replies: 0, restarts: 0 };

  const settleDrains = (): void => {
    if (pending.size > 0 || drainWaiters.length === 0) return;
    const ws = drainWaiters;
    drainWaiters = [];
    for (const w of ws) w();
  };

  let readyResolve!: () => void;
  let readyReject!: (e: unknown) => void;
  const ready = new Promise<void>((res, rej) => { readyResolve = res; readyReject = rej; });
  ready.catch(() => {}); // a caller that never awaits it must not see an unhandled rejection

  const spawn = (): Worker => {
    const w = new Worker(new URL('./webhook-writer-thread.ts', import.meta.url), { workerData: data });
    // Referenced only while deliveries are unanswered, so an idle thread never keeps the process alive.
    w.unref();
    w.on('message', (m: ThreadMessage) => {
      if (m.type === 'ready') {
        opened = true;
        return readyResolve();
      }
      if (m.type === 'stats') {
        const ws = statsWaiters;
        statsWaiters = [];
        if (pending.size === 0) w.unref();
        for (const r of ws) r(m.stats);
        return;
      }
      if (m.type !== 'replies') return;
      for (const r of m.replies) {
        const p = pending.get(r.seq);
        if (!p) continue;
        pending.delete(r.seq);
        stats.replies++;
        if (r.ok) p.resolve(r.value);
        else if (r.unavailable !== undefined) p.reject(new StoreUnavailableError({ code: r.unavailable }));
        else p.reject(Object.assign(new Error(r.message), { name: r.name ?? 'Error', stack: r.stack }));
      }
      if (pending.size === 0) w.unref();
      settleDrains();
    });
    let lastError: unknown = null;
    let opened = false;
    w.on('error', (err) => { lastError = err; });
    w.on('exit', () => {
      if (worker === w) worker = null;
      if (!opened) failedAt = Date.now();
      readyReject(lastError ?? new Error('webhook writer thread exited'));
      // Whatever the thread had not answered may or may not have committed: answer 503 and let
      // Shopify redeliver; the (shop, webhook id) dedupe makes the redelivery safe either way.
      const cause = { code: 'WRITER_THREAD_EXITED', message: (lastError as Error | null)?.message };
      for (const p of pending.values()) p.reject(new StoreUnavailableError(cause));
      pending.clear();
      outbox = [];
      settleDrains();
      const ws = statsWaiters;
      statsWaiters = [];
      for (const r of ws) r({ batches: 0, writes: 0, isolatedRetries: 0 });
    });
    return w;
  };

  const post = (): void => {
    scheduled = false;
    if (outbox.length === 0) return;
    if (!worker) {
      // A thread that died before it could open the database would die again at once: answer
      // 503 for a second instead of starting a thread per event-loop turn.
      if (Date.now() - failedAt < RESPAWN_AFTER_FAILURE_MS) {
        const items = outbox;
        outbox = [];
        for (const { seq: s } of items) {
          pending.get(s)?.reject(new StoreUnavailableError({ code: 'WRITER_THREAD_FAILED' }));
          pending.delete(s);
        }
        settleDrains();
        return;
      }
      worker = spawn();
      stats.restarts++;
    }
    const items = outbox;
    outbox = [];
    worker.ref();
    stats.posts++;
    worker.postMessage({ type: 'write', items } satisfies ThreadRequest);
  };

  worker = spawn();

  const drained = (): Promise<void> => new Promise<void>((resolve) => {
    drainWaiters.push(resolve);
    settleDrains();
  });

  return {
    stats,
    ready,
    write(delivery: WebhookDelivery): Promise<WebhookResult> {
      if (stopping) return Promise.reject(new StoreUnavailableError({ code: 'WRITER_THREAD_STOPPED' }));
      return new Promise<WebhookResult>((resolve, reject) => {
        const s = ++seq;
        pending.set(s, { resolve, reject });
        outbox.push({ seq: s, delivery });
        stats.writes++;
        if (!scheduled) {
          scheduled = true;
          // Everything written during this turn goes over in one message.
          setImmediate(post);
        }
      });
    },
    threadStats(): Promise<ThreadStats> {
      if (!worker) return Promise.resolve({ batches: 0, writes: 0, isolatedRetries: 0 });
      const w = worker;
      return new Promise<ThreadStats>((resolve) => {
        statsWaiters.push(resolve);
        if (statsWaiters.length > 1) return;
        w.ref();
        w.postMessage({ type: 'stats' } satisfies ThreadRequest);
      });
    },
    drain: drained,
    async terminate(): Promise<void> {
      const w = worker;
      if (w) await w.terminate();
    },
    stop(): Promise<void> {
      stopping ??= drainThenStop(drained, () => worker, { type: 'stop' } satisfies ThreadRequest);
      return stopping;
    },
  };
}

// The runtime attaches the thread to its AppDeps; the route looks it up. Apps built without
// one (a bare buildApp) fall back to the main connection's group writer.
const attached = new WeakMap<AppDeps, WebhookWriter>();

export function attachWebhookWriter(deps: AppDeps, writer: WebhookWriter): void {
  attached.set(deps, writer);
}

export function webhookWriterOf(deps: AppDeps): WebhookWriter | undefined {
  return attached.get(deps);
}
