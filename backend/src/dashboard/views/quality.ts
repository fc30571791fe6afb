// Data-quality reports: what the gate (quality/gate.ts) stored with each dataset snapshot — every
// check with its value and threshold — the runs it let through or blocked, and the snapshot's
// distribution profile beside the previous passing one (what the PSI checks compare).
import type { Db } from '../../store/db.ts';
import type { DataProfile, QualityCheck } from '../../quality/gate.ts';

export interface SnapshotReport {
  snapshotId: string;
  watermark: string;
  checkedAt: string;
  ok: boolean;
  counts: Record<string, unknown>;
  checks: QualityCheck[];
  runs: { id: number; kind: string; status: string }[];
}

export interface ProfileComparison {
  /** Histogram name → fixed bin edges and the shares of the previous passing and the latest snapshot. */
  histograms: { name: string; edges: number[]; reference: number[]; current: number[] }[];
  referenceSnapshot: string | null;
  currentSnapshot: string;
}

interface Row { snapshot_id: string; watermark: string; created_at: string; quality_ok: number; quality_json: string; counts_json: string; profile_json: string }

export function qualityView(db: Db, shop: string, limit = 5): { reports: SnapshotReport[]; profile: ProfileComparison | null } {
  const rows = db.prepare(`SELECT snapshot_id, watermark, created_at, quality_ok, quality_json, counts_json, profile_json FROM dataset_snapshots
    WHERE shop = ? ORDER BY created_at DESC LIMIT ?`).all(shop, limit) as Row[];
  const runsOf = db.prepare('SELECT id, kind, status FROM training_runs WHERE shop = ? AND snapshot_id = ? ORDER BY id');
  const reports = rows.map((r): SnapshotReport => ({
    snapshotId: r.snapshot_id, watermark: r.watermark, checkedAt: r.created_at, ok: r.quality_ok === 1,
    counts: JSON.parse(r.counts_json) as Record<string, unknown>, checks: JSON.parse(r.quality_json) as QualityCheck[],
    runs: runsOf.all(shop, r.snapshot_id) as { id: number; kind: string; status: string }[],
  }));
  const latest = rows[0];
  if (!latest) return { reports, profile: null };
  const ref = db.prepare(`SELECT snapshot_id, profile_json FROM dataset_snapshots WHERE shop = ? AND quality_ok = 1 AND created_at < ?
    ORDER BY created_at DESC LIMIT 1`).get(shop, latest.created_at) as { snapshot_id: string; profile_json: string } | undefined;
  const cur = JSON.parse(latest.profile_json) as DataProfile;
  const before = ref ? (JSON.parse(ref.profile_json) as DataProfile) : null;
  const histograms = Object.entries(cur.histograms ?? {}).map(([name, h]) => ({
    name, edges: h.edges, current: h.shares, reference: before?.histograms[name]?.shares ?? h.shares.map(() => 0),
  }));
  return { reports, profile: { histograms, referenceSnapshot: ref?.snapshot_id ?? null, currentSnapshot: latest.snapshot_id } };
}
