// Stopping a writer thread (the webhook writer, serving's telemetry writer): wait until nothing
// handed to it is unanswered, then ask it to finish (it drains its own group writer and closes its
// connection) and wait for it to exit.
import type { Worker } from 'node:worker_threads';

export async function drainThenStop(drained: () => Promise<void>, worker: () => Worker | null, stopMessage: unknown): Promise<void> {
  await drained();
  const w = worker();
  if (!w) return;
  await new Promise<void>((resolve) => {
    w.once('exit', () => resolve());
    w.ref();
    w.postMessage(stopMessage);
  });
}
