// Background WAL checkpoints (see checkpoint-worker.ts).
import { Worker } from 'node:worker_threads';
import type { Db } from './db.ts';

export interface Checkpointer {
  stop(): Promise<void>;
}

/** A WAL past this many frames (~64 MiB of 4 KiB pages) is checkpointed to the end and restarted (written from its start again). */
export const WAL_RESET_FRAMES = 16_384;

export function startCheckpointer(db: Db, path: string, intervalMs = 250, resetFrames = WAL_RESET_FRAMES): Checkpointer {
  db.pragma('wal_autocheckpoint = 0');
  const worker = new Worker(new URL('./checkpoint-worker.ts', import.meta.url), { workerData: { path, intervalMs, resetFrames } });
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
