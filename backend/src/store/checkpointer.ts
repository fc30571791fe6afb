// Background WAL checkpoints (see checkpoint-worker.ts).
import { Worker } from 'node:worker_threads';
import type { Db } from './db.ts';

export interface Checkpointer {
  stop(): Promise<void>;
}

/** A WAL past this many frames (~64 MiB of 4 KiB pages) is checkpointed to the end and restarted (written from its start again). */
export const WAL_RESET_FRAMES = 16_384;

/** While the WAL grows, a PASSIVE checkpoint this often (ms); an idle store is looked at every `intervalMs`. */
export const BUSY_CHECKPOINT_MS = 20;

export function startCheckpointer(db: Db, path: string, intervalMs = 250, resetFrames = WAL_RESET_FRAMES, busyIntervalMs = BUSY_CHECKPOINT_MS): Checkpointer {
  db.pragma('wal_autocheckpoint = 0');
  const worker = new Worker(new URL('./checkpoint-worker.ts', import.meta.url), { workerData: { path, intervalMs, busyIntervalMs, resetFrames } });
  worker.unref();
  return {
    async stop() {
      await new Promise<void>((resolve) => {
        worker.once('message', () => resolve());
        worker.once('exit', () => resolve());
        worker.postMessage('stop');
      });
      await worker.terminate();
    },
  };
}
