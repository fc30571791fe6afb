// Baseline for the import benchmark: the same file parsed by the same CSV parser, every data row
// inserted as-is (all columns as text, one row per CSV line) into one plain table, in batched
// transactions, with the store's durability settings (WAL, synchronous = FULL). No validation,
// no grouping, no event log, no projections, no indexes. `shopml import` is measured against it:
// the goal is an import rate of at least half this one.
import Database from 'better-sqlite3';
import { csvBatches, openCsvFile } from '../backend/src/ingest/csv.ts';

export interface BaselineResult {
  rows: number;
  seconds: number;
  rowsPerSecond: number;
  /** CPU time of the process (all threads) during the run: less sensitive to a busy machine. */
  cpuSeconds: number;
}

export async function runImportBaseline(opts: { file: string; dbPath: string; batchRows?: number }): Promise<BaselineResult> {
  const batchRows = opts.batchRows ?? 10_000;
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const db = new Database(opts.dbPath);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    let insert: Database.Statement | null = null;
    let pending: string[][] = [];
    let rows = 0;
    const flush = db.transaction((batch: string[][]) => {
      for (const r of batch) insert!.run(r);
    });
    for await (const batch of csvBatches(openCsvFile(opts.file))) {
      let start = 0;
      if (insert === null) {
        const cols = batch[0]!.fields.map((_, i) => `c${i}`);
        db.exec(`DROP TABLE IF EXISTS baseline_rows; CREATE TABLE baseline_rows (${cols.map((c) => `${c} TEXT`).join(', ')})`);
        insert = db.prepare(`INSERT INTO baseline_rows VALUES (${cols.map(() => '?').join(', ')})`);
        start = 1;
      }
      for (let i = start; i < batch.length; i++) {
        pending.push(batch[i]!.fields);
        if (pending.length >= batchRows) {
          flush(pending);
          rows += pending.length;
          pending = [];
        }
      }
    }
    if (pending.length > 0) {
      flush(pending);
      rows += pending.length;
    }
    const seconds = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(c0);
    return { rows, seconds, rowsPerSecond: rows / seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6 };
  } finally {
    db.close();
  }
}
