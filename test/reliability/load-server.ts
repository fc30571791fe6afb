// `shopml serve` in a child process, as an operator runs it (`npm start`: bin/shopml.js with its Node flags, configuration from the
// environment), for the load tests: its own process, so the load generator in the test process
// never shares its event loop, and its memory can be sampled from outside (bench/rss-sampler.ts).
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../../backend/src/http/free-port.ts';

const root = new URL('../..', import.meta.url).pathname;

/**
 * Node's flags for the server, as `npm start` passes them (package.json `scripts.start`: the
 * words between `node` and `bin/shopml.js`) — the load tests measure the server as it is run.
 */
function serveNodeFlags(): string[] {
  const start = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: { start: string } }).scripts.start.split(/\s+/);
  const bin = start.indexOf('bin/shopml.js');
  if (start[0] !== 'node' || bin < 0) throw new Error(`package.json scripts.start is not "node [flags] bin/shopml.js serve": ${start.join(' ')}`);
  return start.slice(1, bin);
}

export interface ServeProcess {
  url: string;
  pid: number;
  child: ChildProcess;
  /** The last lines the server wrote (logs at LOG_LEVEL), for a failure message. */
  output(): string;
  /** SIGTERM (graceful: in-flight requests answered, store checkpointed) and the exit code. */
  stop(): Promise<number | null>;
}

export async function startServe(env: Record<string, string>): Promise<ServeProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, [...serveNodeFlags(), join(root, 'bin/shopml.js'), 'serve'], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env, PORT: String(port), HOST: '127.0.0.1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const keep = (b: Buffer) => {
    lines.push(...b.toString('utf8').split('\n').filter(Boolean));
    if (lines.length > 60) lines.splice(0, lines.length - 60);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`shopml serve exited with ${child.exitCode}:\n${lines.join('\n')}`);
    try {
      if ((await fetch(`${url}/readyz`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`shopml serve not ready after 30 s:\n${lines.join('\n')}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url,
    pid: child.pid!,
    child,
    output: () => lines.join('\n'),
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 30_000);
      const code = await exited;
      clearTimeout(t);
      return code;
    },
  };
}
