// Import benchmark: `node bench/import-bench.ts [FILE]` runs the plain baseline and the real
// import on the same file, each into a fresh database, and prints both rates and their ratio.
// Exported as benchImport() for the benchmark runner.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDb } from '../backend/src/store/db.ts';
import { createKeys } from '../backend/src/keys.ts';
import { importFile, type ImportSummary } from '../backend/src/ingest/import.ts';
import { runImportBaseline, type BaselineResult } from './import-baseline.ts';

export const REAL_FILE = new URL('../../shared/data/online-retail/online_retail_2010-12_2011-09.csv.gz', import.meta.url).pathname;

export interface ImportBenchResult {
  file: string;
  baseline: BaselineResult;
  import: ImportSummary;
  importRowsPerSecond: number;
  ratio: number;
}

export async function benchImport(file = REAL_FILE): Promise<ImportBenchResult> {
  const dir = mkdtempSync(join(tmpdir(), 'shopml-import-bench-'));
  try {
    const baseline = await runImportBaseline({ file, dbPath: join(dir, 'baseline.db') });
    const db = openDb(join(dir, 'import.db'));
    try {
      const summary = await importFile({
        db, keys: createKeys('bench-secret-bench-secret-bench-secret'), shop: 'bench.myshopify.com', file, format: 'online-retail',
      });
      const rate = summary.rows_read / summary.seconds;
      return { file, baseline, import: summary, importRowsPerSecond: rate, ratio: rate / baseline.rowsPerSecond };
    } finally {
      db.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const file = process.argv[2] ?? REAL_FILE;
  if (!existsSync(file)) {
    console.error(`no such file: ${file}`);
    process.exit(1);
  }
  const r = await benchImport(file);
  const fmt = (x: number) => Math.round(x).toLocaleString('en-US');
  console.log(`baseline: ${fmt(r.baseline.rows)} rows in ${r.baseline.seconds.toFixed(2)} s = ${fmt(r.baseline.rowsPerSecond)} rows/s`);
  console.log(`import:   ${fmt(r.import.rows_read)} rows in ${r.import.seconds.toFixed(2)} s (read ${r.import.read_seconds.toFixed(2)} s, write ${r.import.write_seconds.toFixed(2)} s) = ${fmt(r.importRowsPerSecond)} rows/s`);
  console.log(`ratio:    ${r.ratio.toFixed(2)} (goal >= 0.5)`);
  console.log(JSON.stringify(r.import));
}
