// What keeps the demo's loop turning while orders and shoppers stream in, beside the server's own
// job runner and retraining scheduler (jobs/background.ts, jobs/loop.ts):
//
//   every policyEveryMs   the canary policy (runPolicies: promote / roll back / hold, SRM) and the
//                         shadow evaluations (runShadows); champions a shadow promoted are
//                         published (re-tag, metafields, stock-out triggers: loop.ts publishChampions)
//   every monitorEveryMs  the drift / accuracy / KPI monitor, stored for the dashboard; dataset
//                         drift fires "Model drift detected"; a report that asks for a retrain
//                         enqueues the `train` job — what loop.ts's `monitor.shop` job does
//   after each retrain    (a `train` job: the new-order threshold, or the monitor) the gate's
//                         verdicts go through afterTraining with the demo's canary split — a new
//                         recommend challenger restarts the canary — then changed champions are
//                         published: loop.ts's afterTrainJob, with the split
//
// Why the demo runs these itself instead of the scheduled `rollout.policy` / `monitor.shop` jobs
// (SHOPML_POLICY_INTERVAL_MINUTES / SHOPML_MONITOR_INTERVAL_HOURS, whole minutes and hours): the
// cadence (seconds), and the clock. The canary runs on the wall clock (shoppers are real-time);
// drift windows and shadows use the simulated store's clock (`storeClock`), because the live
// order stream replays the store's future faster than real time — otherwise a drift window
// (≥ 7 days since training) or a shadow (labels mature in weeks) would take that long to fill.
import type { AppDeps } from '../app.ts';
import type { TrainedHook } from '../jobs/handlers.ts';
import { afterTrainJob, afterTrainingPass, monitorAndAct, policyPass } from '../jobs/loop.ts';
import type { PlanOptions } from '../rollout/canary.ts';
import { driftLine, driftSummary } from './demo-report.ts';

const short = (v: string | null | undefined) => (v ? v.slice(0, 12) : '—');
/** The monitor's pass may take at most 1/MONITOR_DUTY of the server's time. */
const MONITOR_DUTY = 20;

export type CanarySplit = Required<Pick<PlanOptions, 'holdoutPct' | 'challengerPct'>>;

/**
 * The runtime's after-training hook (loop.ts afterTrainJob) with the demo's canary split, and
 * what happened printed. Replaces afterTrainJob in deps.onTrained.
 */
export function useDemoAfterTraining(deps: AppDeps, o: { split: CanarySplit; say: (line: string) => void }): void {
  const hook: TrainedHook = async ({ shop, jobId, triggers, result }) => {
    const { after, published } = await afterTrainingPass(deps, shop, result, o.split);
    const why = triggers.map((t) => t.reason).join('; ') || 'enqueued by hand';
    o.say(`retrain      job ${jobId} (${why}): watermark ${result.watermark}, ${result.orders} orders, ${result.seconds.toFixed(1)} s`);
    for (const r of result.runs) o.say(`  ${r.kind.padEnd(9)} ${(r.decision ?? r.status).padEnd(10)} ${short(r.version)}${r.error ? ` — ${r.error}` : ''}`);
    if (after.superseded) o.say(`  canary #${after.superseded.id} stopped: its challenger was replaced by the retrain`);
    if (after.canary) o.say(`  canary #${after.canary.experiment.id} started: challenger ${short(after.canary.experiment.challengerVersion)} vs champion ${short(after.canary.experiment.championVersion)}`);
    for (const sh of after.shadows) o.say(`  ${sh.kind} challenger ${short(sh.challengerVersion)} in shadow`);
    const queued = [...(published.writeBack ? ['re-tag and metafield jobs queued'] : []), ...(published.stockOuts ? [`${published.stockOuts} "Stock out predicted" triggers queued`] : [])];
    if (queued.length > 0) o.say(`  published: ${queued.join('; ')}`);
  };
  deps.onTrained = [...(deps.onTrained ?? []).filter((h) => h !== afterTrainJob), hook];
}

export interface LiveLoopOptions {
  deps: AppDeps;
  shop: string;
  /** The simulated store's "now" (drift windows, shadows). */
  storeClock: () => Date;
  policyEveryMs: number;
  monitorEveryMs: number;
  say: (line: string) => void;
}

export interface LiveLoop {
  readonly counts: { policyRuns: number; policyActions: number; shadowActions: number; monitorReports: number; retrainsAsked: number; errors: number };
  /** Runs one round of everything now (the demo's last look before it reports). */
  flush(): Promise<void>;
  stop(): Promise<void>;
}

export function startLiveLoop(o: LiveLoopOptions): LiveLoop {
  const { deps, shop } = o;
  const counts = { policyRuns: 0, policyActions: 0, shadowActions: 0, monitorReports: 0, retrainsAsked: 0, errors: 0 };
  let lastDrift = '';
  let stopped = false;

  const guard = (what: string, fn: () => Promise<void>) => async () => {
    try {
      await fn();
    } catch (err) {
      counts.errors++;
      o.say(`${what} failed: ${(err as Error).message}`);
    }
  };

  const policy = guard('policy run', async () => {
    // The scheduled policy job's pass; shadows on the store's clock (labels mature in store time).
    const { canaries: runs, shadows } = await policyPass(deps, shop, deps.now(), { shadowsAt: o.storeClock() });
    counts.policyRuns++;
    for (const r of runs) {
      if (r.decision.action === 'hold') continue;
      counts.policyActions++;
      o.say(`policy       canary #${r.experiment.id}: ${r.decision.action} — ${r.decision.reason}`);
    }
    for (const s of shadows) {
      if (s.action === 'waiting' || s.action === 'undecided') continue;
      counts.shadowActions++;
      o.say(`shadow       ${s.shadow.kind} challenger ${short(s.shadow.challengerVersion)}: ${s.action}${s.comparison ? ` — ${s.comparison.detail}` : ''}`);
    }
  });

  let monitorMs = 0;
  let slowNoted = false;
  const monitor = guard('drift monitor', async () => {
    const t0 = performance.now();
    // The same pass as the scheduled monitor job (off the server's thread), at the store's clock.
    const r = await monitorAndAct(deps, shop, o.storeClock());
    monitorMs = performance.now() - t0;
    if (!slowNoted && MONITOR_DUTY * monitorMs > o.monitorEveryMs) {
      slowNoted = true;
      o.say(`monitor      one pass took ${(monitorMs / 1000).toFixed(1)} s (in a worker thread): it now runs every ${Math.round((MONITOR_DUTY * monitorMs) / 1000)} s, not every ${o.monitorEveryMs / 1000} s`);
    }
    counts.monitorReports++;
    if (r.trainJob !== null && r.retrain) {
      counts.retrainsAsked++;
      o.say(`monitor      report ${r.report} asks for a retrain (job ${r.trainJob}): ${r.retrain}`);
    }
    const line = driftLine(driftSummary(deps.db, shop));
    if (line !== lastDrift) o.say(line);
    lastDrift = line;
  });

  // One task at a time: a slow monitor pass never overlaps the next tick.
  let chain: Promise<void> = Promise.resolve();
  const enqueue = (task: () => Promise<void>) => {
    if (stopped) return chain;
    chain = chain.then(task);
    return chain;
  };
  // The monitor computes in a worker thread (as the scheduled monitor job does); on a large
  // history one pass takes seconds, so its next pass comes after `monitorEveryMs`, or
  // MONITOR_DUTY times its last duration if that is longer.
  const policyTimer = setInterval(() => void enqueue(policy), o.policyEveryMs);
  let monitorTimer: NodeJS.Timeout | null = null;
  const scheduleMonitor = (delayMs: number) => {
    monitorTimer = setTimeout(() => {
      void enqueue(monitor).then(() => { if (!stopped) scheduleMonitor(Math.max(o.monitorEveryMs, MONITOR_DUTY * monitorMs)); });
    }, delayMs);
  };
  scheduleMonitor(0);

  return {
    counts,
    flush: async () => {
      await enqueue(policy);
      await enqueue(monitor);
    },
    async stop() {
      stopped = true;
      clearInterval(policyTimer);
      if (monitorTimer) clearTimeout(monitorTimer);
      await chain;
    },
  };
}
