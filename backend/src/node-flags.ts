// The Node/V8 flags `shopml serve` is meant to run with. They cannot be set from inside the
// process (V8 reads them when its heap is created, and Node refuses both in NODE_OPTIONS), so
// `npm start` passes them on the command line and `serve` logs a warning when any is missing.
// Why each (docs/operations.md; figures in docs/RELIABILITY.md §2):
//  - `--max-semi-space-size=16`: left to itself V8 grows the young generation to 64 MB under a
//    flood of requests, then marks the old generation every ~0.5 s.
//  - `--single-threaded-gc`: V8 otherwise collects each thread's garbage with helper threads on
//    every core; at the full load rate their bursts took the cores the webhook writer thread and
//    the main thread were waiting for (runnable but not running for 10–18 ms).
export const SERVE_NODE_FLAGS = ['--max-semi-space-size=16', '--single-threaded-gc'] as const;

/** The recommended flags missing from a process's `execArgv` (a flag counts with any value given). */
export function missingServeFlags(execArgv: readonly string[]): string[] {
  const given = new Set(execArgv.map((a) => a.split('=')[0]!.replace(/_/g, '-')));
  return SERVE_NODE_FLAGS.filter((f) => !given.has(f.split('=')[0]!));
}
