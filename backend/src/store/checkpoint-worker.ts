// Runs in a worker thread: checkpoints the WAL into the database file in the background, so
// the fsync of the main file never happens on the request path (the writer connection has
// wal_autocheckpoint = 0). PASSIVE never blocks readers or the writer.
import Database from 'better-sqlite3';
import { parentPort, workerData } from 'node:worker_threads';

const { path, intervalMs } = workerData as { path: string; intervalMs: number };
const db = new Database(path);
db.pragma('busy_timeout = 1000');
db.pragma('synchronous = FULL');

const tick = () => {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch {
    // A busy database just means: try again next tick.
  }
};
const timer = setInterval(tick, intervalMs);
parentPort!.on('message', (m) => {
  if (m === 'stop') {
    clearInterval(timer);
    tick();
    db.close();
    parentPort!.postMessage('stopped');
  }
});
