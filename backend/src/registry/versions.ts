// Model versions: immutable, one per (shop, kind, sha256 of the artifact bytes). The artifact
// file itself is stored by ml/artifact.ts (`storeArtifact` returns the same hash); this is its
// metadata. Registering identical bytes again is a no-op: the first registration's metadata stays.
import type { Db } from '../store/db.ts';
import type { ModelKind } from '../models/types.ts';

export const REGISTRY_KINDS: readonly ModelKind[] = ['recommend', 'segment', 'churn', 'forecast'];

export function isModelKind(k: unknown): k is ModelKind {
  return typeof k === 'string' && (REGISTRY_KINDS as readonly string[]).includes(k);
}

/** A registry operation that cannot be done: `code` maps to 404 / 409 / 400 in the API. */
export class RegistryError extends Error {
  readonly code: 'not_found' | 'conflict' | 'invalid';
  constructor(code: 'not_found' | 'conflict' | 'invalid', message: string) {
    super(message);
    this.name = 'RegistryError';
    this.code = code;
  }
}

export interface NewVersion {
  shop: string;
  kind: ModelKind;
  /** sha256 hex of the artifact bytes (what `storeArtifact` returned). */
  version: string;
  runId: number | null;
  snapshotId: string | null;
  codeVersion: string;
  tensorBackend: string | null;
  params: Record<string, unknown>;
  metrics: Record<string, number>;
  /** ISO time training finished. */
  trainedAt: string;
  trainSeconds: number | null;
  /** ISO; default trainedAt. */
  registeredAt?: string;
}

export interface ModelVersion {
  shop: string;
  kind: ModelKind;
  version: string;
  runId: number | null;
  snapshotId: string | null;
  codeVersion: string;
  tensorBackend: string | null;
  params: Record<string, unknown>;
  /** NaN metrics are stored as JSON null. */
  metrics: Record<string, number | null>;
  trainedAt: string;
  trainSeconds: number | null;
  registeredAt: string;
}

interface VersionRow {
  shop: string; kind: ModelKind; version: string; run_id: number | null; snapshot_id: string | null; code_version: string;
  tensor_backend: string | null; params_json: string; metrics_json: string; trained_at: string; train_seconds: number | null; registered_at: string;
}

function fromRow(r: VersionRow): ModelVersion {
  return {
    shop: r.shop, kind: r.kind, version: r.version, runId: r.run_id, snapshotId: r.snapshot_id, codeVersion: r.code_version,
    tensorBackend: r.tensor_backend, params: JSON.parse(r.params_json) as Record<string, unknown>,
    metrics: JSON.parse(r.metrics_json) as Record<string, number | null>, trainedAt: r.trained_at, trainSeconds: r.train_seconds, registeredAt: r.registered_at,
  };
}

const SHA256 = /^[0-9a-f]{64}$/;

/** Registers a version; `created` is false when these bytes were already a version of this shop and kind. */
export function registerVersion(db: Db, v: NewVersion): { version: string; created: boolean } {
  if (!SHA256.test(v.version)) throw new RegistryError('invalid', `not a sha256 version: ${v.version}`);
  if (!isModelKind(v.kind)) throw new RegistryError('invalid', `unknown model kind: ${String(v.kind)}`);
  const r = db.prepare(`INSERT INTO model_versions (shop, kind, version, run_id, snapshot_id, code_version, tensor_backend, params_json, metrics_json,
      trained_at, train_seconds, registered_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (shop, kind, version) DO NOTHING`)
    .run(v.shop, v.kind, v.version, v.runId, v.snapshotId, v.codeVersion, v.tensorBackend, JSON.stringify(v.params), JSON.stringify(v.metrics),
      v.trainedAt, v.trainSeconds, v.registeredAt ?? v.trainedAt);
  return { version: v.version, created: r.changes === 1 };
}

export function getVersion(db: Db, shop: string, kind: ModelKind, version: string): ModelVersion | null {
  const r = db.prepare('SELECT * FROM model_versions WHERE shop = ? AND kind = ? AND version = ?').get(shop, kind, version) as VersionRow | undefined;
  return r ? fromRow(r) : null;
}

/** Newest first. */
export function listVersions(db: Db, filter: { shop?: string; kind?: ModelKind } = {}): ModelVersion[] {
  const rows = db.prepare(`SELECT * FROM model_versions WHERE (@shop IS NULL OR shop = @shop) AND (@kind IS NULL OR kind = @kind)
    ORDER BY shop, kind, trained_at DESC, registered_at DESC, version`).all({ shop: filter.shop ?? null, kind: filter.kind ?? null }) as VersionRow[];
  return rows.map(fromRow);
}

/**
 * A full version from what a person typed: the full hash or a unique prefix of at least 6 hex
 * characters (the CLI shows 12).
 */
export function resolveVersion(db: Db, shop: string, kind: ModelKind, typed: string): string {
  const t = typed.trim().toLowerCase();
  if (!/^[0-9a-f]{6,64}$/.test(t)) throw new RegistryError('invalid', `a version is its sha256 hex or a prefix of at least 6 hex characters: ${typed}`);
  const hits = db.prepare(`SELECT version FROM model_versions WHERE shop = ? AND kind = ? AND substr(version, 1, ?) = ? LIMIT 2`).pluck()
    .all(shop, kind, t.length, t) as string[];
  if (hits.length === 0) throw new RegistryError('not_found', `no ${kind} version ${typed} for ${shop}`);
  if (hits.length > 1) throw new RegistryError('invalid', `version prefix ${typed} is ambiguous for ${shop} ${kind}; give more characters`);
  return hits[0]!;
}

/** The wire form (API and `--json`), with the aliases that point to it now. */
export function versionJson(v: ModelVersion, aliases: string[] = []) {
  return {
    shop: v.shop, kind: v.kind, version: v.version, aliases, run_id: v.runId, snapshot_id: v.snapshotId, code_version: v.codeVersion,
    tensor_backend: v.tensorBackend, params: v.params, metrics: v.metrics, trained_at: v.trainedAt, train_seconds: v.trainSeconds,
    registered_at: v.registeredAt,
  };
}
