// The monitor on a real SQLite store with a simulated history, models trained by the real
// pipeline (worker threads, registry, stored outputs), then 95 days of live orders from the
// simulator — once continuing the store's behaviour, once after the store changes (three times
// the orders, prices doubled). The monitor must stay quiet on the first, detect dataset drift on
// the second and name it as the retrain reason, store the report with its histograms, and — once
// the models are retrained on the new regime — stop asking for a retrain. Plus `shopml drift`.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openDb, type Db } from '../../backend/src/store/db.ts';
import { trainShop } from '../../backend/src/models/train-pipeline.ts';
import { getMonitorReport, listMonitorReports, monitorSeries, monitorShop, type MonitorResult } from '../../backend/src/monitor/monitor.ts';
import { generateStore } from '../../simulator/store.ts';
import { createOrderFactory, type OrderFactory } from '../../simulator/orders.ts';
import type { SimOrder } from '../../simulator/types.ts';
import { recordSimOrders } from '../helpers/sim-data.ts';
import { redactShop } from '../../backend/src/ingest/compliance.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const DAY = 86_400_000;
// April start: the live period avoids the simulator's Black-Friday-to-Christmas season, which
// (rightly) makes the non-seasonal forecasts miss and is not what this test is about.
const store = generateStore({ seed: 21, customers: 400, products: 40, days: 365, endDate: '2026-04-01' });
const shop = store.shop;
const asOf = Date.parse(store.asOf!);
const now = asOf + 95 * DAY;
let dir: string, art: string;
let control: Db, changed: Db;
let changedFactory: OrderFactory;

const recent = store.orders.filter((o) => Date.parse(o.createdAt) >= asOf - 60 * DAY).length / 60;
const doublePrices = (orders: SimOrder[]) => { for (const o of orders) for (const l of o.lines) l.price = (Number(l.price) * 2).toFixed(2); return orders; };
const record = (db: Db, batch: { orders: SimOrder[]; customers: typeof store.customers }) =>
  recordSimOrders(db, { ...store, orders: batch.orders, customers: [...store.customers, ...batch.customers] });

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'shopml-monitor-'));
  art = join(dir, 'artifacts');
  const db = openDb(join(dir, 'trained.sqlite'));
  recordSimOrders(db, store);
  const r = await trainShop({ db, shop, kinds: ['segment', 'churn', 'forecast'], seed: 3, artifactsDir: art, now: () => new Date(asOf) });
  expect(r.runs.map((x) => x.status)).toEqual(['succeeded', 'succeeded', 'succeeded']);
  await db.backup(join(dir, 'control.sqlite'));
  await db.backup(join(dir, 'changed.sqlite'));
  db.close();
  control = openDb(join(dir, 'control.sqlite'));
  changed = openDb(join(dir, 'changed.sqlite'));
  record(control, createOrderFactory(store, { seed: 'live' }).between(asOf, now));
  changedFactory = createOrderFactory(store, { seed: 'live', ordersPerDay: recent * 3 });
  const b = changedFactory.between(asOf, now);
  record(changed, { ...b, orders: doublePrices(b.orders) });
}, 180_000);

afterAll(() => {
  control?.close();
  changed?.close();
  rmSync(dir, { recursive: true, force: true });
});

const drifted = (m: MonitorResult) => m.report.drift.columns.filter((c) => c.judged && c.drifted).map((c) => `${c.group}.${c.column}`);

describe('monitorShop on a simulated store', () => {
  let quiet: MonitorResult, loud: MonitorResult;

  it('stays quiet while the store keeps its behaviour', () => {
    quiet = monitorShop(control, shop, now, { artifactsDir: art });
    const d = quiet.report.drift;
    expect(d.skipped).toBeNull();
    expect(d.windows?.basis).toBe('since_training');
    expect(d.windows!.days).toBe(90); // 95 days since training, capped at maxWindowDays
    expect(Date.parse(d.windows!.current.to)).toBe(now);
    expect(Date.parse(d.windows!.reference.to)).toBeLessThanOrEqual(asOf);
    expect(d.groups.map((g) => g.name)).toEqual(['customers', 'products', 'outputs']);
    expect(d.judged).toBeGreaterThanOrEqual(20);
    expect(d.datasetDrift).toBe(false);
    expect(d.drifted).toBeLessThanOrEqual(3);
    expect(quiet.retrain?.triggers.map((t) => t.name) ?? []).not.toContain('dataset_drift');
    // Labels have matured (90-day horizon): the stored churn predictions are scored.
    const ch = quiet.report.accuracy.churn;
    expect(ch.status).toBe('scored');
    if (ch.status === 'scored') {
      expect(ch.customers).toBeGreaterThan(300);
      expect(ch.auc).toBeGreaterThan(0.7);
      expect(ch.breached).toBe(false);
    }
    const fc = quiet.report.accuracy.forecast;
    expect(fc.status).toBe('scored');
    if (fc.status === 'scored') {
      expect(fc.weeks).toBe(12);
      expect(fc.breached).toBe(false);
      expect(fc.rmsse).toBeLessThan(fc.naiveRmsse * 1.2);
    }
    expect(quiet.report.kpi.championVsHoldout.status).toBe('none');
    expect(quiet.retrain).toBeNull();
  });

  it('detects dataset drift after the store changes and names it as the retrain reason', () => {
    loud = monitorShop(changed, shop, now, { artifactsDir: art });
    const d = loud.report.drift;
    expect(d.datasetDrift).toBe(true);
    expect(d.share).toBeGreaterThanOrEqual(0.5);
    expect(drifted(loud)).toEqual(expect.arrayContaining([
      'customers.monetary', 'customers.avgOrderValue', 'customers.spend90d', 'products.unitPrice', 'products.revenuePerDay', 'products.unitsPerDay',
    ]));
    expect(loud.retrain).not.toBeNull();
    expect(loud.retrain!.reason).toMatch(/^dataset drift: \d+ of \d+ columns drifted \(\d+% ≥ 50%\)/);
    expect(loud.retrain!.kinds).toEqual(expect.arrayContaining(['segment', 'churn', 'forecast', 'recommend']));
    expect(loud.retrain!.figures.dataset_drift).toMatchObject({ threshold: 0.5 });
    // Three times the orders: the old forecasts miss by far more than validation promised.
    expect(loud.retrain!.triggers.map((t) => t.name)).toContain('forecast_accuracy');
    // Every column says which test ran and why (≤ 1,000 customers: KS / chi-squared / z).
    for (const c of d.columns) {
      expect(c.reason).toMatch(/reference has [\d,]+ rows \(≤ 1,000\)/);
      expect(['ks', 'chisquare', 'z']).toContain(c.test);
    }
  });

  it('stores the report with per-column histograms, and the figures as a time series', () => {
    const stored = getMonitorReport(changed, loud.id!, shop)!;
    expect(stored).not.toBeNull();
    expect(stored.retrain).toBe(true);
    expect(stored.retrainReason).toBe(loud.retrain!.reason);
    expect(stored.columns.map((c) => `${c.group}.${c.column}`)).toEqual(loud.report.drift.columns.map((c) => `${c.group}.${c.column}`));
    for (const c of stored.columns) {
      const h = c.histogram as { kind: string; reference: number[]; current: number[] };
      expect(h.reference.reduce((a, b) => a + b, 0)).toBe(c.referenceRows);
      expect(h.current.reduce((a, b) => a + b, 0)).toBe(c.currentRows);
    }
    expect(getMonitorReport(changed, loud.id!, 'someone-else.myshopify.com')).toBeNull();
    expect(listMonitorReports(changed, shop)[0]).toMatchObject({ id: loud.id, datasetDrift: true, retrain: true });
    const series = monitorSeries(changed, shop, 'drift_share');
    expect(series).toHaveLength(1);
    expect(series[0]).toMatchObject({ value: loud.report.drift.share, threshold: 0.5, breached: true });
    expect(monitorSeries(changed, shop, 'churn_auc')[0]!.value).toBeCloseTo((loud.report.accuracy.churn as { auc: number }).auc, 10);
  });

  it('judges nothing in the first days after a training, and stops asking once retrained on the new regime', async () => {
    const early = monitorShop(control, shop, asOf + 3 * DAY, { artifactsDir: art, store: false });
    expect(early.id).toBeNull();
    expect(early.report.drift.skipped).toMatch(/days of data since the last training .* drift is judged from 7 days/);
    expect(early.report.drift.datasetDrift).toBe(false);

    // A copy of the changed store, retrained at `now` on the new regime, then 28 more days of it.
    await changed.backup(join(dir, 'retrained.sqlite'));
    const retrained = openDb(join(dir, 'retrained.sqlite'));
    const r = await trainShop({ db: retrained, shop, kinds: ['segment', 'churn', 'forecast'], seed: 3, artifactsDir: art, now: () => new Date(now) });
    expect(r.runs.every((x) => x.status === 'succeeded')).toBe(true);
    const b = changedFactory.between(now, now + 28 * DAY);
    record(retrained, { ...b, orders: doublePrices(b.orders) });
    const after = monitorShop(retrained, shop, now + 28 * DAY, { artifactsDir: art });
    retrained.close();
    expect(Date.parse(after.report.drift.windows!.anchor!)).toBeGreaterThan(now - DAY);
    expect(after.report.drift.datasetDrift).toBe(false);
    expect(after.retrain?.triggers.map((t) => t.name) ?? []).not.toContain('dataset_drift');
  }, 120_000);
});

describe('shopml drift', () => {
  const shopml = (args: string[]) => spawnSync(process.execPath, [join(root, 'bin/shopml.js'), 'drift', ...args], {
    cwd: root, encoding: 'utf8', timeout: 60_000, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ARTIFACTS_DIR: art },
  });

  it('prints a table (column, test, statistic, threshold, drifted) and stores the report', () => {
    const before = listMonitorReports(changed, shop).length;
    const r = shopml(['--shop', shop, '--db', join(dir, 'changed.sqlite'), '--now', new Date(now).toISOString()]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/group\s+column\s+test\s+statistic\s+p \/ distance\s+threshold\s+drifted/);
    expect(r.stdout).toMatch(/customers\s+monetary\s+ks\s+[\d.e-]+\s+[\d.e-]+\s+< 0\.05\s+YES/);
    expect(r.stdout).toMatch(/dataset drift: \d+ of \d+ judged columns drifted/);
    expect(r.stdout).toMatch(/retrain: YES \(/);
    expect(listMonitorReports(changed, shop).length).toBe(before + 1);
  });

  it('--json gives the whole report; thresholds come from flags and the environment', () => {
    const r = shopml(['--shop', shop, '--db', join(dir, 'changed.sqlite'), '--now', new Date(now).toISOString(), '--json', '--share', '0.9', '--no-store']);
    expect(r.status, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout) as { id: number | null; drift: { threshold: number; datasetDrift: boolean; columns: unknown[] }; settings: { drift: { datasetShare: number } } };
    expect(j.id).toBeNull();
    expect(j.settings.drift.datasetShare).toBe(0.9);
    expect(j.drift.threshold).toBe(0.9);
    expect(j.drift.datasetDrift).toBe(false);
    expect(j.drift.columns.length).toBeGreaterThan(20);
  });

  it('rejects bad input with a usage error', () => {
    expect(shopml(['--db', join(dir, 'changed.sqlite')]).status).toBe(2);
    const bad = shopml(['--shop', shop, '--db', join(dir, 'changed.sqlite'), '--alpha', '3']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/--alpha must be a number from 1e-9 to 0.5/);
    const none = shopml(['--shop', 'nobody.myshopify.com', '--db', join(dir, 'changed.sqlite')]);
    expect(none.status).toBe(1);
    expect(none.stderr).toMatch(/no orders stored for nobody\.myshopify\.com/);
  });
});

describe('shop/redact', () => {
  it('deletes the shop’s monitor reports, columns and series', () => {
    const count = (t: string) => changed.prepare(`SELECT count(*) FROM ${t} WHERE shop = ?`).pluck().get(shop) as number;
    expect(count('monitor_reports')).toBeGreaterThan(0);
    expect(count('monitor_drift_columns')).toBeGreaterThan(0);
    expect(count('monitor_metrics')).toBeGreaterThan(0);
    redactShop(changed, shop);
    for (const t of ['monitor_reports', 'monitor_drift_columns', 'monitor_metrics']) expect(count(t)).toBe(0);
  });
});
