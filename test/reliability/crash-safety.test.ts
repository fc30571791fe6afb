// Crash safety (issue 7, item 1): kill -9 at seeded random moments, then check what survived.
//
//  1. Webhooks: `shopml serve` (a real child process on a real SQLite file) takes a stream of
//     signed orders/create webhooks from several concurrent senders (Shopify's retry rules: same
//     bytes and webhook id, exponential backoff) and is killed and restarted again and again on
//     the same port. After every restart: each delivery that was ever answered 200 is stored
//     exactly once (events row by webhook id, its order with all its lines), PRAGMA
//     integrity_check is ok, and a redelivery of every finished delivery — answered or not — is
//     answered 200 and leaves exactly one copy.
//  2. Training: `shopml jobs run-once --type train` is killed several times during a train job,
//     at a random moment after each milestone in turn (churn training started, churn committed,
//     segment committed, the claim). After every kill the champion (and challenger) of each kind is a
//     registered version whose artifact file loads (hash checked) and whose per-customer outputs
//     exist, as is every registered version; once the lease runs out the job is taken up again,
//     and in the end it completes with no run left "running".
//  3. Alias moves: a child looping `shopml models promote|rollback` and `shopml canary
//     start|promote|rollback|stop|run-policy` is killed at random moments. After every kill the
//     aliases point at registered, loadable versions, the alias history is an unbroken chain
//     (each move's `from` is the previous move's `to`; the generation counts every move), and no
//     experiment is live comparing versions that are not the aliases; ended experiments carry
//     the decision that ended them. The kills found that a manual move and the stop of the canary
//     it superseded were two transactions (now one); a fault-injection test pins that down.
//
// Sizes from profile.ts: the short run is part of `npm test`; the long one (`npm run
// test:reliability`) kills 20+ times. Figures go out as RELIABILITY lines (docs/RELIABILITY.md).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDb, type Db } from '../../backend/src/store/db.ts';
import { createKeys } from '../../backend/src/keys.ts';
import { createPrng } from '../../backend/src/ml/prng.ts';
import { loadArtifact } from '../../backend/src/ml/artifact.ts';
import { trainShop } from '../../backend/src/models/train-pipeline.ts';
import type { ModelKind } from '../../backend/src/models/types.ts';
import { currentAliases } from '../../backend/src/registry/aliases.ts';
import { activeExperiment } from '../../backend/src/rollout/experiments.ts';
import { startCanary } from '../../backend/src/rollout/canary.ts';
import { main as cliMain } from '../../backend/src/cli.ts';
import { loadConfig } from '../../backend/src/config.ts';
import { startRuntime } from '../../backend/src/runtime.ts';
import { enqueueJob, getJob } from '../../backend/src/jobs/queue.ts';
import type { TrainJobResult } from '../../backend/src/jobs/handlers.ts';
import { deliverSigned } from '../../simulator/webhook-sender.ts';
import { webhookHeaders, type HeaderMap } from '../../simulator/sign.ts';
import { generateStore } from '../../simulator/store.ts';
import { orderPayload } from '../../simulator/rest-payloads.ts';
import type { SimOrder } from '../../simulator/types.ts';
import { median } from '../../bench/load.ts';
import { recordSimOrders } from '../helpers/sim-data.ts';
import { TEST_SECRET, testEnv } from '../helpers/backend.ts';
import { freePort, ROOT, sleep, spawnNode, spawnShopml, type NodeChild } from '../helpers/shopml-process.ts';
import { reportFigures, size } from './profile.ts';

const dirs: string[] = [];
const children: NodeChild[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'shopml-crash-'));
  dirs.push(d);
  return d;
}
afterAll(async () => {
  for (const c of children) await c.kill9();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** Opens the store the way an operator's tool would, runs `f`, closes it (no handle survives a kill). */
function withDb<T>(path: string, f: (db: Db) => T): T {
  const db = openDb(path);
  try {
    return f(db);
  } finally {
    db.close();
  }
}

const integrity = (db: Db) => db.pragma('integrity_check', { simple: true });
const max = (xs: number[]) => xs.reduce((a, b) => Math.max(a, b), -Infinity);
const ms = (x: number) => Math.round(x);

// ------------------------------------------------------------------------------------ webhooks

interface Delivery {
  webhookId: string;
  orderId: string;
  lines: number;
  rawBody: string;
  headers: HeaderMap;
  /** Some attempt was answered 200 (so the server had committed it). */
  answered: boolean;
  /** The sender is finished with it (answered, or retries exhausted). */
  done: boolean;
  redelivered: boolean;
}

describe('kill -9 of the server during a stream of signed webhooks', () => {
  it('loses no delivery answered 200, stores none twice, stays intact, and takes every redelivery', async () => {
    const KILLS = size(3, 20);
    const SENDERS = size(4, 6);
    const rng = createPrng('crash-safety:webhooks');
    const dir = tempDir();
    const port = await freePort();
    const env = testEnv(dir, { PORT: String(port), SHOPML_JOBS: 'off', LOG_LEVEL: 'warn' });
    const base = `http://127.0.0.1:${port}`;
    const url = `${base}/webhooks`;
    const store = generateStore({ seed: 17, customers: 300, products: 40, days: 180 });
    const shop = store.shop;

    // Order i of the stream: the store's history first, then copies of it under fresh ids.
    const orderFor = (i: number): SimOrder => {
      const tpl = store.orders[i % store.orders.length]!;
      if (i < store.orders.length) return tpl;
      const id = 8_000_000_000 + i;
      return { ...tpl, id, name: `#C${i}`, orderNumber: 500_000 + i, refunds: [], lines: tpl.lines.map((l, j) => ({ ...l, id: id * 100 + j })) };
    };

    // The server: started, and killed at random moments, on one port (Shopify's URL stays put).
    let server!: NodeChild;
    const start = async (): Promise<void> => {
      server = spawnShopml(['serve'], env);
      children.push(server);
      let exited = false;
      void server.exited.then(() => { exited = true; });
      for (;;) {
        if (exited) throw new Error(`shopml serve exited during start-up:\n${server.output()}`);
        try {
          const res = await fetch(`${base}/readyz`);
          await res.arrayBuffer();
          if (res.status === 200) return;
        } catch { /* not listening yet */ }
        await sleep(10);
      }
    };

    // Senders: each sends its next delivery when the previous one is finished; retries per
    // Shopify's rules (same bytes, same id), compressed in time to span a restart.
    const deliveries: Delivery[] = [];
    const statuses: Record<string, number> = {};
    let next = 0;
    let inFlight = 0;
    let stopping = false;
    const countingFetch: typeof fetch = (input, init) => {
      inFlight++;
      return fetch(input, init).finally(() => { inFlight--; });
    };
    const sender = async () => {
      while (!stopping) {
        const i = next++;
        const order = orderFor(i);
        const payload = orderPayload(order, store) as { line_items: unknown[] };
        const rawBody = JSON.stringify(payload);
        const headers = webhookHeaders({ secret: TEST_SECRET, shop, topic: 'orders/create', rawBody, webhookId: `crash-${i}` });
        const d: Delivery = { webhookId: `crash-${i}`, orderId: String(order.id), lines: payload.line_items.length, rawBody, headers, answered: false, done: false, redelivered: false };
        deliveries.push(d);
        await deliverSigned({
          url, topic: 'orders/create', rawBody, headers, fetchImpl: countingFetch,
          retry: { maxRetries: 4, baseDelayMs: 100, maxDelayMs: 800, timeoutMs: 5000 },
          onAttempt: (a) => {
            const key = a.status === null ? 'no answer' : String(a.status);
            statuses[key] = (statuses[key] ?? 0) + 1;
            if (a.status === 200) d.answered = true;
          },
        });
        d.done = true;
      }
    };

    // What the store holds, read on a fresh connection.
    const snapshot = () => withDb(env.DATABASE_PATH!, (db) => ({
      integrity: integrity(db),
      events: new Map((db.prepare('SELECT source_id, count(*) AS n FROM events WHERE shop = ? GROUP BY source_id').all(shop) as { source_id: string; n: number }[]).map((r) => [r.source_id, r.n])),
      lines: new Map((db.prepare('SELECT order_id, count(*) AS n FROM order_lines WHERE shop = ? GROUP BY order_id').all(shop) as { order_id: string; n: number }[]).map((r) => [r.order_id, r.n])),
      orders: new Set(db.prepare('SELECT order_id FROM orders WHERE shop = ?').pluck().all(shop) as string[]),
      eventRows: db.prepare('SELECT count(*) FROM events WHERE shop = ?').pluck().get(shop) as number,
    }));
    type Snapshot = ReturnType<typeof snapshot>;
    /** Deliveries of `ds` not stored exactly once, whole (event row, order, every line). */
    const notExactlyOnce = (s: Snapshot, ds: Delivery[]) => {
      const lost: string[] = [], duplicated: string[] = [], partial: string[] = [];
      for (const d of ds) {
        const n = s.events.get(d.webhookId) ?? 0;
        if (n === 0) lost.push(d.webhookId);
        else if (n > 1) duplicated.push(d.webhookId);
        else if (!s.orders.has(d.orderId) || s.lines.get(d.orderId) !== d.lines) partial.push(d.webhookId);
      }
      return { lost, duplicated, partial };
    };

    const figures = { lost: 0, duplicates: 0, partial: 0, redeliveries: 0, redeliveryNot200: 0, unansweredButCommitted: 0, unansweredNotCommitted: 0 };
    const restartMs: number[] = [];
    const inFlightAtKill: number[] = [];
    const answeredAtKill: number[] = [];

    /** Redelivers every finished delivery not yet redelivered (the sender's own bytes and headers). */
    const redeliverFinished = async () => {
      const batch = deliveries.filter((d) => d.done && !d.redelivered);
      const queue = [...batch];
      await Promise.all(Array.from({ length: 8 }, async () => {
        for (let d = queue.shift(); d; d = queue.shift()) {
          const res = await fetch(url, { method: 'POST', headers: d.headers, body: d.rawBody });
          const body = (await res.json()) as { outcome?: string };
          figures.redeliveries++;
          d.redelivered = true;
          if (res.status !== 200) { figures.redeliveryNot200++; continue; }
          // Answered before: the redelivery must be recognised. Never answered: it either
          // committed before the kill (duplicate) or never did (applied now).
          if (d.answered) expect(body.outcome, `redelivery of ${d.webhookId}, answered 200 before`).toBe('duplicate');
          else if (body.outcome === 'duplicate') figures.unansweredButCommitted++;
          else if (body.outcome === 'applied') figures.unansweredNotCommitted++;
          else throw new Error(`redelivery of ${d.webhookId}: unexpected outcome ${body.outcome}`);
        }
      }));
      return batch;
    };

    const check = async () => {
      // Everything answered 200 so far was committed before the answer went out.
      const answered = deliveries.filter((d) => d.answered);
      const s = snapshot();
      expect(s.integrity).toBe('ok');
      const bad = notExactlyOnce(s, answered);
      figures.lost += bad.lost.length;
      figures.duplicates += bad.duplicated.length;
      figures.partial += bad.partial.length;
      expect(bad).toEqual({ lost: [], duplicated: [], partial: [] });
      const batch = await redeliverFinished();
      expect(notExactlyOnce(snapshot(), batch)).toEqual({ lost: [], duplicated: [], partial: [] });
    };

    await start();
    const senders = Array.from({ length: SENDERS }, () => sender());
    const t0 = performance.now();
    for (let k = 0; k < KILLS; k++) {
      await sleep(150 + rng.below(1200)); // a random moment of the stream
      inFlightAtKill.push(inFlight);
      answeredAtKill.push(deliveries.filter((d) => d.answered).length);
      const killedAt = performance.now();
      expect(await server.kill9()).toBe('SIGKILL');
      await start();
      restartMs.push(performance.now() - killedAt);
      await check();
    }
    stopping = true;
    await Promise.all(senders);
    await check(); // every delivery now finished and redelivered once

    // In the end: exactly one stored copy of every delivery, and nothing else.
    const final = snapshot();
    expect(notExactlyOnce(final, deliveries)).toEqual({ lost: [], duplicated: [], partial: [] });
    expect(final.eventRows).toBe(deliveries.length);
    expect(final.orders.size).toBe(deliveries.length);
    expect(figures.redeliveryNot200).toBe(0);
    expect(deliveries.every((d) => d.redelivered)).toBe(true);
    // A clean stop after all that: SIGTERM drains and exits 0, and the file is still intact.
    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
    expect(withDb(env.DATABASE_PATH!, integrity)).toBe('ok');

    reportFigures('crash-safety/webhooks', {
      kills: KILLS, senders: SENDERS, seconds: Math.round((performance.now() - t0) / 100) / 10,
      deliveries: deliveries.length, answered200: deliveries.filter((d) => d.answered).length,
      lost: figures.lost, duplicates: figures.duplicates, partial: figures.partial,
      redeliveries: figures.redeliveries, redeliveryNot200: figures.redeliveryNot200,
      unansweredButCommitted: figures.unansweredButCommitted, unansweredNotCommitted: figures.unansweredNotCommitted,
      restartMs: { median: ms(median(restartMs)), max: ms(max(restartMs)) },
      requestsInFlightAtKill: { median: median(inFlightAtKill), max: max(inFlightAtKill) },
      attemptsByStatus: statuses,
    });
    // The kills did land mid-stream: requests were in flight, and deliveries had been answered.
    expect(max(inFlightAtKill)).toBeGreaterThan(0);
    expect(answeredAtKill.at(-1)).toBeGreaterThan(0);
  }, size(90_000, 600_000));
});

// ------------------------------------------------------------------------------------ training

/** Every registered version of `kinds` is complete (artifact loads, outputs exist); returns the aliases. */
function checkModels(db: Db, shop: string, kinds: readonly ModelKind[], artifactsDir: string) {
  const incomplete: string[] = [];
  for (const kind of kinds) {
    const versions = db.prepare('SELECT version FROM model_versions WHERE shop = ? AND kind = ?').pluck().all(shop, kind) as string[];
    for (const v of versions) {
      try {
        loadArtifact(artifactsDir, v);
      } catch (err) {
        incomplete.push(`${kind} ${v.slice(0, 12)}: ${(err as Error).message}`);
      }
      const outputs = db.prepare('SELECT count(*) FROM customer_outputs WHERE shop = ? AND kind = ? AND model_version = ?').pluck().get(shop, kind, v) as number;
      if (kind !== 'forecast' && outputs === 0) incomplete.push(`${kind} ${v.slice(0, 12)}: no customer outputs`);
    }
    const aliases = currentAliases(db, shop, kind);
    for (const [alias, v] of Object.entries(aliases)) {
      if (v !== null && !versions.includes(v)) incomplete.push(`${kind} ${alias} ${v.slice(0, 12)} is not a registered version`);
    }
  }
  return incomplete;
}

describe('kill -9 during training', () => {
  it('the champion is always a complete, loadable version; the train job resumes and completes', async () => {
    const KILLS = size(3, 10);
    const KINDS: ModelKind[] = ['churn', 'segment'];
    const LEASE_SECONDS = 2;
    const rng = createPrng('crash-safety:training');
    const dir = tempDir();
    const env = testEnv(dir, { SHOPML_JOBS_LEASE_SECONDS: String(LEASE_SECONDS), LOG_LEVEL: 'silent' });
    const path = env.DATABASE_PATH!;
    const artifactsDir = env.ARTIFACTS_DIR!;
    // Large enough that a pass takes a few seconds: the window for the kills (as jobs-kill.test.ts).
    const store = generateStore({ seed: 41, customers: 400, products: 40, days: 240 });
    const shop = store.shop;
    const t0 = performance.now();

    withDb(path, (d) => recordSimOrders(d, store, createKeys(env.SHOPML_SECRET_KEY!)));
    const newest = withDb(path, (d) => d.prepare('SELECT max(created_at) FROM orders WHERE shop = ?').pluck().get(shop) as string);
    const enqueue = (payload: Record<string, unknown>) => withDb(path, (d) => enqueueJob(d, { type: 'train', shop, payload: { kinds: KINDS, ...payload }, reason: 'crash test', maxAttempts: 100 }).id);
    const runOnce = () => {
      const child = spawnShopml(['jobs', 'run-once', '--type', 'train'], env);
      children.push(child);
      return child;
    };
    /** Resolves once job `id` has been claimed more than `attempts` times (by the child). */
    const claimed = async (id: number, attempts: number, child: NodeChild) => {
      for (;;) {
        if (withDb(path, (d) => getJob(d, id)!.attempts) > attempts) return performance.now();
        if (/no job was ready/.test(child.output())) throw new Error(`run-once found no ready job:\n${child.output()}`);
        await sleep(10);
      }
    };

    // A champion of each kind first (trained on the history up to 30 days before its end) by an
    // uninterrupted job: its run, from claim to exit, is the span the kills are spread over.
    const firstJob = enqueue({ seed: 7, asOf: new Date(Date.parse(newest) - 30 * 86_400_000).toISOString() });
    const firstChild = runOnce();
    const claimedAt = await claimed(firstJob, 0, firstChild);
    expect(await firstChild.exited, firstChild.output()).toBe(0);
    const passMs = performance.now() - claimedAt;
    withDb(path, (d) => {
      expect(getJob(d, firstJob)!.status).toBe('done');
      for (const kind of KINDS) expect(currentAliases(d, shop, kind).champion).not.toBeNull();
    });

    let jobId = enqueue({ seed: 11 });
    const jobs = [firstJob, jobId];
    const phases: Record<string, number> = {};
    let kills = 0;
    let tries = 0;
    let passesFinishedBeforeKill = 0;
    while (kills < KILLS) {
      // Wait until the job can be claimed (a killed worker's lease must run out first).
      const leaseUntil = withDb(path, (d) => getJob(d, jobId)!.leaseUntil);
      if (leaseUntil) await sleep(Math.max(0, Date.parse(leaseUntil) - Date.now() + 50));
      const { attemptsBefore, lastRun } = withDb(path, (d) => ({
        attemptsBefore: getJob(d, jobId)!.attempts,
        lastRun: (d.prepare('SELECT max(id) FROM training_runs').pluck().get() as number | null) ?? 0,
      }));
      const child = runOnce();
      // Kill at a random moment after one of the job's milestones, taken in turn so that even 3
      // kills cover the pass: churn training started, churn committed (segment training), segment
      // committed (the after-training hook and the job's completion), the claim (loading data).
      await claimed(jobId, attemptsBefore, child);
      const anchor = tries++ % 4;
      const milestone = [`kind = 'churn'`, `kind = 'churn' AND status = 'succeeded'`, `kind = 'segment' AND status = 'succeeded'`, null][anchor];
      if (milestone) {
        const reached = () => withDb(path, (d) => d.prepare(`SELECT 1 FROM training_runs WHERE id > ? AND ${milestone}`).get(lastRun) !== undefined);
        while (!reached() && !(await Promise.race([child.exited.then(() => true), sleep(10).then(() => false)]))) { /* polling */ }
      }
      // (After the last commit only milliseconds remain: kill at once.)
      if (anchor !== 2) await sleep(rng.next() * 0.4 * passMs);
      const signal = await child.kill9();
      // Where the kill landed: this attempt's runs (a 'running' one was cut mid-training).
      const at = withDb(path, (d) => {
        const j = getJob(d, jobId)!;
        const runs = d.prepare('SELECT kind, status FROM training_runs WHERE id > ? ORDER BY id').all(lastRun) as { kind: string; status: string }[];
        return { status: j.status, runs };
      });
      if (signal !== 'SIGKILL' || at.status === 'done') {
        // The pass finished before the kill: that job is complete; take the next one.
        expect(at.status, child.output()).toBe('done');
        passesFinishedBeforeKill++;
        jobId = enqueue({ seed: 11 + jobs.length });
        jobs.push(jobId);
        continue;
      }
      kills++;
      const running = at.runs.find((r) => r.status === 'running');
      const phase = running ? `mid ${running.kind}` : at.runs.length === 0 ? 'before the first kind' : `after ${at.runs.map((r) => r.kind).join('+')}`;
      phases[phase] = (phases[phase] ?? 0) + 1;
      // After the kill: every version, champion and challenger complete; the file intact.
      withDb(path, (d) => {
        expect(integrity(d)).toBe('ok');
        expect(checkModels(d, shop, KINDS, artifactsDir)).toEqual([]);
        for (const kind of KINDS) expect(currentAliases(d, shop, kind).champion).not.toBeNull();
      });
    }

    // The job resumes once the lease runs out, and completes.
    const leaseUntil = withDb(path, (d) => getJob(d, jobId)!.leaseUntil);
    if (leaseUntil) await sleep(Math.max(0, Date.parse(leaseUntil) - Date.now() + 50));
    const last = runOnce();
    expect(await last.exited, last.output()).toBe(0);
    withDb(path, (d) => {
      expect(integrity(d)).toBe('ok');
      for (const id of jobs) expect(getJob(d, id)).toMatchObject({ status: 'done', leaseOwner: null });
      const job = getJob(d, jobId)!;
      const result = job.result as TrainJobResult;
      expect(result.runs.map((r) => [r.kind, r.status])).toEqual(KINDS.map((k) => [k, 'succeeded']));
      // No run is left "running": every one the kills cut short is marked interrupted.
      expect(d.prepare(`SELECT count(*) FROM training_runs WHERE shop = ? AND status = 'running'`).pluck().get(shop)).toBe(0);
      const failed = d.prepare(`SELECT error FROM training_runs WHERE shop = ? AND status = 'failed'`).pluck().all(shop) as string[];
      for (const e of failed) expect(e).toMatch(/^interrupted: the worker of job \d+ stopped mid-training/);
      expect(checkModels(d, shop, KINDS, artifactsDir)).toEqual([]);
      reportFigures('crash-safety/training', {
        kills, jobs: jobs.length, passesFinishedBeforeKill, attemptsOfLastJob: job.attempts, killPoints: phases,
        interruptedRuns: failed.length, passSeconds: Math.round(passMs / 100) / 10,
        versions: d.prepare('SELECT count(*) FROM model_versions WHERE shop = ?').pluck().get(shop),
        seconds: Math.round((performance.now() - t0) / 100) / 10,
      });
    });
  }, size(120_000, 600_000));
});

// ------------------------------------------------------------------------------------ alias moves

interface HistoryRow { id: number; kind: string; alias: string; from_version: string | null; to_version: string | null }
interface ExperimentRow { id: number; status: string; champion_version: string; challenger_version: string; ended_at: string | null }

/** Everything that must hold of the registry and the rollout at rest; returns what does not. */
function checkAliases(db: Db, shop: string, kind: ModelKind, artifactsDir: string): string[] {
  const problems: string[] = [];
  const versions = new Set(db.prepare('SELECT version FROM model_versions WHERE shop = ? AND kind = ?').pluck().all(shop, kind) as string[]);
  const aliases = currentAliases(db, shop, kind);
  if (aliases.champion === null) problems.push('no champion');
  for (const [alias, v] of Object.entries(aliases)) {
    if (v === null) continue;
    if (!versions.has(v)) problems.push(`${alias} ${v} is not registered`);
    else if (!existsSync(join(artifactsDir, `${v}.json.gz`))) problems.push(`${alias} ${v} has no artifact file`);
  }
  // The history is one unbroken chain per alias, and every move bumped the generation once.
  const rows = db.prepare('SELECT id, kind, alias, from_version, to_version FROM alias_history WHERE shop = ? ORDER BY kind, alias, at, id').all(shop) as HistoryRow[];
  for (let i = 0; i < rows.length; i++) {
    const prev = i > 0 && rows[i - 1]!.kind === rows[i]!.kind && rows[i - 1]!.alias === rows[i]!.alias ? rows[i - 1]!.to_version : null;
    if (rows[i]!.from_version !== prev) problems.push(`alias_history #${rows[i]!.id} moves ${rows[i]!.alias} from ${rows[i]!.from_version}, but it pointed to ${prev}`);
  }
  const generation = (db.prepare('SELECT generation FROM alias_generations WHERE shop = ?').pluck().get(shop) as number | undefined) ?? 0;
  if (generation !== rows.length) problems.push(`alias generation ${generation} but ${rows.length} moves`);
  // No live experiment compares versions that are not the aliases; an ended one says why it ended.
  const ending: Record<string, string> = { promoted: 'promote', rolled_back: 'rollback', stopped: 'stop' };
  for (const e of db.prepare('SELECT id, status, champion_version, challenger_version, ended_at FROM rollout_experiments WHERE shop = ? AND kind = ?').all(shop, kind) as ExperimentRow[]) {
    const log = db.prepare('SELECT action FROM rollout_decisions WHERE experiment_id = ? ORDER BY id').pluck().all(e.id) as string[];
    if (log[0] !== 'start') problems.push(`experiment #${e.id} has no start decision`);
    if (e.status === 'running' || e.status === 'broken') {
      if (e.champion_version !== aliases.champion || e.challenger_version !== aliases.challenger) {
        problems.push(`experiment #${e.id} is live comparing ${e.champion_version.slice(0, 12)} with ${e.challenger_version.slice(0, 12)}, but the aliases are ${aliases.champion?.slice(0, 12)} / ${aliases.challenger?.slice(0, 12)}`);
      }
    } else if (e.ended_at === null || log.at(-1) !== ending[e.status]) {
      problems.push(`experiment #${e.id} is ${e.status} (ended ${e.ended_at}) but its last decision is ${log.at(-1)}`);
    }
  }
  return problems;
}

describe('kill -9 during alias moves', () => {
  const kind: ModelKind = 'recommend';
  let env: Record<string, string>;
  let path: string;
  let artifactsDir: string;
  let shop: string;
  let versions: string[];

  beforeAll(async () => {
    env = testEnv(tempDir(), { LOG_LEVEL: 'silent' });
    path = env.DATABASE_PATH!;
    artifactsDir = env.ARTIFACTS_DIR!;
    const store = generateStore({ seed: 5, customers: 150, products: 25, days: 150 });
    shop = store.shop;
    // Four real recommend versions: trained on the history up to 40, 30, 20 and 10 days before its end.
    const db = openDb(path);
    try {
      recordSimOrders(db, store, createKeys(env.SHOPML_SECRET_KEY!));
      const newest = db.prepare('SELECT max(created_at) FROM orders WHERE shop = ?').pluck().get(shop) as string;
      for (const daysBack of [40, 30, 20, 10]) {
        await trainShop({ db, shop, kinds: [kind], seed: 3, artifactsDir, asOf: new Date(Date.parse(newest) - daysBack * 86_400_000).toISOString() });
      }
      versions = db.prepare('SELECT version FROM model_versions WHERE shop = ? AND kind = ?').pluck().all(shop, kind) as string[];
    } finally {
      db.close();
    }
    expect(versions.length).toBeGreaterThanOrEqual(3);
  });

  it('aliases always point at registered versions, the history is consistent, no canary is live on stale versions', async () => {
    const KILLS = size(6, 25);
    const rng = createPrng('crash-safety:aliases');
    const t0 = performance.now();

    const counts = () => withDb(path, (d) => ({
      moves: d.prepare('SELECT count(*) FROM alias_history WHERE shop = ?').pluck().get(shop) as number,
      experiments: d.prepare('SELECT count(*) FROM rollout_experiments WHERE shop = ?').pluck().get(shop) as number,
      live: d.prepare(`SELECT count(*) FROM rollout_experiments WHERE shop = ? AND status IN ('running', 'broken')`).pluck().get(shop) as number,
    }));
    const before = counts();
    let killsWithLiveCanary = 0;
    const opsPerLife: number[] = [];
    for (let k = 0; k < KILLS; k++) {
      const child = spawnNode(join(ROOT, 'test/reliability/crash-alias-mover.ts'), [shop, String(k)], env);
      children.push(child);
      await child.waitFor(/^moving$/m);
      await sleep(50 + rng.below(500));
      expect(await child.kill9(), child.output()).toBe('SIGKILL');
      opsPerLife.push(Number([...child.output().matchAll(/^ops (\d+)$/gm)].at(-1)?.[1] ?? 0));
      withDb(path, (d) => {
        expect(integrity(d)).toBe('ok');
        expect(checkAliases(d, shop, kind, artifactsDir)).toEqual([]);
        const champion = currentAliases(d, shop, kind).champion!;
        expect(() => loadArtifact(artifactsDir, champion)).not.toThrow();
      });
      if (counts().live > 0) killsWithLiveCanary++;
    }
    const after = counts();
    expect(after.moves - before.moves).toBeGreaterThan(KILLS);
    expect(after.experiments).toBeGreaterThan(0);
    reportFigures('crash-safety/alias-moves', {
      kills: KILLS, versions: versions.length, aliasMoves: after.moves - before.moves, experiments: after.experiments, killsWithLiveCanary,
      commandsPerLife: { median: median(opsPerLife), max: max(opsPerLife) }, violations: 0,
      seconds: Math.round((performance.now() - t0) / 100) / 10,
    });
  }, size(90_000, 600_000));

  // The weakness the kills found: `models promote|rollback` (CLI and API) committed the move,
  // then stopped the canary it superseded in a second transaction; a kill between the two left the
  // canary live on stale versions. Now one transaction: when the stop fails, the move is undone.
  it('a manual move and the stop of the canary it supersedes commit together (CLI and API)', async () => {
    const db = openDb(path);
    try {
      // A live canary, and a version that is neither of its two.
      if (!activeExperiment(db, shop, kind)) {
        const { champion } = currentAliases(db, shop, kind);
        startCanary(db, { shop, kind, version: versions.find((v) => v !== champion)!, actor: 'test', now: new Date() });
      }
      const live = activeExperiment(db, shop, kind)!;
      const other = versions.find((v) => v !== live.championVersion && v !== live.challengerVersion)!;
      const state = () => ({
        aliases: currentAliases(db, shop, kind),
        moves: db.prepare('SELECT count(*) FROM alias_history WHERE shop = ?').pluck().get(shop),
        live: activeExperiment(db, shop, kind)?.id ?? null,
      });
      const before = state();
      expect(checkAliases(db, shop, kind, artifactsDir)).toEqual([]);
      db.exec(`CREATE TRIGGER crash_test_stop_fails BEFORE UPDATE OF status ON rollout_experiments
        BEGIN SELECT RAISE(ABORT, 'injected: the canary cannot be stopped'); END`);

      const promote = ['models', 'promote', '--shop', shop, '--kind', kind, '--version', other, '--to', 'challenger', '--json'];
      await expect(cliMain([...promote, '--db', path])).rejects.toThrow(/injected/);
      expect(state()).toEqual(before);

      const rt = await startRuntime(loadConfig(env), { defaultMetrics: false, jobs: false });
      try {
        const call = () => fetch(`${rt.url}/api/v1/models/promote`, {
          method: 'POST', headers: { authorization: `Bearer ${env.SHOPML_ADMIN_TOKEN}`, 'content-type': 'application/json' },
          body: JSON.stringify({ shop, kind, version: other, to: 'challenger', reason: 'crash test' }),
        });
        expect((await call()).status).toBeGreaterThanOrEqual(500);
        expect(state()).toEqual(before);
        // Without the fault the same request moves the challenger and stops the canary at once.
        db.exec('DROP TRIGGER crash_test_stop_fails');
        const ok = await call();
        expect(ok.status).toBe(200);
        expect(await ok.json()).toMatchObject({ aliases: { champion: live.championVersion, challenger: other }, stopped_experiment: live.id });
        expect(checkAliases(db, shop, kind, artifactsDir)).toEqual([]);
      } finally {
        await rt.close();
      }
    } finally {
      db.exec('DROP TRIGGER IF EXISTS crash_test_stop_fails');
      db.close();
    }
  });
});
