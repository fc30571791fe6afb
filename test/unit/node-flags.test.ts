// The V8 flags `shopml serve` is meant to run with: which are missing from a command line, and
// `npm start` passes every one of them (the load tests start the server from that script).
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { missingServeFlags, SERVE_NODE_FLAGS } from '../../backend/src/node-flags.ts';

describe('serve node flags', () => {
  it('names the missing flags; a flag given with another value or with underscores counts', () => {
    expect(missingServeFlags([])).toEqual([...SERVE_NODE_FLAGS]);
    expect(missingServeFlags(['--max-semi-space-size=32'])).toEqual(['--single-threaded-gc']);
    expect(missingServeFlags(['--single_threaded_gc', '--max_semi_space_size=16'])).toEqual([]);
    expect(missingServeFlags(['--single-threaded-gc-in-background'])).toEqual([...SERVE_NODE_FLAGS]);
  });

  it('npm start passes every one of them', () => {
    const start = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { scripts: { start: string } }).scripts.start.split(/\s+/);
    const flags = start.slice(1, start.indexOf('bin/shopml.js'));
    expect(missingServeFlags(flags)).toEqual([]);
  });
});
