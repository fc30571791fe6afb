// What `models list` and `models history` show (CLI and API alike): versions with their aliases,
// and an alias history with the state at a given time.
import type { Db } from '../store/db.ts';
import type { ModelKind } from '../models/types.ts';
import { aliasesAt, aliasHistory, moveJson, type AliasName } from './aliases.ts';
import { listVersions, REGISTRY_KINDS, versionJson } from './versions.ts';

export interface CurrentAlias {
  shop: string;
  kind: ModelKind;
  alias: AliasName;
  version: string;
  /** When it was pointed there. */
  since: string;
  actor: string;
  reason: string;
}

/** Every alias that points to a version now. */
export function currentAliasList(db: Db, filter: { shop?: string; kind?: ModelKind } = {}): CurrentAlias[] {
  return db.prepare(`SELECT h.shop, h.kind, h.alias, h.to_version AS version, h.at AS since, h.actor, h.reason FROM alias_history h
    WHERE (@shop IS NULL OR h.shop = @shop) AND (@kind IS NULL OR h.kind = @kind) AND h.to_version IS NOT NULL
      AND h.id = (SELECT x.id FROM alias_history x WHERE x.shop = h.shop AND x.kind = h.kind AND x.alias = h.alias ORDER BY x.at DESC, x.id DESC LIMIT 1)
    ORDER BY h.shop, h.kind, h.alias`).all({ shop: filter.shop ?? null, kind: filter.kind ?? null }) as CurrentAlias[];
}

export function modelCatalog(db: Db, filter: { shop?: string; kind?: ModelKind } = {}) {
  const aliases = currentAliasList(db, filter);
  const byVersion = new Map<string, string[]>();
  for (const a of aliases) {
    const k = `${a.shop}\t${a.kind}\t${a.version}`;
    byVersion.set(k, [...(byVersion.get(k) ?? []), a.alias]);
  }
  return {
    versions: listVersions(db, filter).map((v) => versionJson(v, byVersion.get(`${v.shop}\t${v.kind}\t${v.version}`) ?? [])),
    aliases,
  };
}

/** The moves (oldest first; up to `at` when given) and, with `at`, what each alias pointed to then. */
export function historyReport(db: Db, shop: string, kind?: ModelKind, at?: string) {
  const moves = aliasHistory(db, shop, kind, at === undefined ? {} : { until: at }).map(moveJson);
  if (at === undefined) return { shop, moves };
  const kinds = kind ? [kind] : REGISTRY_KINDS;
  return { shop, at: new Date(Date.parse(at)).toISOString(), moves, state: kinds.map((k) => ({ kind: k, ...aliasesAt(db, shop, k, at) })) };
}
