// Runs one model kind's training in a worker thread, so the server's event loop (webhooks,
// storefront requests) never waits on tensor maths. Receives cleaned data, posts progress,
// answers with the serialised artifact and the per-customer outputs.
import { parentPort, workerData } from 'node:worker_threads';
import { tensorBackend } from '../ml/tensor-backend.ts';
import { artifactBytes } from '../ml/artifact.ts';
import { TRAINERS } from './kinds.ts';
import type { TrainJob, TrainMessage } from './train-job.ts';

const job = workerData as TrainJob;
const post = (m: TrainMessage) => parentPort!.postMessage(m);

try {
  const backend = await tensorBackend();
  const t0 = performance.now();
  const result = await TRAINERS[job.kind](job.data, job.params, {
    seed: job.seed, backend, asOf: job.asOf,
    onProgress: (fraction, message) => post({ type: 'progress', fraction, message }),
  });
  const seconds = (performance.now() - t0) / 1000;
  const bytes = artifactBytes({ kind: job.kind, backend: backend.name, artifact: result.artifact });
  post({
    type: 'done',
    artifact: bytes,
    perCustomer: result.perCustomer ? [...result.perCustomer.entries()].map(([id, out]) => [id, JSON.stringify(out)]) : [],
    metrics: result.metrics,
    params: result.params,
    backend: { name: backend.name, description: backend.description, fallbackReason: backend.fallbackReason },
    seconds,
  });
} catch (err) {
  post({ type: 'error', message: (err as Error).stack ?? String(err) });
}
