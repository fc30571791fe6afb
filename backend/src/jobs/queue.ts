// The durable job queue: one SQLite table (migration 006_jobs.sql) and the statements that move a
// job through its states. Pure functions of a database handle and a time: the runner
// (runner.ts) calls them through the group writer, the CLI and tests on a plain connection.
//
//   pending ──claim──▶ running ──handler resolves──▶ done
//      ▲                  │ throws ──▶ failed (run_at = now + backoff) ──claim──▶ running …
//      │                  │ throws DependencyUnavailableError ──▶ failed, attempt not counted (outage)
//      │                  │ throws, no attempts left / PermanentJobError ──▶ dead (last_error kept)
//      │                  └ lease runs out (worker gone) ──▶ claimable again (or dead, no attempts left)
//      └── retryJob (operator) ◀── dead
import type { Db } from '../store/db.ts';

export type JobStatus = 'pending' | 'running' | 'done' | 'failed' | 'dead';
export const JOB_STATUSES: readonly JobStatus[] = ['pending', 'running', 'done', 'failed', 'dead'];
/** States in which a job is still to run: at most one per (shop, dedupe key). */
const UNFINISHED = `('pending', 'running', 'failed')`;

export interface JobInput {
  type: string;
  shop: string;
  payload?: unknown;
  /** Not claimed before this time; default: as soon as possible. */
  runAt?: Date;
  /** At most one pending/running/failed job with this key per shop: a second enqueue returns the first. */
  dedupeKey?: string;
  maxAttempts?: number;
  /** Why the job was enqueued (shown by `shopml jobs list`). */
  reason?: string;
  /** The job concerns this customer / order: customers/redact deletes it. */
  customerId?: string;
  orderId?: string;
  /** Enqueue time (created_at); default the wall clock. Pass deps.now() in the server. */
  now?: Date;
}

export const DEFAULT_MAX_ATTEMPTS = 5;

export class JobError extends Error {
  readonly code: 'invalid' | 'not_found' | 'conflict';
  constructor(code: JobError['code'], message: string) {
    super(message);
    this.name = 'JobError';
    this.code = code;
  }
}

export function enqueueJob(db: Db, job: JobInput): { id: number; created: boolean } {
  if (typeof job.type !== 'string' || !/^[a-z][a-z0-9_.:-]{0,63}$/.test(job.type)) throw new JobError('invalid', `job type must be a short lowercase name (got ${JSON.stringify(job.type)})`);
  if (typeof job.shop !== 'string' || job.shop.length === 0) throw new JobError('invalid', 'job shop is required');
  const maxAttempts = job.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1 || maxAttempts > 100) throw new JobError('invalid', `maxAttempts must be a whole number from 1 to 100 (got ${maxAttempts})`);
  if (job.runAt !== undefined && Number.isNaN(job.runAt.getTime())) throw new JobError('invalid', 'runAt is not a valid date');
  const payload = JSON.stringify(job.payload ?? null);
  if (payload === undefined) throw new JobError('invalid', 'payload must be JSON-serialisable');
  const now = (job.now ?? new Date()).toISOString();
  return db.transaction(() => {
    if (job.dedupeKey !== undefined) {
      const existing = db.prepare(`SELECT id FROM jobs WHERE shop = ? AND dedupe_key = ? AND status IN ${UNFINISHED}`).pluck().get(job.shop, job.dedupeKey) as number | undefined;
      if (existing !== undefined) return { id: existing, created: false };
    }
    const id = Number(db.prepare(`INSERT INTO jobs (shop, type, payload, reason, status, run_at, max_attempts, dedupe_key, customer_id, order_id, created_at)
      VALUES (?, ?, ?, ?, 'pending', ?, ?, ?, ?, ?, ?)`)
      .run(job.shop, job.type, payload, job.reason ?? null, job.runAt ? job.runAt.toISOString() : null, maxAttempts, job.dedupeKey ?? null,
        job.customerId ?? null, job.orderId ?? null, now).lastInsertRowid);
    return { id, created: true };
  }).immediate();
}

export interface JobRecord {
  id: number;
  shop: string;
  type: string;
  payload: unknown;
  reason: string | null;
  status: JobStatus;
  runAt: string | null;
  attempts: number;
  maxAttempts: number;
  leaseOwner: string | null;
  leaseUntil: string | null;
  heartbeatAt: string | null;
  lastError: string | null;
  dedupeKey: string | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  result: unknown;
}

interface JobRow {
  id: number; shop: string; type: string; payload: string; reason: string | null; status: JobStatus; run_at: string | null;
  attempts: number; max_attempts: number; lease_owner: string | null; lease_until: string | null; heartbeat_at: string | null;
  last_error: string | null; dedupe_key: string | null; created_at: string; started_at: string | null; finished_at: string | null; result: string | null;
}

const parse = (s: string | null): unknown => (s === null ? null : JSON.parse(s));

function record(r: JobRow): JobRecord {
  return {
    id: r.id, shop: r.shop, type: r.type, payload: parse(r.payload), reason: r.reason, status: r.status, runAt: r.run_at,
    attempts: r.attempts, maxAttempts: r.max_attempts, leaseOwner: r.lease_owner, leaseUntil: r.lease_until, heartbeatAt: r.heartbeat_at,
    lastError: r.last_error, dedupeKey: r.dedupe_key, createdAt: r.created_at, startedAt: r.started_at, finishedAt: r.finished_at, result: parse(r.result),
  };
}

/** How many jobs may run at once, counted over every runner on the database (live leases only). */
export interface ConcurrencyLimits {
  /** All types together. */
  global?: number;
  /** Per type, over every shop (e.g. train: 1 on a small machine). */
  perType?: Record<string, number>;
  /** Per type within one shop (e.g. train: 1 — one training of a shop at a time). */
  perShopType?: Record<string, number>;
}

export const DEFAULT_LIMITS: Required<ConcurrencyLimits> = { global: 2, perType: { train: 1 }, perShopType: { train: 1 } };

/** What identifies one claim of a job: its id, the runner and the attempt number. */
export interface Lease { id: number; owner: string; attempt: number }

export interface ClaimOptions {
  owner: string;
  now: Date;
  leaseMs: number;
  /** Only these types (the runner's handlers); default every type. */
  types?: string[];
  limits?: ConcurrencyLimits;
}

// The running jobs with a live lease are counted once (a handful of rows, found through the
// jobs_lease index). Candidates: first a job whose lease ran out (its worker is gone), then the
// oldest ready pending/failed job, read in order from the partial index jobs_claim — no sort,
// however many jobs wait.
const FILTERS = `
    AND (@types IS NULL OR c.type IN (SELECT value FROM json_each(@types)))
    AND c.type NOT IN (SELECT type FROM type_full)
    AND (c.type, c.shop) NOT IN (SELECT type, shop FROM shop_full)
    AND (SELECT count(*) FROM live) < @global`;
const claimSql = `
WITH live AS (SELECT type, shop FROM jobs WHERE status = 'running' AND lease_until > @now),
type_full AS (SELECT type FROM live GROUP BY type
  HAVING count(*) >= coalesce((SELECT value FROM json_each(@perType) WHERE key = live.type), 1e9)),
shop_full AS (SELECT type, shop FROM live GROUP BY type, shop
  HAVING count(*) >= coalesce((SELECT value FROM json_each(@perShopType) WHERE key = live.type), 1e9))
UPDATE jobs SET status = 'running', attempts = attempts + 1, lease_owner = @owner, lease_until = @leaseUntil,
  heartbeat_at = @now, started_at = @now, finished_at = NULL
WHERE id = coalesce(
  (SELECT c.id FROM jobs c WHERE c.status = 'running' AND c.lease_until <= @now AND c.attempts < c.max_attempts ${FILTERS}
    ORDER BY c.lease_until, c.id LIMIT 1),
  (SELECT c.id FROM jobs c INDEXED BY jobs_claim WHERE c.status IN ('pending', 'failed') AND (c.run_at IS NULL OR c.run_at <= @now) ${FILTERS}
    ORDER BY coalesce(c.run_at, c.created_at), c.id LIMIT 1)
)
RETURNING *`;

/**
 * Claims the next ready job, atomically: one UPDATE … RETURNING in an IMMEDIATE transaction, so
 * two runners (threads or processes on the same file) never get the same job, and the limits
 * are checked against the same state the claim writes. A running job whose lease ran out is
 * ready again (its worker is gone). Returns null when nothing is ready within the limits.
 */
export function claimJob(db: Db, o: ClaimOptions): JobRecord | null {
  const limits = { ...DEFAULT_LIMITS, ...o.limits };
  const now = o.now.toISOString();
  return db.transaction(() => {
    expireLeases(db, o.now);
    const row = db.prepare(claimSql).get({
      owner: o.owner, now, leaseUntil: new Date(o.now.getTime() + o.leaseMs).toISOString(),
      types: o.types ? JSON.stringify(o.types) : null,
      global: limits.global, perType: JSON.stringify(limits.perType), perShopType: JSON.stringify(limits.perShopType),
    }) as JobRow | undefined;
    return row ? record(row) : null;
  }).immediate();
}

/**
 * Whether a claim could find anything (ignoring the limits): a plain read, no write lock, so an
 * idle runner polling every second never contends with webhook writes.
 */
export function hasReadyJob(db: Db, now: Date, types?: string[]): boolean {
  const t = now.toISOString();
  return db.prepare(`SELECT EXISTS (SELECT 1 FROM jobs c INDEXED BY jobs_claim WHERE c.status IN ('pending', 'failed') AND (c.run_at IS NULL OR c.run_at <= @t)
        AND (@types IS NULL OR c.type IN (SELECT value FROM json_each(@types))))
      OR EXISTS (SELECT 1 FROM jobs c WHERE c.status = 'running' AND c.lease_until <= @t)`).pluck()
    .get({ t, types: types ? JSON.stringify(types) : null }) === 1;
}

/** Running jobs whose lease ran out with no attempts left: dead, with the reason. */
export function expireLeases(db: Db, now: Date): number {
  return db.prepare(`UPDATE jobs SET status = 'dead', finished_at = @now, lease_owner = NULL, lease_until = NULL,
      last_error = 'lease expired on attempt ' || attempts || ' of ' || max_attempts || ' (the worker stopped heartbeating: killed or stalled)'
        || coalesce('; previous error: ' || last_error, '')
    WHERE status = 'running' AND lease_until <= @now AND attempts >= max_attempts`).run({ now: now.toISOString() }).changes;
}

const OWNS = `id = @id AND lease_owner = @owner AND attempts = @attempt AND status = 'running'`;

/** Extends the lease; false when it was lost (expired and taken over, or released). */
export function heartbeatJob(db: Db, lease: Lease, now: Date, leaseMs: number): boolean {
  return db.prepare(`UPDATE jobs SET lease_until = @until, heartbeat_at = @now WHERE ${OWNS}`)
    .run({ ...lease, now: now.toISOString(), until: new Date(now.getTime() + leaseMs).toISOString() }).changes === 1;
}

/** Records success; false when the lease was lost (another runner owns the job now). */
export function completeJob(db: Db, lease: Lease, now: Date, result: unknown): boolean {
  const json = JSON.stringify(result ?? null) ?? 'null';
  return db.prepare(`UPDATE jobs SET status = 'done', finished_at = @now, result = @result, lease_owner = NULL, lease_until = NULL WHERE ${OWNS}`)
    .run({ ...lease, now: now.toISOString(), result: json }).changes === 1;
}

export interface BackoffPolicy {
  /** Delay after the first failed attempt (ms); doubles with each further attempt. */
  baseMs: number;
  /** Cap on the delay (ms). */
  maxMs: number;
  /** 0..1: the delay is drawn uniformly from [(1 − jitter)·d, d], so retries of many jobs spread out. */
  jitter: number;
  /** Cap on the wait between tries of a job deferred by an outage (ms); default 5 min. */
  outageMaxMs?: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { baseMs: 30_000, maxMs: 3_600_000, jitter: 0.5, outageMaxMs: 300_000 };

/** The wait before the next attempt after `attempt` failed attempts; `u` uniform in [0, 1). */
export function backoffMs(attempt: number, policy: BackoffPolicy, u: number): number {
  const d = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(d * (1 - policy.jitter * u));
}

/**
 * The wait before trying again a job deferred by an outage (its attempt not counted, so the
 * attempt number cannot space the tries out): half the job's age, at least baseMs, at most
 * outageMaxMs — tries thin out geometrically while the outage lasts — with the same jitter.
 */
export function outageDelayMs(ageMs: number, policy: BackoffPolicy, u: number): number {
  const d = Math.min(policy.outageMaxMs ?? 300_000, Math.max(policy.baseMs, ageMs / 2));
  return Math.round(d * (1 - policy.jitter * u));
}

/**
 * Records a failed attempt: `failed` with run_at = now + delay when attempts remain and the error
 * is not permanent, else `dead`. Null when the lease was lost (the outcome belongs to the new owner).
 * `countAttempt: false` (a dependency outage, not the job's fault): `failed` whatever the
 * attempts, and the attempt is given back as releaseJob does.
 */
export function failJob(db: Db, lease: Lease, now: Date, error: string, o: { permanent: boolean; delayMs: number; countAttempt?: boolean }): 'failed' | 'dead' | null {
  const counted = o.permanent || o.countAttempt !== false;
  const p = { ...lease, now: now.toISOString(), error: error.slice(0, 8000), runAt: new Date(now.getTime() + o.delayMs).toISOString(), permanent: o.permanent ? 1 : 0, counted: counted ? 1 : 0 };
  const r = db.prepare(`UPDATE jobs SET
      status = CASE WHEN @permanent = 1 OR (@counted = 1 AND attempts >= max_attempts) THEN 'dead' ELSE 'failed' END,
      run_at = CASE WHEN @permanent = 1 OR (@counted = 1 AND attempts >= max_attempts) THEN run_at ELSE @runAt END,
      finished_at = CASE WHEN @permanent = 1 OR (@counted = 1 AND attempts >= max_attempts) THEN @now ELSE NULL END,
      attempts = attempts - (1 - @counted),
      last_error = @error, lease_owner = NULL, lease_until = NULL
    WHERE ${OWNS} RETURNING status`).get(p) as { status: 'failed' | 'dead' } | undefined;
  return r?.status ?? null;
}

/**
 * Gives a running job back without counting the attempt (graceful shutdown): pending again, ready
 * at once, so the next runner starts it over.
 */
export function releaseJob(db: Db, lease: Lease, now: Date, why: string): boolean {
  return db.prepare(`UPDATE jobs SET status = 'pending', attempts = attempts - 1, run_at = NULL, lease_owner = NULL, lease_until = NULL,
      last_error = @why, heartbeat_at = @now WHERE ${OWNS}`).run({ ...lease, now: now.toISOString(), why }).changes === 1;
}

/**
 * An operator's retry: a dead (or failed) job becomes pending with a fresh set of attempts;
 * last_error stays until the next attempt overwrites it.
 */
export function retryJob(db: Db, id: number, now: Date): JobRecord {
  return db.transaction(() => {
    const job = getJob(db, id);
    if (!job) throw new JobError('not_found', `no job ${id}`);
    if (job.status !== 'dead' && job.status !== 'failed') throw new JobError('conflict', `job ${id} is ${job.status}; only dead or failed jobs can be retried`);
    if (job.dedupeKey !== null) {
      const other = db.prepare(`SELECT id FROM jobs WHERE shop = ? AND dedupe_key = ? AND status IN ${UNFINISHED} AND id != ?`).pluck().get(job.shop, job.dedupeKey, id) as number | undefined;
      if (other !== undefined) throw new JobError('conflict', `job ${other} (same shop and dedupe key "${job.dedupeKey}") is still to run; retry that one instead`);
    }
    db.prepare(`UPDATE jobs SET status = 'pending', attempts = 0, run_at = NULL, finished_at = NULL, heartbeat_at = ? WHERE id = ?`).run(now.toISOString(), id);
    return getJob(db, id)!;
  }).immediate();
}

export function getJob(db: Db, id: number): JobRecord | null {
  const r = db.prepare('SELECT * FROM jobs WHERE id = ?').get(id) as JobRow | undefined;
  return r ? record(r) : null;
}

export interface ListJobsFilter { shop?: string; status?: JobStatus; type?: string; limit?: number }

/** Newest first. */
export function listJobs(db: Db, f: ListJobsFilter = {}): JobRecord[] {
  const where: string[] = [];
  const args: unknown[] = [];
  if (f.shop !== undefined) { where.push('shop = ?'); args.push(f.shop); }
  if (f.status !== undefined) { where.push('status = ?'); args.push(f.status); }
  if (f.type !== undefined) { where.push('type = ?'); args.push(f.type); }
  const rows = db.prepare(`SELECT * FROM jobs ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?`)
    .all(...args, f.limit ?? 100) as JobRow[];
  return rows.map(record);
}

/** Counts per status (for /api/v1/jobs and the CLI summary). */
export function jobCounts(db: Db, shop?: string): Record<JobStatus, number> {
  const out = Object.fromEntries(JOB_STATUSES.map((s) => [s, 0])) as Record<JobStatus, number>;
  const rows = db.prepare(`SELECT status, count(*) AS n FROM jobs ${shop ? 'WHERE shop = ?' : ''} GROUP BY status`).all(...(shop ? [shop] : [])) as { status: JobStatus; n: number }[];
  for (const r of rows) out[r.status] = r.n;
  return out;
}

/** Deletes done jobs finished before `before` (the table keeps failures until retried or pruned by hand). */
export function pruneDoneJobs(db: Db, before: Date): number {
  return db.prepare(`DELETE FROM jobs WHERE status = 'done' AND finished_at < ?`).run(before.toISOString()).changes;
}
