// The `shopml` command as a user runs it: a separate Node process, real files.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const shopml = (args: string[], env: Record<string, string> = {}, timeout = 60_000) =>
  spawnSync(process.execPath, [join(root, 'bin/shopml.js'), ...args], { cwd: root, encoding: 'utf8', env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env }, timeout });

describe('shopml CLI', () => {
  it('--help lists every command', () => {
    const r = shopml(['--help']);
    expect(r.status).toBe(0);
    for (const c of ['serve', 'demo', 'import', 'backfill', 'status']) expect(r.stdout).toMatch(new RegExp(`^  ${c}\\b`, 'm'));
  });

  it('an unknown command or option is a usage error', () => {
    expect(shopml(['frobnicate']).status).toBe(2);
    const r = shopml(['status', '--nope']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/unknown option --nope/);
  });

  it('serve stops on bad configuration with one line naming the variable', () => {
    const r = shopml(['serve'], { SHOPIFY_API_KEY: 'k', SHOPIFY_API_SECRET: 'secret-secret', SHOPIFY_APP_URL: 'https://x.test', SHOPML_ADMIN_TOKEN: 'a'.repeat(20) });
    expect(r.status).toBe(78);
    expect(r.stderr.trim().split('\n')).toEqual(['configuration error: SHOPML_SECRET_KEY is required but not set']);
  });

  const dir = mkdtempSync(join(tmpdir(), 'shopml-demo-'));

  it('demo --for runs the loop offline and prints one JSON line', () => {
    const r = shopml(['demo', '--for', '2', '--dir', dir, '--rate', '10'], {}, 120_000);
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const out = JSON.parse(lines[0]!);
    expect(out.orders_ingested).toBeGreaterThan(1000);
    expect(out.status.products).toBeGreaterThan(0);
    expect(out.status.quarantined).toBe(0);
    expect(out.live.delivered).toBeGreaterThan(0);
    expect(out.urls.backend).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);

    const status = shopml(['status', '--json', '--db', join(dir, 'shopml.db')]);
    expect(status.status).toBe(0);
    const s = JSON.parse(status.stdout);
    expect(s.shops[0]).toMatchObject({ shop: 'demo-shop.myshopify.com', orders: out.status.orders });
    expect(Object.keys(s.shops[0]).sort()).toEqual(['customers', 'events', 'order_lines', 'orders', 'products', 'quarantined', 'shop']);
  }, 130_000);

  it('train runs the quality gate with configurable thresholds; quality shows the stored report', () => {
    const db = join(dir, 'shopml.db');
    const artifacts = join(dir, 'artifacts');
    const blocked = shopml(['train', '--db', db, '--artifacts', artifacts, '--kind', 'segment', '--json'], { SHOPML_QUALITY_THRESHOLDS: JSON.stringify({ minSalesLines: 1e9 }) });
    expect(blocked.status).toBe(1);
    expect(JSON.parse(blocked.stdout).shops[0].runs[0]).toMatchObject({ kind: 'segment', status: 'blocked' });
    const report = JSON.parse(shopml(['quality', '--db', db, '--json']).stdout).reports[0];
    expect(report.ok).toBe(false);
    expect(report.checks.find((c: { name: string }) => c.name === 'volume')).toMatchObject({ ok: false, threshold: 1e9 });

    const bad = shopml(['train', '--db', db, '--kind', 'segment'], { SHOPML_QUALITY_THRESHOLDS: '{"maxPsi": "high"}' });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/SHOPML_QUALITY_THRESHOLDS: threshold "maxPsi" must be a non-negative number/);

    const ok = shopml(['train', '--db', db, '--artifacts', artifacts, '--kind', 'segment', '--json'], {}, 120_000);
    expect(ok.status, ok.stderr).toBe(0);
    const run = JSON.parse(ok.stdout).shops[0].runs[0];
    expect(run).toMatchObject({ kind: 'segment', status: 'succeeded' });
    expect(run.version).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.parse(shopml(['quality', '--db', db, '--json']).stdout).reports[0].ok).toBe(true);
  }, 130_000);
});
