// Heavy reads (the monitor's report, shadow comparisons) in a worker thread with its own database
// connection, at the lowest CPU priority, so the server's event loop — storefront, webhooks —
// never waits for them. The worker module calls `serveThread(fn)`; the job calls `inThread(url,
// input, signal)`. (Training runs in a child process at the lowest priority: train-process.ts.)
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { setPriority } from 'node:os';

type Message<T> = { type: 'done'; result: T } | { type: 'error'; message: string };

/** Runs `url`'s worker with `input`; resolves with what its `serveThread` function returned. */
export function inThread<T>(url: URL, input: unknown, signal?: AbortSignal): Promise<T> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const w = new Worker(url, { workerData: input });
    let settled = false;
    const settle = (f: () => void) => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      f();
    };
    const onAbort = () => settle(() => { void w.terminate(); reject(signal!.reason instanceof Error ? signal!.reason : new Error('aborted')); });
    signal?.addEventListener('abort', onAbort, { once: true });
    w.on('message', (m: Message<T>) => {
      if (m.type === 'done') settle(() => resolve(m.result));
      else settle(() => reject(new Error(m.message)));
    });
    w.on('error', (e) => settle(() => reject(e)));
    w.on('exit', (code) => settle(() => reject(new Error(`worker thread exited with code ${code}`))));
  });
}

/** In a worker module: lowest priority (Linux: per thread), run `fn(workerData)`, post the result. */
export async function serveThread<I, T>(fn: (input: I) => T | Promise<T>): Promise<void> {
  if (isMainThread || !parentPort) throw new Error('serveThread runs in a worker thread');
  if (process.platform === 'linux') {
    try {
      setPriority(19);
    } catch {
      // not permitted: normal priority
    }
  }
  try {
    parentPort.postMessage({ type: 'done', result: await fn(workerData as I) } satisfies Message<T>);
  } catch (err) {
    parentPort.postMessage({ type: 'error', message: (err as Error).stack ?? String(err) } satisfies Message<T>);
  }
}
