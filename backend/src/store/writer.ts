// Group commit: every write requested during one event-loop turn runs in one SQLite
// transaction, and each caller's promise settles only after that transaction committed
// (synchronous = FULL, so the commit is durable). One failing write rolls back alone and the
// others still commit.
//
// While another connection holds the write lock, the writer waits without blocking the event
// loop: it tries BEGIN IMMEDIATE with SQLite's busy handler off, and when the lock is taken it
// tries again on a timer, for up to the connection's busy_timeout per write, before the write
// fails with StoreUnavailableError (503 + Retry-After). SQLite's own busy handler would sleep
// inside the call, stalling every request of the process (the storefront included) for up to
// busy_timeout per attempted write.
import type { Db } from './db.ts';
import { sleepSync } from './sleep-sync.ts';

export class StoreUnavailableError extends Error {
  readonly code: string;
  constructor(cause: unknown) {
    const code = (cause as { code?: string })?.code ?? 'SQLITE_ERROR';
    super(`database cannot write (${code})`, { cause });
    this.name = 'StoreUnavailableError';
    this.code = code;
  }
}

/** SQLite errors that say "the store cannot write now", not "this write is wrong". */
export function isUnavailable(err: unknown): boolean {
  const code = (err as { code?: string })?.code ?? '';
  return /^SQLITE_(BUSY|LOCKED|FULL|IOERR|READONLY|CANTOPEN|CORRUPT|NOTADB|PROTOCOL)/.test(code);
}

/** The write lock is held by another connection (a retry later may succeed). */
export function isBusy(err: unknown): boolean {
  return /^SQLITE_BUSY/.test((err as { code?: string })?.code ?? '');
}

const SPIN_STEP_MS = 0.1;

interface Pending<T> {
  fn: (db: Db) => T;
  resolve: (v: T) => void;
  reject: (e: unknown) => void;
  /** When this write first found the database locked (performance.now()). */
  busySince?: number;
}

export interface GroupWriter {
  write<T>(fn: (db: Db) => T): Promise<T>;
  /** Resolves when everything queued so far has committed. */
  drain(): Promise<void>;
  readonly stats: { batches: number; writes: number; isolatedRetries: number; busyRetries: number; busySpins: number };
}

export interface GroupWriterOptions {
  maxBatch?: number;
  /** How long a write may wait for another connection's lock; default the connection's busy_timeout. */
  busyTimeoutMs?: number;
  /** See spinWhileBusy below. */
  spinOnBusyMs?: number;
  /**
   * Nothing but this writer uses the connection (a writer thread's own): its busy handler is
   * turned off once, here, instead of around every batch (two PRAGMA statements parsed per
   * batch, 1.5% of the webhook thread's CPU at 1,000 webhooks/s).
   */
  ownsConnection?: boolean;
}

export function createGroupWriter(db: Db, opts: GroupWriterOptions = {}): GroupWriter {
  const maxBatch = opts.maxBatch ?? 512;
  // How long a write may wait for another connection's lock: the connection's busy_timeout.
  const busyTimeoutMs = opts.busyTimeoutMs ?? (db.pragma('busy_timeout', { simple: true }) as number);
  if (opts.ownsConnection) db.pragma('busy_timeout = 0');
  let queue: Pending<unknown>[] = [];
  let scheduled = false;
  let lockWait: NodeJS.Timeout | null = null;
  let lockWaits = 0;
  const stats = { batches: 0, writes: 0, isolatedRetries: 0, busyRetries: 0, busySpins: 0 };

  /**
   * BEGIN IMMEDIATE with SQLite's busy handler off: a held lock answers SQLITE_BUSY at once
   * (~20 µs a batch). Not a prepared statement: SQLite applies `PRAGMA busy_timeout` when the
   * statement is compiled, so re-running a prepared one does not reliably set it again.
   */
  const restore = `busy_timeout = ${Math.max(0, Math.trunc(busyTimeoutMs))}`;
  const withoutBusyWait = <T>(fn: () => T): T => {
    if (busyTimeoutMs <= 0 || opts.ownsConnection) return fn();
    db.pragma('busy_timeout = 0');
    try {
      return fn();
    } finally {
      db.pragma(restore);
    }
  };

  /**
   * With `spinOnBusyMs`: while another connection holds the write lock, try again every
   * SPIN_STEP_MS for up to that long, blocking this thread, before the timer path below. Only for
   * a thread that does nothing but write (the webhook writer): the lock is held ~1 ms at a time
   * and a timer wakes 1–3 ms later at best, often more on a busy machine.
   */
  const spinOnBusyMs = opts.spinOnBusyMs ?? 0;
  const spinWhileBusy = (fn: () => void): void => {
    const until = performance.now() + spinOnBusyMs;
    for (;;) {
      try {
        return fn();
      } catch (err) {
        if (!isBusy(err) || performance.now() >= until) throw err;
        stats.busySpins++;
        sleepSync(SPIN_STEP_MS);
      }
    }
  };
  const flush = (): void => {
    scheduled = false;
    if (lockWait) return; // the lock timer flushes
    const batch = queue.splice(0, maxBatch);
    if (queue.length > 0) schedule();
    if (batch.length === 0) return;
    let results: { ok: boolean; value: unknown }[] = [];
    // First try the whole batch without savepoints (two fewer statements per write). A write
    // that throws rolls the attempt back; the batch then runs again with a savepoint per write,
    // so only the failing write is lost. Writes are synchronous functions of the database, so
    // running them again is the same as running them once.
    const attempt = (isolated: boolean) => {
      results = [];
      db.transaction(() => {
        for (const p of batch) {
          if (!isolated) {
            results.push({ ok: true, value: p.fn(db) });
            continue;
          }
          try {
            // A nested better-sqlite3 transaction is a SAVEPOINT: a throw rolls back only this write.
            results.push({ ok: true, value: db.transaction(() => p.fn(db))() });
          } catch (err) {
            if (isUnavailable(err)) throw err;
            results.push({ ok: false, value: err });
          }
        }
      }).immediate();
    };
    try {
      withoutBusyWait(() => {
        try {
          spinWhileBusy(() => attempt(false));
        } catch (err) {
          if (isUnavailable(err)) throw err;
          stats.isolatedRetries++;
          attempt(true);
        }
      });
    } catch (err) {
      if (isBusy(err)) {
        // Locked by another connection: writes still within their wait go back to the head of
        // the queue and are tried again on a timer (1, 2, 4, 8, 8 … ms apart); the event loop runs on.
        const now = performance.now();
        const waiting: Pending<unknown>[] = [];
        for (const p of batch) {
          p.busySince ??= now;
          if (now - p.busySince < busyTimeoutMs) waiting.push(p);
          else p.reject(new StoreUnavailableError(err));
        }
        if (waiting.length > 0) {
          stats.busyRetries++;
          queue = [...waiting, ...queue];
          lockWait = setTimeout(() => {
            lockWait = null;
            flush();
          }, Math.min(8, 2 ** lockWaits++));
        }
        return;
      }
      const e = isUnavailable(err) ? new StoreUnavailableError(err) : err;
      for (const p of batch) p.reject(e);
      return;
    }
    lockWaits = 0;
    stats.batches++;
    stats.writes += batch.length;
    batch.forEach((p, i) => {
      const r = results[i]!;
      if (r.ok) p.resolve(r.value);
      else p.reject(r.value);
    });
  };

  const schedule = (): void => {
    if (scheduled) return;
    scheduled = true;
    setImmediate(flush);
  };

  return {
    stats,
    write<T>(fn: (db: Db) => T): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        queue.push({ fn, resolve, reject } as Pending<unknown>);
        schedule();
      });
    },
    async drain(): Promise<void> {
      await new Promise<void>((resolve) => {
        queue.push({ fn: () => undefined, resolve: () => resolve(), reject: () => resolve() });
        schedule();
      });
    },
  };
}
