// KPI monitors on a real SQLite store: a live recommend experiment written through the rollout
// engine (exposures, attributed conversions), storefront impressions and clicks stored through the
// tracking path with signed rec ids, and attributed order lines. A champion that converts worse
// than the holdout, or a click-through drop that costs revenue, becomes a retrain reason through
// monitorShop; a drop that costs nothing, or no drop, does not.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDb, type Db } from '../../backend/src/store/db.ts';
import { createKeys } from '../../backend/src/keys.ts';
import { createRecIds } from '../../backend/src/serve/rec-id.ts';
import { storeEvents } from '../../backend/src/track/events.ts';
import { recordConversion, recordExposures, startExperiment, type ExposureInput } from '../../backend/src/rollout/experiments.ts';
import { monitorSeries, monitorShop } from '../../backend/src/monitor/monitor.ts';
import { ctrKpi, experimentKpi } from '../../backend/src/monitor/kpi.ts';

const DAY = 86_400_000;
const NOW = Date.parse('2026-06-01T00:00:00.000Z');
const CHAMPION = 'a'.repeat(64), CHALLENGER = 'b'.repeat(64);
const recIds = createRecIds(createKeys('monitor-kpi-test-secret-0123456789'));
let dir: string;
let db: Db;

/** 14 days of traffic: champion 80%, holdout and challenger 10% each; conversion rates per arm. */
function experiment(shop: string, rates: { champion: number; holdout: number; challenger: number }): number {
  const e = startExperiment(db, { shop, kind: 'recommend', championVersion: CHAMPION, challengerVersion: CHALLENGER, holdoutPct: 10, challengerPct: 10, at: new Date(NOW - 14 * DAY) });
  db.transaction(() => {
    for (let d = 0; d < 14; d++) {
      const at = new Date(NOW - (14 - d) * DAY + 3_600_000);
      const rows: ExposureInput[] = [];
      const arms = [['champion', 2400], ['holdout', 300], ['challenger', 300]] as const;
      for (const [variant, n] of arms) for (let i = 0; i < n; i++) rows.push({ shop, experimentId: e.id, unit: `u-${variant}-${d}-${i}`, variant, at });
      recordExposures(db, rows);
      for (const [variant, n] of arms) {
        const buyers = Math.round(n * rates[variant]);
        for (let i = 0; i < buyers; i++) recordConversion(db, shop, e.id, `u-${variant}-${d}-${i}`, variant, 50, at, `o-${variant}-${d}-${i}`);
      }
    }
  })();
  return e.id;
}

/** Champion-arm list impressions and clicks between two times, through the tracking path. */
function storefront(shop: string, fromMs: number, toMs: number, impressions: number, clicks: number): void {
  db.transaction(() => {
    const span = toMs - fromMs;
    const send = (type: 'impression' | 'click', count: number) => {
      for (let i = 0; i < count; i++) {
        const at = fromMs + Math.floor(((i + 0.5) / count) * span);
        const rec = recIds.issue(shop, 'champion', CHAMPION, null, at);
        storeEvents(db, recIds, shop, null, {
          consent: true, anonymous_id: `anon-${i % 97}`,
          events: [{ id: `${type}-${shop}-${fromMs}-${i}`, type, rec_id: rec, product_id: String(1000 + (i % 40)), ...(type === 'impression' ? { product_ids: ['1001', '1002', '1003'] } : {}), occurred_at: new Date(at).toISOString() }],
        }, at);
      }
    };
    send('impression', impressions);
    send('click', clicks);
  })();
}

/** Order lines attributed to the champion's lists (what track/conversions.ts writes on orders/create). */
function attributed(shop: string, atMs: number, lines: number, revenue: number): void {
  const put = db.prepare(`INSERT INTO rec_conversions (shop, order_id, line_id, product_id, unit, customer_id, variant, model_version, experiment_id, rec_id, method, revenue, currency, ordered_at, recommended_at)
    VALUES (?, ?, '1', '1001', NULL, NULL, 'champion', ?, NULL, 'r1.x', 'property', ?, 'USD', ?, ?)`);
  for (let i = 0; i < lines; i++) put.run(shop, `ord-${atMs}-${i}`, CHAMPION, revenue, new Date(atMs + i * 60_000).toISOString(), new Date(atMs).toISOString());
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'shopml-monitor-kpi-'));
  db = openDb(join(dir, 'db.sqlite'));
});
afterAll(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('champion vs holdout', () => {
  it('a champion converting worse than popularity, at a revenue loss, is a retrain reason', () => {
    const shop = 'worse-kpi.myshopify.com';
    experiment(shop, { champion: 0.02, holdout: 0.04, challenger: 0.03 });
    const k = experimentKpi(db, shop, NOW);
    expect(k.status).toBe('scored');
    if (k.status !== 'scored') return;
    expect(k.champion.conversion).toBeCloseTo(0.02, 3);
    expect(k.holdout.conversion).toBeCloseTo(0.04, 3);
    expect(k.direction).toBe(-1);
    expect(k.sequentialP).toBeLessThan(0.05);
    // (RPV champion − RPV holdout) × champion visitors = (0.02 − 0.04) × 50 × 33,600 = −33,600
    expect(k.revenueImpact).toBeCloseTo(-0.02 * 50 * 33_600, -1);
    expect(k.breached).toBe(true);

    const m = monitorShop(db, shop, NOW, { artifactsDir: join(dir, 'artifacts') });
    expect(m.retrain).not.toBeNull();
    expect(m.retrain!.kinds).toEqual(['recommend']);
    expect(m.retrain!.reason).toMatch(/^recommendations convert worse than the holdout: champion conversion 2\.00% over 33600 visitors vs holdout 4\.00%/);
    expect(m.retrain!.figures.champion_vs_holdout).toMatchObject({ revenueImpact: k.revenueImpact });
    // No orders and no training for this shop: the previous period is the reference, and drift has nothing to judge.
    expect(m.report.drift.windows).toMatchObject({ basis: 'previous_period', anchor: null, days: 28 });
    expect(m.report.drift.judged).toBe(0);
    expect(monitorSeries(db, shop, 'champion_vs_holdout_conversion')[0]).toMatchObject({ breached: true, n: 33_600 });
    // A loss below the configured minimum is not a reason.
    expect(experimentKpi(db, shop, NOW, { ...m.report.settings, minRevenueImpact: 50_000 })).toMatchObject({ breached: false });
  });

  it('a champion that beats the holdout is not', () => {
    const shop = 'better-kpi.myshopify.com';
    experiment(shop, { champion: 0.05, holdout: 0.03, challenger: 0.05 });
    const k = experimentKpi(db, shop, NOW);
    expect(k).toMatchObject({ status: 'scored', direction: 1, breached: false });
    expect(monitorShop(db, shop, NOW, { artifactsDir: join(dir, 'artifacts'), store: false }).retrain).toBeNull();
  });
});

describe('click-through', () => {
  const curFrom = NOW - 7 * DAY, baseFrom = curFrom - 28 * DAY;

  it('a significant drop that costs attributed revenue is a retrain reason', () => {
    const shop = 'ctr-drop.myshopify.com';
    storefront(shop, baseFrom, curFrom, 2000, 100); // 5%
    storefront(shop, curFrom, NOW, 1000, 20); // 2%
    attributed(shop, baseFrom + DAY, 10, 50); // 500 over 2,000 impressions: 0.25 per impression
    attributed(shop, curFrom + DAY, 1, 50); // 50 over 1,000: 0.05
    const k = ctrKpi(db, shop, NOW);
    expect(k.status).toBe('scored');
    if (k.status !== 'scored') return;
    expect(k.baseline).toMatchObject({ impressions: 2000, clicks: 100 });
    expect(k.current).toMatchObject({ impressions: 1000, clicks: 20 });
    expect(k.relativeChange).toBeCloseTo(-0.6, 10);
    expect(k.pValue).toBeLessThan(0.01);
    expect(k.revenueAtStake).toBeCloseTo((0.25 - 0.05) * 1000, 8);
    expect(k.breached).toBe(true);
    const m = monitorShop(db, shop, NOW, { artifactsDir: join(dir, 'artifacts') });
    expect(m.retrain?.triggers.map((t) => t.name)).toEqual(['click_through']);
    expect(m.retrain!.reason).toMatch(/^recommendation click-through dropped: click-through 2\.00% \(20\/1000\) vs 5\.00% before \(-60\.0%/);
  });

  it('a drop that costs nothing, or no drop, is not', () => {
    const free = 'ctr-free.myshopify.com';
    storefront(free, baseFrom, curFrom, 2000, 100);
    storefront(free, curFrom, NOW, 1000, 20);
    expect(ctrKpi(db, free, NOW)).toMatchObject({ status: 'scored', breached: false, revenueAtStake: 0 });
    const steady = 'ctr-steady.myshopify.com';
    storefront(steady, baseFrom, curFrom, 2000, 100);
    storefront(steady, curFrom, NOW, 1000, 50);
    attributed(steady, baseFrom + DAY, 10, 50);
    expect(ctrKpi(db, steady, NOW)).toMatchObject({ status: 'scored', breached: false });
    expect(ctrKpi(db, 'nobody.myshopify.com', NOW)).toMatchObject({ status: 'none' });
  });
});
