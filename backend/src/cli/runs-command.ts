// `shopml runs list|show ID|compare ID ID…` — experiment tracking: every training attempt with
// its parameters, metrics, durations, snapshot, log and the promotion gate's decision.
import { isShopDomain } from '../shopify/verify.ts';
import { compareRuns, getRun, listRuns, runJson, type RunRecord } from '../registry/runs.ts';
import { DEFAULT_GATE } from '../registry/gate.ts';
import { isModelKind, REGISTRY_KINDS } from '../registry/versions.ts';
import { parseArgs, str, UsageError } from './args.ts';
import { openExistingDb } from './open-db.ts';

const STATUSES = ['running', 'succeeded', 'failed', 'blocked'] as const;

const num = (v: number | null | undefined): string => (typeof v === 'number' ? String(Number(v.toFixed(4))) : '—');
const signed = (v: number | null): string => (v === null ? '' : `${v > 0 ? '+' : ''}${num(v)}`);
const short = (v: string | null): string => (v ? v.slice(0, 12) : '—');

function primary(r: RunRecord): string {
  const m = DEFAULT_GATE[r.kind]?.metric;
  return m && typeof r.metrics[m] === 'number' ? `${m} ${num(r.metrics[m])}` : '';
}

function parseId(s: string): number {
  if (!/^\d+$/.test(s)) throw new UsageError(`a run id is a whole number: ${s}`);
  return Number(s);
}

function showText(r: RunRecord): void {
  console.log(`run ${r.id}: ${r.shop} ${r.kind} ${r.status}`);
  console.log(`  started    ${r.startedAt}${r.finishedAt ? `, finished ${r.finishedAt} (${num(r.seconds)} s)` : ''}`);
  console.log(`  snapshot   ${r.snapshotId ?? '—'}${r.watermark ? ` (watermark ${r.watermark})` : ''}`);
  console.log(`  code       ${r.codeVersion}, seed ${r.seed}, tensor backend ${r.tensorBackend ?? '—'}`);
  console.log(`  version    ${r.version ?? '—'}`);
  if (r.decision) console.log(`  decision   ${r.decision}: ${String(r.decisionDetail?.reason ?? '')}`);
  if (r.error) console.log(`  error      ${r.error}`);
  const block = (title: string, o: Record<string, unknown>) => {
    const keys = Object.keys(o).sort();
    if (keys.length === 0) return;
    console.log(`  ${title}:`);
    const w = Math.max(...keys.map((k) => k.length));
    for (const k of keys) {
      const v = o[k];
      console.log(`    ${k.padEnd(w)}  ${typeof v === 'number' ? num(v) : typeof v === 'string' ? v : JSON.stringify(v)}`);
    }
  };
  block('metrics', r.metrics);
  block('durations (s)', r.durations);
  block('params', r.params);
  if (r.log) console.log(`  log:\n${r.log.split('\n').map((l) => `    ${l}`).join('\n')}`);
}

export async function runRunsCommand(argv: string[], env: Record<string, string | undefined>): Promise<number> {
  const [sub, ...rest] = argv;
  const p = parseArgs(rest, { booleans: ['json'], strings: ['shop', 'kind', 'status', 'limit', 'db'] });
  if (!sub || !['list', 'show', 'compare'].includes(sub)) throw new UsageError('expected a subcommand: list, show or compare');
  const shop = str(p, 'shop');
  if (shop !== undefined && !isShopDomain(shop)) throw new UsageError('--shop must be a *.myshopify.com domain');
  const kind = str(p, 'kind');
  if (kind !== undefined && !isModelKind(kind)) throw new UsageError(`--kind must be one of ${REGISTRY_KINDS.join(', ')}`);
  const status = str(p, 'status');
  if (status !== undefined && !(STATUSES as readonly string[]).includes(status)) throw new UsageError(`--status must be one of ${STATUSES.join(', ')}`);
  const limitArg = str(p, 'limit') ?? '50';
  if (!/^\d+$/.test(limitArg) || Number(limitArg) < 1) throw new UsageError('--limit must be a positive whole number');
  const ids = p.positional.map(parseId);
  if (sub === 'list' && ids.length > 0) throw new UsageError('list takes no run ids');
  if (sub === 'show' && ids.length !== 1) throw new UsageError('show takes one run id');
  if (sub === 'compare' && ids.length < 2) throw new UsageError('compare takes two or more run ids');

  const db = openExistingDb(p, env);
  if (!db) return 1;
  try {
    if (sub === 'list') {
      const runs = listRuns(db, { shop, kind: kind as RunRecord['kind'] | undefined, status: status as RunRecord['status'] | undefined, limit: Number(limitArg) });
      if (p.options.json) {
        console.log(JSON.stringify({ runs: runs.map(runJson) }));
        return 0;
      }
      if (runs.length === 0) console.log('no training runs yet');
      for (const r of runs) {
        console.log(`${String(r.id).padStart(5)}  ${r.startedAt}  ${r.shop}  ${r.kind.padEnd(9)} ${r.status.padEnd(9)} ${`${num(r.seconds)} s`.padStart(8)}  ` +
          `snapshot ${short(r.snapshotId)}  version ${short(r.version)}  ${r.decision ?? ''}${r.decision ? '  ' : ''}${primary(r)}${r.error ? `  — ${r.error}` : ''}`);
      }
      return 0;
    }
    const runs: RunRecord[] = [];
    for (const id of ids) {
      const r = getRun(db, id);
      if (!r || (shop !== undefined && r.shop !== shop) || (kind !== undefined && r.kind !== kind)) {
        console.error(`error: no run ${id}${shop ? ` for ${shop}` : ''}${kind ? ` of kind ${kind}` : ''}`);
        return 1;
      }
      runs.push(r);
    }
    if (sub === 'show') {
      if (p.options.json) console.log(JSON.stringify({ run: runJson(runs[0]!) }));
      else showText(runs[0]!);
      return 0;
    }
    const c = compareRuns(runs);
    if (p.options.json) {
      console.log(JSON.stringify({ runs: c.runs.map(runJson), params: c.params, metrics: c.metrics, durations: c.durations }));
      return 0;
    }
    if (new Set(runs.map((r) => r.kind)).size > 1) console.log('note: these runs are of different kinds; their metrics do not compare\n');
    const header: [string, ...string[]][] = [
      ['run', ...runs.map((r) => `#${r.id}`)],
      ['shop', ...runs.map((r) => r.shop)],
      ['kind', ...runs.map((r) => r.kind)],
      ['status', ...runs.map((r) => r.status)],
      ['started', ...runs.map((r) => r.startedAt)],
      ['snapshot', ...runs.map((r) => short(r.snapshotId))],
      ['watermark', ...runs.map((r) => r.watermark ?? '—')],
      ['version', ...runs.map((r) => short(r.version))],
      ['decision', ...runs.map((r) => r.decision ?? '—')],
      ['code / seed', ...runs.map((r) => `${r.codeVersion} / ${r.seed}`)],
      ['tensor backend', ...runs.map((r) => r.tensorBackend ?? '—')],
    ];
    const rows: string[][] = [...header];
    const section = (title: string) => rows.push([`[${title}]`, ...runs.map(() => '')]);
    const deltas = (d: (number | null)[]) => d.slice(1).map(signed).join(' ');
    section('metrics  (Δ vs first)');
    for (const m of c.metrics) rows.push([m.key, ...m.values.map(num), deltas(m.deltas)]);
    section('durations, s  (Δ vs first)');
    for (const m of c.durations) rows.push([m.key, ...m.values.map(num), deltas(m.deltas)]);
    section('params  (* differs)');
    for (const x of c.params) rows.push([`${x.same ? ' ' : '*'} ${x.key}`, ...x.values.map((v) => (v === null ? '—' : String(v)))]);
    const widths = rows.reduce<number[]>((w, r) => r.map((cell, i) => Math.max(w[i] ?? 0, Math.min(cell.length, 40))), []);
    for (const r of rows) console.log(r.map((cell, i) => (cell.length > 40 ? `${cell.slice(0, 39)}…` : cell).padEnd(widths[i]!)).join('  ').trimEnd());
    return 0;
  } finally {
    db.close();
  }
}
