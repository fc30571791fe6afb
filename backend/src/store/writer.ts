// Group commit: every write requested during one event-loop turn runs in one SQLite
// transaction, and each caller's promise settles only after that transaction committed
// (synchronous = FULL, so the commit is durable). One failing write rolls back alone and the
// others still commit.
import type { Db } from './db.ts';

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

interface Pending<T> {
  fn: (db: Db) => T;
  resolve: (v: T) => void;
  reject: (e: unknown) => void;
}

export interface GroupWriter {
  write<T>(fn: (db: Db) => T): Promise<T>;
  /** Resolves when everything queued so far has committed. */
  drain(): Promise<void>;
  readonly stats: { batches: number; writes: number; isolatedRetries: number };
}

export function createGroupWriter(db: Db, opts: { maxBatch?: number } = {}): GroupWriter {
  const maxBatch = opts.maxBatch ?? 512;
  let queue: Pending<unknown>[] = [];
  let scheduled = false;
  const stats = { batches: 0, writes: 0, isolatedRetries: 0 };

  const flush = (): void => {
    scheduled = false;
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
      try {
        attempt(false);
      } catch (err) {
        if (isUnavailable(err)) throw err;
        stats.isolatedRetries++;
        attempt(true);
      }
    } catch (err) {
      const e = isUnavailable(err) ? new StoreUnavailableError(err) : err;
      for (const p of batch) p.reject(e);
      return;
    }
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
