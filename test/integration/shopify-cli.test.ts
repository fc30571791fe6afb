// Shopify's own CLI validates shopify.app.toml and every extension toml, offline.
import { expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const cli = `${root}node_modules/.bin/shopify`;

it('`shopify app build --path .` accepts the app and its extensions', () => {
  // A missing CLI is a failure, never a skip: it is a devDependency, so `npm ci` installs it.
  expect(existsSync(cli), `Shopify CLI not found at ${cli}; run npm ci`).toBe(true);
  // The admin UI extension's bundle is removed first, so the assertions below see this build's output.
  const adminBundle = `${root}extensions/customer-insights/dist/customer-insights.js`;
  rmSync(adminBundle, { force: true });
  const r = spawnSync(cli, ['app', 'build', '--path', '.', '--skip-dependencies-installation'], {
    cwd: root, encoding: 'utf8', env: { ...process.env, SHOPIFY_CLI_NO_ANALYTICS: '1', NO_COLOR: '1', CI: '1' }, timeout: 120_000,
  });
  const output = `${r.stdout}${r.stderr}`;
  expect(r.status, output).toBe(0);
  expect(output).toMatch(/shopml built!/);
  // extensions/customer-insights (Preact, API 2026-07): one esbuild bundle registering both admin
  // blocks, within Shopify's 64 KB limit for UI extensions.
  expect(existsSync(adminBundle), `no bundle at ${adminBundle}\n${output}`).toBe(true);
  const bundle = readFileSync(adminBundle, 'utf8');
  expect(bundle).toContain('shopify.extend("admin.customer-details.block.render"');
  expect(bundle).toContain('shopify.extend("admin.product-details.block.render"');
  expect(statSync(adminBundle).size).toBeLessThan(64 * 1024);
}, 130_000);
