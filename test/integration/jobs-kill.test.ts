// A worker killed mid-training: `shopml jobs run-once` in a child process claims a train job and
// is SIGKILLed while the model trains. Nothing of the unfinished training is visible (champion,
// alias history, versions, per-customer outputs as before); once the child's lease runs out,
// exactly one of two fresh runners takes the job over, trains again and completes it; the run
// the kill interrupted is marked failed. Real processes, threads, SQLite file and signals.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDb, type Db } from '../../backend/src/store/db.ts';
import { loadConfig } from '../../backend/src/config.ts';
import { createDeps } from '../../backend/src/runtime.ts';
import type { AppDeps } from '../../backend/src/app.ts';
import { createKeys } from '../../backend/src/keys.ts';
import { trainShop } from '../../backend/src/models/train-pipeline.ts';
import { currentAliases } from '../../backend/src/registry/aliases.ts';
import { enqueueJob, getJob } from '../../backend/src/jobs/queue.ts';
import { createJobRunner, type JobOutcome } from '../../backend/src/jobs/runner.ts';
import type { TrainJobResult } from '../../backend/src/jobs/handlers.ts';
import { TRAIN_PROCESS_NODE_FLAGS } from '../../backend/src/jobs/train-handler.ts';
import { lowPriorityLauncher } from '../../backend/src/jobs/low-priority.ts';
import { generateStore } from '../../simulator/store.ts';
import { recordSimOrders } from '../helpers/sim-data.ts';
import { testEnv } from '../helpers/backend.ts';
import { priorityFromStat } from '../helpers/proc-priority.ts';
import { spawnShopml } from '../helpers/shopml-process.ts';

/** Processes whose parent is `pid` and that run jobs/train-process.ts (Linux /proc). */
function trainProcessesOf(pid: number): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid && readFileSync(`/proc/${d}/cmdline`, 'utf8').includes('train-process.ts')) out.push(Number(d));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}
const isZombie = (pid: number) => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return true;
  }
};

// Large enough that training a churn model takes a second or more: the window for the kill.
const store = generateStore({ seed: 41, customers: 400, products: 40, days: 240 });
const shop = store.shop;
const LEASE_SECONDS = '2';
let dir: string;
let db: Db;
let env: Record<string, string>;
const deps: AppDeps[] = [];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'shopml-jobs-kill-'));
  env = testEnv(dir, { SHOPML_JOBS_LEASE_SECONDS: LEASE_SECONDS });
  db = openDb(env.DATABASE_PATH!);
  recordSimOrders(db, store, createKeys(env.SHOPML_SECRET_KEY!));
});
afterAll(async () => {
  for (const d of deps) {
    await d.writer.drain();
    d.db.close();
  }
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const all = (sql: string, ...a: unknown[]) => db.prepare(sql).all(...a);

describe('a worker killed mid-training', () => {
  it('leaves the champion untouched; the job is re-claimed exactly once after its lease and completes', async () => {
    // The champion before: trained on data up to 30 days before the newest order.
    const newest = db.prepare('SELECT max(created_at) FROM orders WHERE shop = ?').pluck().get(shop) as string;
    const first = await trainShop({ db, shop, kinds: ['churn'], seed: 7, artifactsDir: env.ARTIFACTS_DIR!, asOf: new Date(Date.parse(newest) - 30 * 86_400_000).toISOString() });
    const champion = first.runs[0]!.version!;
    expect(first.runs[0]!.decision?.decision).toBe('champion');
    const before = {
      aliases: currentAliases(db, shop, 'churn'),
      history: all('SELECT * FROM alias_history ORDER BY id'),
      generations: all('SELECT * FROM alias_generations'),
      versions: all('SELECT version FROM model_versions ORDER BY version'),
      outputs: db.prepare('SELECT count(*) FROM customer_outputs WHERE shop = ?').pluck().get(shop),
    };
    expect(before.aliases).toEqual({ champion, challenger: null });

    const { id } = enqueueJob(db, { type: 'train', shop, payload: { kinds: ['churn'], seed: 7 }, reason: 'kill test' });

    // The child: the real CLI, running ready jobs with a 2 s lease (heartbeat every 0.5 s).
    const child = spawnShopml(['jobs', 'run-once'], env);

    // Kill the moment a training run of this job is under way.
    const deadline = Date.now() + 60_000;
    let runId: number | undefined;
    while (runId === undefined) {
      if (Date.now() > deadline) throw new Error(`the child never started training:\n${child.output()}`);
      runId = db.prepare(`SELECT id FROM training_runs WHERE shop = ? AND status = 'running'`).pluck().get(shop) as number | undefined;
      if (runId === undefined) await sleep(5);
    }
    // The training's own process (train-process.ts, at the lowest priority), started by the child.
    const trainers = trainProcessesOf(child.pid);
    expect(trainers.length, 'the training runs in a child process of the worker').toBe(1);
    // At the lowest CPU priority (SCHED_IDLE and nice 19: Debian has chrt and nice), with V8's
    // garbage collection on its JavaScript thread (one busy thread).
    const trainer = trainers[0]!;
    expect(readFileSync(`/proc/${trainer}/cmdline`, 'utf8').split('\0')).toEqual(expect.arrayContaining([...TRAIN_PROCESS_NODE_FLAGS]));
    expect((await lowPriorityLauncher()).description).toBe('SCHED_IDLE, nice 19');
    expect(priorityFromStat(readFileSync(`/proc/${trainer}/stat`, 'utf8')), 'nice value and scheduling policy (5 = SCHED_IDLE)').toEqual({ nice: 19, policy: 5 });
    expect(await child.kill9()).toBe('SIGKILL');
    // It does not outlive the worker that started it (the IPC channel closed: it exits).
    const gone = Date.now() + 5_000;
    while (trainers.some((pid) => existsSync(`/proc/${pid}`) && !isZombie(pid)) && Date.now() < gone) await sleep(20);
    expect(trainers.filter((pid) => existsSync(`/proc/${pid}`) && !isZombie(pid)), 'training processes left running').toEqual([]);

    // Killed mid-training: the run never finished, and nothing of it reached the registry.
    const killedJob = getJob(db, id)!;
    expect(killedJob).toMatchObject({ status: 'running', attempts: 1 });
    expect(killedJob.leaseOwner).toMatch(/:\d+:[0-9a-f]{8}$/);
    expect(db.prepare('SELECT status FROM training_runs WHERE id = ?').pluck().get(runId)).toBe('running');
    expect(currentAliases(db, shop, 'churn')).toEqual(before.aliases);
    expect(all('SELECT * FROM alias_history ORDER BY id')).toEqual(before.history);
    expect(all('SELECT * FROM alias_generations')).toEqual(before.generations);
    expect(all('SELECT version FROM model_versions ORDER BY version')).toEqual(before.versions);
    expect(db.prepare('SELECT count(*) FROM customer_outputs WHERE shop = ?').pluck().get(shop)).toBe(before.outputs);

    // Two fresh runners (two connections) poll: nothing while the dead child's lease lasts,
    // then exactly one of them takes the job over.
    const outcomes: JobOutcome[] = [];
    const runners = await Promise.all([0, 1].map(async () => {
      const d = await createDeps(loadConfig(env), { defaultMetrics: false });
      deps.push(d);
      return createJobRunner(d, { leaseMs: Number(LEASE_SECONDS) * 1000, onOutcome: (o) => outcomes.push(o) });
    }));
    const leaseUntil = Date.parse(killedJob.leaseUntil!);
    expect(leaseUntil).toBeGreaterThan(Date.now());
    let started = 0;
    let pollsBeforeExpiry = 0;
    while (started === 0) {
      const early = Date.now() < leaseUntil;
      const n = (await Promise.all(runners.map((r) => r.poll()))).reduce((a, b) => a + b, 0);
      if (early && Date.now() < leaseUntil) {
        expect(n).toBe(0);
        pollsBeforeExpiry++;
      }
      started += n;
      if (n === 0) await sleep(50);
    }
    expect(pollsBeforeExpiry).toBeGreaterThan(0);
    expect(started).toBe(1);
    await Promise.all(runners.map((r) => r.drain()));

    expect(outcomes.map((o) => [o.job.id, o.attempt, o.state])).toEqual([[id, 2, 'done']]);
    const done = getJob(db, id)!;
    expect(done).toMatchObject({ status: 'done', attempts: 2, leaseOwner: null });
    const result = done.result as TrainJobResult;
    expect(result.interruptedRuns).toEqual([runId]);
    expect(result.runs).toHaveLength(1);
    expect(result.runs[0]).toMatchObject({ kind: 'churn', status: 'succeeded' });
    expect(db.prepare('SELECT status, error FROM training_runs WHERE id = ?').get(runId)).toEqual({ status: 'failed', error: expect.stringMatching(/^interrupted: the worker of job \d+ stopped mid-training/) });

    // The champion is still the one from before; the history only grew by complete moves of the new run.
    expect(currentAliases(db, shop, 'churn').champion).toBe(champion);
    expect(result.runs[0]!.decision).not.toBe('champion');
    const after = all('SELECT * FROM alias_history ORDER BY id') as { alias: string; to_version: string; action: string }[];
    expect(after.slice(0, before.history.length)).toEqual(before.history);
    for (const row of after.slice(before.history.length)) expect(row).toMatchObject({ alias: 'challenger', to_version: result.runs[0]!.version, action: 'gate' });
  }, 180_000);
});
