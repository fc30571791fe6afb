// How a background process (the training's) is started so that it only takes CPU time the
// server leaves: Linux's SCHED_IDLE policy (`chrt --idle 0`, util-linux) and `nice -n 19`
// (coreutils). SCHED_IDLE is more than the lowest nice value: a CPU running only SCHED_IDLE
// work counts as idle when the kernel places a waking task, and a waking normal task preempts
// it at once, where a nice-19 task may finish its time slice first. Measured (docs/RELIABILITY.md
// §2, sixth session), an unrelated request/response pair at 500/s beside a `train all` (both
// with `--single-threaded-gc`): p99 2.2 and 2.5 ms under SCHED_IDLE against 3.2 and 4.0 ms at
// nice 19 alone, in alternating runs (idle 1.7 ms).
// Where a tool is missing or refused (macOS has no chrt; a sandbox may forbid the call), the
// launcher falls back to what works, and to a plain start on Windows. Probed once per process.
import { spawn } from 'node:child_process';

export interface LowPriorityLauncher {
  /** Command words to put before the program, e.g. ['chrt', '--idle', '0', 'nice', '-n', '19']. */
  prefix: string[];
  /** What the process gets: 'SCHED_IDLE, nice 19', 'nice 19' or 'normal priority'. */
  description: string;
}

let probed: Promise<LowPriorityLauncher> | undefined;

/** Whether `argv true` runs and exits 0 — without blocking the event loop (serving goes on). */
const works = (argv: string[], env: NodeJS.ProcessEnv): Promise<boolean> => new Promise((resolve) => {
  const child = spawn(argv[0]!, [...argv.slice(1), 'true'], { stdio: 'ignore', timeout: 10_000, env });
  child.once('error', () => resolve(false));
  child.once('exit', (code) => resolve(code === 0));
});

/** The best launcher that works here; `env` (its PATH) is for tests. */
export async function probeLowPriority(env: NodeJS.ProcessEnv = process.env): Promise<LowPriorityLauncher> {
  const nice = ['nice', '-n', '19'];
  const idle = ['chrt', '--idle', '0', ...nice];
  if (process.platform === 'win32') return { prefix: [], description: 'normal priority' };
  if (await works(idle, env)) return { prefix: idle, description: 'SCHED_IDLE, nice 19' };
  if (await works(nice, env)) return { prefix: nice, description: 'nice 19' };
  return { prefix: [], description: 'normal priority' };
}

/** Probed once per process. */
export function lowPriorityLauncher(): Promise<LowPriorityLauncher> {
  probed ??= probeLowPriority();
  return probed;
}
