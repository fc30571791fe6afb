// The `shopml` command: one entry, one small module per command.
import { parseArgs, str, UsageError } from './cli/args.ts';

interface Command {
  summary: string;
  usage: string;
  run(argv: string[]): Promise<number>;
}

const COMMANDS: Record<string, Command> = {
  serve: {
    summary: 'Run the backend (webhooks, Flow, app proxy, admin API, metrics).',
    usage: 'shopml serve            (configuration from the environment; see README)',
    run: async () => (await import('./main.ts')).serve(),
  },
  demo: {
    summary: 'Run the whole loop offline: simulated store, backend, backfill, training, canary, live orders and shoppers, dashboard.',
    usage: 'shopml demo [--for SECONDS] [--seed N] [--port N] [--dir DIR] [--data FILE --format online-retail|csv] [--rate N] [--shoppers N] [--lift X] [--consent X] [--holdout PCT] [--challenger PCT] [--retrain-after ORDERS] [--policy-every S] [--monitor-every S]   (docs/demo.md)',
    run: async (argv) => (await import('./demo/demo-command.ts')).runDemoCommand(argv),
  },
  import: {
    summary: 'Import order lines from a CSV file (gzip accepted) into the store.',
    usage: 'shopml import FILE --shop DOMAIN --format online-retail|csv [--map order=..,customer=..,time=..,product=..,quantity=..,price=..] [--currency X] [--json]',
    run: async (argv) => (await import('./cli/import-command.ts')).runImportCommand(argv, process.env),
  },
  backfill: {
    summary: "Backfill a shop's product catalog and order history through Admin API bulk exports.",
    usage: 'shopml backfill --shop DOMAIN [--what products|orders|all] [--json]   (default all: products, then orders)',
    run: async (argv) => (await import('./cli/backfill-command.ts')).runBackfillCommand(argv, process.env),
  },
  train: {
    summary: 'Train models on stored orders: snapshot, data-quality gate, training, artifacts, run record.',
    usage: 'shopml train [--shop DOMAIN] [--kind recommend|segment|churn|forecast|all] [--seed N] [--as-of ISO] [--thresholds FILE.json] [--json]   (thresholds also from SHOPML_QUALITY_THRESHOLDS)',
    run: async (argv) => (await import('./cli/train-command.ts')).runTrainCommand(argv, process.env),
  },
  quality: {
    summary: "Show the data-quality gate's latest report for each shop (what blocked or passed training).",
    usage: 'shopml quality [--shop DOMAIN] [--json]',
    run: async (argv) => (await import('./cli/quality-command.ts')).runQualityCommand(argv, process.env),
  },
  eval: {
    summary: 'Evaluate every model against honest baselines on a time split of a CSV file.',
    usage: 'shopml eval (--data FILE --split-date YYYY-MM-DD | --train FILE --test FILE) [--format online-retail|csv] [--map ...] [--horizon-days N] [--seed N] [--json]',
    run: async (argv) => (await import('./cli/eval-command.ts')).runEvalCommand(argv),
  },
  runs: {
    summary: 'Experiment runs: every training attempt with params, metrics, durations, snapshot, log, decision.',
    usage: ['shopml runs list [--shop DOMAIN] [--kind KIND] [--status succeeded|failed|blocked|running] [--limit N] [--json]',
      '       shopml runs show ID [--json]',
      '       shopml runs compare ID ID [ID…] [--shop DOMAIN] [--kind KIND] [--json]   (deltas against the first)'].join('\n'),
    run: async (argv) => (await import('./cli/runs-command.ts')).runRunsCommand(argv, process.env),
  },
  models: {
    summary: 'Model registry: versions, champion/challenger aliases, promote, rollback, alias history.',
    usage: ['shopml models list [--shop DOMAIN] [--kind KIND] [--json]',
      '       shopml models promote --shop DOMAIN --kind KIND --version V [--to champion|challenger] [--from VERSION] [--reason TEXT] [--json]',
      '       shopml models rollback --shop DOMAIN --kind KIND [--to VERSION] [--alias champion|challenger] [--from VERSION] [--reason TEXT] [--json]',
      '       shopml models history --shop DOMAIN [--kind KIND] [--at ISO] [--json]',
      '  (V: the sha256 or a unique prefix of at least 6 characters; --from: act only if the alias still points there)'].join('\n'),
    run: async (argv) => (await import('./cli/models-command.ts')).runModelsCommand(argv, process.env),
  },
  canary: {
    summary: 'Canary rollout of a recommend challenger (plan, start, watch, promote, roll back, stop) and shadow evaluations of the other kinds.',
    usage: ['shopml canary plan --shop DOMAIN [--holdout PCT] [--challenger PCT] [--mde LIFT] [--json]',
      '       shopml canary start --shop DOMAIN [--version V] [--holdout PCT] [--challenger PCT] [--mde LIFT] [--reason TEXT] [--json]',
      '       shopml canary status --shop DOMAIN [--id N] [--json]      shopml canary list --shop DOMAIN [--json]',
      '       shopml canary promote|rollback|stop --shop DOMAIN [--reason TEXT] [--json]',
      '       shopml canary run-policy [--shop DOMAIN] [--artifacts DIR] [--json]   (what the scheduler runs: every live canary and matured shadow evaluated and acted on)',
      '       shopml canary shadows --shop DOMAIN [--kind segment|churn|forecast] [--json]   (segment / churn / forecast challengers scored in shadow)'].join('\n'),
    run: async (argv) => (await import('./cli/canary-command.ts')).runCanaryCommand(argv, process.env),
  },
  jobs: {
    summary: 'Background jobs (training, re-tagging): list, inspect, retry dead jobs, enqueue a training, run ready jobs here.',
    usage: ['shopml jobs list [--shop DOMAIN] [--status pending|running|done|failed|dead] [--type TYPE] [--limit N] [--json]',
      '       shopml jobs show ID [--json]',
      '       shopml jobs retry ID [--json]        (a dead or failed job becomes pending with fresh attempts)',
      '       shopml jobs train --shop DOMAIN [--kind recommend|segment|churn|forecast|all] [--seed N] [--reason TEXT] [--json]',
      '       shopml jobs run-once [--type TYPE] [--json]   (runs every ready job in this process; needs the server configuration)'].join('\n'),
    run: async (argv) => (await import('./cli/jobs-command.ts')).runJobsCommand(argv, process.env),
  },
  drift: {
    summary: 'Monitor a shop now: drift of model inputs and outputs, live accuracy, KPIs, and whether to retrain (stored).',
    usage: ['shopml drift --shop DOMAIN [--json] [--now ISO] [--no-store] [--method evidently|pvalue] [--alpha P] [--wasserstein D] [--jensen-shannon D] [--share S]',
      '       [--small-sample N] [--window-days N] [--auc-drop X] [--brier-rise X] [--forecast-rise X] [--ctr-drop X] [--min-revenue-impact X] …',
      '  (every threshold also from SHOPML_DRIFT_* / SHOPML_MONITOR_*; see docs/monitoring.md)'].join('\n'),
    run: async (argv) => (await import('./cli/drift-command.ts')).runDriftCommand(argv, process.env),
  },
  products: {
    summary: 'Merchant product settings: supplier lead times for reorder suggestions.',
    usage: 'shopml products set-lead-time --shop DOMAIN --product ID (--days N | --clear) [--json] | shopml products lead-times --shop DOMAIN [--json]',
    run: async (argv) => (await import('./cli/products-command.ts')).runProductsCommand(argv, process.env),
  },
  'data-requests': {
    summary: 'customers/data_request exports: list them, write one out for the merchant.',
    usage: 'shopml data-requests list --shop DOMAIN [--json] | shopml data-requests show ID --shop DOMAIN [--out FILE]   (exit 3 while an export is being prepared)',
    run: async (argv) => (await import('./cli/data-requests-command.ts')).runDataRequestsCommand(argv, process.env),
  },
  controls: {
    summary: 'Storefront recommendations: exclude or pin products, cold-start history, attribution window and figures.',
    usage: ['shopml controls exclude|include|pin|unpin --shop DOMAIN --product ID [--position N] [--json]',
      '       shopml controls show --shop DOMAIN [--json]',
      '       shopml controls set --shop DOMAIN [--min-history ORDERS] [--attribution-days DAYS] [--json]',
      '       shopml controls attribution --shop DOMAIN [--since ISO] [--json]'].join('\n'),
    run: async (argv) => (await import('./serve/controls-command.ts')).runControlsCommand(argv, process.env),
  },
  rebuild: {
    summary: "Rebuild a shop's projections (orders, lines, customers, products, inventory) from its event log.",
    usage: 'shopml rebuild --shop DOMAIN',
    run: async (argv) => {
      const p = parseArgs(argv, { strings: ['shop', 'db'] });
      const shop = str(p, 'shop');
      const { isShopDomain } = await import('./shopify/verify.ts');
      if (!shop || !isShopDomain(shop)) throw new UsageError('--shop must be a *.myshopify.com domain');
      const { openDb } = await import('./store/db.ts');
      const { rebuildProjections } = await import('./ingest/rebuild.ts');
      const { resolve } = await import('node:path');
      const db = openDb(resolve(str(p, 'db') ?? process.env.DATABASE_PATH ?? './data/shopml.db'));
      const r = rebuildProjections(db, shop);
      db.close();
      console.log(`${shop}: projections rebuilt from ${r.events} events`);
      return 0;
    },
  },
  status: {
    summary: 'Show per-shop counts: events, orders, lines, customers, products, quarantined.',
    usage: 'shopml status [--shop DOMAIN] [--json]',
    run: async (argv) => runStatus(argv),
  },
};

async function runStatus(argv: string[]): Promise<number> {
  const p = parseArgs(argv, { booleans: ['json'], strings: ['shop', 'db'] });
  const { openDb } = await import('./store/db.ts');
  const { shopStatus } = await import('./store/status.ts');
  const { resolve } = await import('node:path');
  const { existsSync } = await import('node:fs');
  const path = resolve(str(p, 'db') ?? process.env.DATABASE_PATH ?? './data/shopml.db');
  const shops = existsSync(path) ? shopStatus(openDb(path), str(p, 'shop')) : [];
  if (p.options.json) {
    console.log(JSON.stringify({ shops }));
  } else if (shops.length === 0) {
    console.log(`no shops in ${path}`);
  } else {
    for (const s of shops) {
      console.log(`${s.shop}: ${s.events} events, ${s.orders} orders, ${s.order_lines} order lines, ${s.customers} customers, ${s.products} products, ${s.quarantined} quarantined`);
    }
  }
  return 0;
}

function help(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((k) => k.length));
  return [
    'shopml — the MLOps loop for Shopify stores',
    '',
    'Usage: shopml <command> [options]   (shopml <command> --help for its options)',
    '',
    'Commands:',
    ...Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`),
    '',
  ].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(help());
    return 0;
  }
  const cmd = COMMANDS[name];
  if (!cmd) {
    console.error(`shopml: unknown command "${name}"\n\n${help()}`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    console.log(`${cmd.summary}\n\nUsage: ${cmd.usage}`);
    return 0;
  }
  try {
    return await cmd.run(rest);
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`shopml ${name}: ${err.message}\nUsage: ${cmd.usage}`);
      return 2;
    }
    throw err;
  }
}
