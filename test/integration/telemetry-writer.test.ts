// Serving's telemetry writer thread (backend/src/serve/telemetry-writer.ts): exposures and serving
// counts are written in a worker thread on their own connection, never on the event loop that
// answers the storefront. Answered means committed; a failing batch is rejected alone; a dead
// thread rejects what it held and the next batch starts a new one; stop drains. (That the app's
// storefront writes through the thread is checked in serve.test.ts.)
import { afterEach, describe, expect, it, vi } from 'vitest';
import { join } from 'node:path';
import { useTempDb } from '../helpers/temp-db.ts';
import { startExperiment } from '../../backend/src/rollout/experiments.ts';
import { startTelemetryWriter, TelemetryWriteError, type TelemetryWriter } from '../../backend/src/serve/telemetry-writer.ts';
import type { Exposure, ServingCount } from '../../backend/src/serve/state.ts';

const SHOP = 'telemetry.myshopify.com';

describe('serving telemetry writer thread', () => {
  let experiment = 0;
  const t = useTempDb('shopml-tw-', ({ db }) => {
    experiment = startExperiment(db, { shop: SHOP, kind: 'recommend', championVersion: 'v-champion', challengerVersion: 'v-challenger' }).id;
  });
  let writer: TelemetryWriter | null = null;
  afterEach(async () => {
    await writer?.stop();
    writer = null;
  });
  const start = () => (writer = startTelemetryWriter({ path: t.path, busyTimeoutMs: 2000 }));
  const exposure = (unit: string, over: Partial<Exposure> = {}): Exposure => ({
    shop: SHOP, experiment, unit, customerId: null, variant: 'challenger', version: 'v-challenger', at: '2026-11-26T10:00:00.000Z', ...over,
  });
  const count = (sql: string, ...args: unknown[]) => t.db.prepare(sql).pluck().get(...args) as number;

  it('writes exposures and serving counts in its thread; answered means committed', async () => {
    const w = start();
    await w.ready;
    await Promise.all([
      w.exposures(Array.from({ length: 40 }, (_, i) => exposure(`u-a-${i}`))),
      w.exposures([exposure('u-a-0'), exposure('u-a-40', { variant: 'holdout', version: null })]), // u-a-0 again: still one row
    ]);
    expect(count('SELECT count(*) FROM rollout_exposures WHERE experiment_id = ? AND unit LIKE ?', experiment, 'u-a-%')).toBe(41);
    const counts: ServingCount[] = [{ shop: SHOP, experiment, variant: 'champion', requests: 12, errors: 1, latencyMsSum: 30.5, slowRequests: 2, at: '2026-11-26T10:00:05.000Z' }];
    await w.serving(counts);
    expect(t.db.prepare('SELECT requests, errors, latency_ms_sum AS ms, slow_requests AS slow FROM rollout_daily WHERE experiment_id = ? AND day = ? AND variant = ?')
      .get(experiment, '2026-11-26', 'champion')).toEqual({ requests: 12, errors: 1, ms: 30.5, slow: 2 });
    expect(w.stats).toMatchObject({ batches: 3, failed: 0, threadsStarted: 1 });
  });

  it('rejects a failing batch alone; the batches around it commit', async () => {
    const w = start();
    const settled = await Promise.allSettled([
      w.exposures([exposure('u-b-1')]),
      w.exposures([exposure('u-b-2', { experiment: 999_999 })]), // no such experiment: a foreign key fails
      w.exposures([exposure('u-b-3')]),
    ]);
    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    const err = (settled[1] as PromiseRejectedResult).reason as Error;
    expect(err).toBeInstanceOf(TelemetryWriteError);
    expect(err.message).toMatch(/FOREIGN KEY/i);
    expect(count('SELECT count(*) FROM rollout_exposures WHERE unit IN (?, ?, ?)', 'u-b-1', 'u-b-2', 'u-b-3')).toBe(2);
  });

  it('a dead thread rejects its unanswered batches; the next batch starts a new thread', async () => {
    const w = start();
    await w.ready;
    const inFlight = w.exposures([exposure('u-c-1')]);
    await w.terminate();
    // Either it committed before the thread ended, or it is rejected; never left hanging.
    const first = await inFlight.then(() => 'committed', (e: Error) => e.message);
    expect(first === 'committed' || /telemetry thread exited/.test(first)).toBe(true);
    await w.exposures([exposure('u-c-2')]);
    expect(count('SELECT count(*) FROM rollout_exposures WHERE unit = ?', 'u-c-2')).toBe(1);
    expect(w.stats.threadsStarted).toBe(2);
  });

  it('stop() commits everything handed over before it, then refuses more', async () => {
    const w = start();
    const sent = Array.from({ length: 20 }, (_, i) => w.exposures([exposure(`u-d-${i}`)]));
    await w.stop();
    await Promise.all(sent);
    expect(count('SELECT count(*) FROM rollout_exposures WHERE unit LIKE ?', 'u-d-%')).toBe(20);
    await expect(w.exposures([exposure('u-d-late')])).rejects.toThrow(/stopped/);
  });

  it('fails to start with a clear error when the database cannot be opened, and does not respawn at once', async () => {
    const w = startTelemetryWriter({ path: join(t.dir, 'missing-dir', 'x', '\0bad.db'), busyTimeoutMs: 100 });
    await expect(w.ready).rejects.toBeInstanceOf(TelemetryWriteError);
    // It would fail again at once: batches are refused for a second, not one thread per flush.
    // (Until the failed thread has exited, a batch is rejected by its exit instead.)
    await vi.waitFor(() => expect(w.exposures([exposure('u-e-1')])).rejects.toThrow(/not restarted yet/), { timeout: 2000, interval: 20 });
    expect(w.stats.threadsStarted).toBe(1);
    await w.stop();
  });
});
