// Runs in a worker thread: checkpoints the WAL into the database file in the background, so
// the fsync of the main file never happens on the request path (the writer connection has
// wal_autocheckpoint = 0). PASSIVE never blocks readers or the writer.
//
// PASSIVE copies frames back but never lets the log start over: SQLite restarts the WAL only when
// a writer begins while every frame is already in the database file, which never happens while
// writes do not pause (a checkpoint takes longer than the gap between two commits). Under a
// steady stream of webhooks the WAL grew without end — 12 GB in 5 minutes at 1,000 orders/s
// (test/reliability/load.test.ts) — and with it the disk used and every reader's WAL-index
// search. So once the log is past `resetFrames`, right after a PASSIVE pass, a RESTART
// checkpoint: it takes the write lock, copies the few frames written since, and waits until no
// reader still reads old frames; the next commit then writes from the start of the file again.
// RESTART, not TRUNCATE: the file keeps its size (bounded by `resetFrames` plus one tick of
// writes) and is overwritten in place, so the reset never shrinks and regrows a 64 MiB file with
// the write lock held — at 1,000 webhooks/s TRUNCATE's stalls put the webhook p99 at 56–62 ms,
// RESTART's at 26–28 ms (same machine, same minute). Writers wait meanwhile (the main thread's group writer on a
// timer, the webhook thread in its own thread). The write lock is free only between two of the
// writer's transactions — microseconds apart under a flood, which SQLite's busy handler (sleeping
// 1, 2, 5, 10… ms between tries) almost never hits — so it is asked for every RESET_POLL_MS,
// without the busy handler, for at most RESET_WAIT_MS; a reader of old frames (a training
// loading every order) makes it give up until the next tick rather than hold writers back.
import Database from 'better-sqlite3';
import { parentPort, workerData } from 'node:worker_threads';
import { sleepSync } from './sleep-sync.ts';

const { path, intervalMs, busyIntervalMs, resetFrames } = workerData as { path: string; intervalMs: number; busyIntervalMs: number; resetFrames: number };
const db = new Database(path);
db.pragma('busy_timeout = 1000');
db.pragma('synchronous = FULL');
const RESET_WAIT_MS = 50;
const RESET_POLL_MS = 0.2;
/** At most this many extra PASSIVE passes before a reset, until fewer than LEFT_FOR_RESET frames are left to copy. */
const PASSIVE_BEFORE_RESET = 4;
const LEFT_FOR_RESET = 64;
const noWait = db.prepare('PRAGMA busy_timeout = 0');
const normalWait = db.prepare('PRAGMA busy_timeout = 1000');
const restart = db.prepare('PRAGMA wal_checkpoint(RESTART)');
const passive = db.prepare('PRAGMA wal_checkpoint(PASSIVE)');

/**
 * PASSIVE until nearly every frame is in the database file, then RESTART, retried every
 * RESET_POLL_MS until it gets the write lock and no reader holds old frames, or RESET_WAIT_MS ran
 * out. RESTART copies what is left and fsyncs with writers waiting, so what is left should be
 * little: a PASSIVE pass leaves behind the frames committed while it ran, and those a reader
 * still needed — copied with the lock held they made a reset cost ~20 ms, after a few more
 * PASSIVE passes (no lock held) mostly 1–3 ms.
 */
function resetLog(): void {
  noWait.get();
  try {
    for (let i = 0; i < PASSIVE_BEFORE_RESET; i++) {
      const r = passive.get() as { log: number; checkpointed: number };
      if (r.log - r.checkpointed < LEFT_FOR_RESET) break;
    }
    const until = performance.now() + RESET_WAIT_MS;
    while ((restart.get() as { busy: number }).busy !== 0 && performance.now() < until) sleepSync(RESET_POLL_MS);
  } finally {
    normalWait.get();
  }
}

/**
 * One PASSIVE pass (and a reset when the log is long). True when the log has frames that were not
 * there at the previous pass: writes are coming in, so the next pass comes sooner.
 */
let lastLog = -1;
const tick = (): boolean => {
  try {
    const [r] = db.pragma('wal_checkpoint(PASSIVE)') as { busy: number; log: number; checkpointed: number }[];
    if (!r) return false;
    const growing = r.log !== lastLog;
    if (r.log >= resetFrames) resetLog();
    lastLog = r.log;
    return growing;
  } catch {
    // A busy database just means: try again soon.
    return true;
  }
};
// While writes come in, a pass every busyIntervalMs: each copies what a few dozen commits wrote
// and fsyncs the database file, a small burst of I/O. Every 250 ms, each pass wrote ~12 MB at
// 1,000 webhooks/s, and the webhook writer's WAL fsyncs queued behind it on the same disk
// (docs/RELIABILITY.md §2). An idle store is looked at every intervalMs.
let timer: NodeJS.Timeout = setTimeout(function loop() {
  timer = setTimeout(loop, tick() ? busyIntervalMs : intervalMs);
}, intervalMs);
parentPort!.on('message', (m) => {
  if (m === 'stop') {
    clearTimeout(timer);
    tick();
    db.close();
    parentPort!.postMessage('stopped');
  }
});
