// `shopml jobs list|show|retry|train|run-once` — the background job queue (docs/jobs.md).
//   list/show/retry/train need only the database (--db or DATABASE_PATH);
//   run-once runs ready jobs in this process, so it needs the server's configuration.
import { isShopDomain } from '../shopify/verify.ts';
import { enqueueJob, getJob, JOB_STATUSES, JobError, jobCounts, listJobs, retryJob, type JobRecord, type JobStatus } from '../jobs/queue.ts';
import { MODEL_KINDS } from '../models/train-pipeline.ts';
import type { ModelKind } from '../models/types.ts';
import { parseArgs, str, UsageError } from './args.ts';
import { openExistingDb } from './open-db.ts';

function parseId(s: string | undefined): number {
  if (s === undefined || !/^\d+$/.test(s)) throw new UsageError(`a job id is a whole number${s === undefined ? '' : `: ${s}`}`);
  return Number(s);
}

const firstLine = (s: string | null, max = 100): string => {
  if (!s) return '';
  const l = s.split('\n')[0]!;
  return l.length > max ? `${l.slice(0, max - 1)}…` : l;
};

function line(j: JobRecord): string {
  const when = j.status === 'done' || j.status === 'dead' ? `finished ${j.finishedAt}`
    : j.status === 'running' ? `lease until ${j.leaseUntil} (${j.leaseOwner})`
    : j.runAt ? `run at ${j.runAt}` : `queued ${j.createdAt}`;
  return `#${j.id}  ${j.status.padEnd(7)}  ${j.type.padEnd(8)}  ${j.shop}  attempt ${j.attempts}/${j.maxAttempts}  ${when}`
    + (j.reason ? `\n      reason: ${firstLine(j.reason, 160)}` : '')
    + (j.lastError && j.status !== 'done' ? `\n      last error: ${firstLine(j.lastError, 160)}` : '');
}

function show(j: JobRecord): void {
  console.log(line(j));
  console.log(`  created ${j.createdAt}${j.startedAt ? `, last started ${j.startedAt}` : ''}${j.heartbeatAt ? `, heartbeat ${j.heartbeatAt}` : ''}`);
  if (j.dedupeKey) console.log(`  dedupe key: ${j.dedupeKey}`);
  console.log(`  payload: ${JSON.stringify(j.payload)}`);
  if (j.result !== null) console.log(`  result: ${JSON.stringify(j.result, null, 2).split('\n').join('\n  ')}`);
  if (j.lastError) console.log(`  last error:\n    ${j.lastError.split('\n').join('\n    ')}`);
}

export async function runJobsCommand(argv: string[], env: Record<string, string | undefined>): Promise<number> {
  const [sub, ...rest] = argv;
  const p = parseArgs(rest, { booleans: ['json'], strings: ['shop', 'status', 'type', 'limit', 'db', 'kind', 'seed', 'reason'] });
  if (!sub || !['list', 'show', 'retry', 'train', 'run-once'].includes(sub)) throw new UsageError('expected a subcommand: list, show, retry, train or run-once');
  const shop = str(p, 'shop');
  if (shop !== undefined && !isShopDomain(shop)) throw new UsageError('--shop must be a *.myshopify.com domain');
  const status = str(p, 'status');
  if (status !== undefined && !(JOB_STATUSES as readonly string[]).includes(status)) throw new UsageError(`--status must be one of ${JOB_STATUSES.join(', ')}`);
  const limitArg = str(p, 'limit') ?? '50';
  if (!/^\d+$/.test(limitArg) || Number(limitArg) < 1) throw new UsageError('--limit must be a positive whole number');
  const json = p.options.json === true;

  if (sub === 'run-once') return runOnce(env, str(p, 'db'), str(p, 'type'), json);

  const db = openExistingDb(p, env);
  if (!db) return 1;
  try {
    if (sub === 'list') {
      if (p.positional.length > 0) throw new UsageError('list takes no job ids');
      const jobs = listJobs(db, { shop, status: status as JobStatus | undefined, type: str(p, 'type'), limit: Number(limitArg) });
      const counts = jobCounts(db, shop);
      if (json) {
        console.log(JSON.stringify({ counts, jobs }));
      } else {
        console.log(`jobs${shop ? ` of ${shop}` : ''}: ${JOB_STATUSES.map((s) => `${counts[s]} ${s}`).join(', ')}`);
        for (const j of jobs) console.log(line(j));
      }
      return 0;
    }
    if (sub === 'show' || sub === 'retry') {
      if (p.positional.length !== 1) throw new UsageError(`${sub} takes one job id`);
      const id = parseId(p.positional[0]);
      if (sub === 'show') {
        const j = getJob(db, id);
        if (!j) {
          console.error(`error: no job ${id}`);
          return 1;
        }
        if (json) console.log(JSON.stringify({ job: j }));
        else show(j);
        return 0;
      }
      try {
        const j = retryJob(db, id, new Date());
        if (json) console.log(JSON.stringify({ job: j }));
        else console.log(`job ${id} is pending again (${j.type} of ${j.shop}, ${j.maxAttempts} attempts); a running server picks it up within a second`);
        return 0;
      } catch (err) {
        if (!(err instanceof JobError)) throw err;
        if (json) console.log(JSON.stringify({ error: err.code, message: err.message }));
        else console.error(`error: ${err.message}`);
        return 1;
      }
    }
    // train: enqueue a training job for the server's runner (one open train job per shop).
    if (!shop) throw new UsageError('train needs --shop');
    const kindArg = str(p, 'kind') ?? 'all';
    if (kindArg !== 'all' && !MODEL_KINDS.includes(kindArg as ModelKind)) throw new UsageError(`--kind must be one of ${MODEL_KINDS.join(', ')} or all`);
    const seedArg = str(p, 'seed');
    if (seedArg !== undefined && !/^\d+$/.test(seedArg)) throw new UsageError('--seed must be a whole number');
    const payload = { ...(kindArg === 'all' ? {} : { kinds: [kindArg] }), ...(seedArg ? { seed: Number(seedArg) } : {}) };
    const r = enqueueJob(db, { type: 'train', shop, payload, dedupeKey: 'train', reason: str(p, 'reason') ?? 'manual: shopml jobs train' });
    if (json) console.log(JSON.stringify(r));
    else console.log(r.created ? `job ${r.id} enqueued: train ${kindArg} for ${shop}` : `job ${r.id} (train of ${shop}) is already waiting or running; nothing added`);
    return 0;
  } finally {
    db.close();
  }
}

/** Claims and runs every ready job here, then exits: 0 when every job it ran is done. */
async function runOnce(env: Record<string, string | undefined>, dbPath: string | undefined, type: string | undefined, json: boolean): Promise<number> {
  const { loadConfig, ConfigError } = await import('../config.ts');
  const { createDeps } = await import('../runtime.ts');
  const { createJobRunner } = await import('../jobs/runner.ts');
  const { limitsFrom } = await import('../jobs/background.ts');
  let config;
  try {
    config = loadConfig(dbPath ? { ...env, DATABASE_PATH: dbPath } : env);
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`error: ${err.message} (run-once runs handlers as the server does, with its configuration)`);
      return 2;
    }
    throw err;
  }
  const deps = await createDeps(config, { defaultMetrics: false });
  if (type !== undefined) {
    if (!deps.jobHandlers.has(type)) {
      deps.db.close();
      throw new UsageError(`--type must be one of ${[...deps.jobHandlers.keys()].join(', ')}`);
    }
    for (const k of [...deps.jobHandlers.keys()]) if (k !== type) deps.jobHandlers.delete(k);
  }
  const outcomes: { id: number; type: string; shop: string; attempt: number; state: string; error?: string; seconds: number }[] = [];
  const runner = createJobRunner(deps, {
    limits: limitsFrom(config.jobs), leaseMs: config.jobs.leaseSeconds * 1000,
    onOutcome: (o) => {
      outcomes.push({ id: o.job.id, type: o.job.type, shop: o.job.shop, attempt: o.attempt, state: o.state, error: o.error, seconds: o.seconds });
      if (!json) console.log(`#${o.job.id} ${o.job.type} ${o.job.shop} attempt ${o.attempt}: ${o.state} in ${o.seconds} s${o.error ? ` — ${firstLine(o.error)}` : ''}`);
    },
  });
  let stopping = false;
  const onSignal = () => {
    if (stopping) return;
    stopping = true;
    void runner.stop({ graceMs: 0 });
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    if (!json) console.log(`running ready jobs as ${runner.owner}…`);
    await runner.drain();
    if (json) console.log(JSON.stringify({ owner: runner.owner, jobs: outcomes }));
    else if (outcomes.length === 0) console.log('no job was ready');
    return outcomes.every((o) => o.state === 'done') ? 0 : 1;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await deps.writer.drain();
    deps.db.close();
  }
}
