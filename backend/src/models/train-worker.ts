// Runs one model kind's training (train-kind.ts) in a worker thread, so the server's event loop
// (webhooks, storefront requests) never waits on tensor maths. Receives cleaned data, posts
// progress, answers with the serialised artifact and the per-customer outputs.
import { parentPort, workerData } from 'node:worker_threads';
import { trainKind } from './train-kind.ts';
import type { TrainJob, TrainMessage } from './train-job.ts';

const job = workerData as TrainJob;
const post = (m: TrainMessage) => parentPort!.postMessage(m);

try {
  post(await trainKind(job, (fraction, message) => post({ type: 'progress', fraction, message })));
} catch (err) {
  post({ type: 'error', message: (err as Error).stack ?? String(err) });
}
