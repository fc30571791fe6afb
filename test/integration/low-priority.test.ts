// The training's launcher (jobs/low-priority.ts) picks the lowest priority the system allows and
// falls back when a tool is missing or refused: probed with real processes under a PATH that
// holds only what each case needs.
import { afterAll, describe, expect, it } from 'vitest';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { probeLowPriority } from '../../backend/src/jobs/low-priority.ts';
import { priorityFromStat } from '../helpers/proc-priority.ts';

const root = mkdtempSync(join(tmpdir(), 'shopml-lowprio-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** The executable file named `cmd` on this machine's PATH (not a shell builtin: `true` is one). */
const which = (cmd: string): string => {
  const hit = (process.env.PATH ?? '').split(delimiter).map((d) => join(d, cmd)).find((f) => existsSync(f));
  if (!hit) throw new Error(`${cmd} is not installed (util-linux provides chrt, coreutils nice and true)`);
  return hit;
};

/** A folder to use as PATH: links to the named system tools, plus scripts given by name. */
function pathWith(name: string, tools: string[], scripts: Record<string, string> = {}): string {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  for (const t of tools) symlinkSync(which(t), join(dir, t));
  for (const [file, body] of Object.entries(scripts)) {
    writeFileSync(join(dir, file), `#!${which('sh')}\n${body}\n`);
    chmodSync(join(dir, file), 0o755);
  }
  return dir;
}

describe.skipIf(process.platform === 'win32')('low-priority launcher', () => {
  it('uses SCHED_IDLE and nice 19 where chrt and nice work (Debian: util-linux and coreutils)', async () => {
    const l = await probeLowPriority({ PATH: pathWith('all', ['chrt', 'nice', 'true']) });
    expect(l).toEqual({ prefix: ['chrt', '--idle', '0', 'nice', '-n', '19'], description: 'SCHED_IDLE, nice 19' });
    // The prefix really gives a process that policy (5 = SCHED_IDLE) and nice value.
    const stat = execFileSync(l.prefix[0]!, [...l.prefix.slice(1), 'sh', '-c', 'cat /proc/$$/stat'], { encoding: 'utf8' });
    expect(priorityFromStat(stat)).toEqual({ nice: 19, policy: 5 });
  });

  it('falls back to nice when chrt is missing, or refused', async () => {
    expect(await probeLowPriority({ PATH: pathWith('no-chrt', ['nice', 'true']) }))
      .toEqual({ prefix: ['nice', '-n', '19'], description: 'nice 19' });
    const refused = pathWith('chrt-refused', ['nice', 'true'], { chrt: 'echo "chrt: failed to set pid 0\'s policy: Operation not permitted" >&2; exit 1' });
    expect((await probeLowPriority({ PATH: refused })).description).toBe('nice 19');
  });

  it('starts at normal priority when neither tool is there', async () => {
    expect(await probeLowPriority({ PATH: pathWith('none', ['true']) })).toEqual({ prefix: [], description: 'normal priority' });
  });
});
