// The job runner: claims ready jobs (queue.ts), runs their handlers (deps.jobHandlers), keeps
// each lease alive with heartbeats while the handler works, and records the outcome. Every
// write goes through the group writer. Several runners — threads or processes on the same
// database file — can run side by side: claims are atomic and the concurrency limits are
// counted in the database.
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { AppDeps } from '../app.ts';
import type { Db } from '../store/db.ts';
import { createPrng } from '../ml/prng.ts';
import type { JobContext } from './handlers.ts';
import { DependencyUnavailableError, PermanentJobError } from './job-errors.ts';
import {
  backoffMs, outageDelayMs, claimJob, completeJob, DEFAULT_BACKOFF, DEFAULT_LIMITS, failJob, hasReadyJob, heartbeatJob, releaseJob,
  type BackoffPolicy, type ConcurrencyLimits, type JobRecord, type Lease,
} from './queue.ts';

export interface RunnerLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

const silent: RunnerLog = { info() {}, warn() {}, error() {} };

export interface RunnerOptions {
  /** Lease owner id; default `<host>:<pid>:<random>`. */
  owner?: string;
  /** Jobs this runner runs at once; default limits.global. */
  concurrency?: number;
  /** Database-wide limits (every runner counts); default DEFAULT_LIMITS. */
  limits?: ConcurrencyLimits;
  /** How long a claim holds without a heartbeat (ms); default 60 s. */
  leaseMs?: number;
  /** Heartbeat period (ms); default leaseMs / 4. */
  heartbeatMs?: number;
  /** How often to look for ready jobs when idle (ms); default 1 s. */
  pollMs?: number;
  backoff?: BackoffPolicy;
  /**
   * How long after it was enqueued a job failing with DependencyUnavailableError (Admin API down
   * or throttling) is deferred without counting the attempt (ms); default 24 h. After that its
   * failures count like any other.
   */
  outagePatienceMs?: number;
  /** Seed of the backoff jitter; default the owner id. */
  seed?: number | string;
  /** stop(): how long running handlers may finish before they are aborted and released (ms); default 10 s. */
  graceMs?: number;
  log?: RunnerLog;
  /** Told how each claimed job ended here (CLI summaries, tests). */
  onOutcome?: (o: JobOutcome) => void;
}

export interface JobOutcome {
  job: JobRecord;
  attempt: number;
  /**
   * lost: another runner took the lease over; released: given back on stop(); unrecorded: the
   * store refused the write; deferred: a dependency outage, retried later without counting the attempt.
   */
  state: 'done' | 'failed' | 'deferred' | 'dead' | 'lost' | 'released' | 'unrecorded';
  error?: string;
  seconds: number;
}

export interface JobRunner {
  readonly owner: string;
  /** Handlers running now. */
  readonly active: number;
  /** Claims and starts ready jobs until the slots are full or nothing is ready; how many it started. */
  poll(): Promise<number>;
  /** Runs ready jobs until none is left and every handler has settled (CLI `jobs run-once`, tests); how many ran. */
  drain(): Promise<number>;
  /** Resolves when no handler of this runner is running. */
  idle(): Promise<void>;
  /** Stops claiming; lets running handlers finish within graceMs, then aborts them and gives their jobs back. */
  stop(opts?: { graceMs?: number }): Promise<void>;
}

interface Running { job: JobRecord; lease: Lease; controller: AbortController; done: Promise<void>; released: boolean }

function errorText(err: unknown): string {
  if (err instanceof Error) {
    const text = err instanceof PermanentJobError || err.name === 'RetryableJobError' || err.name === 'DependencyUnavailableError' ? `${err.name}: ${err.message}` : (err.stack ?? `${err.name}: ${err.message}`);
    return text.slice(0, 8000);
  }
  return String(err).slice(0, 8000);
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref?.());

export function createJobRunner(deps: AppDeps, o: RunnerOptions = {}): JobRunner {
  const owner = o.owner ?? `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  const limits: ConcurrencyLimits = { ...DEFAULT_LIMITS, ...o.limits };
  const concurrency = Math.max(1, o.concurrency ?? limits.global ?? 1);
  const leaseMs = o.leaseMs ?? 60_000;
  const heartbeatMs = o.heartbeatMs ?? Math.max(10, Math.floor(leaseMs / 4));
  const backoff = o.backoff ?? DEFAULT_BACKOFF;
  const outagePatienceMs = o.outagePatienceMs ?? 86_400_000;
  const jitter = createPrng(o.seed ?? owner).fork('backoff');
  const log = o.log ?? silent;
  const running = new Map<number, Running>();
  let stopped = false;
  let polling: Promise<number> | null = null;
  let idleWaiters: (() => void)[] = [];

  const settleIdle = () => {
    if (running.size > 0) return;
    const w = idleWaiters;
    idleWaiters = [];
    for (const f of w) f();
  };

  /** A write whose failure (store busy) must not be lost silently: a few tries, then give up. */
  async function persist<T>(what: string, fn: (db: Db) => T): Promise<T | undefined> {
    for (let i = 0; ; i++) {
      try {
        return await deps.writer.write(fn);
      } catch (err) {
        if (i >= 4) {
          log.error({ err: (err as Error).message, owner }, `job runner: could not record ${what}`);
          return undefined;
        }
        await sleep(100 * 2 ** i);
      }
    }
  }

  async function execute(r: Running): Promise<void> {
    const { job, lease, controller } = r;
    const handler = deps.jobHandlers.get(job.type)!;
    let lost = false;
    let finished = false;
    const beat = async () => {
      if (lost || finished || r.released) return;
      const ok = await persist('a heartbeat', (db) => heartbeatJob(db, lease, deps.now(), leaseMs));
      if (ok === false && !finished && !r.released) {
        lost = true;
        log.warn({ job: job.id, type: job.type, shop: job.shop, attempt: lease.attempt }, 'job lease lost: another runner took the job over; aborting this attempt');
        controller.abort(new Error('job lease lost'));
      }
    };
    const timer = setInterval(() => void beat(), heartbeatMs);
    const ctx: JobContext = {
      deps, shop: job.shop, payload: job.payload, jobId: job.id, attempt: lease.attempt,
      heartbeat: () => void beat(), signal: controller.signal,
    };
    log.info({ job: job.id, type: job.type, shop: job.shop, attempt: lease.attempt, reason: job.reason }, 'job started');
    const t0 = performance.now();
    let outcome: { ok: true; value: unknown } | { ok: false; err: unknown };
    try {
      outcome = { ok: true, value: await handler(ctx) };
    } catch (err) {
      outcome = { ok: false, err };
    } finally {
      finished = true;
      clearInterval(timer);
    }
    const seconds = Number(((performance.now() - t0) / 1000).toFixed(3));
    const tell = (state: JobOutcome['state'], error?: string) => o.onOutcome?.({ job, attempt: lease.attempt, state, error, seconds });
    if (r.released) return tell('released');
    if (lost) return tell('lost'); // the job is another runner's now
    if (outcome.ok) {
      const ok = await persist('a job result', (db) => completeJob(db, lease, deps.now(), outcome.value));
      if (ok) log.info({ job: job.id, type: job.type, shop: job.shop, attempt: lease.attempt, seconds }, 'job done');
      else if (ok === false) log.warn({ job: job.id }, 'job finished but its lease was lost: the result is discarded');
      return tell(ok ? 'done' : ok === false ? 'lost' : 'unrecorded');
    }
    const permanent = outcome.err instanceof PermanentJobError;
    // An outage of a dependency (Admin API down or throttling) is not the job's fault: it waits
    // the outage out with its attempts kept for real failures, for up to outagePatienceMs.
    const ageMs = deps.now().getTime() - Date.parse(job.createdAt);
    const deferred = !permanent && outcome.err instanceof DependencyUnavailableError && ageMs < outagePatienceMs;
    const delayMs = deferred ? outageDelayMs(ageMs, backoff, jitter.next()) : backoffMs(lease.attempt, backoff, jitter.next());
    const text = errorText(outcome.err);
    const state = await persist('a job failure', (db) => failJob(db, lease, deps.now(), text, { permanent, delayMs, countAttempt: !deferred }));
    const msg = outcome.err instanceof Error ? outcome.err.message.split('\n')[0] : String(outcome.err);
    tell(state === 'failed' && deferred ? 'deferred' : (state ?? (state === null ? 'lost' : 'unrecorded')), msg);
    if (state === 'dead') log.error({ job: job.id, type: job.type, shop: job.shop, attempt: lease.attempt, err: msg }, 'job dead: no attempts left or a permanent error');
    else if (state === 'failed' && deferred) log.warn({ job: job.id, type: job.type, shop: job.shop, err: msg, retryInMs: delayMs }, 'job deferred: a dependency is unavailable; will retry (attempt not counted)');
    else if (state === 'failed') log.warn({ job: job.id, type: job.type, shop: job.shop, attempt: lease.attempt, err: msg, retryInMs: delayMs }, 'job failed; will retry');
  }

  function launch(job: JobRecord): void {
    const r: Running = { job, lease: { id: job.id, owner, attempt: job.attempts }, controller: new AbortController(), done: Promise.resolve(), released: false };
    running.set(job.id, r);
    r.done = execute(r)
      .catch((err: unknown) => log.error({ job: job.id, err: (err as Error).message }, 'job runner: unexpected error'))
      .finally(() => {
        running.delete(job.id);
        settleIdle();
        if (!stopped) void poll();
      });
  }

  async function pollOnce(): Promise<number> {
    let started = 0;
    const types = [...deps.jobHandlers.keys()];
    if (types.length === 0) return 0;
    while (!stopped && running.size < concurrency) {
      let job: JobRecord | null;
      try {
        if (!hasReadyJob(deps.db, deps.now(), types)) break;
        job = await deps.writer.write((db) => claimJob(db, { owner, now: deps.now(), leaseMs, types, limits }));
      } catch (err) {
        log.warn({ err: (err as Error).message }, 'job runner: claim failed (store busy?); will poll again');
        break;
      }
      if (!job) break;
      launch(job);
      started++;
    }
    return started;
  }

  function poll(): Promise<number> {
    if (polling) return polling;
    polling = pollOnce().finally(() => { polling = null; });
    return polling;
  }

  const idle = (): Promise<void> => (running.size === 0 ? Promise.resolve() : new Promise((r) => idleWaiters.push(r)));

  return {
    owner,
    get active() { return running.size; },
    poll,
    idle,
    async drain() {
      let total = 0;
      for (;;) {
        const n = await poll();
        total += n;
        if (running.size === 0) {
          if (n === 0) return total;
          continue; // what it started has already finished: look again
        }
        await Promise.race([...running.values()].map((r) => r.done));
      }
    },
    async stop(opts = {}) {
      stopped = true;
      if (polling) await polling;
      const grace = opts.graceMs ?? o.graceMs ?? 10_000;
      if (running.size > 0) await Promise.race([idle(), sleep(grace)]);
      const left = [...running.values()];
      for (const r of left) {
        r.released = true;
        const ok = await persist('a job release', (db) => releaseJob(db, r.lease, deps.now(), `interrupted by shutdown of runner ${owner} (attempt not counted)`));
        log.warn({ job: r.job.id, type: r.job.type, shop: r.job.shop, released: ok }, 'job interrupted by shutdown; released for the next runner');
        r.controller.abort(new Error('job runner stopping'));
      }
      if (left.length > 0) await Promise.race([Promise.all(left.map((r) => r.done)), sleep(5_000)]);
    },
  };
}

/** A runner that polls on its own every pollMs (and as soon as a slot frees up). */
export function startJobRunner(deps: AppDeps, o: RunnerOptions = {}): JobRunner {
  const runner = createJobRunner(deps, o);
  const pollMs = o.pollMs ?? 1_000;
  let timer: NodeJS.Timeout | null = null;
  let stopped = false;
  const loop = async () => {
    if (stopped) return;
    try {
      await runner.poll();
    } finally {
      if (!stopped) timer = setTimeout(() => void loop(), pollMs);
    }
  };
  void loop();
  return {
    get owner() { return runner.owner; },
    get active() { return runner.active; },
    poll: runner.poll,
    drain: runner.drain,
    idle: runner.idle,
    async stop(opts) {
      stopped = true;
      if (timer) clearTimeout(timer);
      await runner.stop(opts);
    },
  };
}
