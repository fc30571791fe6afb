// `shopml canary plan|start|status|list|promote|rollback|stop|run-policy` — the recommend canary
// from the command line. Writes go straight to the database: a running server picks the new
// split and aliases up on its next request (both carry a generation it compares).
import { resolve } from 'node:path';
import type { Db } from '../store/db.ts';
import type { ModelKind } from '../models/types.ts';
import { RegistryError } from '../registry/versions.ts';
import { VARIANTS } from '../rollout/bucket.ts';
import { listExperiments } from '../rollout/experiments.ts';
import {
  CANARY_KIND, CanaryError, canaryStatus, decideCanary, planFor, runPolicies, startCanary,
  type CanaryPlanReport, type CanaryStatus, type PlanOptions,
} from '../rollout/canary.ts';
import type { PolicyRun } from '../rollout/policy.ts';
import { listShadows, runShadows, type ShadowRun } from '../rollout/shadow.ts';
import { parseArgs, str, UsageError, type ParsedArgs } from './args.ts';
import { openExistingDb } from './open-db.ts';
import { cliActor, kindArg, shopArg } from './models-command.ts';

const SUBCOMMANDS = ['plan', 'start', 'status', 'list', 'promote', 'rollback', 'stop', 'run-policy', 'shadows'] as const;

function pctArg(p: ParsedArgs, name: string): number | undefined {
  const v = str(p, name);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0 || n > 100) throw new UsageError(`--${name} must be a percentage between 0 and 100`);
  return n;
}

function planOptions(p: ParsedArgs): PlanOptions {
  const mde = str(p, 'mde');
  const mdeRel = mde === undefined ? undefined : Number(mde);
  if (mdeRel !== undefined && !(mdeRel > 0 && mdeRel < 10)) throw new UsageError('--mde must be a relative lift such as 0.2 (for +20%)');
  return { holdoutPct: pctArg(p, 'holdout'), challengerPct: pctArg(p, 'challenger'), mdeRel };
}

const pct = (x: number | null | undefined, d = 2) => (typeof x === 'number' && Number.isFinite(x) ? `${(x * 100).toFixed(d)}%` : 'n/a');
const short = (v: string | null) => (v ? v.slice(0, 12) : '—');

function printPlan(r: CanaryPlanReport): void {
  const t = r.traffic;
  console.log(`traffic: ${t.dailyUnits === null ? 'unknown' : `${t.dailyUnits.toFixed(1)} new units/day`} (${t.source.dailyUnits}, last ${t.windowDays} days)`);
  console.log(`baseline conversion: ${pct(r.baselineRate)} (${r.baselineSource})`);
  if (r.plan) {
    const e = r.plan.estimate;
    console.log(`time to decision: ${e.days === null ? 'beyond 3 years' : `${e.days} days`} for a +${Math.round(e.mdeRel * 100)}% lift at ${Math.round((e.power ?? 0.8) * 100)}% power` +
      (e.unitsB === null ? '' : ` (${e.unitsB} challenger units)`) + `; a fixed-horizon test would need ${e.fixedHorizon.days} days`);
  }
  if (r.warning) console.log(`warning: ${r.warning}`);
}

function printStatus(s: CanaryStatus): void {
  const e = s.experiment, r = s.report;
  console.log(`experiment #${e.id} ${e.shop} ${e.kind}: ${e.status}${e.statusReason ? ` (${e.statusReason})` : ''}`);
  console.log(`  champion ${short(e.championVersion)}  challenger ${short(e.challengerVersion)}  split ${e.holdoutPct}% holdout / ${e.challengerPct}% challenger  started ${e.startedAt}, day ${r.days}`);
  console.log(`  ${'variant'.padEnd(10)} ${'units'.padStart(7)} ${'buyers'.padStart(7)} ${'conversion [95% CI]'.padEnd(28)} ${'rev/visitor'.padStart(11)}`);
  for (const v of VARIANTS) {
    const x = r.variants[v];
    console.log(`  ${v.padEnd(10)} ${String(x.units).padStart(7)} ${String(x.converters).padStart(7)} ${`${pct(x.conversion.rate)} [${pct(x.conversion.lo)}, ${pct(x.conversion.hi)}]`.padEnd(28)} ${(Number.isFinite(x.revenuePerVisitor.mean) ? x.revenuePerVisitor.mean.toFixed(2) : 'n/a').padStart(11)}`);
  }
  const cc = r.challengerVsChampion;
  console.log(`  challenger vs champion: lift ${pct(cc.zTest.lift, 1)}, difference ${pct(cc.zTest.diff)} (anytime-valid 95% interval ${pct(cc.sequential.cs.lo)} … ${pct(cc.sequential.cs.hi)}), sequential p = ${cc.sequential.p.toPrecision(3)}`);
  console.log(`  sample ratio: ${r.srm ? (r.srm.mismatch ? `MISMATCH (p = ${r.srm.p.toExponential(2)})` : `ok (p = ${r.srm.p.toPrecision(3)})`) : 'not enough units yet'}`);
  for (const g of r.guardrails) console.log(`  guardrail ${g.name}: ${!g.judged ? 'not enough requests yet' : g.breached ? 'BREACHED' : 'ok'} — ${g.detail}`);
  if (r.plan.plannedDays !== null) console.log(`  plan: ${r.plan.plannedDays} days, ${r.plan.plannedChallengerUnits} challenger units; progress ${pct(r.plan.progress, 0)}`);
  if (s.next) console.log(`  policy now: ${s.next.action} — ${s.next.reason}`);
  console.log('  decisions:');
  for (const d of s.decisions) console.log(`    ${d.at}  ${d.action.padEnd(11)} ${d.actor}: ${d.reason}`);
}

function runJson(r: PolicyRun) {
  return { experiment: r.experiment, decision: r.decision, report: r.report };
}

export async function runCanaryCommand(argv: string[], env: Record<string, string | undefined>, now: () => Date = () => new Date()): Promise<number> {
  const [sub, ...rest] = argv;
  if (!sub || !(SUBCOMMANDS as readonly string[]).includes(sub)) throw new UsageError(`expected a subcommand: ${SUBCOMMANDS.join(', ')}`);
  const p = parseArgs(rest, { booleans: ['json'], strings: ['shop', 'kind', 'version', 'holdout', 'challenger', 'mde', 'reason', 'id', 'db', 'artifacts'] });
  const opened = openExistingDb(p, env);
  if (!opened) return 1;
  const json = p.options.json === true;
  const out = (o: unknown) => console.log(JSON.stringify(o));
  const db: Db = opened;
  try {
    if (sub === 'run-policy') {
      const shop = shopArg(p, false);
      const runs = runPolicies(db, now(), shop);
      const shadows: ShadowRun[] = runShadows(db, now(), resolve(str(p, 'artifacts') ?? env.ARTIFACTS_DIR ?? './data/artifacts'), { shop });
      if (json) out({ runs: runs.map(runJson), shadows });
      else {
        if (runs.length === 0) console.log('no live canary');
        for (const r of runs) console.log(`#${r.experiment.id} ${r.experiment.shop} ${r.experiment.kind}: ${r.decision.action} — ${r.decision.reason}`);
        for (const r of shadows) console.log(`shadow #${r.shadow.id} ${r.shadow.shop} ${r.shadow.kind}: ${r.action}${r.comparison ? ` — ${r.comparison.detail}` : r.action === 'waiting' ? ` (labels complete ${r.shadow.maturesAt})` : ''}`);
      }
      return 0;
    }
    const shop = shopArg(p, true)!;
    const kind: ModelKind = kindArg(p, false) ?? CANARY_KIND;
    if (sub === 'plan') {
      const r = planFor(db, shop, kind, now(), planOptions(p));
      if (json) out(r);
      else printPlan(r);
      return 0;
    }
    if (sub === 'start') {
      const r = startCanary(db, { shop, kind, version: str(p, 'version'), reason: str(p, 'reason'), actor: cliActor(env), now: now(), ...planOptions(p) });
      if (json) out(r);
      else {
        console.log(`started canary #${r.experiment.id}: ${short(r.experiment.challengerVersion)} against ${short(r.experiment.championVersion)}, ${r.experiment.holdoutPct}% holdout, ${r.experiment.challengerPct}% challenger`);
        printPlan(r.plan);
      }
      return 0;
    }
    if (sub === 'shadows') {
      const list = listShadows(db, shop, kindArg(p, false));
      if (json) out({ shadows: list });
      else if (list.length === 0) console.log(`no shadow evaluations for ${shop}`);
      else for (const s of list) console.log(`#${s.id}  ${s.kind.padEnd(9)} ${s.status.padEnd(11)} ${short(s.challengerVersion)} beside ${short(s.championVersion)}  from ${s.asOf}, labels complete ${s.maturesAt}  ${s.reason ?? ''}`);
      return 0;
    }
    if (sub === 'list') {
      const list = listExperiments(db, shop, kind);
      if (json) out({ experiments: list });
      else if (list.length === 0) console.log(`no ${kind} experiments for ${shop}`);
      else for (const e of list) console.log(`#${e.id}  ${e.status.padEnd(11)} ${e.startedAt}  ${short(e.challengerVersion)} vs ${short(e.championVersion)}  ${e.statusReason ?? ''}`);
      return 0;
    }
    if (sub === 'status') {
      const id = str(p, 'id');
      if (id !== undefined && !/^\d+$/.test(id)) throw new UsageError('--id must be an experiment number');
      const s = canaryStatus(db, shop, kind, now(), id === undefined ? undefined : Number(id));
      if (!s) {
        if (json) out({ experiment: null });
        else console.log(`no ${kind} canary has run for ${shop}`);
        return json ? 0 : 1;
      }
      if (json) out(s);
      else printStatus(s);
      return 0;
    }
    const r = decideCanary(db, { shop, kind, action: sub as 'promote' | 'rollback' | 'stop', actor: cliActor(env), reason: str(p, 'reason'), now: now() });
    if (json) out(runJson(r));
    else console.log(`#${r.experiment.id}: ${r.decision.action} — ${r.decision.reason} (now ${r.experiment.status})`);
    return 0;
  } catch (err) {
    if (err instanceof CanaryError || err instanceof RegistryError || err instanceof RangeError) {
      console.error(`error: ${err.message}`);
      return 1;
    }
    throw err;
  } finally {
    db.close();
  }
}
