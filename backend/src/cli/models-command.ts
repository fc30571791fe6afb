// `shopml models list|promote|rollback|history` — the model registry from the command line.
// Moves are written straight to the database: a running server sees them on its next read.
import { userInfo } from 'node:os';
import type { Db } from '../store/db.ts';
import { isShopDomain } from '../shopify/verify.ts';
import type { ModelKind } from '../models/types.ts';
import { aliasGeneration, currentAliases, isAliasName, moveJson, promote, rollback, type AliasMove } from '../registry/aliases.ts';
import { historyReport, modelCatalog } from '../registry/catalog.ts';
import { DEFAULT_GATE } from '../registry/gate.ts';
import { isModelKind, REGISTRY_KINDS, RegistryError, resolveVersion } from '../registry/versions.ts';
import { reconcile } from '../rollout/canary.ts';
import { parseArgs, str, UsageError, type ParsedArgs } from './args.ts';
import { openExistingDb } from './open-db.ts';

/** `cli:<login name>` (USER / USERNAME, else the account running the process), as recorded in the alias history. */
export function cliActor(env: Record<string, string | undefined>): string {
  let user = env.USER || env.USERNAME;
  if (!user) {
    try {
      user = userInfo().username;
    } catch {
      user = 'unknown';
    }
  }
  return `cli:${user}`;
}

const short = (v: string | null): string => (v ? v.slice(0, 12) : '—');

export function shopArg(p: ParsedArgs, required: boolean): string | undefined {
  const shop = str(p, 'shop');
  if (shop === undefined) {
    if (required) throw new UsageError('--shop is required');
    return undefined;
  }
  if (!isShopDomain(shop)) throw new UsageError('--shop must be a *.myshopify.com domain');
  return shop;
}

export function kindArg(p: ParsedArgs, required: boolean): ModelKind | undefined {
  const kind = str(p, 'kind');
  if (kind === undefined) {
    if (required) throw new UsageError(`--kind is required (${REGISTRY_KINDS.join(', ')})`);
    return undefined;
  }
  if (!isModelKind(kind)) throw new UsageError(`--kind must be one of ${REGISTRY_KINDS.join(', ')}`);
  return kind;
}

function printMoves(moves: AliasMove[]): void {
  for (const m of moves) console.log(`${m.kind} ${m.alias}: ${short(m.from)} → ${short(m.to)}  (${m.action} by ${m.actor}: ${m.reason})`);
}

function list(db: Db, p: ParsedArgs): number {
  const cat = modelCatalog(db, { shop: shopArg(p, false), kind: kindArg(p, false) });
  if (p.options.json) {
    console.log(JSON.stringify(cat));
    return 0;
  }
  if (cat.versions.length === 0) {
    console.log('no model versions registered yet (train first)');
    return 0;
  }
  let group = '';
  for (const v of cat.versions) {
    const g = `${v.shop} ${v.kind}`;
    const metric = DEFAULT_GATE[v.kind].metric;
    if (g !== group) {
      group = g;
      console.log(`${g}`);
      console.log(`  ${'version'.padEnd(12)}  ${'trained'.padEnd(24)}  ${'run'.padStart(5)}  ${metric.padStart(16)}  aliases`);
    }
    const m = v.metrics[metric];
    const mv = typeof m === 'number' ? String(Number(m.toFixed(4))) : '—';
    console.log(`  ${short(v.version)}  ${v.trained_at.padEnd(24)}  ${(v.run_id === null ? '' : `#${v.run_id}`).padStart(5)}  ${mv.padStart(16)}  ${v.aliases.join(', ')}`);
  }
  return 0;
}

function history(db: Db, p: ParsedArgs): number {
  const shop = shopArg(p, true)!;
  const kind = kindArg(p, false);
  const at = str(p, 'at');
  if (at !== undefined && Number.isNaN(Date.parse(at))) throw new UsageError('--at must be an ISO date or timestamp');
  const r = historyReport(db, shop, kind, at);
  if (p.options.json) {
    console.log(JSON.stringify(r));
    return 0;
  }
  if (r.moves.length === 0) console.log(`no alias moves for ${shop}${kind ? ` ${kind}` : ''}${at ? ` up to ${r.at}` : ''}`);
  for (const m of r.moves) {
    console.log(`${m.at}  ${m.kind.padEnd(9)} ${m.alias.padEnd(10)} ${short(m.from)} → ${short(m.to).padEnd(12)}  ${m.action.padEnd(8)} ${m.actor}: ${m.reason}`);
  }
  if ('state' in r && r.state) {
    console.log(`\nat ${r.at}:`);
    for (const s of r.state) console.log(`  ${s.kind.padEnd(9)} champion ${short(s.champion)}  challenger ${short(s.challenger)}`);
  }
  return 0;
}

function moved(db: Db, p: ParsedArgs, shop: string, kind: ModelKind, move: () => AliasMove[]): number {
  // A live canary comparing versions that are no longer the aliases is stopped, with the reason,
  // in the move's own transaction: a crash between the two would leave the canary live, splitting
  // traffic between versions it does not record (found by test/reliability/crash-safety.test.ts).
  const { moves, stopped } = db.transaction(() => {
    const moves = move();
    return { moves, stopped: moves.length > 0 ? reconcile(db, shop, kind, new Date(), moves[0]!.actor) : null };
  })();
  if (stopped && !p.options.json) console.log(`canary #${stopped.id} stopped: ${stopped.statusReason}`);
  if (p.options.json) {
    console.log(JSON.stringify({ shop, kind, moves: moves.map(moveJson), aliases: currentAliases(db, shop, kind), generation: aliasGeneration(db, shop), stopped_experiment: stopped?.id ?? null }));
  } else if (moves.length === 0) {
    console.log('nothing to do: the alias already points there');
  } else {
    printMoves(moves);
  }
  return 0;
}

export async function runModelsCommand(argv: string[], env: Record<string, string | undefined>): Promise<number> {
  const [sub, ...rest] = argv;
  const p = parseArgs(rest, { booleans: ['json'], strings: ['shop', 'kind', 'version', 'to', 'alias', 'from', 'reason', 'at', 'db'] });
  if (!sub || !['list', 'promote', 'rollback', 'history'].includes(sub)) throw new UsageError('expected a subcommand: list, promote, rollback or history');
  if (sub !== 'history' && str(p, 'at') !== undefined) throw new UsageError('--at is for history');
  const db = openExistingDb(p, env);
  if (!db) return 1;
  try {
    if (sub === 'list') return list(db, p);
    if (sub === 'history') return history(db, p);
    const shop = shopArg(p, true)!;
    const kind = kindArg(p, true)!;
    const actor = cliActor(env);
    const reason = str(p, 'reason');
    if (sub === 'promote') {
      const typed = str(p, 'version');
      if (!typed) throw new UsageError('--version is required');
      const to = str(p, 'to') ?? 'champion';
      if (!isAliasName(to)) throw new UsageError('--to must be champion or challenger');
      const version = resolveVersion(db, shop, kind, typed);
      const typedFrom = str(p, 'from');
      return moved(db, p, shop, kind, () => promote(db, {
        shop, kind, version, to, reason: reason ?? `manual promotion to ${to}`, actor,
        expectFrom: typedFrom === undefined ? undefined : resolveVersion(db, shop, kind, typedFrom),
      }));
    }
    const alias = str(p, 'alias') ?? 'champion';
    if (!isAliasName(alias)) throw new UsageError('--alias must be champion or challenger');
    const typedTo = str(p, 'to');
    const typedFrom = str(p, 'from');
    return moved(db, p, shop, kind, () => [rollback(db, {
      shop, kind, alias, reason: reason ?? `manual rollback of the ${alias}`, actor,
      to: typedTo === undefined ? undefined : resolveVersion(db, shop, kind, typedTo),
      expectFrom: typedFrom === undefined ? undefined : resolveVersion(db, shop, kind, typedFrom),
    })]);
  } catch (err) {
    if (err instanceof RegistryError) {
      console.error(`error: ${err.message}`);
      return 1;
    }
    throw err;
  } finally {
    db.close();
  }
}
