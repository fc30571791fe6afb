// `shopml import FILE --shop DOMAIN [--format online-retail|csv] [--map ...] [--currency X]
//   [--timezone ZONE] [--json] [--db PATH]`
//
// Exit codes: 0 done (rows skipped by the rules are not failures), 1 the import failed (a
// structural error in the file, a missing file, the secret key missing, the database), 2 usage.
// With --json stdout carries exactly one JSON object: the summary, or {"error", "line"?, "file"}.
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs, str, UsageError } from './args.ts';
import { createProgress, type Progress } from './progress.ts';
import { CsvStructureError } from '../ingest/csv.ts';
import { importFile, parseColumnMap, type ColumnMap, type ImportFormat, type ImportSummary } from '../ingest/import.ts';
import { assertTimeZone } from '../ingest/local-time.ts';

export const IMPORT_USAGE =
  'shopml import FILE --shop DOMAIN [--format online-retail|csv] [--map order=COL,customer=COL,time=COL[,product=COL][,quantity=COL][,price=COL][,title=COL][,sku=COL][,country=COL]] [--currency CODE] [--timezone ZONE] [--json] [--db PATH]';

const SHOP_DOMAIN = /^[a-z0-9][a-z0-9-]*\.myshopify\.com$/;

export interface ImportCommandIo {
  stdout?: NodeJS.WritableStream;
  stderr?: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
}

type Env = Record<string, string | undefined>;

interface ParsedImportArgs {
  file: string;
  shop: string;
  format: ImportFormat;
  map?: ColumnMap;
  currency?: string;
  timezone?: string;
  json: boolean;
  dbPath: string;
}

/** Parses and validates the arguments; throws UsageError. */
export function parseImportArgs(argv: string[], env: Env): ParsedImportArgs {
  const p = parseArgs(argv, { booleans: ['json'], strings: ['shop', 'format', 'map', 'currency', 'timezone', 'db'] });
  if (p.positional.length === 0) throw new UsageError('missing FILE');
  if (p.positional.length > 1) throw new UsageError(`one FILE only (got ${p.positional.join(' ')})`);
  const shop = str(p, 'shop')?.trim().toLowerCase();
  if (!shop) throw new UsageError('missing --shop DOMAIN');
  if (shop.length > 255 || !SHOP_DOMAIN.test(shop)) throw new UsageError(`--shop must be a *.myshopify.com domain (got "${str(p, 'shop')}")`);
  const mapSpec = str(p, 'map');
  const formatArg = str(p, 'format') ?? (mapSpec ? 'csv' : 'online-retail');
  if (formatArg !== 'online-retail' && formatArg !== 'csv') throw new UsageError(`--format must be online-retail or csv (got "${formatArg}")`);
  let map: ColumnMap | undefined;
  if (formatArg === 'csv') {
    if (!mapSpec) throw new UsageError('--format csv needs --map order=COL,customer=COL,time=COL[,product=COL,quantity=COL,price=COL]');
    try {
      map = parseColumnMap(mapSpec);
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
  } else if (mapSpec) throw new UsageError('--map is for --format csv (the online-retail columns are fixed)');
  const currency = str(p, 'currency')?.trim().toUpperCase();
  if (currency !== undefined) {
    if (formatArg === 'online-retail') throw new UsageError('--currency is for --format csv (Online Retail is GBP)');
    if (!/^[A-Z]{3}$/.test(currency)) throw new UsageError(`--currency must be a 3-letter ISO 4217 code (got "${str(p, 'currency')}")`);
  }
  const timezone = str(p, 'timezone');
  if (timezone !== undefined) {
    try {
      assertTimeZone(timezone);
    } catch {
      throw new UsageError(`--timezone: unknown time zone "${timezone}" (an IANA name such as Europe/London or UTC)`);
    }
  }
  return {
    file: p.positional[0]!,
    shop,
    format: formatArg,
    map,
    currency,
    timezone,
    json: p.options.json === true,
    dbPath: resolve(str(p, 'db') ?? (env.DATABASE_PATH?.trim() || './data/shopml.db')),
  };
}

function humanSummary(s: ImportSummary): string {
  const n = (x: number) => x.toLocaleString('en-US');
  const reasons = Object.entries(s.skipped_by_reason).filter(([, v]) => v > 0).map(([k, v]) => `${k} ${n(v)}`);
  const lines = [
    `imported ${s.file} into ${s.shop} (${s.format}) in ${s.seconds.toFixed(2)} s (${n(s.rows_per_second)} rows/s)`,
    `  rows:    ${n(s.rows_read)} read, ${n(s.rows_imported)} imported, ${n(s.rows_skipped)} skipped${reasons.length ? ` (${reasons.join(', ')})` : ''}`,
    `  orders:  ${n(s.orders)} in the file (${n(s.orders_by_kind.order)} orders, ${n(s.orders_by_kind.cancellation)} cancellations, ${n(s.orders_by_kind.adjustment)} adjustments), ${n(s.customers)} customers, ${n(s.guest_orders)} guest orders`,
    `  written: ${n(s.orders_new)} new orders, ${n(s.lines_new)} new lines; ${n(s.duplicates)} already imported, ${n(s.suppressed)} suppressed (redacted customers)${s.stale ? `, ${n(s.stale)} stale` : ''}`,
    `  lines:   ${n(s.lines_by_kind.product)} product, ${n(s.lines_by_kind.non_product)} non-product, ${n(s.lines_by_kind.writeoff)} write-off; ${n(s.exact_duplicate_lines)} exact duplicate lines kept as separate lines`,
  ];
  if (s.first_order_at) lines.push(`  period:  ${s.first_order_at} … ${s.last_order_at}`);
  return `${lines.join('\n')}\n`;
}

/** Runs `shopml import`; returns the exit code. */
export async function runImportCommand(argv: string[], env: Env, io: ImportCommandIo = {}): Promise<number> {
  const stdout = io.stdout ?? process.stdout;
  const stderr = io.stderr ?? process.stderr;
  const json = argv.includes('--json');
  const fail = (code: number, message: string, extra: Record<string, unknown> = {}): number => {
    if (json) stdout.write(`${JSON.stringify({ error: message, ...extra })}\n`);
    else stderr.write(`${message.startsWith('error:') ? message : `error: ${message}`}\n`);
    return code;
  };

  let args: ParsedImportArgs;
  try {
    args = parseImportArgs(argv, env);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    if (json) stdout.write(`${JSON.stringify({ error: err.message, usage: IMPORT_USAGE })}\n`);
    else stderr.write(`shopml import: ${err.message}\nUsage: ${IMPORT_USAGE}\n`);
    return 2;
  }

  const secret = env.SHOPML_SECRET_KEY?.trim();
  if (!secret) return fail(1, 'SHOPML_SECRET_KEY is not set: the import pseudonymizes customers with it (set the same value the server uses)', { variable: 'SHOPML_SECRET_KEY' });
  if (secret.length < 32) return fail(1, `SHOPML_SECRET_KEY must be at least 32 characters (got ${secret.length})`, { variable: 'SHOPML_SECRET_KEY' });
  if (!existsSync(args.file)) return fail(1, `${args.file}: no such file`, { file: args.file });
  if (!statSync(args.file).isFile()) return fail(1, `${args.file}: not a file`, { file: args.file });

  const { openDb } = await import('../store/db.ts');
  const { createKeys } = await import('../keys.ts');
  const showProgress = !args.json && Boolean(stderr.isTTY);
  let bar: Progress | null = null;
  let phase: 'read' | 'write' | null = null;
  const db = openDb(args.dbPath);
  try {
    const summary = await importFile({
      db, keys: createKeys(secret), shop: args.shop, file: args.file, format: args.format, map: args.map,
      currency: args.currency, timezone: args.timezone,
      onProgress: showProgress
        ? (p) => {
            if (p.phase !== phase) {
              bar?.done();
              phase = p.phase;
              bar = createProgress({
                label: p.phase === 'read' ? 'reading' : 'writing', total: p.total, stream: stderr, enabled: true,
                unit: p.phase === 'read' ? 'bytes' : 'items',
              });
            }
            bar!.update(p.done);
          }
        : undefined,
    });
    (bar as Progress | null)?.done();
    if (args.json) stdout.write(`${JSON.stringify(summary)}\n`);
    else stdout.write(humanSummary(summary));
    return 0;
  } catch (err) {
    (bar as Progress | null)?.done();
    if (err instanceof CsvStructureError) {
      const message = `${err.message}; nothing was imported`;
      if (json) {
        stdout.write(`${JSON.stringify({ error: message, file: args.file, line: err.line })}\n`);
        return 1;
      }
      stderr.write(`error: ${args.file}:${err.line}: ${message}\n`);
      return 1;
    }
    const e = err as { code?: string; message?: string };
    const message = e.code?.startsWith('SQLITE_')
      ? `database ${args.dbPath}: ${e.message} (${e.code}); orders written so far are kept, run the same import again to complete it`
      : `${args.file}: ${e.message ?? String(err)}`;
    return fail(1, message, { file: args.file });
  } finally {
    db.close();
  }
}
