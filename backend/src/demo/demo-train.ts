// The demo's first trainings: the four models at an earlier watermark (they become the
// champions), then again on the full history (more data: the promotion gate decides whether each
// new version becomes the challenger). A new recommend challenger meets traffic as a canary with
// a holdout (rollout/canary.ts afterTraining); when the gate kept the recommend version instead,
// the canary is started explicitly with that version (startCanary) and the demo says so.
// Progress bars per model (cli/progress.ts); the quality gate's report is printed.
import type { Db } from '../store/db.ts';
import type { ModelKind } from '../models/types.ts';
import { MODEL_KINDS, trainShop, type RunOutcome, type TrainShopResult } from '../models/train-pipeline.ts';
import { formatQualityReport } from '../quality/gate.ts';
import { afterTraining, startCanary, type CanaryStart, type PlanOptions } from '../rollout/canary.ts';
import { createProgress, type Progress } from '../cli/progress.ts';

const DAY_MS = 86_400_000;

export interface DemoTrainingOptions {
  db: Db;
  shop: string;
  artifactsDir: string;
  seed: number;
  /** Canary split (percent). */
  split: Required<Pick<PlanOptions, 'holdoutPct' | 'challengerPct'>>;
  /** Days before the newest order where the first pass's watermark lies (default 28). */
  earlierByDays?: number;
  say: (line: string) => void;
  /** Draw progress bars (stderr, terminals only). */
  progress: boolean;
}

export interface DemoTraining {
  passes: TrainShopResult[];
  canary: CanaryStart | null;
  /** How the canary came about (or why there is none). */
  canaryNote: string;
}

const short = (v: string | null | undefined) => (v ? v.slice(0, 12) : '—');

function metricsText(m: Record<string, number>): string {
  return Object.entries(m).slice(0, 3).map(([k, v]) => `${k} ${Number(v.toFixed(4))}`).join(', ');
}

function runLine(r: RunOutcome): string {
  const verdict = r.decision ? r.decision.decision : r.status;
  return `  ${r.kind.padEnd(9)} ${verdict.padEnd(10)} ${short(r.version)}  ${metricsText(r.metrics)}  (${r.seconds.toFixed(1)} s)${r.error ? ` — ${r.error}` : ''}`;
}

async function pass(o: DemoTrainingOptions, label: string, asOf: string | undefined): Promise<TrainShopResult> {
  const bars = new Map<ModelKind, Progress>();
  const r = await trainShop({
    db: o.db, shop: o.shop, kinds: MODEL_KINDS, seed: o.seed, artifactsDir: o.artifactsDir, asOf,
    onProgress: o.progress ? (kind, f) => {
      let bar = bars.get(kind);
      if (!bar) {
        for (const b of bars.values()) b.done();
        bars.set(kind, (bar = createProgress({ label: `train ${label} ${kind}`, total: 1000 })));
      }
      bar.update(Math.round(f * 1000));
    } : undefined,
  });
  for (const b of bars.values()) b.done();
  return r;
}

export class QualityGateFailed extends Error {
  readonly report: string;
  constructor(report: string) {
    super('the data-quality gate blocked training');
    this.name = 'QualityGateFailed';
    this.report = report;
  }
}

export async function trainForDemo(o: DemoTrainingOptions): Promise<DemoTraining> {
  const latest = o.db.prepare('SELECT max(created_at) AS hi, min(created_at) AS lo FROM orders WHERE shop = ?').get(o.shop) as { hi: string | null; lo: string | null };
  if (!latest.hi || !latest.lo) throw new Error(`no orders stored for ${o.shop}: nothing to train on`);
  const hi = Date.parse(latest.hi), lo = Date.parse(latest.lo);
  // The earlier watermark: `earlierByDays` before the newest order, but never in the first half of the history.
  const earlier = new Date(Math.max(hi - (o.earlierByDays ?? 28) * DAY_MS, lo + (hi - lo) / 2)).toISOString();

  const first = await pass(o, '1/2', earlier);
  o.say(`train 1/2    watermark ${first.snapshot.watermark}: snapshot ${short(first.snapshot.id)}, ${first.snapshot.orders} orders, ${first.snapshot.salesLines} sales lines`);
  o.say(formatQualityReport(first.quality).split('\n').map((l) => `             ${l}`).join('\n'));
  if (!first.quality.ok) throw new QualityGateFailed(formatQualityReport(first.quality));
  for (const r of first.runs) o.say(runLine(r));

  const second = await pass(o, '2/2', undefined);
  o.say(`train 2/2    watermark ${second.snapshot.watermark} (${second.snapshot.orders - first.snapshot.orders} more orders): quality gate ${second.quality.ok ? 'passed' : 'FAILED'}`);
  if (!second.quality.ok) throw new QualityGateFailed(formatQualityReport(second.quality));
  for (const r of second.runs) o.say(runLine(r));
  const failed = [...first.runs, ...second.runs].filter((r) => r.status !== 'succeeded');
  if (failed.length > 0) throw new Error(`training failed: ${failed.map((r) => `${r.kind}: ${r.error}`).join('; ')}`);

  const now = new Date();
  const after = afterTraining(o.db, o.shop, second.runs, now, { split: o.split, artifactsDir: o.artifactsDir });
  for (const sh of after.shadows) o.say(`  ${sh.kind} challenger ${short(sh.challengerVersion)} runs in shadow beside the champion (compared once labels mature, from ${sh.maturesAt})`);
  if (after.canary) {
    return { passes: [first, second], canary: after.canary, canaryNote: 'the promotion gate made the new recommend version the challenger: it meets traffic as a canary' };
  }
  const rec = second.runs.find((r) => r.kind === 'recommend');
  const champion = first.runs.find((r) => r.kind === 'recommend')?.version;
  if (!rec?.version || rec.version === champion) {
    return { passes: [first, second], canary: null, canaryNote: `no canary: the second recommend training produced the champion's own bytes (${short(champion)})` };
  }
  const canary = startCanary(o.db, {
    shop: o.shop, version: rec.version, actor: 'demo', now, ...o.split,
    reason: `demo: started explicitly — the gate kept this version (${rec.decision?.reason ?? 'no verdict'})`,
  });
  return { passes: [first, second], canary, canaryNote: `the promotion gate KEPT the new recommend version (${rec.decision?.reason ?? 'no verdict'}); the demo started the canary with it explicitly (startCanary)` };
}
