// `shopml drift --shop DOMAIN [--json]` — computes a monitor report now (drift of model inputs
// and outputs, live accuracy, KPIs, the retrain decision), stores it, and prints a table or JSON.
import { resolve } from 'node:path';
import { isShopDomain } from '../shopify/verify.ts';
import { monitorShop, type MonitorReport } from '../monitor/monitor.ts';
import { SETTING_FLAGS, SettingsError, settingsFromEnv, settingsFromFlags, resolveSettings } from '../monitor/settings.ts';
import { parseArgs, str, UsageError } from './args.ts';
import { openExistingDb } from './open-db.ts';

const num = (x: number | null | undefined): string => {
  if (typeof x !== 'number' || !Number.isFinite(x)) return '—';
  if (x !== 0 && Math.abs(x) < 0.001) return x.toExponential(1);
  return String(Number(x.toPrecision(3)));
};
const pct = (x: number) => `${Math.round(x * 100)}%`;
const day = (iso: string) => iso.slice(0, 10);

function table(rows: string[][]): string {
  const w = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => c.padEnd(w[i]!)).join('  ').trimEnd()).join('\n');
}

function printReport(id: number | null, r: MonitorReport): void {
  const d = r.drift;
  console.log(`${r.shop} — monitor report${id === null ? '' : ` #${id}`} as of ${r.asOf} (${r.seconds.toFixed(2)} s)`);
  if (d.skipped) {
    console.log(`drift: not judged — ${d.skipped}`);
  } else if (d.windows) {
    const w = d.windows;
    const basis = w.basis === 'since_training' ? `since the last training (watermark ${w.anchor})` : 'no training yet: the previous period';
    console.log(`windows: reference ${day(w.reference.from)} … ${day(w.reference.to)}, current ${day(w.current.from)} … ${day(w.current.to)} (${num(w.days)} days; ${basis})`);
    for (const g of d.groups) console.log(`  ${g.name}: ${g.referenceRows} reference rows, ${g.currentRows} current rows${g.note ? ` (${g.note})` : ''}`);
    console.log('');
    const rows = [['group', 'column', 'test', 'statistic', 'p / distance', 'threshold', 'drifted', 'rows ref/cur', 'PSI ~no-drift level']];
    for (const c of d.columns) {
      rows.push([
        c.group, c.column, c.test ?? '—', num(c.statistic), num(c.score),
        c.test === null ? '—' : `${c.scoreKind === 'p_value' ? '<' : '>'} ${c.threshold}`,
        !c.judged ? 'not judged' : c.drifted ? 'YES' : 'no', `${c.reference.rows}/${c.current.rows}`,
        `${num(c.psi)}${Number.isFinite(c.psi) && c.psi >= r.settings.drift.psiHigh ? ' (high)' : ''}${c.also.psiNoise !== undefined ? ` ~${num(c.also.psiNoise)}` : ''}`,
      ]);
    }
    console.log(table(rows));
    console.log(`(PSI is reported, never decides; "~x" is the PSI sampling noise alone would give at these sizes; "high" ≥ ${r.settings.drift.psiHigh}.)`);
    console.log('');
    console.log(`dataset drift: ${d.drifted} of ${d.judged} judged columns drifted (${pct(d.share)}; threshold ${pct(d.threshold)}): ${d.datasetDrift ? 'YES' : 'no'}`);
  }
  const a = r.accuracy, k = r.kpi;
  console.log(`churn accuracy: ${a.churn.status === 'scored' ? `${a.churn.breached ? 'BREACHED — ' : ''}${a.churn.detail}` : a.churn.detail}`);
  console.log(`forecast accuracy: ${a.forecast.status === 'scored' ? `${a.forecast.breached ? 'BREACHED — ' : ''}${a.forecast.detail}` : a.forecast.detail}`);
  console.log(`champion vs holdout: ${k.championVsHoldout.status === 'scored' ? `${k.championVsHoldout.breached ? 'BREACHED — ' : ''}${k.championVsHoldout.detail}` : k.championVsHoldout.detail}`);
  console.log(`click-through: ${k.clickThrough.status === 'scored' ? `${k.clickThrough.breached ? 'BREACHED — ' : ''}${k.clickThrough.detail}` : k.clickThrough.detail}`);
  console.log(r.retrain ? `retrain: YES (${r.retrain.kinds.join(', ')}) — ${r.retrain.reason}` : 'retrain: no');
}

export async function runDriftCommand(argv: string[], env: Record<string, string | undefined>): Promise<number> {
  const p = parseArgs(argv, { booleans: ['json', 'no-store'], strings: ['shop', 'now', 'db', 'artifacts', ...SETTING_FLAGS] });
  if (p.positional.length) throw new UsageError(`unexpected argument: ${p.positional[0]}`);
  const shop = str(p, 'shop');
  if (!shop || !isShopDomain(shop)) throw new UsageError('--shop must be a *.myshopify.com domain');
  const nowArg = str(p, 'now');
  if (nowArg !== undefined && Number.isNaN(Date.parse(nowArg))) throw new UsageError('--now must be an ISO date or timestamp');
  let settings;
  try {
    settings = resolveSettings(settingsFromEnv(env), settingsFromFlags(p.options));
  } catch (err) {
    if (err instanceof SettingsError) throw new UsageError(err.message);
    throw err;
  }
  const db = openExistingDb(p, env);
  if (!db) return 1;
  try {
    const orders = db.prepare('SELECT count(*) FROM orders WHERE shop = ?').pluck().get(shop) as number;
    if (orders === 0) {
      console.error(`error: no orders stored for ${shop}`);
      return 1;
    }
    const result = monitorShop(db, shop, nowArg ? new Date(nowArg) : new Date(), {
      artifactsDir: resolve(str(p, 'artifacts') ?? env.ARTIFACTS_DIR ?? './data/artifacts'),
      settings, store: !p.options['no-store'],
    });
    if (p.options.json) console.log(JSON.stringify({ id: result.id, ...result.report }, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v)));
    else printReport(result.id, result.report);
    return 0;
  } finally {
    db.close();
  }
}
