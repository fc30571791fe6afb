// `shopml quality [--shop DOMAIN] [--json]`: the latest data-quality report per shop, as stored
// by the last training attempt (passed or blocked).
import { formatQualityReport, type QualityCheck } from '../quality/gate.ts';
import { parseArgs, str } from './args.ts';
import { openExistingDb } from './open-db.ts';

export async function runQualityCommand(argv: string[], env: Record<string, string | undefined>): Promise<number> {
  const p = parseArgs(argv, { booleans: ['json'], strings: ['shop', 'db'] });
  const db = openExistingDb(p, env);
  if (!db) return 1;
  try {
    const rows = db.prepare(`SELECT s.shop, s.snapshot_id, s.watermark, s.created_at, s.quality_ok, s.quality_json FROM dataset_snapshots s
      WHERE s.created_at = (SELECT max(created_at) FROM dataset_snapshots t WHERE t.shop = s.shop) AND (? IS NULL OR s.shop = ?) ORDER BY s.shop`)
      .all(str(p, 'shop') ?? null, str(p, 'shop') ?? null) as { shop: string; snapshot_id: string; watermark: string; created_at: string; quality_ok: number; quality_json: string }[];
    const reports = rows.map((r) => ({ shop: r.shop, snapshot: r.snapshot_id, watermark: r.watermark, checked_at: r.created_at, ok: r.quality_ok === 1, checks: JSON.parse(r.quality_json) as QualityCheck[] }));
    if (p.options.json) {
      console.log(JSON.stringify({ reports }));
    } else if (reports.length === 0) {
      console.log('no data-quality reports yet (they are written by `shopml train`)');
    } else {
      for (const r of reports) {
        console.log(`${r.shop}: snapshot ${r.snapshot.slice(0, 12)}, watermark ${r.watermark}, checked ${r.checked_at}`);
        console.log(formatQualityReport({ ok: r.ok, checks: r.checks, profile: { salesLines: 0, recentOrders: 0, histograms: {} } }));
      }
    }
    return 0;
  } finally {
    db.close();
  }
}
