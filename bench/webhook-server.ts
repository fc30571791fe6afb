// Child process for the webhook benchmark: the real shopml backend (temp SQLite, FULL sync,
// group commit in the webhook writer thread) and, beside it, a bare Fastify route — so the
// load generator in the parent process measures both under the same conditions. With
// `--main-writer` it also starts a second backend whose webhook writes stay on the main
// connection's group writer (the design before the writer thread), for a same-run comparison.
// Prints the URLs as one JSON line.
import Fastify from 'fastify';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../backend/src/config.ts';
import { startRuntime } from '../backend/src/runtime.ts';

import { BENCH_SECRET } from './webhook-constants.ts';

const dir = mkdtempSync(join(tmpdir(), 'shopml-webhook-bench-'));
const start = (file: string, webhookWriterThread: boolean) => startRuntime(loadConfig({
  SHOPIFY_API_KEY: 'bench-key', SHOPIFY_API_SECRET: BENCH_SECRET, SHOPIFY_APP_URL: 'https://bench.test', PORT: '0',
  DATABASE_PATH: join(dir, file), SHOPML_SECRET_KEY: 's'.repeat(40), SHOPML_ADMIN_TOKEN: 'a'.repeat(20), LOG_LEVEL: 'silent',
}), { defaultMetrics: false, webhookWriterThread, jobs: false }); // no retraining mid-run: its own benchmark
const rt = await start('shopml.db', true);
const mainWriter = process.argv.includes('--main-writer') ? await start('shopml-main-writer.db', false) : null;

const bare = Fastify();
// The baseline: receive the body and answer 200, nothing else.
bare.post('/webhooks', async () => ({ ok: true }));
const bareUrl = await bare.listen({ port: 0, host: '127.0.0.1' });

process.stdout.write(`${JSON.stringify({
  shopml: rt.url, bare: bareUrl, db: join(dir, 'shopml.db'),
  ...(mainWriter ? { mainWriter: mainWriter.url, mainWriterDb: join(dir, 'shopml-main-writer.db') } : {}),
})}\n`);
process.stdin.on('data', () => {});
process.stdin.on('end', async () => {
  await bare.close();
  await rt.close();
  await mainWriter?.close();
  process.exit(0);
});
