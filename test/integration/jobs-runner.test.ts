// The job runner on a real database file with the real group writer: results, retries with
// backoff (on a clock the test moves), the dead letter, heartbeats that keep a long job's lease,
// a lease taken over by another runner (the first one is aborted and its outcome discarded), a
// graceful stop that gives a running job back, and the concurrency limit across two runners.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../backend/src/config.ts';
import { createDeps } from '../../backend/src/runtime.ts';
import type { AppDeps } from '../../backend/src/app.ts';
import { enqueueJob, getJob } from '../../backend/src/jobs/queue.ts';
import { createJobRunner, type JobOutcome } from '../../backend/src/jobs/runner.ts';
import { PermanentJobError, RetryableJobError, type JobHandler } from '../../backend/src/jobs/handlers.ts';
import { testEnv } from '../helpers/backend.ts';

const SHOP = 'runner-shop.myshopify.com';
let dir: string;
let opened: AppDeps[] = [];

async function deps(now?: () => Date): Promise<AppDeps> {
  const d = await createDeps(loadConfig(testEnv(dir)), { defaultMetrics: false, now });
  d.jobHandlers.clear();
  opened.push(d);
  return d;
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'shopml-jobs-runner-'));
});
afterEach(async () => {
  for (const d of opened) {
    await d.writer.drain();
    d.db.close();
  }
  opened = [];
  rmSync(dir, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('job runner', () => {
  it('runs a handler with its context and stores what it returns', async () => {
    const d = await deps();
    const seen: unknown[] = [];
    d.jobHandlers.set('echo', async (ctx) => {
      seen.push({ shop: ctx.shop, payload: ctx.payload, jobId: ctx.jobId, attempt: ctx.attempt, aborted: ctx.signal.aborted });
      return { echoed: ctx.payload };
    });
    const { id } = enqueueJob(d.db, { type: 'echo', shop: SHOP, payload: { n: 7 }, now: d.now() });
    enqueueJob(d.db, { type: 'nobody-handles-this', shop: SHOP, now: d.now() });
    const outcomes: JobOutcome[] = [];
    expect(await createJobRunner(d, { onOutcome: (o) => outcomes.push(o) }).drain()).toBe(1);
    expect(seen).toEqual([{ shop: SHOP, payload: { n: 7 }, jobId: id, attempt: 1, aborted: false }]);
    expect(getJob(d.db, id)).toMatchObject({ status: 'done', result: { echoed: { n: 7 } }, attempts: 1, leaseOwner: null });
    expect(outcomes.map((o) => o.state)).toEqual(['done']);
    expect(getJob(d.db, id + 1)!.status).toBe('pending'); // no handler here: left for a runner that has one
  });

  it('retries with exponential backoff on the injected clock, then succeeds', async () => {
    let clock = new Date('2026-05-01T00:00:00.000Z');
    const d = await deps(() => clock);
    let calls = 0;
    d.jobHandlers.set('flaky', async () => {
      calls++;
      if (calls < 3) throw new RetryableJobError(`upstream busy (${calls})`);
      return 'ok';
    });
    const { id } = enqueueJob(d.db, { type: 'flaky', shop: SHOP, now: clock });
    const runner = createJobRunner(d, { backoff: { baseMs: 60_000, maxMs: 3_600_000, jitter: 0.5 }, seed: 1 });
    await runner.drain();
    const first = getJob(d.db, id)!;
    expect(first).toMatchObject({ status: 'failed', attempts: 1, lastError: 'RetryableJobError: upstream busy (1)' });
    const wait1 = Date.parse(first.runAt!) - clock.getTime();
    expect(wait1).toBeGreaterThanOrEqual(30_000);
    expect(wait1).toBeLessThanOrEqual(60_000);
    expect(await runner.drain()).toBe(0); // not before its time
    clock = new Date(Date.parse(first.runAt!));
    await runner.drain();
    const second = getJob(d.db, id)!;
    const wait2 = Date.parse(second.runAt!) - clock.getTime();
    expect(second).toMatchObject({ status: 'failed', attempts: 2 });
    expect(wait2).toBeGreaterThanOrEqual(60_000); // doubled: [(1 − 0.5)·120 s, 120 s]
    expect(wait2).toBeLessThanOrEqual(120_000);
    clock = new Date(Date.parse(second.runAt!));
    await runner.drain();
    expect(getJob(d.db, id)).toMatchObject({ status: 'done', attempts: 3, result: 'ok' });
  });

  it('dead letter: a permanent error at once, any other error after the last attempt; the error is kept', async () => {
    const d = await deps();
    d.jobHandlers.set('bad', async () => { throw new PermanentJobError('payload names no customer'); });
    d.jobHandlers.set('crashy', async () => { throw new TypeError('cannot read x of undefined'); });
    const bad = enqueueJob(d.db, { type: 'bad', shop: SHOP, maxAttempts: 5, now: d.now() }).id;
    const crashy = enqueueJob(d.db, { type: 'crashy', shop: SHOP, maxAttempts: 2, now: d.now() }).id;
    const runner = createJobRunner(d, { backoff: { baseMs: 1, maxMs: 1, jitter: 0 } });
    await runner.drain();
    await sleep(5);
    await runner.drain();
    expect(getJob(d.db, bad)).toMatchObject({ status: 'dead', attempts: 1, lastError: 'PermanentJobError: payload names no customer' });
    const c = getJob(d.db, crashy)!;
    expect(c).toMatchObject({ status: 'dead', attempts: 2 });
    expect(c.lastError).toMatch(/^TypeError: cannot read x of undefined\n\s+at /); // the stack, for whoever looks
  });

  it('heartbeats keep a job longer than its lease; another runner cannot take it meanwhile', async () => {
    const a = await deps();
    const b = await deps();
    const runs: string[] = [];
    const slow: JobHandler = async (ctx) => {
      runs.push(`start ${ctx.attempt}`);
      await sleep(900);
      return 'finished';
    };
    a.jobHandlers.set('slow', slow);
    b.jobHandlers.set('slow', slow);
    const { id } = enqueueJob(a.db, { type: 'slow', shop: SHOP, now: a.now() });
    const ra = createJobRunner(a, { leaseMs: 250, heartbeatMs: 50 });
    const rb = createJobRunner(b, { leaseMs: 250, heartbeatMs: 50 });
    expect(await ra.poll()).toBe(1);
    for (let i = 0; i < 12; i++) {
      expect(await rb.poll()).toBe(0);
      await sleep(60);
    }
    await ra.idle();
    expect(runs).toEqual(['start 1']);
    expect(getJob(a.db, id)).toMatchObject({ status: 'done', attempts: 1, result: 'finished' });
  });

  it('a runner whose lease was taken over is aborted and its outcome discarded', async () => {
    const a = await deps();
    const later = await deps(() => new Date(Date.now() + 10 * 60_000)); // sees A's lease long expired
    const aborted: string[] = [];
    a.jobHandlers.set('stuck', (ctx) => new Promise((_, reject) => ctx.signal.addEventListener('abort', () => { aborted.push(String(ctx.signal.reason)); reject(ctx.signal.reason); })));
    later.jobHandlers.set('stuck', async (ctx) => `done by attempt ${ctx.attempt}`);
    const { id } = enqueueJob(a.db, { type: 'stuck', shop: SHOP, now: a.now() });
    const outcomes: JobOutcome[] = [];
    const ra = createJobRunner(a, { leaseMs: 60_000, heartbeatMs: 40, onOutcome: (o) => outcomes.push(o) });
    await ra.poll();
    expect(await createJobRunner(later, { leaseMs: 60_000 }).drain()).toBe(1);
    await ra.idle();
    expect(aborted).toEqual(['Error: job lease lost']);
    expect(outcomes.map((o) => [o.attempt, o.state])).toEqual([[1, 'lost']]);
    expect(getJob(a.db, id)).toMatchObject({ status: 'done', attempts: 2, result: 'done by attempt 2' });
  });

  it('stop() lets a short job finish, and gives a long one back without counting the attempt', async () => {
    const d = await deps();
    const ended: string[] = [];
    d.jobHandlers.set('short', async () => { await sleep(50); ended.push('short'); return 1; });
    d.jobHandlers.set('long', (ctx) => new Promise((_, reject) => ctx.signal.addEventListener('abort', () => { ended.push('long aborted'); reject(new Error('aborted')); })));
    const s = enqueueJob(d.db, { type: 'short', shop: SHOP, now: d.now() }).id;
    const l = enqueueJob(d.db, { type: 'long', shop: SHOP, maxAttempts: 1, now: d.now() }).id;
    const runner = createJobRunner(d, { limits: { global: 5 } });
    expect(await runner.poll()).toBe(2);
    await runner.stop({ graceMs: 300 });
    expect(ended).toEqual(['short', 'long aborted']);
    expect(getJob(d.db, s)!.status).toBe('done');
    expect(getJob(d.db, l)).toMatchObject({ status: 'pending', attempts: 0, leaseOwner: null, lastError: expect.stringMatching(/^interrupted by shutdown/) });
    expect(await runner.poll()).toBe(0); // stopped: claims nothing more
  });

  it('two runners on one file respect the database-wide limit: one train per shop, never two at once', async () => {
    const a = await deps();
    const b = await deps();
    let inFlight = 0;
    let maxInFlight = 0;
    const train: JobHandler = async () => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await sleep(40);
      inFlight--;
      return null;
    };
    a.jobHandlers.set('train', train);
    b.jobHandlers.set('train', train);
    for (let i = 0; i < 6; i++) enqueueJob(a.db, { type: 'train', shop: SHOP, payload: { i }, now: a.now() });
    const limits = { global: 4, perType: { train: 4 }, perShopType: { train: 1 } };
    const ra = createJobRunner(a, { limits });
    const rb = createJobRunner(b, { limits });
    await Promise.all([ra.drain(), rb.drain(), (async () => { for (let i = 0; i < 20; i++) { await sleep(15); await Promise.all([ra.poll(), rb.poll()]); } })()]);
    await Promise.all([ra.drain(), rb.drain()]);
    expect(maxInFlight).toBe(1);
    expect(a.db.prepare(`SELECT count(*) FROM jobs WHERE status = 'done' AND attempts = 1`).pluck().get()).toBe(6);
  });
});
