#!/usr/bin/env node
// The `shopml` command. Node runs the TypeScript sources directly (type stripping, on by
// default from 22.18; 22.12-22.17 need the flag, so re-run with it there).
import { spawnSync } from 'node:child_process';

const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 12)) {
  console.error(`shopml needs Node.js 22.12+ (24 LTS recommended); this is ${process.version}. In a shell: . scripts/node24.sh`);
  process.exit(1);
}
if (!process.features.typescript) {
  const r = spawnSync(process.execPath, ['--experimental-strip-types', '--no-warnings', ...process.argv.slice(1)], { stdio: 'inherit' });
  process.exit(r.status ?? 1);
}
const { main } = await import('../backend/src/cli.ts');
process.exitCode = await main(process.argv.slice(2));
