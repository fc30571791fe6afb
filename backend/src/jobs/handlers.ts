// The job handler contract and the registry of default handlers. A handler is an async function
// of a JobContext; what it returns is stored as the job's result (JSON). Throwing retries the job
// with backoff (RetryableJobError or any other error); PermanentJobError sends it to the dead
// letter at once.
import type { AppDeps } from '../app.ts';
import { trainHandler } from './train-handler.ts';

export { DependencyUnavailableError, PermanentJobError, RetryableJobError } from './job-errors.ts';
export type { TrainJobResult } from './train-summary.ts';
export type { TrainedEvent, TrainedHook, TrainPayload } from './train-handler.ts';

export interface JobContext {
  deps: AppDeps;
  shop: string;
  payload: unknown;
  jobId: number;
  attempt: number;
  /** Extends the lease now (the runner also heartbeats on a timer while the handler runs). */
  heartbeat(): void;
  /** Aborted when the runner stops (shutdown) or the lease was lost: stop and throw. */
  signal: AbortSignal;
}

export type JobHandler = (ctx: JobContext) => Promise<unknown>;

/** The handlers every runtime starts with; add more with deps.jobHandlers.set(type, handler). */
export function defaultJobHandlers(): Map<string, JobHandler> {
  return new Map<string, JobHandler>([['train', trainHandler]]);
}
