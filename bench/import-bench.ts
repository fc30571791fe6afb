// Import benchmark: `node bench/import-bench.ts [FILE]` (RUNS=n to repeat) runs the plain
// baseline and the real import on the same file, each into a fresh database, and prints both
// rates and their ratio. Exported as benchImport() for the benchmark runner (bench/run.ts).
//
// `VARIANTS=1 node bench/import-bench.ts` also measures two proposed changes that need no code
// here (see docs/import.md, "Performance"): without the `order_lines_product` index, and with
// HMAC keys held as a KeyObject (what keys.ts could do; same hashes).
import { createHmac, createSecretKey, hkdfSync } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDb, type Db } from '../backend/src/store/db.ts';
import { createKeys, type Keys } from '../backend/src/keys.ts';
import { importFile, type ImportSummary } from '../backend/src/ingest/import.ts';
import { runImportBaseline, type BaselineResult } from './import-baseline.ts';

export { REAL_DATA_FILE as REAL_FILE } from '../test/helpers/real-data.ts';
import { REAL_DATA_FILE as REAL_FILE } from '../test/helpers/real-data.ts';
const SECRET = 'bench-secret-bench-secret-bench-secret';

export interface ImportBenchResult {
  file: string;
  baseline: BaselineResult;
  import: ImportSummary;
  importRowsPerSecond: number;
  /** import rate / baseline rate, wall clock. */
  ratio: number;
  importCpuSeconds: number;
  /** The same ratio on CPU time (robust when other processes share the machine). */
  cpuRatio: number;
}

export interface ImportBenchOptions {
  keys?: Keys;
  /** Runs on the fresh import database before the import (e.g. a schema variant). */
  prepareDb?: (db: Db) => void;
}

export async function benchImport(file = REAL_FILE, opts: ImportBenchOptions = {}): Promise<ImportBenchResult> {
  const dir = mkdtempSync(join(tmpdir(), 'shopml-import-bench-'));
  try {
    const baseline = await runImportBaseline({ file, dbPath: join(dir, 'baseline.db') });
    const db = openDb(join(dir, 'import.db'));
    try {
      opts.prepareDb?.(db);
      const c0 = process.cpuUsage();
      const summary = await importFile({
        db, keys: opts.keys ?? createKeys(SECRET), shop: 'bench.myshopify.com', file, format: 'online-retail',
      });
      const cpu = process.cpuUsage(c0);
      const importCpuSeconds = (cpu.user + cpu.system) / 1e6;
      const rate = summary.rows_read / summary.seconds;
      return {
        file, baseline, import: summary, importRowsPerSecond: rate, ratio: rate / baseline.rowsPerSecond,
        importCpuSeconds, cpuRatio: baseline.cpuSeconds / importCpuSeconds,
      };
    } finally {
      db.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** createKeys with the tombstone HMAC key held as a KeyObject: identical hashes, ~6x faster. */
function keyObjectKeys(secret: string): Keys {
  const base = createKeys(secret);
  const key = createSecretKey(Buffer.from(hkdfSync('sha256', Buffer.from(secret, 'utf8'), Buffer.from('shopml'), Buffer.from('tombstone-v1'), 32)));
  const keys: Keys = { ...base, subjectHash: (shop, kind, value) => createHmac('sha256', key).update(`${shop}\u0000${kind}\u0000${value}`).digest('base64url') };
  if (keys.subjectHash('s', 'customer', '1') !== base.subjectHash('s', 'customer', '1')) throw new Error('keys.ts derivation changed; update keyObjectKeys');
  return keys;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const file = process.argv[2] ?? REAL_FILE;
  if (!existsSync(file)) {
    console.error(`no such file: ${file}`);
    process.exit(1);
  }
  const runs = Number(process.env.RUNS ?? 1);
  const variants: [string, ImportBenchOptions][] = [['as is', {}]];
  if (process.env.VARIANTS) {
    const dropIndex = (db: Db) => db.exec('DROP INDEX order_lines_product');
    variants.push(['without order_lines_product', { prepareDb: dropIndex }]);
    variants.push(['without the index + KeyObject HMAC', { prepareDb: dropIndex, keys: keyObjectKeys(SECRET) }]);
  }
  const fmt = (x: number) => Math.round(x).toLocaleString('en-US');
  for (let i = 0; i < runs; i++) {
    for (const [name, o] of variants) {
      const r = await benchImport(file, o);
      console.log(`[${name}]`);
      console.log(`  baseline: ${fmt(r.baseline.rows)} rows in ${r.baseline.seconds.toFixed(2)} s (cpu ${r.baseline.cpuSeconds.toFixed(2)} s) = ${fmt(r.baseline.rowsPerSecond)} rows/s`);
      console.log(`  import:   ${fmt(r.import.rows_read)} rows in ${r.import.seconds.toFixed(2)} s (read ${r.import.read_seconds.toFixed(2)} s, write ${r.import.write_seconds.toFixed(2)} s; cpu ${r.importCpuSeconds.toFixed(2)} s) = ${fmt(r.importRowsPerSecond)} rows/s`);
      console.log(`  ratio:    ${r.ratio.toFixed(2)} wall, ${r.cpuRatio.toFixed(2)} cpu (goal >= 0.5)`);
    }
  }
}
