// `shopml eval`: offline evaluation on a time split, every model against honest baselines.
//   --data FILE --split-date YYYY-MM-DD   or   --train FILE --test FILE
//   [--format online-retail|csv] [--map ...] [--horizon-days N] [--seed N] [--json]
// Every choice (chosen model, blend weights, hyper-parameters) is made on a validation slice cut
// from the end of the training period inside each evaluate*(); the test period is only scored.
import { resolve } from 'node:path';
import { existsSync } from 'node:fs';
import { parseColumnMap, type ImportFormat } from '../ingest/import.ts';
import { cleanOrders, isOrderLevelOnly, productSales, type CleanData } from '../features/clean.ts';
import { readOrdersFromFile, splitAt } from '../features/from-file.ts';
import { tensorBackend } from '../ml/tensor-backend.ts';
import type { EvalContext } from '../models/types.ts';
import { EVALUATORS } from '../models/kinds.ts';
import { parseArgs, str, UsageError } from './args.ts';

const DAY = 86_400_000;

export async function runEvalCommand(argv: string[]): Promise<number> {
  const p = parseArgs(argv, { booleans: ['json'], strings: ['data', 'train', 'test', 'split-date', 'format', 'map', 'horizon-days', 'seed', 'currency'] });
  const format = (str(p, 'format') ?? 'online-retail') as ImportFormat;
  if (!['online-retail', 'csv'].includes(format)) throw new UsageError('--format must be online-retail or csv');
  const map = str(p, 'map') ? parseColumnMap(str(p, 'map')!) : undefined;
  if (format === 'csv' && !map) throw new UsageError('--format csv needs --map order=COL,customer=COL,time=COL[,product=COL,quantity=COL,price=COL]');
  const seed = Number(str(p, 'seed') ?? '42');
  const files = [str(p, 'data'), str(p, 'train'), str(p, 'test')].filter((f): f is string => f !== undefined);
  for (const f of files) if (!existsSync(resolve(f))) { console.error(`error: no such file: ${f}`); return 1; }
  const t0 = performance.now();
  const seconds: Record<string, number> = {};
  const log = (s: string) => { if (!p.options.json) process.stderr.write(`${s}\n`); };

  let train: CleanData;
  let test: CleanData;
  let split: number;
  let rowsRead = 0;
  if (str(p, 'data')) {
    const d = str(p, 'split-date');
    if (!d || !/^\d{4}-\d{2}-\d{2}$/.test(d)) throw new UsageError('--split-date YYYY-MM-DD is required with --data');
    split = Date.parse(`${d}T00:00:00Z`);
    const r = await readOrdersFromFile({ file: resolve(str(p, 'data')!), format, map, currency: str(p, 'currency') });
    rowsRead = r.rowsRead;
    ({ train, test } = splitAt(cleanOrders(r.orders), split));
  } else if (str(p, 'train') && str(p, 'test')) {
    const a = await readOrdersFromFile({ file: resolve(str(p, 'train')!), format, map, currency: str(p, 'currency') });
    const b = await readOrdersFromFile({ file: resolve(str(p, 'test')!), format, map, currency: str(p, 'currency') });
    rowsRead = a.rowsRead + b.rowsRead;
    const testAll = cleanOrders(b.orders);
    split = str(p, 'split-date') ? Date.parse(`${str(p, 'split-date')}T00:00:00Z`) : testAll.sales.reduce((m, s) => Math.min(m, s.time), Infinity);
    // Each file keeps to its side of the split: nothing from the test period can reach training.
    train = splitAt(cleanOrders(a.orders), split).train;
    test = splitAt(testAll, split).test;
  } else {
    throw new UsageError('give --data FILE --split-date YYYY-MM-DD, or --train FILE --test FILE');
  }
  seconds.read = (performance.now() - t0) / 1000;
  if (train.sales.length === 0 || test.sales.length === 0) {
    console.error('error: the split leaves no sales on one side (check --split-date)');
    return 1;
  }
  const lastTest = new Date(test.sales.reduce((m, s) => Math.max(m, s.time), 0));
  const afterLastTestDay = Date.UTC(lastTest.getUTCFullYear(), lastTest.getUTCMonth(), lastTest.getUTCDate() + 1);
  const horizonDays = str(p, 'horizon-days') ? Number(str(p, 'horizon-days')) : null;
  if (horizonDays !== null && !(horizonDays > 0)) throw new UsageError('--horizon-days must be a positive number');
  // The customer models' label window (orders again within N days; spend within N days):
  // --horizon-days, by default from the split through the last test day. Recommendations are
  // scored on the whole test period and forecasts through the week holding its last day.
  const horizonEnd = horizonDays !== null ? split + horizonDays * DAY : afterLastTestDay;
  const inWindow = (d: CleanData, end: number): CleanData => ({ ...d, sales: d.sales.filter((s) => s.time < end), returns: d.returns.filter((r) => r.time < end) });

  const backend = await tensorBackend();
  const productCtx: EvalContext = { seed, backend, asOf: split, split, testEnd: afterLastTestDay };
  const customerCtx: EvalContext = { ...productCtx, testEnd: horizonEnd };
  const orderLevel = isOrderLevelOnly(train);
  const report: Record<string, unknown> = {
    data: {
      rows_read: rowsRead,
      train_sales_lines: train.sales.length,
      test_sales_lines: test.sales.length,
      train_orders: new Set(train.sales.map((s) => s.orderId)).size,
      test_orders: new Set(test.sales.map((s) => s.orderId)).size,
      customers: new Set([...train.sales, ...test.sales].map((s) => s.customerId).filter(Boolean)).size,
      products: orderLevel ? 0 : new Set(productSales(train).sales.map((s) => s.productId)).size,
      split: new Date(split).toISOString().slice(0, 10),
      test_end: new Date(afterLastTestDay - DAY).toISOString().slice(0, 10),
      customer_horizon_days: Math.round((horizonEnd - split) / DAY),
      tensor_backend: backend.description,
      cleaning: train.stats,
      ...(orderLevel ? { note: 'no product column: only the customer models (churn, value, segment) are evaluated' } : {}),
    },
  };
  const kinds = orderLevel ? (['churn', 'value', 'segment'] as const) : (['recommend', 'churn', 'value', 'forecast', 'segment'] as const);
  if (orderLevel) log('no product column in the data: evaluating the customer models only (churn, value, segment)');
  for (const k of kinds) {
    const t = performance.now();
    log(`evaluating ${k} …`);
    const product = k === 'recommend' || k === 'forecast';
    report[k] = product
      ? await EVALUATORS[k](productSales(train), productSales(test), productCtx)
      : await EVALUATORS[k](train, inWindow(test, horizonEnd), customerCtx);
    seconds[k] = (performance.now() - t) / 1000;
  }
  seconds.total = (performance.now() - t0) / 1000;
  report.seconds = seconds;
  if (p.options.json) {
    console.log(JSON.stringify(report));
  } else {
    console.log(formatEvalReport(report));
  }
  return 0;
}

type Models = { models: Record<string, Record<string, number>>; chosen: string };

function table(title: string, m: Models, cols: string[]): string {
  const names = Object.keys(m.models);
  const w = Math.max(12, ...names.map((n) => n.length + 2));
  const lines = [`${title}`, `  ${'model'.padEnd(w)}${cols.map((c) => c.padStart(12)).join('')}`];
  for (const n of names) lines.push(`  ${(n === m.chosen ? `${n} *` : n).padEnd(w)}${cols.map((c) => (m.models[n]![c] === undefined ? '—' : m.models[n]![c]!.toFixed(4)).padStart(12)).join('')}`);
  return lines.join('\n');
}

export function formatEvalReport(r: Record<string, unknown>): string {
  const d = r.data as Record<string, unknown>;
  const out = [`data: ${d.rows_read} rows; train ${d.train_sales_lines} sales lines / ${d.train_orders} orders; test ${d.test_sales_lines} / ${d.test_orders}; ${d.customers} customers, ${d.products} products; split ${d.split}, test through ${d.test_end}, customer horizon ${d.customer_horizon_days} days; ${d.tensor_backend}`];
  if (d.note) out.push(`note: ${d.note}`);
  const rec = r.recommend as (Models & { new_items_only: Models }) | undefined;
  if (rec) {
    out.push('', table('recommend — all products (* = chosen on validation)', rec, ['recall@20', 'ndcg@10', 'hr@10', 'coverage']));
    out.push('', table('recommend — new products only', rec.new_items_only, ['recall@20', 'ndcg@10', 'hr@10', 'coverage']));
  }
  if (r.churn) out.push('', table('churn — orders again within the horizon', r.churn as Models, ['auc', 'brier', 'logloss']));
  if (r.value) out.push('', table('value — spend within the horizon', r.value as Models, ['spearman', 'mae']));
  if (r.forecast) out.push('', table('forecast — weekly demand (mean over products)', r.forecast as Models, ['mase', 'rmsse']));
  const seg = r.segment as { k: number; sizes: Record<string, number>; silhouette: number; repeat_rate_by_segment: Record<string, number>; future_value_by_segment: Record<string, number> } | undefined;
  if (seg) {
    out.push('', `segment — k = ${seg.k}, silhouette ${seg.silhouette.toFixed(3)}`);
    for (const [name, n] of Object.entries(seg.sizes)) {
      out.push(`  ${name.padEnd(20)} ${String(n).padStart(6)} customers  repeat rate ${(seg.repeat_rate_by_segment[name] ?? 0).toFixed(3)}  future value ${(seg.future_value_by_segment[name] ?? 0).toFixed(2)}`);
    }
  }
  out.push('', `seconds: ${Object.entries(r.seconds as Record<string, number>).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(', ')}`);
  return out.join('\n');
}
