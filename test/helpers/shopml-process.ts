// Real child processes for crash tests: `shopml …` (bin/shopml.js) or a TypeScript script run by
// the same Node, with the test's environment; output captured; SIGKILL (kill -9) on demand; the
// exit (code or signal) as a promise. Used by test/integration/jobs-kill.test.ts and
// test/reliability/crash-safety.test.ts.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface NodeChild {
  child: ChildProcess;
  readonly pid: number;
  /** stdout and stderr so far, interleaved. */
  output(): string;
  /** Resolves with the signal that ended the process, else its exit code. */
  exited: Promise<NodeJS.Signals | number | null>;
  /** kill -9, then waits for the exit; resolves with the signal (SIGKILL unless it had already exited). */
  kill9(): Promise<NodeJS.Signals | number | null>;
  /** Resolves once `re` matches the output; rejects if the process exits first or after `timeoutMs`. */
  waitFor(re: RegExp, timeoutMs?: number): Promise<void>;
}

/** The test's environment for a child: the given variables, plus PATH and HOME (nothing else leaks in). */
export function childEnv(env: Record<string, string>): Record<string, string> {
  return { ...env, PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' };
}

/** Runs `node <script> …args` (TypeScript runs directly) in the repository root. */
export function spawnNode(script: string, args: string[], env: Record<string, string>): NodeChild {
  const child = spawn(process.execPath, [script, ...args], { cwd: ROOT, env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const listeners = new Set<() => void>();
  const onData = (b: Buffer) => {
    out += b;
    for (const l of listeners) l();
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<NodeJS.Signals | number | null>((r) => child.on('exit', (code, signal) => r(signal ?? code)));
  let done = false;
  void exited.then(() => { done = true; for (const l of listeners) l(); });
  return {
    child,
    pid: child.pid!,
    output: () => out,
    exited,
    async kill9() {
      if (!done) child.kill('SIGKILL');
      return exited;
    },
    waitFor(re: RegExp, timeoutMs = 30_000) {
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => finish(new Error(`no ${re} within ${timeoutMs} ms:\n${out}`)), timeoutMs);
        const check = () => {
          if (re.test(out)) finish();
          else if (done) finish(new Error(`the process exited before ${re}:\n${out}`));
        };
        const finish = (err?: Error) => {
          clearTimeout(timer);
          listeners.delete(check);
          if (err) reject(err);
          else resolve();
        };
        listeners.add(check);
        check();
      });
    },
  };
}

/** `shopml <args>` as a child process. */
export function spawnShopml(args: string[], env: Record<string, string>): NodeChild {
  return spawnNode(join(ROOT, 'bin/shopml.js'), args, env);
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/**
 * A TCP port that was free a moment ago, for a server that must keep its address across restarts.
 * Taken below Linux's ephemeral range (32768-60999), so the machine's outgoing connections — the
 * test's own senders reconnecting after each restart included — never take it in between.
 */
export async function freePort(): Promise<number> {
  for (let i = 0; i < 200; i++) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    if (await canListen(port)) return port;
  }
  throw new Error('no free TCP port found in 20000-31999');
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
