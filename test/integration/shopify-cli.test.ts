// Shopify's own CLI validates shopify.app.toml and every extension toml, offline.
import { expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const cli = `${root}node_modules/.bin/shopify`;

it('`shopify app build --path .` accepts the app and its extensions', () => {
  // A missing CLI is a failure, never a skip: it is a devDependency, so `npm ci` installs it.
  expect(existsSync(cli), `Shopify CLI not found at ${cli}; run npm ci`).toBe(true);
  const r = spawnSync(cli, ['app', 'build', '--path', '.', '--skip-dependencies-installation'], {
    cwd: root, encoding: 'utf8', env: { ...process.env, SHOPIFY_CLI_NO_ANALYTICS: '1', NO_COLOR: '1', CI: '1' }, timeout: 120_000,
  });
  const output = `${r.stdout}${r.stderr}`;
  expect(r.status, output).toBe(0);
  expect(output).toMatch(/shopml built!/);
}, 130_000);
