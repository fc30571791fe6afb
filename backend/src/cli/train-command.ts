// `shopml train [--shop DOMAIN] [--kind recommend|segment|churn|forecast|all] [--seed N] [--as-of ISO] [--no-canary] [--json]`
// After training: the promotion gate's verdict per kind, and a new recommend challenger starts a
// canary (5% holdout, 5% challenger) unless --no-canary.
import { resolve } from 'node:path';
import { openDb } from '../store/db.ts';
import { isShopDomain } from '../shopify/verify.ts';
import { formatQualityReport, parseThresholds, type QualityThresholds } from '../quality/gate.ts';
import { readFileSync } from 'node:fs';
import { MODEL_KINDS, trainShop } from '../models/train-pipeline.ts';
import { gatePolicyFromEnv, type GatePolicy } from '../registry/gate.ts';
import { afterTraining } from '../rollout/canary.ts';
import type { ModelKind } from '../models/types.ts';
import { parseArgs, str, UsageError } from './args.ts';
import { createProgress, type Progress } from './progress.ts';

export async function runTrainCommand(argv: string[], env: Record<string, string | undefined>): Promise<number> {
  const p = parseArgs(argv, { booleans: ['json', 'no-canary'], strings: ['shop', 'kind', 'seed', 'as-of', 'db', 'artifacts', 'thresholds'] });
  const kindArg = str(p, 'kind') ?? 'all';
  if (kindArg !== 'all' && !MODEL_KINDS.includes(kindArg as ModelKind)) throw new UsageError(`--kind must be one of ${MODEL_KINDS.join(', ')} or all`);
  const kinds = kindArg === 'all' ? MODEL_KINDS : [kindArg as ModelKind];
  const seedArg = str(p, 'seed') ?? '42';
  if (!/^\d+$/.test(seedArg)) throw new UsageError('--seed must be a whole number');
  const asOf = str(p, 'as-of');
  if (asOf !== undefined && Number.isNaN(Date.parse(asOf))) throw new UsageError('--as-of must be an ISO date or timestamp');
  let thresholds: QualityThresholds | undefined;
  let gate: GatePolicy;
  try {
    gate = gatePolicyFromEnv(env);
    const file = str(p, 'thresholds');
    if (file) thresholds = parseThresholds(readFileSync(resolve(file), 'utf8'), file);
    else if (env.SHOPML_QUALITY_THRESHOLDS) thresholds = parseThresholds(env.SHOPML_QUALITY_THRESHOLDS, 'SHOPML_QUALITY_THRESHOLDS');
  } catch (err) {
    console.error(`error: ${(err as Error).message}`);
    return 2;
  }
  const db = openDb(resolve(str(p, 'db') ?? env.DATABASE_PATH ?? './data/shopml.db'));
  try {
    let shops = (db.prepare('SELECT DISTINCT shop FROM orders ORDER BY shop').pluck().all() as string[]);
    const only = str(p, 'shop');
    if (only !== undefined) {
      if (!isShopDomain(only)) throw new UsageError('--shop must be a *.myshopify.com domain');
      shops = shops.filter((s) => s === only);
      if (shops.length === 0) {
        console.error(`error: no orders stored for ${only}`);
        return 1;
      }
    }
    if (shops.length === 0) {
      console.error('error: no orders stored yet (import or backfill first)');
      return 1;
    }
    const results = [];
    let failed = false;
    for (const shop of shops) {
      const bars = new Map<ModelKind, Progress>();
      const r = await trainShop({
        db, shop, kinds, seed: Number(seedArg), thresholds, gate, asOf: asOf ? new Date(asOf).toISOString() : undefined,
        artifactsDir: resolve(str(p, 'artifacts') ?? env.ARTIFACTS_DIR ?? './data/artifacts'),
        onProgress: p.options.json ? undefined : (kind, f) => {
          let bar = bars.get(kind);
          if (!bar) bars.set(kind, (bar = createProgress({ label: `${shop} ${kind}`, total: 1000 })));
          bar.update(Math.round(f * 1000));
        },
      });
      for (const b of bars.values()) b.done();
      failed ||= r.runs.some((x) => x.status !== 'succeeded');
      const artifactsDir = resolve(str(p, 'artifacts') ?? env.ARTIFACTS_DIR ?? './data/artifacts');
      const after = afterTraining(db, shop, r.runs, new Date(), { autoCanary: !p.options['no-canary'], artifactsDir });
      results.push({ shop, ...r, quality: { ok: r.quality.ok, checks: r.quality.checks }, canary: after.canary?.experiment ?? null, canary_plan: after.canary?.plan ?? null, superseded_experiment: after.superseded?.id ?? null, shadows: after.shadows });
      if (!p.options.json) {
        console.log(`${shop}: snapshot ${r.snapshot.id.slice(0, 12)} (${r.snapshot.salesLines} sales lines, watermark ${r.snapshot.watermark})`);
        console.log(formatQualityReport(r.quality));
        for (const run of r.runs) {
          const metrics = Object.entries(run.metrics).slice(0, 4).map(([k, v]) => `${k} ${Number(v.toFixed(4))}`).join(', ');
          console.log(`  ${run.kind.padEnd(9)} ${run.status.padEnd(9)} ${run.version ? `version ${run.version.slice(0, 12)}` : ''} ${run.seconds.toFixed(1)} s ${metrics}${run.error ? ` — ${run.error}` : ''}`);
          if (run.decision) console.log(`            gate: ${run.decision.decision} — ${run.decision.reason}`);
        }
        if (after.superseded) console.log(`  canary #${after.superseded.id} stopped: ${after.superseded.statusReason}`);
        if (after.canary) {
          const e = after.canary.experiment, est = after.canary.plan.plan?.estimate;
          console.log(`  canary #${e.id} started: ${e.challengerVersion.slice(0, 12)} vs ${e.championVersion.slice(0, 12)}, ${e.holdoutPct}% holdout, ${e.challengerPct}% challenger; ` +
            (est?.days != null ? `about ${est.days} days to a decision` : 'time to decision unknown yet'));
          if (after.canary.plan.warning) console.log(`  warning: ${after.canary.plan.warning}`);
        } else if (after.note) console.log(`  ${after.note}`);
        for (const sh of after.shadows) console.log(`  ${sh.kind} challenger ${sh.challengerVersion.slice(0, 12)} in shadow beside ${sh.championVersion.slice(0, 12)}: compared from ${sh.maturesAt}`);
        if (r.tensorBackend) console.log(`  tensor backend: ${r.tensorBackend}`);
      }
    }
    if (p.options.json) console.log(JSON.stringify({ shops: results }));
    return failed ? 1 : 0;
  } finally {
    db.close();
  }
}
