// The model version the merchant-facing insights come from: the registry's champion of a kind
// (a shop trained before the registry existed: its newest successful run, as serving does), with
// when it was trained and the data watermark it saw.
import type { Db } from '../store/db.ts';
import type { ModelKind } from '../models/types.ts';
import { getAlias } from '../registry/aliases.ts';
import type { ModelRef } from './types.ts';

export interface Champion {
  ref: ModelRef;
  /** The version's training parameters (registry), {} when unknown. */
  params: Record<string, unknown>;
}

export function champion(db: Db, shop: string, kind: ModelKind): Champion | null {
  const version = getAlias(db, shop, kind, 'champion')
    ?? (db.prepare(`SELECT artifact_sha256 FROM training_runs WHERE shop = ? AND kind = ? AND status = 'succeeded' AND artifact_sha256 IS NOT NULL
        ORDER BY id DESC LIMIT 1`).pluck().get(shop, kind) as string | undefined)
    ?? null;
  if (version === null) return null;
  const row = db.prepare(`SELECT v.trained_at, v.params_json, s.watermark FROM model_versions v
      LEFT JOIN dataset_snapshots s ON s.shop = v.shop AND s.snapshot_id = v.snapshot_id
      WHERE v.shop = ? AND v.kind = ? AND v.version = ?`).get(shop, kind, version) as
    { trained_at: string; params_json: string; watermark: string | null } | undefined;
  return {
    ref: { kind, version, trained_at: row?.trained_at ?? null, as_of: row?.watermark ?? null },
    params: row ? (JSON.parse(row.params_json) as Record<string, unknown>) : {},
  };
}
