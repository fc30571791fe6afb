// The job queue's semantics on a real SQLite file: atomic claims across connections and threads,
// leases that expire and are taken over, retries with exponential backoff and jitter, the dead
// letter keeping the last error, dedupe keys, and the concurrency limits.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { openDb, type Db } from '../../backend/src/store/db.ts';
import {
  backoffMs, outageDelayMs, claimJob, completeJob, enqueueJob, expireLeases, failJob, getJob, hasReadyJob, heartbeatJob, JobError, listJobs, pruneDoneJobs, releaseJob, retryJob,
  type ConcurrencyLimits, type Lease,
} from '../../backend/src/jobs/queue.ts';

const SHOP = 'queue-shop.myshopify.com';
const OTHER = 'other-queue.myshopify.com';
const T0 = new Date('2026-03-02T10:00:00.000Z');
const at = (ms: number) => new Date(T0.getTime() + ms);
const NO_LIMITS: ConcurrencyLimits = { global: 1000, perType: {}, perShopType: {} };

let dir: string;
let path: string;
let a: Db;
let b: Db;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'shopml-jobs-queue-'));
  path = join(dir, 'db.sqlite');
  a = openDb(path);
  b = openDb(path); // a second connection to the same file, as a second process would have
});
afterEach(() => {
  a.close();
  b.close();
  rmSync(dir, { recursive: true, force: true });
});

const lease = (j: { id: number; attempts: number }, owner: string): Lease => ({ id: j.id, owner, attempt: j.attempts });

describe('enqueue', () => {
  it('stores the job pending with its payload, reason and attempts', () => {
    const r = enqueueJob(a, { type: 'train', shop: SHOP, payload: { kinds: ['churn'] }, reason: 'manual', maxAttempts: 3, now: T0 });
    expect(r).toEqual({ id: 1, created: true });
    expect(getJob(b, r.id)).toMatchObject({ status: 'pending', payload: { kinds: ['churn'] }, reason: 'manual', attempts: 0, maxAttempts: 3, runAt: null, createdAt: T0.toISOString() });
  });

  it('rejects a malformed job with a clear error and stores nothing', () => {
    expect(() => enqueueJob(a, { type: 'Train Me', shop: SHOP })).toThrow(/job type must be a short lowercase name/);
    expect(() => enqueueJob(a, { type: 'train', shop: '' })).toThrow(/shop is required/);
    expect(() => enqueueJob(a, { type: 'train', shop: SHOP, maxAttempts: 0 })).toThrow(/maxAttempts must be a whole number from 1 to 100/);
    expect(() => enqueueJob(a, { type: 'train', shop: SHOP, runAt: new Date('nope') })).toThrow(/runAt is not a valid date/);
    expect(listJobs(a)).toHaveLength(0);
  });

  it('dedupe key: at most one unfinished job per shop and key; a finished one does not block', () => {
    const first = enqueueJob(a, { type: 'train', shop: SHOP, dedupeKey: 'train', now: T0 });
    expect(enqueueJob(b, { type: 'train', shop: SHOP, dedupeKey: 'train', now: T0 })).toEqual({ id: first.id, created: false });
    expect(enqueueJob(b, { type: 'train', shop: OTHER, dedupeKey: 'train', now: T0 }).created).toBe(true);
    const j = claimJob(a, { owner: 'r1', now: T0, leaseMs: 1000, limits: NO_LIMITS })!;
    expect(j.id).toBe(first.id);
    expect(enqueueJob(b, { type: 'train', shop: SHOP, dedupeKey: 'train', now: T0 })).toEqual({ id: first.id, created: false }); // running still counts
    expect(completeJob(a, lease(j, 'r1'), at(10), { ok: true })).toBe(true);
    const next = enqueueJob(b, { type: 'train', shop: SHOP, dedupeKey: 'train', now: at(20) });
    expect(next.created).toBe(true);
    expect(next.id).not.toBe(first.id);
    // The unique index backs the check: a raw insert of a duplicate fails.
    expect(() => b.prepare(`INSERT INTO jobs (shop, type, status, created_at, dedupe_key) VALUES (?, 'train', 'pending', ?, 'train')`).run(SHOP, T0.toISOString())).toThrow(/UNIQUE/);
  });
});

describe('claim', () => {
  it('two connections never get the same job; the claim counts the attempt and sets the lease', () => {
    enqueueJob(a, { type: 'x', shop: SHOP, now: T0 });
    enqueueJob(a, { type: 'x', shop: SHOP, now: T0 });
    const j1 = claimJob(a, { owner: 'A', now: T0, leaseMs: 30_000, limits: NO_LIMITS })!;
    const j2 = claimJob(b, { owner: 'B', now: T0, leaseMs: 30_000, limits: NO_LIMITS })!;
    expect([j1.id, j2.id].sort()).toEqual([1, 2]);
    expect(j1).toMatchObject({ status: 'running', attempts: 1, leaseOwner: 'A', leaseUntil: at(30_000).toISOString(), startedAt: T0.toISOString() });
    expect(claimJob(b, { owner: 'B', now: at(1000), leaseMs: 30_000, limits: NO_LIMITS })).toBeNull();
  });

  it('four threads with their own connections racing over 400 jobs: each job claimed exactly once', async () => {
    const insert = a.prepare(`INSERT INTO jobs (shop, type, status, created_at) VALUES (?, 'x', 'pending', ?)`);
    a.transaction(() => { for (let i = 0; i < 400; i++) insert.run(i % 2 ? SHOP : OTHER, T0.toISOString()); })();
    const start = new Int32Array(new SharedArrayBuffer(8)); // [0] go, [1] threads ready
    const workers = ['w1', 'w2', 'w3', 'w4'].map((owner) => new Worker(new URL('../helpers/jobs-claim-worker.ts', import.meta.url), { workerData: { path, owner, start } }));
    const results = workers.map((w) => new Promise<number[]>((resolve, reject) => { w.once('message', resolve); w.once('error', reject); }));
    // Every thread has opened its connection and waits (a fixed pause was not enough on a loaded
    // machine: one thread could claim all 400 before the others had started).
    const readyBy = Date.now() + 20_000;
    while (Atomics.load(start, 1) < workers.length && Date.now() < readyBy) await new Promise((r) => setTimeout(r, 10));
    expect(Atomics.load(start, 1), 'threads ready').toBe(workers.length);
    Atomics.store(start, 0, 1);
    Atomics.notify(start, 0);
    const claimed = await Promise.all(results);
    const all = claimed.flat();
    expect(all).toHaveLength(400);
    expect(new Set(all).size).toBe(400);
    expect(claimed.filter((c) => c.length > 0).length).toBeGreaterThan(1); // they really raced
    expect(a.prepare(`SELECT count(*) FROM jobs WHERE status = 'done' AND attempts = 1`).pluck().get()).toBe(400);
    const byOwner = a.prepare(`SELECT json_extract(result, '$.by') AS o, count(*) AS n FROM jobs GROUP BY o`).all() as { o: string; n: number }[];
    expect(Object.fromEntries(byOwner.map((r) => [r.o, r.n]))).toEqual(Object.fromEntries(['w1', 'w2', 'w3', 'w4'].map((w, i) => [w, claimed[i]!.length]).filter(([, n]) => n !== 0)));
  }, 30_000);

  it('honours run_at and runs the oldest ready job first', () => {
    enqueueJob(a, { type: 'x', shop: SHOP, runAt: at(60_000), now: T0 });
    enqueueJob(a, { type: 'x', shop: SHOP, now: at(1) });
    expect(claimJob(a, { owner: 'A', now: at(2), leaseMs: 600_000, limits: NO_LIMITS })!.id).toBe(2);
    expect(claimJob(a, { owner: 'A', now: at(59_999), leaseMs: 600_000, limits: NO_LIMITS })).toBeNull();
    expect(claimJob(a, { owner: 'A', now: at(60_000), leaseMs: 600_000, limits: NO_LIMITS })!.id).toBe(1);
  });

  it('hasReadyJob answers without a write lock: ready, not yet, an abandoned lease', () => {
    enqueueJob(a, { type: 'x', shop: SHOP, runAt: at(1000), now: T0 });
    expect(hasReadyJob(b, at(999))).toBe(false);
    expect(hasReadyJob(b, at(1000))).toBe(true);
    expect(hasReadyJob(b, at(1000), ['y'])).toBe(false);
    claimJob(a, { owner: 'A', now: at(1000), leaseMs: 500, limits: NO_LIMITS });
    expect(hasReadyJob(b, at(1499))).toBe(false);
    expect(hasReadyJob(b, at(1500))).toBe(true);
    a.exec('BEGIN IMMEDIATE'); // another connection holds the write lock: the check still answers
    try {
      expect(hasReadyJob(b, at(1500))).toBe(true);
    } finally {
      a.exec('ROLLBACK');
    }
  });

  it('claims only the types asked for', () => {
    enqueueJob(a, { type: 'retag', shop: SHOP, now: T0 });
    expect(claimJob(a, { owner: 'A', now: T0, leaseMs: 1000, types: ['train'], limits: NO_LIMITS })).toBeNull();
    expect(claimJob(a, { owner: 'A', now: T0, leaseMs: 1000, types: ['train', 'retag'], limits: NO_LIMITS })!.type).toBe('retag');
  });
});

describe('leases', () => {
  it('heartbeats keep a job; an expired lease is taken over once, and the old owner can no longer write', () => {
    enqueueJob(a, { type: 'x', shop: SHOP, now: T0 });
    const j = claimJob(a, { owner: 'A', now: T0, leaseMs: 1000, limits: NO_LIMITS })!;
    expect(heartbeatJob(a, lease(j, 'A'), at(900), 1000)).toBe(true); // lease now until +1900
    expect(claimJob(b, { owner: 'B', now: at(1500), leaseMs: 1000, limits: NO_LIMITS })).toBeNull();
    const taken = claimJob(b, { owner: 'B', now: at(1900), leaseMs: 1000, limits: NO_LIMITS })!;
    expect(taken).toMatchObject({ id: j.id, attempts: 2, leaseOwner: 'B' });
    expect(claimJob(a, { owner: 'A', now: at(1901), leaseMs: 1000, limits: NO_LIMITS })).toBeNull(); // taken over exactly once
    expect(heartbeatJob(a, lease(j, 'A'), at(1950), 1000)).toBe(false);
    expect(completeJob(a, lease(j, 'A'), at(1960), 'stale')).toBe(false);
    expect(failJob(a, lease(j, 'A'), at(1960), 'stale', { permanent: false, delayMs: 0 })).toBeNull();
    expect(completeJob(b, lease(taken, 'B'), at(2000), 'fresh')).toBe(true);
    expect(getJob(a, j.id)).toMatchObject({ status: 'done', result: 'fresh', attempts: 2, leaseOwner: null });
  });

  it('an expired lease with no attempts left goes to the dead letter with the reason', () => {
    enqueueJob(a, { type: 'x', shop: SHOP, maxAttempts: 1, now: T0 });
    claimJob(a, { owner: 'A', now: T0, leaseMs: 1000, limits: NO_LIMITS });
    expect(expireLeases(b, at(999))).toBe(0);
    expect(claimJob(b, { owner: 'B', now: at(1000), leaseMs: 1000, limits: NO_LIMITS })).toBeNull(); // claim sweeps it first
    expect(getJob(b, 1)).toMatchObject({ status: 'dead', finishedAt: at(1000).toISOString(), lastError: expect.stringMatching(/^lease expired on attempt 1 of 1/) });
  });

  it('release (shutdown) gives the job back without counting the attempt', () => {
    enqueueJob(a, { type: 'x', shop: SHOP, maxAttempts: 1, now: T0 });
    const j = claimJob(a, { owner: 'A', now: T0, leaseMs: 60_000, limits: NO_LIMITS })!;
    expect(releaseJob(a, lease(j, 'A'), at(5), 'stopping')).toBe(true);
    expect(getJob(a, j.id)).toMatchObject({ status: 'pending', attempts: 0, leaseOwner: null, lastError: 'stopping' });
    expect(claimJob(b, { owner: 'B', now: at(6), leaseMs: 60_000, limits: NO_LIMITS })).toMatchObject({ id: j.id, attempts: 1 });
  });
});

describe('retries and the dead letter', () => {
  it('backoff doubles per attempt up to the cap, jitter only shortens it, within [(1−j)·d, d]', () => {
    const p = { baseMs: 1000, maxMs: 10_000, jitter: 0.5 };
    expect([1, 2, 3, 4, 5].map((n) => backoffMs(n, p, 0))).toEqual([1000, 2000, 4000, 8000, 10_000]);
    expect(backoffMs(3, p, 0.999999)).toBe(2000);
    expect(backoffMs(3, p, 0.5)).toBe(3000);
    expect(backoffMs(3, { ...p, jitter: 0 }, 0.7)).toBe(4000);
  });

  it('a failed attempt waits its backoff, then runs again; the last failure goes dead and keeps its error', () => {
    enqueueJob(a, { type: 'x', shop: SHOP, maxAttempts: 3, now: T0 });
    let j = claimJob(a, { owner: 'A', now: T0, leaseMs: 1000, limits: NO_LIMITS })!;
    expect(failJob(a, lease(j, 'A'), at(10), 'boom 1', { permanent: false, delayMs: 5000 })).toBe('failed');
    expect(getJob(a, j.id)).toMatchObject({ status: 'failed', runAt: at(5010).toISOString(), lastError: 'boom 1', leaseOwner: null });
    expect(claimJob(b, { owner: 'B', now: at(5009), leaseMs: 1000, limits: NO_LIMITS })).toBeNull();
    j = claimJob(b, { owner: 'B', now: at(5010), leaseMs: 1000, limits: NO_LIMITS })!;
    expect(j.attempts).toBe(2);
    expect(failJob(b, lease(j, 'B'), at(5020), 'boom 2', { permanent: false, delayMs: 10 })).toBe('failed');
    j = claimJob(a, { owner: 'A', now: at(5030), leaseMs: 1000, limits: NO_LIMITS })!;
    expect(failJob(a, lease(j, 'A'), at(5040), 'boom 3', { permanent: false, delayMs: 10 })).toBe('dead');
    expect(getJob(a, j.id)).toMatchObject({ status: 'dead', attempts: 3, lastError: 'boom 3', finishedAt: at(5040).toISOString() });
    expect(claimJob(a, { owner: 'A', now: at(99_999), leaseMs: 1000, limits: NO_LIMITS })).toBeNull();
  });

  it('an outage deferral (countAttempt: false) never goes dead and gives the attempt back; tries thin out with the job\'s age', () => {
    enqueueJob(a, { type: 'x', shop: SHOP, maxAttempts: 2, now: T0 });
    for (let i = 0; i < 5; i++) {
      const j = claimJob(a, { owner: 'A', now: at(i * 1000), leaseMs: 500, limits: NO_LIMITS })!;
      expect(j.attempts).toBe(1);
      expect(failJob(a, lease(j, 'A'), at(i * 1000 + 10), 'Admin API unavailable', { permanent: false, delayMs: 100, countAttempt: false })).toBe('failed');
      expect(getJob(a, j.id)).toMatchObject({ status: 'failed', attempts: 0, runAt: at(i * 1000 + 110).toISOString(), lastError: 'Admin API unavailable' });
    }
    const j = claimJob(a, { owner: 'A', now: at(9000), leaseMs: 500, limits: NO_LIMITS })!;
    expect(failJob(a, lease(j, 'A'), at(9010), 'a real failure', { permanent: false, delayMs: 100 })).toBe('failed'); // counted: 1 of 2
    const k = claimJob(a, { owner: 'A', now: at(9200), leaseMs: 500, limits: NO_LIMITS })!;
    expect(failJob(a, lease(k, 'A'), at(9210), 'permanent wins', { permanent: true, delayMs: 100, countAttempt: false })).toBe('dead');
    const p = { baseMs: 1000, maxMs: 10_000, jitter: 0.5, outageMaxMs: 60_000 };
    expect([0, 1000, 4000, 30_000, 600_000].map((age) => outageDelayMs(age, p, 0))).toEqual([1000, 1000, 2000, 15_000, 60_000]);
    expect(outageDelayMs(30_000, p, 0.999999)).toBe(7500);
  });

  it('a permanent error goes dead at once; retry makes it pending with fresh attempts', () => {
    enqueueJob(a, { type: 'x', shop: SHOP, maxAttempts: 5, dedupeKey: 'k', now: T0 });
    const j = claimJob(a, { owner: 'A', now: T0, leaseMs: 1000, limits: NO_LIMITS })!;
    expect(failJob(a, lease(j, 'A'), at(1), 'bad payload', { permanent: true, delayMs: 1000 })).toBe('dead');
    expect(getJob(a, j.id)).toMatchObject({ status: 'dead', attempts: 1, lastError: 'bad payload' });
    // While a newer job with the same dedupe key is open, retrying this one would make two.
    const other = enqueueJob(a, { type: 'x', shop: SHOP, dedupeKey: 'k', now: at(2) });
    expect(other.created).toBe(true);
    expect(() => retryJob(b, j.id, at(3))).toThrow(JobError);
    expect(() => retryJob(b, j.id, at(3))).toThrow(/still to run; retry that one instead/);
    a.prepare('DELETE FROM jobs WHERE id = ?').run(other.id);
    expect(retryJob(b, j.id, at(4))).toMatchObject({ status: 'pending', attempts: 0, runAt: null, finishedAt: null, lastError: 'bad payload' });
    expect(claimJob(a, { owner: 'A', now: at(5), leaseMs: 1000, limits: NO_LIMITS })).toMatchObject({ id: j.id, attempts: 1 });
    expect(() => retryJob(b, j.id, at(6))).toThrow(/is running; only dead or failed jobs can be retried/);
    expect(() => retryJob(b, 999, at(6))).toThrow(/no job 999/);
  });
});

describe('pruning', () => {
  it('deletes done jobs finished before the cut, never failed or dead ones', () => {
    for (const [i, outcome] of (['done', 'done', 'dead'] as const).entries()) {
      enqueueJob(a, { type: 'x', shop: SHOP, maxAttempts: 1, now: T0 });
      const j = claimJob(a, { owner: 'A', now: T0, leaseMs: 1000, limits: NO_LIMITS })!;
      if (outcome === 'done') completeJob(a, lease(j, 'A'), at(i * 1000), null);
      else failJob(a, lease(j, 'A'), at(0), 'x', { permanent: true, delayMs: 0 });
    }
    expect(pruneDoneJobs(a, at(500))).toBe(1);
    expect(listJobs(a).map((j) => j.status).sort()).toEqual(['dead', 'done']);
  });
});

describe('concurrency limits', () => {
  const claim = (db: Db, owner: string, ms: number, limits: ConcurrencyLimits, types?: string[]) => claimJob(db, { owner, now: at(ms), leaseMs: 1000, limits, types });

  it('one train per shop at a time; other shops and types go ahead up to the global limit', () => {
    const a1 = enqueueJob(a, { type: 'train', shop: SHOP, now: T0 }).id;
    enqueueJob(a, { type: 'train', shop: SHOP, now: T0 });
    const b1 = enqueueJob(a, { type: 'train', shop: OTHER, now: T0 }).id;
    const x = enqueueJob(a, { type: 'retag', shop: SHOP, now: T0 }).id;
    enqueueJob(a, { type: 'retag', shop: OTHER, now: T0 });
    const limits: ConcurrencyLimits = { global: 3, perType: { train: 5 }, perShopType: { train: 1 } };
    expect(claim(a, 'A', 0, limits)!.id).toBe(a1);
    expect(claim(b, 'B', 0, limits)!.id).toBe(b1); // SHOP's second train waits: one per shop
    expect(claim(b, 'B', 0, limits)!.id).toBe(x); // other types are not held up
    expect(claim(a, 'A', 0, limits)).toBeNull(); // global limit 3 reached (OTHER's retag waits)
    expect(claim(a, 'A', 0, { ...limits, global: 10 })!.type).toBe('retag'); // room again: the retag, still not SHOP's train
    expect(claim(a, 'A', 0, { ...limits, global: 10 })).toBeNull();
  });

  it('a per-type limit counts every shop', () => {
    enqueueJob(a, { type: 'train', shop: SHOP, now: T0 });
    enqueueJob(a, { type: 'train', shop: OTHER, now: T0 });
    enqueueJob(a, { type: 'retag', shop: OTHER, now: T0 });
    const limits: ConcurrencyLimits = { global: 10, perType: { train: 1 }, perShopType: {} };
    expect(claim(a, 'A', 0, limits)!.shop).toBe(SHOP);
    expect(claim(b, 'B', 0, limits, ['train'])).toBeNull();
    expect(claim(b, 'B', 0, limits)!.type).toBe('retag');
  });

  it('a lease that ran out no longer holds a slot', () => {
    enqueueJob(a, { type: 'x', shop: SHOP, now: T0 });
    enqueueJob(a, { type: 'x', shop: SHOP, now: T0 });
    const limits: ConcurrencyLimits = { global: 1, perType: {}, perShopType: {} };
    expect(claim(a, 'A', 0, limits)!.id).toBe(1);
    expect(claim(b, 'B', 999, limits)).toBeNull();
    const next = claim(b, 'B', 1000, limits)!;
    expect(next).toMatchObject({ id: 1, attempts: 2, leaseOwner: 'B' }); // the abandoned job first
    expect(claim(a, 'A', 1001, limits)).toBeNull(); // and B's live lease holds the one slot
  });
});
