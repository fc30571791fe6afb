// The background checkpointer keeps the WAL bounded under writes that never pause. PASSIVE
// checkpoints alone copy frames back but never let SQLite start the log over while a writer keeps
// committing (test/reliability/load.test.ts saw the WAL reach 12 GB in 5 minutes at 1,000
// orders/s); past `resetFrames` the checkpointer restarts it (RESTART: the next commit writes from
// the start of the file again, which keeps its size). A restart shows in the WAL header: its
// checkpoint sequence number (bytes 12–15) goes up by one.
import { afterAll, describe, expect, it } from 'vitest';
import { closeSync, mkdtempSync, openSync, readSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDb } from '../../backend/src/store/db.ts';
import { startCheckpointer } from '../../backend/src/store/checkpointer.ts';

const dir = mkdtempSync(join(tmpdir(), 'shopml-checkpointer-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * Commits small transactions for `ms` with the checkpointer running — one a millisecond (a busy
 * webhook stream) or back to back (a flood: the write lock free only for microseconds); the WAL's
 * size at the end and at its largest.
 */
async function steadyWrites(name: string, resetFrames: number, ms: number, gap: 'ms' | 'none' = 'ms', enoughResets = Infinity, idleIntervalMs = 20) {
  const path = join(dir, `${name}.db`);
  const db = openDb(path);
  db.pragma('synchronous = OFF'); // fast commits: the WAL's life is the same, the test quicker
  db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, k TEXT, v TEXT); CREATE INDEX t_k ON t (k)');
  const checkpointer = startCheckpointer(db, path, idleIntervalMs, resetFrames);
  const insert = db.prepare('INSERT INTO t (k, v) VALUES (?, ?)');
  const tx = db.transaction((n: number) => { for (let i = 0; i < 20; i++) insert.run(`${(n * 7919 + i * 104729) % 1_000_003}`, 'x'.repeat(200)); });
  const wal = () => statSync(`${path}-wal`, { throwIfNoEntry: false })?.size ?? 0;
  const header = Buffer.alloc(32);
  const checkpointSeq = (): number => {
    const fd = openSync(`${path}-wal`, 'r');
    try {
      return readSync(fd, header, 0, 32, 0) === 32 ? header.readUInt32BE(12) : -1;
    } finally {
      closeSync(fd);
    }
  };
  let largest = 0;
  let previous = -1;
  let resets = 0; // times the header's checkpoint sequence number changed: the log started over
  const end = performance.now() + ms;
  for (let n = 0; performance.now() < end && resets < enoughResets; n++) {
    tx(n);
    if (n % 20 === 0) {
      const seq = checkpointSeq();
      if (previous !== -1 && seq !== previous) resets++;
      previous = seq;
      largest = Math.max(largest, wal());
    }
    await new Promise((r) => (gap === 'ms' ? setTimeout(r, 1) : setImmediate(r)));
  }
  const last = wal();
  const rows = db.prepare('SELECT count(*) FROM t').pluck().get() as number;
  await checkpointer.stop();
  db.close();
  return { last, largest: Math.max(largest, last), rows, resets };
}

describe('checkpointer', () => {
  it('restarts a WAL that outgrew resetFrames while writes go on; PASSIVE alone lets it grow', async () => {
    const frames = 256; // × 4 KiB pages ≈ 1 MiB
    const bounded = await steadyWrites('bounded', frames, 1500);
    const unbounded = await steadyWrites('unbounded', Number.MAX_SAFE_INTEGER, 1500);
    // Both wrote plenty: the second's log holds everything it wrote since its last reset.
    expect(bounded.rows).toBeGreaterThan(10_000);
    expect(unbounded.largest).toBeGreaterThan(16 * frames * 4096);
    // PASSIVE alone: the log (almost) never started over — SQLite restarts it by itself only when
    // a pass happens to finish in a gap between two commits — so it grew far beyond the other.
    expect(unbounded.largest).toBeGreaterThan(2 * bounded.largest);
    expect(bounded.resets).toBeGreaterThanOrEqual(3);
    // The first's file never got far past the limit (a few ticks of writes beyond it, when a
    // reset missed the lock on a busy machine): it is reused.
    expect(bounded.largest).toBeLessThan(32 * frames * 4096);
  }, 30_000);

  it('passes every busyIntervalMs while the log grows, not every (idle) intervalMs', async () => {
    // The first pass comes after the idle interval (1 s); from then on writes keep coming, so a
    // pass every 20 ms (BUSY_CHECKPOINT_MS). At the idle cadence alone the remaining 1.5 s would
    // hold at most two passes, so at most two restarts.
    const paced = await steadyWrites('paced', 256, 2500, 'ms', Infinity, 1000);
    expect(paced.rows).toBeGreaterThan(10_000);
    expect(paced.resets).toBeGreaterThanOrEqual(3);
  }, 30_000);

  it('gets the log restarted under back-to-back transactions too', async () => {
    const frames = 256;
    // The lock is free only for a moment between two transactions: give it up to 10 s to be
    // caught three times (it usually takes well under 2 s).
    const flood = await steadyWrites('flood', frames, 10_000, 'none', 3);
    expect(flood.rows).toBeGreaterThan(5_000);
    // Started over again and again (how large it got in between depends on the machine's speed).
    expect(flood.resets).toBeGreaterThanOrEqual(3);
  }, 30_000);
});
