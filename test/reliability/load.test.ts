// Load (issue 7, item 2), against the real backend: `shopml serve` in a child process on a store
// prepared as the serving benchmark prepares it (bench/serve-bench.ts: simulated shop stored through
// the real recording path, `recommend` trained, a challenger and a live experiment), requests built
// and signed as Shopify signs them (bench/webhook-bench.ts, bench/serve-bench.ts), the load
// generator in this process.
//
//  1. Latency at fixed offered rates, open loop (bench/open-loop.ts: latency from the scheduled
//     time), signed webhooks + app proxy recommendation requests together; the server's RSS sampled
//     every second (from /proc), its main-thread JS heap and event-loop delay every 5 s (/metrics).
//     Long: the full rates, then a sweep of lower rates for the highest one at which each
//     benchmark goal holds.
//  2. The same recommendation load alone (idle), then again while a `train` job runs in the
//     training's own process at the lowest priority — SCHED_IDLE, nice 19, single-threaded GC (enqueued with `shopml jobs train`): storefront p99 within 2× idle.
//  3. Correctness: 200 concurrent webhook senders (closed loop, with Shopify's redeliveries):
//     every delivery answered 200 is stored exactly once, no 5xx but 503 + Retry-After, and every
//     503 retried until accepted; the WAL stays bounded.
//
// Sizes: test/reliability/profile.ts (short inside `npm test`, long with `npm run test:reliability`).
import http from 'node:http';
import { cpSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BENCH_STORE, httpRequestStream, prepareInChild, serveEnv, SHOP, type Prepared } from '../../bench/serve-bench.ts';
import { ORDER_ID_BASE, webhookRequests } from '../../bench/webhook-bench.ts';
import { runOpenLoop, sendOnce, type OpenLoopStream, type OpenLoopStreamResult } from '../../bench/open-loop.ts';
import { rssTrend, startRssSampler } from '../../bench/rss-sampler.ts';
import { percentile, type LoadRequest } from '../../bench/load.ts';
import { linearSlope } from '../../backend/src/ml/stats.ts';
import { LONG, reportFigures, size } from './profile.ts';
import { startServe, type ServeProcess } from './load-server.ts';

const root = new URL('../..', import.meta.url).pathname;

/** The benchmark goals (docs/BENCHMARKS.md), ms. */
const GOAL = { webhooksP99: 20, recommendationsP99: 10 };

const P = {
  // Short: big enough that training `recommend` outlasts a few seconds of measurement.
  store: size({ products: 1000, customers: 1200, days: 180 }, BENCH_STORE),
  rates: size({ webhooks: 200, recommendations: 100 }, { webhooks: 1000, recommendations: 500 }),
  // Long: SQLite's page caches (64 MiB per connection) fill while the log grows; a minute covers it.
  warmupSeconds: size(2, 60),
  seconds: size(4, 120),
  /** Long: lower rates (fractions of the full ones), for the highest rate at which each goal holds. */
  sweep: size<number[]>([], [0.75, 0.5, 0.35, 0.25, 0.15, 0.1]),
  sweepWarmupSeconds: 5,
  sweepSeconds: 20,
  /** Short runs share the machine with the rest of `npm test`: a bound that catches a stall, not the goal. */
  shortP99BoundMs: 500,
  trainRate: size(100, 500),
  trainWindowSeconds: size(3, 30),
  trainWarmupSeconds: size(0.5, 5),
  /**
   * Long: a new server answers slower for its first ~15 s (idle p99 3–4 ms, then 1.6–2.2): the same
   * load, not measured, before the first idle window, so that the idle reference is the server's
   * steady state and not its start.
   */
  serverWarmupSeconds: size(0, 20),
  /** What the train job trains: short, the longest kind alone (the test waits for it to finish). */
  trainKind: size('recommend', 'all'),
  /**
   * Long: the idle load again after the training, and the reference is the mean of the two idle
   * p99s — the machine is shared, and one idle window can catch someone else's burst.
   */
  idleAfterTraining: size(false, true),
  /** At least this long of the measured window must fall while the training ran. */
  trainMinOverlapSeconds: size(2, 20),
  senders: 200,
  sendersSeconds: size(5, 60),
  redeliveryShare: 0.05,
  /**
   * Long: RSS after warm-up may grow at most this much — a bound, not a leak detector (2 minutes
   * are too short for that): SQLite's page caches fill while the database grows (64 MiB per
   * connection: main, serving telemetry, webhook writer) and the V8 heaps of the main and writer
   * threads swing by ~100 MB between major GCs.
   */
  maxRssGrowthMb: 4 * 64,
};

const load = () => os.loadavg().map((x) => Math.round(x * 100) / 100);
/**
 * The machine's CPU time stolen by the hypervisor and spent waiting for the disk, seconds over all
 * cores (/proc/stat, USER_HZ ticks): what a run on this shared VM lost to its neighbours.
 */
function cpuLost(): { stealS: number; iowaitS: number } {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    return { iowaitS: f[4]! / 100, stealS: f[7]! / 100 };
  } catch {
    return { iowaitS: NaN, stealS: NaN }; // not Linux
  }
}
const lostSince = (a: ReturnType<typeof cpuLost>) => {
  const b = cpuLost();
  return { stealSeconds: ms(b.stealS - a.stealS), iowaitSeconds: ms(b.iowaitS - a.iowaitS) };
};
const ms = (x: number) => Math.round(x * 100) / 100;
const brief = (s: OpenLoopStreamResult) => ({
  offered: s.offeredRate, achieved: Math.round(s.achievedRate), scheduled: s.scheduled, answered: s.answered,
  p50ms: ms(s.p50ms), p90ms: ms(s.p90ms), p99ms: ms(s.p99ms), p999ms: ms(s.p999ms), maxms: ms(s.maxms),
  statuses: s.statuses, errors: s.errors, ...(s.errors ? { errorKinds: s.errorKinds } : {}), timeouts: s.timeouts, sendLagP99ms: ms(s.sendLagP99ms),
});

/**
 * p99 of each 10 s window of a measured run, in schedule order: the tail at a fixed rate comes in
 * episodes (a stall puts every request due meanwhile behind it), and this shows whether a run's
 * p99 is one bad stretch or all of it.
 */
function windowP99s(s: OpenLoopStreamResult, seconds = 10): number[] {
  const { scheduledAtMs, latencyMs } = s.samples!;
  const out: number[] = [];
  for (let from = 0; from < latencyMs.length; ) {
    const end = scheduledAtMs[from]! + seconds * 1000;
    let to = from;
    while (to < latencyMs.length && scheduledAtMs[to]! < end) to++;
    out.push(ms(percentile(Float64Array.from(latencyMs.subarray(from, to)).sort(), 99)));
    from = to;
  }
  return out;
}

/**
 * The server's event-loop delay since the previous scrape (prom-client's default metrics, reset on
 * every scrape; sampled at 10 ms resolution): how long requests could not even be looked at.
 */
async function eventLoopDelay(url: string): Promise<{ p99ms: number; maxms: number; heapUsedMb: number }> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const read = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1]);
  return {
    p99ms: ms(read('shopml_nodejs_eventloop_lag_p99_seconds') * 1000), maxms: ms(read('shopml_nodejs_eventloop_lag_max_seconds') * 1000),
    heapUsedMb: ms(read('shopml_nodejs_heap_size_used_bytes') / 2 ** 20),
  };
}

/**
 * Scrapes the server every few seconds: its main thread's JS heap (a leak in JS shows there,
 * unlike SQLite's page caches, which fill RSS while the database grows) and the event-loop delay
 * of each interval.
 */
function startMetricsSampler(url: string, everyMs = 5000) {
  const samples: { t: number; heapUsedMb: number; p99ms: number; maxms: number }[] = [];
  const t0 = performance.now();
  let busy = false;
  const take = async () => {
    if (busy) return;
    busy = true;
    try {
      samples.push({ t: (performance.now() - t0) / 1000, ...(await eventLoopDelay(url)) });
    } catch {
      // a scrape that failed under load is a missing sample, not an error
    } finally {
      busy = false;
    }
  };
  const timer = setInterval(() => void take(), everyMs);
  return {
    async stop() {
      clearInterval(timer);
      await take();
      return samples;
    },
  };
}

/** Every request answered 200, none lost, the generator kept the offered rate. */
function expectAllAnswered(s: OpenLoopStreamResult) {
  expect(s.errors, `${s.name}: connection errors ${JSON.stringify(s.errorKinds)}`).toBe(0);
  expect(s.timeouts, `${s.name}: unanswered requests`).toBe(0);
  expect(s.answered, `${s.name}: answered`).toBe(s.scheduled);
  expect(s.statuses, `${s.name}: statuses`).toEqual({ 200: s.scheduled });
}

let prepared: Prepared;
/** A copy of the prepared store taken before any load: the training test trains on the store as prepared. */
let pristine: string;
let secret: string;
let salt = 0;

/** Open-loop streams: signed orders/create deliveries and signed app proxy recommendation requests. */
function streams(rates: { webhooks?: number; recommendations?: number }, checkBodies: { bad: string[] }): OpenLoopStream[] {
  salt++;
  const out: OpenLoopStream[] = [];
  if (rates.webhooks) {
    out.push({
      name: 'webhooks', rate: rates.webhooks,
      request: webhookRequests({ salt: `load-${salt}`, secret, shop: SHOP, orderIdBase: ORDER_ID_BASE + salt * 10_000_000 }),
      onAnswer: (i, status, _h, body) => { if (status === 200 && !/"outcome":"applied"/.test(body)) checkBodies.bad.push(`webhook ${i}: ${body}`); },
    });
  }
  if (rates.recommendations) {
    const next = httpRequestStream(prepared, 1000 + salt);
    out.push({
      name: 'recommendations', rate: rates.recommendations, request: () => next(),
      onAnswer: (i, status, _h, body) => {
        if (status !== 200) return;
        const n = (JSON.parse(body) as { products?: unknown[] }).products?.length;
        if (n !== 10) checkBodies.bad.push(`recommendation ${i}: ${n} products`);
      },
    });
  }
  return out;
}

beforeAll(async () => {
  // In a child process: preparing leaves hundreds of MB of heap behind, and this process is the load generator.
  prepared = await prepareInChild(P.store);
  pristine = mkdtempSync(join(tmpdir(), 'shopml-load-pristine-'));
  cpSync(prepared.dir, pristine, { recursive: true });
  // The kernel writes freshly written files back ~30 s later (vm.dirty_expire_centisecs): the
  // prepared store and its copy, some hundred MB, would otherwise reach the disk during the first
  // measured window and share it with the server's commits. Written back now, before any timing.
  spawnSync('sync');
  secret = serveEnv(prepared.dir).SHOPIFY_API_SECRET!;
  webhookRequests({ salt: 'warm', secret, shop: SHOP })(0); // the simulated order source, built once outside any timing
}, 600_000);

afterAll(() => {
  if (prepared) rmSync(prepared.dir, { recursive: true, force: true });
  if (pristine) rmSync(pristine, { recursive: true, force: true });
});

describe(`load (${LONG ? 'long' : 'short'})`, () => {
  it('open loop at fixed offered rates: webhooks + recommendations, p99 against the goals, memory flat after warm-up', async () => {
    const server = await startServe(serveEnv(prepared.dir, { SHOPML_JOBS: 'off', LOG_LEVEL: 'warn' }));
    const rss = startRssSampler(server.pid, 1000);
    const bodies = { bad: [] as string[] };
    try {
      const loadBefore = load();
      await eventLoopDelay(server.url);
      const metrics = startMetricsSampler(server.url);
      const generatorHeapMb = process.memoryUsage().heapUsed / 2 ** 20;
      const generatorCpu = process.cpuUsage();
      const lost = cpuLost();
      const main = await runOpenLoop({ baseUrl: server.url, streams: streams(P.rates, bodies), seconds: P.seconds, warmupSeconds: P.warmupSeconds, keepSamples: true });
      const generatorCpuUsed = process.cpuUsage(generatorCpu);
      const machineLost = lostSince(lost);
      const scraped = await metrics.stop();
      const samples = rss.stop();
      const mem = rssTrend(samples, P.warmupSeconds);
      const atWarmupEnd = samples.find((x) => x.t >= P.warmupSeconds)?.mb ?? NaN;
      const heapAfter = scraped.filter((x) => x.t >= P.warmupSeconds);
      const heapSlope = linearSlope(heapAfter.map((x) => x.t), heapAfter.map((x) => x.heapUsedMb)) * 60;
      const loop = { worstIntervalP99ms: Math.max(...scraped.map((x) => x.p99ms)), maxms: Math.max(...scraped.map((x) => x.maxms)) };
      const loadAfter = load();
      const [wh, rec] = main.streams as [OpenLoopStreamResult, OpenLoopStreamResult];

      // Lower rates (long only): where does each goal hold on this machine?
      const sweep: { fraction: number; webhooks: ReturnType<typeof brief>; recommendations: ReturnType<typeof brief>; loadavg: number[] }[] = [];
      const sweepStreams: OpenLoopStreamResult[] = [];
      for (const f of P.sweep) {
        const r = await runOpenLoop({
          baseUrl: server.url, seconds: P.sweepSeconds, warmupSeconds: P.sweepWarmupSeconds,
          streams: streams({ webhooks: P.rates.webhooks * f, recommendations: P.rates.recommendations * f }, bodies),
        });
        sweepStreams.push(...r.streams);
        sweep.push({ fraction: f, webhooks: brief(r.streams[0]!), recommendations: brief(r.streams[1]!), loadavg: load() });
      }
      const levels = [{ fraction: 1, webhooks: brief(wh), recommendations: brief(rec) }, ...sweep];
      const highest = (pick: (l: (typeof levels)[number]) => { p99ms: number; offered: number }, goal: number) =>
        levels.filter((l) => pick(l).p99ms <= goal).sort((a, b) => b.fraction - a.fraction)[0]?.fraction ?? null;
      const whHolds = highest((l) => l.webhooks, GOAL.webhooksP99);
      const recHolds = highest((l) => l.recommendations, GOAL.recommendationsP99);

      reportFigures('load: open loop', {
        store: { products: P.store.products, artifactProducts: prepared.artifactProducts, orders: prepared.orders },
        warmupSeconds: P.warmupSeconds, seconds: P.seconds,
        webhooks: { ...brief(wh), goalP99ms: GOAL.webhooksP99, goalMet: wh.p99ms <= GOAL.webhooksP99, p99Every10s: windowP99s(wh) },
        recommendations: { ...brief(rec), goalP99ms: GOAL.recommendationsP99, goalMet: rec.p99ms <= GOAL.recommendationsP99, p99Every10s: windowP99s(rec) },
        serverEventLoopDelay: loop,
        // This process (the load generator) shares the 2 cores: its CPU over warm-up + measured window, and its heap at the start.
        generator: {
          cores: ms((generatorCpuUsed.user + generatorCpuUsed.system) / 1e6 / (P.warmupSeconds + P.seconds)),
          heapUsedAtStartMb: ms(generatorHeapMb),
        },
        rss: {
          slopeMbPerMinAfterWarmup: ms(mem.slopeMbPerMin), atStartMb: ms(samples[0]!.mb), atWarmupEndMb: ms(atWarmupEnd), minMb: ms(mem.minMb), maxMb: ms(mem.maxMb), samples: mem.n,
          every10s: samples.filter((_, k) => k % 10 === 0).map((x) => Math.round(x.mb)),
        },
        // Used heap, not after GC: a saw-tooth; its floor (the lowest samples) is what would show a leak.
        mainHeap: { slopeMbPerMinAfterWarmup: ms(heapSlope), samples: heapAfter.length, every10s: scraped.filter((_, k) => k % 2 === 0).map((x) => Math.round(x.heapUsedMb)) },
        sweep,
        highestRateGoalHolds: {
          webhooks: whHolds === null ? null : P.rates.webhooks * whHolds,
          recommendations: recHolds === null ? null : P.rates.recommendations * recHolds,
          note: 'offered together, webhooks:recommendations = 2:1',
        },
        loadavg: { before: loadBefore, after: loadAfter, end: load() }, cpus: os.cpus().length,
        // Over warm-up + measured window, all cores: CPU the hypervisor gave to others, and disk waits.
        machine: machineLost,
      });

      for (const s of [wh, rec, ...sweepStreams]) expectAllAnswered(s);
      expect(bodies.bad.slice(0, 5)).toEqual([]);
      // The generator offered the rates (answers may trail the window by their latency).
      expect(wh.achievedRate).toBeGreaterThan(P.rates.webhooks * 0.9);
      expect(rec.achievedRate).toBeGreaterThan(P.rates.recommendations * 0.9);
      if (LONG) {
        expect(mem.n, 'RSS samples (one a second; fewer when this process is starved)').toBeGreaterThanOrEqual(P.seconds / 2);
        expect(mem.maxMb - atWarmupEnd, 'RSS growth after warm-up, MB').toBeLessThan(P.maxRssGrowthMb);
        // Each goal holds at some offered rate on this 2-core machine (generator included).
        expect(whHolds, 'a rate at which webhook p99 ≤ 20 ms').not.toBeNull();
        expect(recHolds, 'a rate at which recommendation p99 ≤ 10 ms').not.toBeNull();
      } else {
        expect(wh.p99ms).toBeLessThan(P.shortP99BoundMs);
        expect(rec.p99ms).toBeLessThan(P.shortP99BoundMs);
      }
    } finally {
      rss.stop();
      expect(await server.stop()).toBe(0);
    }
  }, 900_000);

  it('training (its own low-priority process) keeps the storefront p99 within 2× its idle value', async () => {
    // Jobs on, the scheduler's own triggers off: the only job is the one enqueued here.
    const server = await startServe(serveEnv(pristine, {
      SHOPML_JOBS: 'on', LOG_LEVEL: 'warn', SHOPML_RETRAIN_INTERVAL_DAYS: '0', SHOPML_RETRAIN_MIN_NEW_ORDERS: '0',
      SHOPML_POLICY_INTERVAL_MINUTES: '0', SHOPML_MONITOR_INTERVAL_HOURS: '0',
    }));
    const db = new Database(join(pristine, 'shopml.db'), { readonly: true });
    const bodies = { bad: [] as string[] };
    const recLoad = () => runOpenLoop({
      baseUrl: server.url, streams: streams({ recommendations: P.trainRate }, bodies), seconds: P.trainWindowSeconds, warmupSeconds: P.trainWarmupSeconds,
      keepSamples: true,
    });
    try {
      if (P.serverWarmupSeconds > 0) {
        const warm = await runOpenLoop({ baseUrl: server.url, streams: streams({ recommendations: P.trainRate }, bodies), seconds: P.serverWarmupSeconds });
        expectAllAnswered(warm.streams[0]!);
      }
      // After the warm-up: the idle window's load average and event-loop delay are its own.
      const loadIdle = load();
      await eventLoopDelay(server.url);
      const idle = (await recLoad()).streams[0]!;
      const loopIdle = await eventLoopDelay(server.url);

      const enq = spawnSync(process.execPath, [join(root, 'bin/shopml.js'), 'jobs', 'train', '--shop', SHOP, '--kind', P.trainKind, '--json'], {
        cwd: root, env: { PATH: process.env.PATH ?? '', ...serveEnv(pristine) }, encoding: 'utf8',
      });
      expect(enq.status, enq.stderr).toBe(0);
      const jobId = (JSON.parse(enq.stdout) as { id: number; created: boolean }).id;
      const job = db.prepare('SELECT status, started_at AS startedAt, finished_at AS finishedAt, last_error AS lastError, result FROM jobs WHERE id = ?');
      type Job = { status: string; startedAt: string | null; finishedAt: string | null; lastError: string | null; result: string | null };
      const deadline = Date.now() + 30_000;
      while ((job.get(jobId) as Job).status === 'pending' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect((job.get(jobId) as Job).status).toBe('running');

      const loadTrain = load();
      await eventLoopDelay(server.url);
      const lostBefore = cpuLost();
      const during = (await recLoad()).streams[0]!;
      const machineLost = lostSince(lostBefore);
      const loopTrain = await eventLoopDelay(server.url);

      // The training completes under load (and before the server stops).
      const doneBy = Date.now() + size(60_000, 600_000);
      let final = job.get(jobId) as Job;
      while (['running', 'pending'].includes(final.status) && Date.now() < doneBy) {
        await new Promise((r) => setTimeout(r, 200));
        final = job.get(jobId) as Job;
      }
      const trainFrom = Date.parse(final.startedAt!);
      const trainTo = final.finishedAt ? Date.parse(final.finishedAt) : Infinity;
      const trainSeconds = (trainTo - trainFrom) / 1000;
      // The requests scheduled while the training ran (the window may start before it and end after).
      const { scheduledAtMs, latencyMs, sendLagMs } = during.samples!;
      const inTraining = (_: number, k: number) => scheduledAtMs[k]! >= trainFrom && scheduledAtMs[k]! <= trainTo;
      const overlap = Float64Array.from(latencyMs.filter(inTraining)).sort();
      // How late the generator itself sent them (part of each latency; it shares the 2 cores too).
      const overlapLag = Float64Array.from(sendLagMs.filter(inTraining)).sort();
      const overlapSeconds = overlap.length / P.trainRate;
      const trainP99 = percentile(overlap, 99);
      const loadAfter = load();
      const idleAfter = P.idleAfterTraining ? (await recLoad()).streams[0]! : null;
      const idleP99 = idleAfter ? (idle.p99ms + idleAfter.p99ms) / 2 : idle.p99ms;
      const ratio = trainP99 / idleP99;
      reportFigures('load: storefront while training', {
        rate: P.trainRate, windowSeconds: P.trainWindowSeconds,
        idle: { ...brief(idle), serverEventLoopDelay: loopIdle, loadavg: loadIdle },
        ...(idleAfter ? { idleAfter: { ...brief(idleAfter), loadavg: loadAfter }, idleP99ms: ms(idleP99) } : {}),
        window: { ...brief(during), serverEventLoopDelay: loopTrain, loadavg: loadTrain },
        whileTraining: { requests: overlap.length, seconds: ms(overlapSeconds), p50ms: ms(percentile(overlap, 50)), p99ms: ms(trainP99), maxms: ms(overlap[overlap.length - 1] ?? NaN), sendLagP99ms: ms(percentile(overlapLag, 99)) },
        p99Ratio: ms(ratio), goal: 2, goalMet: ratio <= 2,
        job: { id: jobId, status: final.status, kind: P.trainKind, trainSeconds: ms(trainSeconds) },
        machineDuringWindow: machineLost,
        loadavgEnd: load(),
      });

      for (const s of [idle, during, ...(idleAfter ? [idleAfter] : [])]) expectAllAnswered(s);
      expect(bodies.bad.slice(0, 5)).toEqual([]);
      // The training overlapped enough of the measured window, and finished well.
      expect(overlapSeconds, 'seconds of measurement while the training ran').toBeGreaterThanOrEqual(P.trainMinOverlapSeconds);
      expect(final.status, final.lastError ?? '').toBe('done');
      if (LONG) expect(ratio, 'storefront p99 while training / idle').toBeLessThanOrEqual(2);
      // Short windows hold a few hundred requests (p99 ≈ the 3rd worst): 2× plus a margin for a shared machine.
      else expect(trainP99).toBeLessThanOrEqual(2 * idleP99 + 50);
    } finally {
      db.close();
      expect(await server.stop()).toBe(0);
    }
  }, 900_000);

  it(`${P.senders} concurrent webhook senders: nothing acknowledged is lost or doubled; only 503 + Retry-After, retried until accepted`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'shopml-load-senders-'));
    const server: ServeProcess = await startServe(serveEnv(dir, { SHOPML_JOBS: 'off', LOG_LEVEL: 'warn' }));
    const agent = new http.Agent({ keepAlive: true, maxSockets: P.senders });
    try {
      const build = webhookRequests({ salt: 'senders', secret, shop: SHOP, orderIdBase: ORDER_ID_BASE - 10_000_000 });
      const acked = new Map<string, LoadRequest>(); // webhook id → the delivery (redelivered as is)
      const ackedIds: string[] = [];
      const tally = { deliveries: 0, redeliveries: 0, answered200: 0, duplicates: 0, redeliveriesRecognised: 0, retried503: 0, bad: [] as string[], connectionErrors: 0, latencies: [] as number[] };
      let nextId = 0;
      let rnd = 12345;
      const random = () => ((rnd = (Math.imul(rnd, 1103515245) + 12345) >>> 0) / 4294967296);
      const idOf = (r: LoadRequest) => r.headers['X-Shopify-Webhook-Id']!;

      /**
       * Delivers until answered 200, as Shopify does: a 503 waits Retry-After seconds, then the same
       * delivery again. The outcome shopml answered ('applied', 'duplicate'), or null for another status.
       */
      const deliver = async (r: LoadRequest): Promise<string | null> => {
        for (let attempt = 0; ; attempt++) {
          const t = performance.now();
          let a;
          try {
            a = await sendOnce(agent, server.url, r);
          } catch (err) {
            tally.connectionErrors++;
            tally.bad.push(`${idOf(r)}: ${(err as Error).message}`);
            await new Promise((res) => setTimeout(res, 1000));
            continue;
          }
          tally.latencies.push(performance.now() - t);
          if (a.status === 200) {
            tally.answered200++;
            const outcome = (JSON.parse(a.body) as { outcome: string }).outcome;
            if (outcome === 'duplicate') tally.duplicates++;
            return outcome;
          }
          if (a.status === 503 && a.headers['retry-after'] !== undefined) {
            tally.retried503++;
            await new Promise((res) => setTimeout(res, Number(a.headers['retry-after']) * 1000));
            continue;
          }
          tally.bad.push(`${idOf(r)}: ${a.status} ${a.body.slice(0, 200)}`);
          return null;
        }
      };

      const loadBefore = load();
      // The WAL's size each second: the checkpointer must keep it bounded while writes never pause.
      let walMaxMb = 0;
      const walTimer = setInterval(() => { walMaxMb = Math.max(walMaxMb, (statSync(join(dir, 'shopml.db-wal'), { throwIfNoEntry: false })?.size ?? 0) / 2 ** 20); }, 1000);
      const t0 = performance.now();
      const end = t0 + P.sendersSeconds * 1000;
      await Promise.all(Array.from({ length: P.senders }, async () => {
        while (performance.now() < end) {
          if (ackedIds.length > 0 && random() < P.redeliveryShare) {
            tally.redeliveries++;
            if (await deliver(acked.get(ackedIds[Math.floor(random() * ackedIds.length)]!)!) === 'duplicate') tally.redeliveriesRecognised++;
          } else {
            const r = build(nextId++);
            tally.deliveries++;
            if ((await deliver(r)) === null) continue;
            acked.set(idOf(r), r);
            ackedIds.push(idOf(r));
          }
        }
      }));
      const seconds = (performance.now() - t0) / 1000;
      clearInterval(walTimer);
      const lat = Float64Array.from(tally.latencies).sort();
      expect(await server.stop()).toBe(0);

      const db = new Database(join(dir, 'shopml.db'), { readonly: true });
      const stored = new Map((db.prepare(`SELECT source_id AS id, count(*) AS n FROM events WHERE shop = ? AND source = 'webhook' GROUP BY source_id`)
        .all(SHOP) as { id: string; n: number }[]).map((r) => [r.id, r.n]));
      const orders = db.prepare('SELECT count(*) FROM orders WHERE shop = ?').pluck().get(SHOP) as number;
      const integrity = db.pragma('integrity_check', { simple: true });
      db.close();
      const missing = ackedIds.filter((id) => stored.get(id) !== 1);
      const unexpected = [...stored.keys()].filter((id) => !acked.has(id));

      reportFigures('load: concurrent webhook senders', {
        senders: P.senders, seconds: ms(seconds), deliveries: tally.deliveries, redeliveries: tally.redeliveries,
        answered200: tally.answered200, duplicatesAnswered: tally.duplicates, redeliveriesRecognised: tally.redeliveriesRecognised, retried503: tally.retried503,
        otherStatuses: tally.bad.length, connectionErrors: tally.connectionErrors,
        throughputPerSecond: Math.round((tally.deliveries + tally.redeliveries) / seconds),
        p50ms: ms(lat[Math.floor(lat.length * 0.5)]!), p99ms: ms(lat[Math.floor(lat.length * 0.99)]!), maxms: ms(lat[lat.length - 1]!),
        stored: stored.size, storedMoreThanOnce: [...stored.values()].filter((n) => n > 1).length, missing: missing.length, orders, walMaxMb: ms(walMaxMb),
        loadavg: { before: loadBefore, end: load() }, cpus: os.cpus().length,
      });

      expect(tally.bad.slice(0, 5)).toEqual([]);
      expect(tally.connectionErrors).toBe(0);
      expect(tally.deliveries).toBeGreaterThan(P.senders * 5);
      expect(tally.redeliveries).toBeGreaterThan(0);
      expect(missing.slice(0, 5), 'acknowledged deliveries not stored exactly once').toEqual([]);
      expect(unexpected.slice(0, 5), 'stored deliveries never sent').toEqual([]);
      expect(stored.size).toBe(tally.deliveries);
      expect(tally.redeliveriesRecognised).toBe(tally.redeliveries); // every redelivery recognised, none applied twice
      expect(orders).toBe(tally.deliveries); // one order per delivery (distinct order ids)
      expect(integrity).toBe('ok');
      // Bounded by the checkpointer (WAL_RESET_FRAMES ≈ 64 MiB, plus what arrives before the next tick).
      expect(walMaxMb, 'largest WAL, MB').toBeLessThan(256);
    } finally {
      agent.destroy();
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 900_000);
});
