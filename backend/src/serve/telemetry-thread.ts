// Runs in a worker thread (started by telemetry-writer.ts): writes serving's exposures and
// serving counts on its own connection, so the SQL, the WAL writes and any fsync stay off the
// main thread's event loop. synchronous = NORMAL: these rows are best-effort (a unit not logged is
// logged when next served), so a commit need not wait for the disk. Checkpoints belong to the
// checkpointer thread. Batches that arrive while one commits go into the next transaction (the
// group writer); a failing batch rolls back alone.
import { parentPort, workerData } from 'node:worker_threads';
import { openDb } from '../store/db.ts';
import { createGroupWriter, StoreUnavailableError } from '../store/writer.ts';
import { rolloutExposureSink, rolloutServingSink } from './wiring.ts';
import type { TelemetryMessage, TelemetryRequest, TelemetryThreadData } from './telemetry-writer.ts';

const { path, busyTimeoutMs } = workerData as TelemetryThreadData;
const port = parentPort!;
const post = (m: TelemetryMessage): void => port.postMessage(m);

let db: ReturnType<typeof openDb>;
try {
  db = openDb(path, { busyTimeoutMs, synchronous: 'NORMAL' });
  db.pragma('wal_autocheckpoint = 0');
} catch (err) {
  post({ type: 'failed', message: (err as Error).message });
  throw err;
}
const writer = createGroupWriter(db, { ownsConnection: true });

port.on('message', (m: TelemetryRequest) => {
  if (m.type === 'write') {
    const { seq, exposures, counts } = m;
    writer.write((d) => {
      if (exposures && exposures.length > 0) rolloutExposureSink.record(d, exposures);
      if (counts && counts.length > 0) rolloutServingSink.record(d, counts);
    }).then(
      () => post({ type: 'done', seq, ok: true }),
      (err: unknown) => post({ type: 'done', seq, ok: false, message: (err as Error)?.message ?? String(err), ...(err instanceof StoreUnavailableError ? { code: err.code } : {}) }),
    );
    return;
  }
  if (m.type === 'stop') {
    void writer.drain().then(() => {
      db.close();
      port.close();
    });
  }
});
post({ type: 'ready' });
