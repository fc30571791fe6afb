// The retraining scheduler inside the real server: orders arrive as signed webhooks, the clock
// is the injected deps.now the test moves. It fires on volume (first training, then N new orders
// since the last training's watermark — not at N − 1), on time (not at 6.9 days, at 7), and on a
// plugged-in trigger; every job records its reasons and figures; the runner trains each one.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestBackend, TEST_SECRET, type TestBackend } from '../helpers/backend.ts';
import { recordSimOrders } from '../helpers/sim-data.ts';
import { generateStore } from '../../simulator/store.ts';
import { orderPayload } from '../../simulator/rest-payloads.ts';
import { sendWebhook } from '../../simulator/webhook-sender.ts';
import { getJob, listJobs, type JobRecord } from '../../backend/src/jobs/queue.ts';
import type { TrainedEvent, TrainJobResult } from '../../backend/src/jobs/handlers.ts';
import type { ScheduledRetrain } from '../../backend/src/jobs/scheduler.ts';

const store = generateStore({ seed: 31, customers: 120, products: 30, days: 200, endDate: '2026-03-01' });
const shop = store.shop;
const cut = Date.parse('2026-02-08T00:00:00.000Z');
const history = store.orders.filter((o) => Date.parse(o.createdAt) < cut);
// Live orders arrive one webhook each; test orders (which never count) are left out so the count is exact.
const live = store.orders.filter((o) => Date.parse(o.createdAt) >= cut && !o.test).sort((a, b) => a.createdAt.localeCompare(b.createdAt));
const stored = history.filter((o) => !o.test).length + 1; // the history plus the first live order
const MIN_NEW = 25;
const DAY = 86_400_000;

let clock = new Date(cut);
let be: TestBackend;

beforeAll(async () => {
  be = await startTestBackend(
    { SHOPML_RETRAIN_MIN_NEW_ORDERS: String(MIN_NEW), SHOPML_RETRAIN_INTERVAL_DAYS: '7', SHOPML_RETRAIN_MIN_GAP_MINUTES: '60' },
    { now: () => clock, jobOptions: { scheduler: { autoStart: false, kinds: ['segment'] }, runner: { pollMs: 50 } } },
  );
  recordSimOrders(be.deps.db, { ...store, orders: history });
});
afterAll(async () => { await be.stop(); });

let sent = 0;
async function deliverLive(n: number): Promise<void> {
  for (const o of live.slice(sent, sent + n)) {
    const r = await sendWebhook({ url: `${be.url}/webhooks`, secret: TEST_SECRET, shop, topic: 'orders/create', payload: orderPayload(o, store), retry: { maxRetries: 0 } });
    expect(r.ok).toBe(true);
  }
  sent += n;
}

const tick = (): Promise<ScheduledRetrain[]> => be.jobs!.scheduler.tick();

async function finished(id: number): Promise<JobRecord> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const j = getJob(be.deps.db, id)!;
    if (j.status === 'done' || j.status === 'dead') return j;
    if (Date.now() > deadline) throw new Error(`job ${id} still ${j.status}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const lastTraining = () => be.deps.db.prepare('SELECT max(started_at) FROM training_runs WHERE shop = ?').pluck().get(shop) as string;

describe('retraining scheduler', () => {
  it('trains a shop the first time its orders pass the volume threshold', async () => {
    expect(be.jobs).not.toBeNull();
    await deliverLive(1); // the first webhook also registers the shop
    const [r, ...more] = await tick();
    expect(more).toEqual([]);
    expect(r).toMatchObject({ shop, created: true });
    expect(r!.reason).toMatch(new RegExp(`^volume: ${stored} new orders and never trained, threshold ${MIN_NEW}$`));
    const job = await finished(r!.jobId);
    expect(job).toMatchObject({ type: 'train', status: 'done', attempts: 1, reason: r!.reason, dedupeKey: 'train' });
    expect(job.payload).toEqual({ kinds: ['segment'], triggers: [{ reason: r!.reason, figures: { new_orders: stored, threshold: MIN_NEW, watermark: null } }] });
    const result = job.result as TrainJobResult;
    expect(result.runs.map((x) => [x.kind, x.status])).toEqual([['segment', 'succeeded']]);
    expect(result.watermark).toBe(new Date(Date.parse(live[0]!.createdAt) + 1).toISOString());
    // The run carries the server's (injected) clock, so the schedule counts from it.
    expect(Math.abs(Date.parse(lastTraining()) - clock.getTime())).toBeLessThan(60_000);
  }, 120_000);

  it('does not fire again at once, nor below the threshold; fires at exactly N new orders', async () => {
    expect(await tick()).toEqual([]); // the last train job finished less than 60 min ago
    clock = new Date(clock.getTime() + 2 * 3_600_000);
    expect(await tick()).toEqual([]); // no new orders, 2 h < 7 days
    await deliverLive(MIN_NEW - 1);
    expect(await tick()).toEqual([]);
    await deliverLive(1);
    const [r] = await tick();
    expect(r!.reason).toMatch(new RegExp(`^volume: ${MIN_NEW} new orders since the last training \\(watermark .+\\), threshold ${MIN_NEW}$`));
    expect(await tick()).toEqual([]); // the job is pending or running: no second one
    expect((await finished(r!.jobId)).status).toBe('done');
    expect(listJobs(be.deps.db, { shop, type: 'train' })).toHaveLength(2);
  }, 120_000);

  it('fires on time: not at 6.9 days after the last training, at 7; onTrained hooks hear of it', async () => {
    const heard: TrainedEvent[] = [];
    be.deps.onTrained = [(e) => { heard.push(e); }, () => { throw new Error('re-tag queue full'); }];
    const last = Date.parse(lastTraining());
    clock = new Date(last + 6.9 * DAY);
    expect(await tick()).toEqual([]);
    clock = new Date(last + 7 * DAY + 60_000);
    const [r] = await tick();
    expect(r!.reason).toBe('interval: 7.0 days since the last training (every 7 days)');
    const job = await finished(r!.jobId);
    expect(job.status).toBe('done');
    expect((job.payload as { triggers: { figures: Record<string, unknown> }[] }).triggers[0]!.figures).toMatchObject({ interval_days: 7, since: new Date(last).toISOString() });
    expect(heard).toHaveLength(1);
    expect(heard[0]).toMatchObject({ shop, jobId: r!.jobId, triggers: [{ reason: r!.reason }], result: { runs: [{ kind: 'segment', status: 'succeeded' }] } });
    expect((job.result as TrainJobResult).hookErrors).toEqual(['re-tag queue full']); // the training stands, the job is done
    be.deps.onTrained = undefined;
  }, 120_000);

  it('a plugged-in trigger (drift, accuracy) fires with its reason and figures; a failing one does not stop the others', async () => {
    const scheduler = be.jobs!.scheduler;
    let drifted = false;
    scheduler.triggers.push(
      function broken() { throw new Error('monitor table missing'); },
      (db, s, now) => (drifted && s === shop && db.prepare('SELECT 1').pluck().get() === 1
        ? { reason: 'drift: 6 of 10 columns drifted', figures: { drift_share: 0.6, at: now.toISOString() } } : null),
    );
    clock = new Date(clock.getTime() + 2 * 3_600_000);
    expect(await tick()).toEqual([]);
    expect(scheduler.lastPlans).toEqual([{ shop, fired: [], errors: ['broken: monitor table missing'] }]);
    drifted = true;
    const [r] = await tick();
    expect(r!.reason).toBe('drift: 6 of 10 columns drifted');
    const job = getJob(be.deps.db, r!.jobId)!;
    expect((job.payload as { triggers: unknown[] }).triggers).toEqual([{ reason: 'drift: 6 of 10 columns drifted', figures: { drift_share: 0.6, at: clock.toISOString() } }]);
    expect((await finished(r!.jobId)).status).toBe('done');
    scheduler.triggers.length = 0;
  }, 120_000);
});
