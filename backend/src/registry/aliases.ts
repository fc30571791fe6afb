// Aliases `champion` and `challenger` per (shop, kind), and their append-only history. The
// history is the only record: an alias's current version is its latest row, the version it
// pointed to at time T is the latest row at or before T. Every read goes to the database, so a
// move (a promotion, a rollback — from this process, the CLI or another server) is effective on
// the next read; `aliasGeneration` is one primary-key row a serving cache can poll to learn
// that something moved and it must re-read aliases and reload artifacts.
import type { Db } from '../store/db.ts';
import type { ModelKind } from '../models/types.ts';
import { getVersion, isModelKind, RegistryError } from './versions.ts';

export type AliasName = 'champion' | 'challenger';
export const ALIASES: readonly AliasName[] = ['champion', 'challenger'];
export type MoveAction = 'gate' | 'promote' | 'rollback' | 'clear';

export function isAliasName(a: unknown): a is AliasName {
  return a === 'champion' || a === 'challenger';
}

export interface AliasMove {
  id: number;
  shop: string;
  kind: ModelKind;
  alias: AliasName;
  at: string;
  from: string | null;
  to: string | null;
  action: MoveAction;
  reason: string;
  actor: string;
  figures: Record<string, unknown> | null;
}

interface MoveRow {
  id: number; shop: string; kind: ModelKind; alias: AliasName; at: string; from_version: string | null; to_version: string | null;
  action: MoveAction; reason: string; actor: string; figures_json: string | null;
}

function fromRow(r: MoveRow): AliasMove {
  return {
    id: r.id, shop: r.shop, kind: r.kind, alias: r.alias, at: r.at, from: r.from_version, to: r.to_version, action: r.action,
    reason: r.reason, actor: r.actor, figures: r.figures_json ? (JSON.parse(r.figures_json) as Record<string, unknown>) : null,
  };
}

/** An ISO instant (UTC, milliseconds) from any date/time `Date.parse` accepts. */
export function isoInstant(t: string): string {
  const ms = Date.parse(t);
  if (Number.isNaN(ms)) throw new RegistryError('invalid', `not an ISO date or time: ${t}`);
  return new Date(ms).toISOString();
}

/** The version an alias points to now, or null. */
export function getAlias(db: Db, shop: string, kind: ModelKind, alias: AliasName): string | null {
  const r = db.prepare('SELECT to_version FROM alias_history WHERE shop = ? AND kind = ? AND alias = ? ORDER BY at DESC, id DESC LIMIT 1')
    .get(shop, kind, alias) as { to_version: string | null } | undefined;
  return r?.to_version ?? null;
}

export function currentAliases(db: Db, shop: string, kind: ModelKind): Record<AliasName, string | null> {
  return { champion: getAlias(db, shop, kind, 'champion'), challenger: getAlias(db, shop, kind, 'challenger') };
}

/** The version alias `alias` of `kind` pointed to at `isoTime` (a move at exactly that time counts), or null. */
export function aliasAt(db: Db, shop: string, kind: ModelKind, alias: AliasName, isoTime: string): string | null {
  const r = db.prepare('SELECT to_version FROM alias_history WHERE shop = ? AND kind = ? AND alias = ? AND at <= ? ORDER BY at DESC, id DESC LIMIT 1')
    .get(shop, kind, alias, isoInstant(isoTime)) as { to_version: string | null } | undefined;
  return r?.to_version ?? null;
}

export function aliasesAt(db: Db, shop: string, kind: ModelKind, isoTime: string): Record<AliasName, string | null> {
  return { champion: aliasAt(db, shop, kind, 'champion', isoTime), challenger: aliasAt(db, shop, kind, 'challenger', isoTime) };
}

/** Increases with every alias move of the shop (0 before the first). */
export function aliasGeneration(db: Db, shop: string): number {
  return (db.prepare('SELECT generation FROM alias_generations WHERE shop = ?').pluck().get(shop) as number | undefined) ?? 0;
}

/** Oldest first; `until` keeps the moves at or before that time. */
export function aliasHistory(db: Db, shop: string, kind?: ModelKind, opts: { until?: string } = {}): AliasMove[] {
  const until = opts.until === undefined ? null : isoInstant(opts.until);
  const rows = db.prepare(`SELECT * FROM alias_history WHERE shop = @shop AND (@kind IS NULL OR kind = @kind) AND (@until IS NULL OR at <= @until)
    ORDER BY kind, at, id`).all({ shop, kind: kind ?? null, until }) as MoveRow[];
  return rows.map(fromRow);
}

export interface MoveInput {
  shop: string;
  kind: ModelKind;
  alias: AliasName;
  /** A registered version, or null to clear the alias (challenger only). */
  to: string | null;
  action: MoveAction;
  reason: string;
  actor: string;
  /** Any JSON-serialisable object (gate metrics, rollout statistics). */
  figures?: object | null;
  /** ISO; default now. Clamped so times never go backwards within a shop and kind. */
  at?: string;
  /** Move only if the alias still points here (null: unset); otherwise a `conflict` error. */
  expectFrom?: string | null;
}

/** One alias move, appended to the history; null when the alias already points there. */
export function moveAlias(db: Db, m: MoveInput): AliasMove | null {
  if (!isModelKind(m.kind)) throw new RegistryError('invalid', `unknown model kind: ${String(m.kind)}`);
  if (!isAliasName(m.alias)) throw new RegistryError('invalid', `unknown alias: ${String(m.alias)} (champion or challenger)`);
  if (!m.reason.trim()) throw new RegistryError('invalid', 'a move needs a reason');
  if (!m.actor.trim()) throw new RegistryError('invalid', 'a move needs an actor');
  return db.transaction((): AliasMove | null => {
    if (m.to === null && m.alias === 'champion') throw new RegistryError('invalid', 'the champion cannot be cleared; roll back to another version instead');
    if (m.to !== null && !getVersion(db, m.shop, m.kind, m.to)) throw new RegistryError('not_found', `no ${m.kind} version ${m.to} for ${m.shop}`);
    const from = getAlias(db, m.shop, m.kind, m.alias);
    if (m.expectFrom !== undefined && m.expectFrom !== from) {
      throw new RegistryError('conflict', `${m.alias} of ${m.kind} is ${from ?? 'unset'}, not ${m.expectFrom ?? 'unset'}: it moved meanwhile`);
    }
    if (from === m.to) return null;
    const last = db.prepare('SELECT max(at) FROM alias_history WHERE shop = ? AND kind = ?').pluck().get(m.shop, m.kind) as string | null;
    let at = isoInstant(m.at ?? new Date().toISOString());
    if (last && at < last) at = last;
    const figures = m.figures ? JSON.stringify(m.figures) : null;
    const id = Number(db.prepare(`INSERT INTO alias_history (shop, kind, alias, at, from_version, to_version, action, reason, actor, figures_json)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(m.shop, m.kind, m.alias, at, from, m.to, m.action, m.reason, m.actor, figures).lastInsertRowid);
    db.prepare(`INSERT INTO alias_generations (shop, generation) VALUES (?, 1) ON CONFLICT (shop) DO UPDATE SET generation = generation + 1`).run(m.shop);
    return { id, shop: m.shop, kind: m.kind, alias: m.alias, at, from, to: m.to, action: m.action, reason: m.reason, actor: m.actor, figures: figures === null ? null : (JSON.parse(figures) as Record<string, unknown>) };
  })();
}

export interface PromoteInput {
  shop: string;
  kind: ModelKind;
  version: string;
  /** Default champion. */
  to?: AliasName;
  reason: string;
  actor: string;
  /** Any JSON-serialisable object (gate metrics, rollout statistics). */
  figures?: object | null;
  at?: string;
  /** 'promote' (a person or the rollout policy) or 'gate' (after training). */
  action?: 'promote' | 'gate';
  expectFrom?: string | null;
}

/**
 * Points `to` at `version`. A challenger promoted to champion stops being the challenger (a
 * second move, recorded too). Returns the moves made ([] when nothing changed).
 */
export function promote(db: Db, p: PromoteInput): AliasMove[] {
  const to = p.to ?? 'champion';
  return db.transaction((): AliasMove[] => {
    const { champion, challenger } = currentAliases(db, p.shop, p.kind);
    if (to === 'challenger' && champion === p.version) throw new RegistryError('invalid', `${p.version.slice(0, 12)} is already the champion`);
    const moves: AliasMove[] = [];
    const m = moveAlias(db, { shop: p.shop, kind: p.kind, alias: to, to: p.version, action: p.action ?? 'promote', reason: p.reason, actor: p.actor, figures: p.figures, at: p.at, expectFrom: p.expectFrom });
    if (m) moves.push(m);
    if (to === 'champion' && challenger === p.version) {
      const c = moveAlias(db, { shop: p.shop, kind: p.kind, alias: 'challenger', to: null, action: 'clear', reason: 'promoted to champion', actor: p.actor, at: p.at });
      if (c) moves.push(c);
    }
    return moves;
  })();
}

/**
 * The champion before the current one, undoing promotions in order: replaying the champion's
 * history as a stack (a promotion pushes, a rollback pops back to its target), so two
 * rollbacks in a row go two versions back rather than toggling.
 */
export function previousChampion(db: Db, shop: string, kind: ModelKind): string | null {
  const rows = db.prepare(`SELECT action, to_version FROM alias_history WHERE shop = ? AND kind = ? AND alias = 'champion' ORDER BY at, id`)
    .all(shop, kind) as { action: MoveAction; to_version: string | null }[];
  const stack: string[] = [];
  for (const r of rows) {
    if (r.to_version === null) continue;
    if (r.action === 'rollback') {
      const i = stack.lastIndexOf(r.to_version);
      if (i >= 0) stack.length = i + 1;
      else stack.push(r.to_version);
    } else if (stack[stack.length - 1] !== r.to_version) {
      stack.push(r.to_version);
    }
  }
  return stack.length >= 2 ? stack[stack.length - 2]! : null;
}

export interface RollbackInput {
  shop: string;
  kind: ModelKind;
  /** Default champion. Rolling back the challenger withdraws it (the alias is cleared). */
  alias?: AliasName;
  /** Champion only: a named version instead of the previous champion. */
  to?: string;
  reason: string;
  actor: string;
  /** Any JSON-serialisable object (gate metrics, rollout statistics). */
  figures?: object | null;
  at?: string;
  /** Roll back only if the alias still points here (guards against a double click). */
  expectFrom?: string | null;
}

/** One alias move: champion ← the previous champion (or `to`); challenger ← none. */
export function rollback(db: Db, r: RollbackInput): AliasMove {
  const alias = r.alias ?? 'champion';
  return db.transaction((): AliasMove => {
    const current = getAlias(db, r.shop, r.kind, alias);
    if (r.expectFrom !== undefined && r.expectFrom !== current) {
      throw new RegistryError('conflict', `${alias} of ${r.kind} is ${current ?? 'unset'}, not ${r.expectFrom ?? 'unset'}: it moved meanwhile`);
    }
    let target: string | null;
    if (alias === 'challenger') {
      if (r.to !== undefined) throw new RegistryError('invalid', 'rolling back the challenger withdraws it; to deploy another version, promote it');
      if (current === null) throw new RegistryError('not_found', `no ${r.kind} challenger to withdraw for ${r.shop}`);
      target = null;
    } else {
      if (current === null) throw new RegistryError('not_found', `no ${r.kind} champion for ${r.shop} yet`);
      target = r.to ?? previousChampion(db, r.shop, r.kind);
      if (target === null) throw new RegistryError('not_found', `no previous ${r.kind} champion for ${r.shop}: name a version to roll back to`);
      if (target === current) throw new RegistryError('invalid', `${target.slice(0, 12)} is already the champion`);
    }
    const m = moveAlias(db, { shop: r.shop, kind: r.kind, alias, to: target, action: 'rollback', reason: r.reason, actor: r.actor, figures: r.figures, at: r.at, expectFrom: r.expectFrom });
    return m!;
  })();
}

/** The wire form (API and `--json`). */
export function moveJson(m: AliasMove) {
  return {
    id: m.id, shop: m.shop, kind: m.kind, alias: m.alias, at: m.at, from: m.from, to: m.to, action: m.action,
    reason: m.reason, actor: m.actor, figures: m.figures,
  };
}
