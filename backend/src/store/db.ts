// Opens the SQLite store: WAL, foreign keys, FULL durability, numbered migrations.
import Database from 'better-sqlite3';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export type Db = Database.Database;

const MIGRATIONS_DIR = join(dirname(fileURLToPath(import.meta.url)), 'migrations');

export interface OpenOptions {
  /** Read-only handles (status, dashboards) never migrate. */
  readonly?: boolean;
  /** ms to wait on a lock held by another connection before SQLITE_BUSY. */
  busyTimeoutMs?: number;
  /**
   * FULL (default): a commit survives power loss. NORMAL: no fsync at commit (WAL frames reach
   * the disk at the next checkpoint or FULL commit); survives a process crash, not power loss —
   * only for best-effort telemetry (serve/telemetry-thread.ts: serving's exposures and counts).
   */
  synchronous?: 'FULL' | 'NORMAL';
}

export function openDb(path: string, opts: OpenOptions = {}): Db {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path, { readonly: opts.readonly ?? false, fileMustExist: opts.readonly ?? false });
  db.pragma(`busy_timeout = ${opts.busyTimeoutMs ?? 5000}`);
  if (!opts.readonly) {
    db.pragma('journal_mode = WAL');
    // FULL: in WAL mode NORMAL can lose acknowledged commits on power loss. Group commit
    // (see writer.ts) spreads the fsync over every request of one event-loop turn.
    db.pragma(`synchronous = ${opts.synchronous === 'NORMAL' ? 'NORMAL' : 'FULL'}`);
    db.pragma('foreign_keys = ON');
    // Deleted rows are overwritten with zeros, not left in free space: after customers/redact
    // (and a checkpoint) the database file holds no bytes of the redacted customer's rows.
    db.pragma('secure_delete = ON');
    db.pragma('cache_size = -65536'); // 64 MiB of page cache: projections and indexes stay hot
    migrate(db);
  }
  return db;
}

export function migrationFiles(): { version: number; name: string; sql: string }[] {
  return readdirSync(MIGRATIONS_DIR)
    .filter((f) => /^\d+_.+\.sql$/.test(f))
    .map((f) => ({ version: Number(f.split('_')[0]), name: f, sql: readFileSync(join(MIGRATIONS_DIR, f), 'utf8') }))
    .sort((a, b) => a.version - b.version);
}

/** Applies every migration newer than `PRAGMA user_version`, each in its own transaction. */
export function migrate(db: Db): number {
  const current = db.pragma('user_version', { simple: true }) as number;
  let applied = 0;
  for (const m of migrationFiles()) {
    if (m.version <= current) continue;
    db.transaction(() => {
      db.exec(m.sql);
      db.pragma(`user_version = ${m.version}`);
    })();
    applied++;
  }
  return applied;
}
