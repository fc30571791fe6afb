// `shopml data-requests list --shop DOMAIN [--json]` and `shopml data-requests show ID --shop DOMAIN
// [--out FILE]`: the customers/data_request exports shopml wrote (ingest/compliance.ts), for the
// operator who sends them to the merchant. An export of a long store is written in steps after the
// webhook's answer (ingest/data-request-export.ts): until then it is listed as `preparing`.
import { writeFileSync } from 'node:fs';
import { isShopDomain } from '../shopify/verify.ts';
import { listDataRequests, readDataRequest } from '../ingest/data-request-export.ts';
import { openExistingDb } from './open-db.ts';
import { parseArgs, str, UsageError } from './args.ts';

/** Exit code of `show` while the export is still being prepared (try again shortly). */
export const EXIT_PREPARING = 3;

export async function runDataRequestsCommand(argv: string[], env: Record<string, string | undefined>): Promise<number> {
  const [sub, ...rest] = argv;
  const p = parseArgs(rest, { booleans: ['json'], strings: ['shop', 'db', 'out'] });
  const shop = str(p, 'shop');
  if (!shop || !isShopDomain(shop)) throw new UsageError('--shop must be a *.myshopify.com domain');
  if (sub !== 'list' && sub !== 'show') throw new UsageError('expected a subcommand: list or show');
  if (sub === 'list' && p.positional.length > 0) throw new UsageError('list takes no request id');
  if (sub === 'show' && p.positional.length !== 1) throw new UsageError('show takes one data request id');
  const db = openExistingDb(p, env);
  if (!db) return 1;
  try {
    if (sub === 'list') {
      const rows = listDataRequests(db, shop);
      if (p.options.json) console.log(JSON.stringify({ shop, data_requests: rows }));
      else if (rows.length === 0) console.log(`no data requests for ${shop}`);
      else for (const r of rows) console.log(`${r.request_id}\t${r.created_at}\t${r.customer_id ?? 'guest (email only)'}\t${r.status}`);
      return 0;
    }
    const id = p.positional[0]!;
    const r = readDataRequest(db, shop, id);
    if (r.status === 'missing') {
      console.error(`error: no data request ${id} for ${shop}`);
      return 1;
    }
    if (r.status === 'preparing') {
      console.error(`data request ${id}: the export is being prepared (the search for guest orders runs in steps); try again shortly`);
      return EXIT_PREPARING;
    }
    const text = `${JSON.stringify({ created_at: r.createdAt, data: r.data }, null, 2)}\n`;
    const out = str(p, 'out');
    if (out) {
      writeFileSync(out, text, { mode: 0o600 });
      console.log(`data request ${id}: export written to ${out} (${Buffer.byteLength(text)} bytes)`);
    } else process.stdout.write(text);
    return 0;
  } finally {
    db.close();
  }
}
