// `npm run bench`: runs every benchmark in one process run and writes docs/BENCHMARKS.md —
// medians, and ratios against baselines measured in the same run. `node bench/run.ts NAME…`
// runs only the named sections (the file keeps the others from its last full run).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { benchWebhooks } from './webhook-bench.ts';
import { benchImport, REAL_FILE } from './import-bench.ts';
import { benchTrain } from './train-bench.ts';
import { benchServe } from './serve-bench.ts';
import { benchRetag } from './retag-bench.ts';
import { benchDrift } from './drift-bench.ts';

interface Section {
  name: string;
  run(): Promise<string>;
}

const fmt = (x: number, d = 0) => x.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });

const SECTIONS: Section[] = [
  {
    name: 'webhooks',
    async run() {
      const r = await benchWebhooks();
      const m = r.median;
      const ok = (b: boolean) => (b ? 'met' : '**not met**');
      return [
        '## Signed webhook ingestion',
        '',
        `${r.concurrency} concurrent senders over keep-alive connections, ${fmt(r.requestsPerRun)} signed \`orders/create\` deliveries per run`,
        `(real-shaped bodies from the simulator with the fields the app subscribes to, as Shopify sends them: ~0.9 KB each), ${r.runs} runs each, alternating; medians. shopml verifies the HMAC, normalizes,`,
        'pseudonymizes and commits the event and projections durably (WAL, `synchronous = FULL`, group commit) before answering 200.',
        'The bare route is a Fastify route that receives the same body and answers 200. Both servers run in one child process;',
        'the load generator runs in the parent.',
        '',
        '| | req/s | p50 ms | p99 ms |',
        '| --- | ---: | ---: | ---: |',
        `| bare Fastify route | ${fmt(m.bareRps)} | ${fmt(r.bare.map((x) => x.p50ms).sort((a, b) => a - b)[r.runs >> 1]!, 1)} | ${fmt(m.bareP99, 1)} |`,
        `| shopml \`POST /webhooks\` | ${fmt(m.shopmlRps)} | ${fmt(m.shopmlP50, 1)} | ${fmt(m.shopmlP99, 1)} |`,
        '',
        `Ratio shopml / bare: **${m.ratio.toFixed(2)}** (goal ≥ 0.5: ${ok(m.ratio >= 0.5)}); p99 ${fmt(m.shopmlP99, 1)} ms (goal ≤ 20 ms: ${ok(m.shopmlP99 <= 20)}).`,
        `Events stored: ${fmt(r.stored)} (every delivery of every run, warm-up included, exactly once).`,
        r.diskBytesPerDelivery === null
          ? 'Disk bytes written per delivery: not measured (no `/proc/<pid>/io` here).'
          : `Disk bytes written per delivery: **${fmt(r.diskBytesPerDelivery / 1024, 1)} KB** (the server process's \`write_bytes\` over each shopml run and the 0.5 s after: WAL frames and checkpoints; median of the runs). The load tests' store of 30,784 orders writes more per order (bigger indexes): docs/RELIABILITY.md §2.`,
        '',
      ].join('\n');
    },
  },
  {
    name: 'import',
    async run() {
      if (!existsSync(REAL_FILE)) return '## CSV import\n\nSkipped: the Online Retail data set is not beside the project (`../shared/data/online-retail/`).\n';
      const runs = [];
      for (let i = 0; i < 3; i++) runs.push(await benchImport());
      runs.sort((a, b) => a.ratio - b.ratio);
      const r = runs[1]!;
      const b = runs.map((x) => x.baseline.rowsPerSecond).sort((a, c) => a - c)[1]!;
      const s = runs.map((x) => x.importRowsPerSecond).sort((a, c) => a - c)[1]!;
      return [
        '## CSV import of the real data set',
        '',
        `\`shopml import\` of the Online Retail file (${fmt(r.import.rows_read)} lines, gzip) into a fresh database, beside a plain`,
        'better-sqlite3 batched insert of the same rows (same parser, every CSV line inserted as-is into one table, 10,000 rows per',
        'transaction, WAL + `synchronous = FULL`). 3 runs each; medians.',
        '',
        '| | rows/s | seconds |',
        '| --- | ---: | ---: |',
        `| plain batched insert (baseline) | ${fmt(b)} | ${r.baseline.seconds.toFixed(2)} |`,
        `| \`shopml import\` (validate, group into ${fmt(r.import.orders)} orders, event log + projections) | ${fmt(s)} | ${r.import.seconds.toFixed(2)} (read ${r.import.read_seconds.toFixed(2)}, write ${r.import.write_seconds.toFixed(2)}) |`,
        '',
        `Ratio: **${r.ratio.toFixed(2)}** (goal ≥ 0.5: ${r.ratio >= 0.5 ? 'met' : '**not met**'}).`,
        '',
      ].join('\n');
    },
  },
  {
    name: 'train',
    async run() {
      if (!existsSync(REAL_FILE)) return '## Training\n\nSkipped: the Online Retail data set is not beside the project.\n';
      const r = await benchTrain(REAL_FILE);
      return [
        '## Training on the full real data set',
        '',
        `\`trainShop\` (what \`shopml train --kind all\` runs) on the imported Online Retail file: load the stored orders, clean, snapshot,`,
        `quality gate, then the four kinds, each in a worker thread (${r.backend}). One run; goal ≤ 60 s on this 2-core machine.`,
        '',
        '| step | seconds |',
        '| --- | ---: |',
        `| load + clean + snapshot + quality gate | ${r.prepareSeconds.toFixed(1)} |`,
        ...r.kinds.map((k) => `| ${k.kind} | ${k.seconds.toFixed(1)} |`),
        `| **total** | **${r.totalSeconds.toFixed(1)}** (goal ≤ 60: ${r.totalSeconds <= 60 ? 'met' : '**not met**'}) |`,
        '',
      ].join('\n');
    },
  },
  {
    name: 'serve',
    async run() {
      const r = await benchServe();
      const m = r.http.median;
      const ok = (b: boolean) => (b ? 'met' : '**not met**');
      const us = (x: number) => `${fmt(x, 1)} µs`;
      return [
        '## Storefront serving',
        '',
        `A simulated shop of ${fmt(r.store.products)} products, ${fmt(r.store.customers)} customers and ${fmt(r.store.orders)} orders (stored through the real`,
        `recording path, with inventory levels); \`recommend\` trained by \`trainShop\` (${fmt(r.store.trainSeconds, 0)} s): an artifact of`,
        `**${fmt(r.store.artifactProducts)} products**, champion by the registry's gate; a challenger and a live experiment (5% holdout, 5% challenger),`,
        'so every request is assigned an arm and first views log exposures. Requests: 40% product pages, 20% carts of 3 products,',
        '25% logged-in customers (personal lists), 15% anonymous pages without a product; top 10.',
        '',
        '**In-process lookup** (`recommend(shopState, request)`: arm, pins and exclusions, related / personal / popular list,',
        `stock filter, signed rec_id, product objects), ${fmt(r.lookup.calls)} calls after warm-up:`,
        '',
        '| requests | p50 | p99 |',
        '| --- | ---: | ---: |',
        ...r.lookup.kinds.map((k) => `| ${k.kind} | ${us(k.p50us)} | ${us(k.p99us)} |`),
        `| **all** | **${us(r.lookup.p50us)}** | **${us(r.lookup.p99us)}** |`,
        `| all, through \`serve.recommend\` (+ the freshness read, error handling; no list cache) | ${us(r.lookupWithChecks.p50us)} | ${us(r.lookupWithChecks.p99us)} |`,
        '',
        `Goal p99 ≤ 200 µs for top 10 from a ~4,000-product artifact: ${ok(r.lookup.p99us <= 200)}.`,
        '',
        `**\`GET /proxy/recommendations\` over HTTP**: ${r.http.concurrency} concurrent clients over keep-alive connections, ${fmt(r.http.requestsPerRun)} requests`,
        `per run, each signed as Shopify's app proxy signs it; ${r.http.runs} runs each, alternating; medians. shopml verifies the signature and`,
        'timestamp, assigns the arm, looks up, serialises and answers; exposures are written in batches. The bare route is a Fastify',
        `route answering a fixed body of the same size (${fmt(r.http.bodyBytes)} bytes). Both servers run in one child process; the load`,
        'generator runs in the parent.',
        '',
        '| | req/s | p50 ms | p99 ms |',
        '| --- | ---: | ---: | ---: |',
        `| bare Fastify route | ${fmt(m.bareRps)} | ${fmt(r.http.bare.map((x) => x.p50ms).sort((a, b) => a - b)[r.http.runs >> 1]!, 1)} | ${fmt(m.bareP99, 1)} |`,
        `| shopml \`GET /proxy/recommendations\` | ${fmt(m.shopmlRps)} | ${fmt(m.shopmlP50, 1)} | ${fmt(m.shopmlP99, 1)} |`,
        '',
        `Ratio shopml / bare: **${m.ratio.toFixed(2)}** (goal ≥ 0.6: ${ok(m.ratio >= 0.6)}); p99 ${fmt(m.shopmlP99, 1)} ms (goal ≤ 10 ms: ${ok(m.shopmlP99 <= 10)}).`,
        '',
      ].join('\n');
    },
  },
  {
    name: 'retag',
    async run() {
      const r = await benchRetag({ runs: 3 });
      const m = r.median;
      return [
        '## Re-tagging customers after a retrain',
        '',
        `\`retagChangedCustomers\` after a new segment champion moved all ${fmt(r.customers)} customers of a simulated shop to another segment: each`,
        'costs a `tagsRemove` of the tag shopml applied and a `tagsAdd` of the new one (10 points each), through the throttled Admin client',
        `(${r.concurrency} customers in flight, batches of 100 committed with the resumable cursor). The Admin API simulator runs in a child`,
        `process with a ${fmt(r.bucketSize)}-point bucket restoring ${fmt(r.restoreRate)} points/s (Shopify Plus); each run starts from a full bucket.`,
        'Theoretical minimum = (total cost − bucket size) / restore rate. 3 runs; the median by ratio.',
        '',
        '| run | seconds | points | minimum s | ratio | throttled answers |',
        '| ---: | ---: | ---: | ---: | ---: | ---: |',
        ...r.runs.map((x, i) => `| ${i + 1} | ${x.seconds.toFixed(2)} | ${fmt(x.cost)} | ${x.minSeconds.toFixed(2)} | ${x.ratio.toFixed(3)} | ${fmt(x.throttled)} |`),
        '',
        `Median: **${m.seconds.toFixed(2)} s** for ${fmt(m.cost)} points, minimum ${m.minSeconds.toFixed(2)} s: ratio **${m.ratio.toFixed(3)}** (goal ≤ 1.2: ${m.ratio <= 1.2 ? 'met' : '**not met**'}).`,
        '',
      ].join('\n');
    },
  },
  {
    name: 'drift',
    async run() {
      const r = await benchDrift(1_000_000, 5);
      const ms = (x: number) => `${fmt(x)} ms`;
      return [
        '## Drift report over 1,000,000 rows × 10 columns',
        '',
        `\`driftDataset\` (what a monitor report runs per column) on ${r.columns} numeric columns of ${fmt(r.rows)} reference rows and ${fmt(r.rows)} current rows`,
        '(normal, shifted, log-normal, scaled, exponential, uniform, counts, zero-inflated, 5% missing, 4 values): copy and sort both samples,',
        'one merge walk (KS, Wasserstein, distinct values), std, quantile histograms, PSI, the decision. Baseline: `Float64Array.prototype.sort`',
        `of the same ${r.columns * 2} arrays once (copies made outside the timer), and copy + sort. ${r.runs} runs, alternating; medians.`,
        `Tests chosen: ${Object.entries(r.tests).map(([k, v]) => `${k} ×${v}`).join(', ')}; ${r.drifted} columns drifted (3 were built to: a 0.2σ shift, a ×1.3 scale, a ×1.2 spread).`,
        '',
        '| | time |',
        '| --- | ---: |',
        `| sort only (baseline) | ${ms(r.sortOnlyMs)} |`,
        `| copy + sort | ${ms(r.copySortMs)} |`,
        `| drift report | ${ms(r.driftMs)} |`,
        '',
        `Ratio drift / sort: **${r.ratio.toFixed(2)}** (goal ≤ 2: ${r.ratio <= 2 ? 'met' : '**not met**'}); drift / (copy + sort): ${r.ratioCopySort.toFixed(2)}.`,
        '',
      ].join('\n');
    },
  },
];

const FILE = new URL('../docs/BENCHMARKS.md', import.meta.url);

function previousSections(): Map<string, string> {
  const out = new Map<string, string>();
  if (!existsSync(FILE)) return out;
  for (const m of readFileSync(FILE, 'utf8').matchAll(/<!-- section:(\w+) -->\n([\s\S]*?)<!-- \/section -->/g)) out.set(m[1]!, m[2]!);
  return out;
}

const only = process.argv.slice(2);
const sections = previousSections();
for (const s of SECTIONS) {
  if (only.length && !only.includes(s.name)) continue;
  process.stderr.write(`bench: ${s.name} …\n`);
  const t0 = performance.now();
  sections.set(s.name, `${await s.run()}\n_Measured ${new Date().toISOString().slice(0, 10)} in ${((performance.now() - t0) / 1000).toFixed(0)} s._\n`);
}
const header = [
  '# Benchmarks',
  '',
  'Written by `npm run bench` (`bench/run.ts`); every ratio compares two measurements taken in the same run on the same machine.',
  `Machine: ${os.cpus().length} × ${os.cpus()[0]?.model.trim() ?? 'cpu'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}.`,
  '',
].join('\n');
writeFileSync(FILE, header + SECTIONS.filter((s) => sections.has(s.name)).map((s) => `<!-- section:${s.name} -->\n${sections.get(s.name)}<!-- /section -->\n`).join('\n'));
process.stderr.write('bench: docs/BENCHMARKS.md written\n');
