// A CSV file (any format the import takes) → cleaned sales, in memory, without a database:
// what `shopml eval` and the benchmarks learn from.
import { createKeys } from '../keys.ts';
import { readOrders, type ColumnMap, type ImportFormat } from '../ingest/import.ts';
import { openCsvFile } from '../ingest/csv.ts';
import type { NormalizedOrder } from '../ingest/types.ts';
import { cleanOrders, type CleanData } from './clean.ts';

export interface FileSource {
  file: string;
  format: ImportFormat;
  map?: ColumnMap;
  currency?: string | null;
}

export async function readOrdersFromFile(src: FileSource): Promise<{ orders: NormalizedOrder[]; rowsRead: number; skipped: Record<string, number> }> {
  // Emails are not in these files; the key only salts hashes nobody keeps.
  const r = await readOrders(openCsvFile(src.file), {
    shop: 'eval.myshopify.com', keys: createKeys('shopml-eval-in-memory-key-0000000000'), format: src.format, map: src.map, currency: src.currency ?? null,
  });
  return { orders: r.orders.map((p) => p.order), rowsRead: r.rowsRead, skipped: r.skipped };
}

export async function readCleanData(src: FileSource): Promise<CleanData & { rowsRead: number }> {
  const r = await readOrdersFromFile(src);
  return { ...cleanOrders(r.orders), rowsRead: r.rowsRead };
}

/** Time split: train = sales strictly before `splitMs`, test = at or after it. */
export function splitAt(data: CleanData, splitMs: number): { train: CleanData; test: CleanData } {
  const part = (keep: (t: number) => boolean): CleanData => ({
    sales: data.sales.filter((s) => keep(s.time)),
    returns: data.returns.filter((r) => keep(r.time)),
    stats: data.stats,
  });
  return { train: part((t) => t < splitMs), test: part((t) => t >= splitMs) };
}
