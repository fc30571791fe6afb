// One model kind's training from cleaned data to the serialised artifact and per-customer
// outputs — the body of the worker thread (train-worker.ts), or run on the calling thread where
// that thread is already off the server's event loop (the training's own process).
import { tensorBackend } from '../ml/tensor-backend.ts';
import { artifactBytes } from '../ml/artifact.ts';
import { TRAINERS } from './kinds.ts';
import type { TrainJob, TrainMessage } from './train-job.ts';

export type TrainDone = Extract<TrainMessage, { type: 'done' }>;

export async function trainKind(job: TrainJob, onProgress: (fraction: number, message?: string) => void): Promise<TrainDone> {
  const backend = await tensorBackend();
  const t0 = performance.now();
  const result = await TRAINERS[job.kind](job.data, job.params, { seed: job.seed, backend, asOf: job.asOf, onProgress });
  const seconds = (performance.now() - t0) / 1000;
  return {
    type: 'done',
    artifact: artifactBytes({ kind: job.kind, backend: backend.name, artifact: result.artifact }),
    perCustomer: result.perCustomer ? [...result.perCustomer.entries()].map(([id, out]) => [id, JSON.stringify(out)]) : [],
    metrics: result.metrics,
    params: result.params,
    backend: { name: backend.name, description: backend.description, fallbackReason: backend.fallbackReason },
    seconds,
  };
}
