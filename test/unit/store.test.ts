import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { migrationFiles, openDb } from '../../backend/src/store/db.ts';
import { createGroupWriter, StoreUnavailableError } from '../../backend/src/store/writer.ts';
import { schemaDoc } from '../../scripts/schema-doc.ts';
import { useTempDirs } from '../helpers/temp-db.ts';

const tempDir = useTempDirs('shopml-store-');
const tmp = () => join(tempDir(), 'db.sqlite');

describe('store', () => {
  it('opens with WAL, foreign keys, FULL sync and every migration applied once', () => {
    const path = tmp();
    const db = openDb(path);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(db.pragma('synchronous', { simple: true })).toBe(2);
    const last = migrationFiles().at(-1)!.version;
    expect(db.pragma('user_version', { simple: true })).toBe(last);
    db.close();
    const again = openDb(path); // re-opening applies nothing twice
    expect(again.pragma('user_version', { simple: true })).toBe(last);
    again.close();
  });

  it('docs/schema.md matches the migrations', () => {
    expect(readFileSync(new URL('../../docs/schema.md', import.meta.url), 'utf8')).toBe(schemaDoc());
  });
});

describe('group writer', () => {
  it('commits the writes of one turn in one transaction and settles each after the commit', async () => {
    const db = openDb(tmp());
    db.exec('CREATE TABLE t (k TEXT PRIMARY KEY)');
    const w = createGroupWriter(db);
    const results = await Promise.all(Array.from({ length: 100 }, (_, i) => w.write((d) => d.prepare('INSERT INTO t VALUES (?)').run(`k${i}`).changes)));
    expect(results.every((r) => r === 1)).toBe(true);
    expect(w.stats.batches).toBe(1);
    expect(db.prepare('SELECT count(*) FROM t').pluck().get()).toBe(100);
  });

  it('rolls back a failing write alone; the others in its batch commit', async () => {
    const db = openDb(tmp());
    db.exec('CREATE TABLE t (k TEXT PRIMARY KEY)');
    const w = createGroupWriter(db);
    const settled = await Promise.allSettled([
      w.write((d) => d.prepare('INSERT INTO t VALUES (?)').run('a')),
      w.write((d) => { d.prepare('INSERT INTO t VALUES (?)').run('b'); throw new Error('half a record'); }),
      w.write((d) => d.prepare('INSERT INTO t VALUES (?)').run('c')),
    ]);
    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(w.stats.isolatedRetries).toBe(1);
    expect(db.prepare('SELECT k FROM t ORDER BY k').pluck().all()).toEqual(['a', 'c']);
  });

  it('rejects the whole batch with StoreUnavailableError when the database is locked', async () => {
    const path = tmp();
    const db = openDb(path, { busyTimeoutMs: 10 });
    db.exec('CREATE TABLE t (k TEXT PRIMARY KEY)');
    const other = openDb(path);
    other.exec('BEGIN EXCLUSIVE');
    const w = createGroupWriter(db);
    await expect(w.write((d) => d.prepare('INSERT INTO t VALUES (?)').run('x'))).rejects.toBeInstanceOf(StoreUnavailableError);
    other.exec('ROLLBACK');
    await w.write((d) => d.prepare('INSERT INTO t VALUES (?)').run('x'));
    expect(db.prepare('SELECT count(*) FROM t').pluck().get()).toBe(1);
  });
  /** Another thread takes the write lock, then commits `holdMs` later (whatever this thread does meanwhile). */
  const lockFromAnotherThread = (path: string, holdMs: number): Promise<{ exited: Promise<unknown> }> =>
    new Promise((resolve, reject) => {
      const w = new Worker(
        `const { parentPort, workerData } = require('node:worker_threads');
        const db = new (require(workerData.lib))(workerData.path);
        db.exec('BEGIN IMMEDIATE');
        parentPort.postMessage('locked');
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, workerData.holdMs);
        db.exec('COMMIT');
        db.close();`,
        { eval: true, workerData: { path, holdMs, lib: createRequire(import.meta.url).resolve('better-sqlite3') } },
      );
      const exited = new Promise((r) => w.once('exit', r));
      w.once('message', () => resolve({ exited }));
      w.once('error', reject);
    });

  it('spinOnBusyMs: a lock held for a few ms by another thread is waited out in this thread, without the timer', async () => {
    for (const spinOnBusyMs of [0, 500]) {
      const path = tmp();
      const db = openDb(path);
      db.exec('CREATE TABLE t (k TEXT PRIMARY KEY)');
      const w = createGroupWriter(db, { spinOnBusyMs });
      const locker = await lockFromAnotherThread(path, 30);
      await w.write((d) => d.prepare('INSERT INTO t VALUES (?)').run('x'));
      await locker.exited;
      expect(db.prepare('SELECT count(*) FROM t').pluck().get()).toBe(1);
      if (spinOnBusyMs === 0) {
        expect(w.stats.busyRetries).toBeGreaterThan(0);
        expect(w.stats.busySpins).toBe(0);
      } else {
        expect(w.stats.busySpins).toBeGreaterThan(0);
        expect(w.stats.busyRetries).toBe(0);
      }
    }
  });

  it('ownsConnection: the busy handler is off once, no PRAGMA per batch, and the wait budget still holds', async () => {
    const path = tmp();
    const db = openDb(path, { busyTimeoutMs: 40 });
    db.exec('CREATE TABLE t (k TEXT PRIMARY KEY)');
    const w = createGroupWriter(db, { ownsConnection: true });
    expect(db.pragma('busy_timeout', { simple: true })).toBe(0);
    const pragma = db.pragma.bind(db);
    let pragmas = 0;
    db.pragma = ((...a: Parameters<typeof db.pragma>) => (pragmas++, pragma(...a))) as typeof db.pragma;
    for (const k of ['a', 'b', 'c']) await w.write((d) => d.prepare('INSERT INTO t VALUES (?)').run(k));
    expect(pragmas).toBe(0);
    // A lock released within the budget (the connection's 40 ms) ends in a commit on the timer…
    const short = await lockFromAnotherThread(path, 15);
    await w.write((d) => d.prepare('INSERT INTO t VALUES (?)').run('d'));
    await short.exited;
    // …one held past it fails the write as unavailable, after about the budget.
    const other = openDb(path);
    other.exec('BEGIN IMMEDIATE');
    const t0 = performance.now();
    await expect(w.write((d) => d.prepare('INSERT INTO t VALUES (?)').run('e'))).rejects.toBeInstanceOf(StoreUnavailableError);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(35);
    other.exec('ROLLBACK');
    expect(db.prepare('SELECT k FROM t ORDER BY k').pluck().all()).toEqual(['a', 'b', 'c', 'd']);
  });

  it('spinOnBusyMs: past the spin, the timer path takes over (a lock held longer still ends in a commit)', async () => {
    const path = tmp();
    const db = openDb(path);
    db.exec('CREATE TABLE t (k TEXT PRIMARY KEY)');
    const w = createGroupWriter(db, { spinOnBusyMs: 5 });
    const locker = await lockFromAnotherThread(path, 80);
    await w.write((d) => d.prepare('INSERT INTO t VALUES (?)').run('y'));
    await locker.exited;
    expect(w.stats.busySpins).toBeGreaterThan(0);
    expect(w.stats.busyRetries).toBeGreaterThan(0);
    expect(db.prepare('SELECT count(*) FROM t').pluck().get()).toBe(1);
  });
});
