// The fault environment of faults.test.ts: clocks (virtual for the short run, the wall clock for
// the long one), an HTTP fault proxy put between shopml and the Admin API simulator, and a small
// real filesystem (tmpfs) that can be filled to the last byte and freed again.
import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, rmdirSync, unlinkSync, writeSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// ---- Clocks ----

/** What the backend (deps.now), the simulator, the Admin client and the fault schedule read. */
export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
  /** Lets time reach `t`: a virtual clock jumps there, the wall clock sleeps (at most maxWaitMs). */
  waitUntil(t: number, maxWaitMs?: number): Promise<void>;
  readonly virtual: boolean;
}

/**
 * Discrete-event time: a sleep registers a wake-up at now + ms; whenever nothing has happened for
 * a couple of wall milliseconds (the local servers answer well within that), time jumps to the
 * earliest wake-up. Sleepers waiting side by side wake together (their waits overlap, as on a
 * real clock), and a 10-minute outage passes in a few seconds of wall time.
 */
export function virtualClock(startMs: number, quietMs = 2): Clock {
  let t = startMs;
  const sleepers: { at: number; wake: () => void }[] = [];
  let timer: NodeJS.Timeout | null = null;
  let armedAt = 0;
  const arm = () => {
    // Something happened: wait for quiet again — but never postpone a due jump by more than 25 ms.
    if (timer && performance.now() - armedAt > 25) return;
    if (timer) clearTimeout(timer);
    else armedAt = performance.now();
    timer = setTimeout(tick, quietMs);
  };
  const tick = () => {
    timer = null;
    if (sleepers.length === 0) return;
    sleepers.sort((a, b) => a.at - b.at);
    t = Math.max(t, sleepers[0]!.at);
    while (sleepers.length > 0 && sleepers[0]!.at <= t) sleepers.shift()!.wake();
    if (sleepers.length > 0) arm();
  };
  const at = (target: number) => new Promise<void>((wake) => {
    sleepers.push({ at: target, wake });
    arm();
  });
  return {
    virtual: true,
    now: () => t,
    sleep: (ms) => at(t + Math.max(0, ms)),
    waitUntil: (target) => at(Math.max(t, target)),
  };
}

export const wallClock: Clock = {
  virtual: false,
  now: () => Date.now(),
  sleep: (ms) => new Promise((r) => setTimeout(r, Math.max(0, ms))),
  waitUntil: (target, maxWaitMs = 1000) => new Promise((r) => setTimeout(r, Math.max(0, Math.min(maxWaitMs, target - Date.now())))),
};

// ---- The fault proxy ----

/** What the proxy does with one request: forward it, answer an HTTP error, or drop the connection unanswered. */
export type Fault = { kind: 'forward' } | { kind: 'status'; status: 429 | 500 | 502 | 503 | 504; retryAfterSeconds?: number } | { kind: 'reset' };

export interface FaultProxy {
  url: string;
  /** For SHOPIFY_ADMIN_BASE_URL / createAdminClient's baseUrl. */
  baseUrlTemplate: string;
  /** Requests per outcome: forwarded, reset, and one key per HTTP status answered. */
  counts: Record<string, number>;
  close(): Promise<void>;
}

/**
 * An HTTP proxy in front of `target` (the Admin API simulator). `decide` is asked for each request
 * (before it is forwarded, so a refused request never reaches the simulator: nothing it would
 * have done happened).
 */
export async function startFaultProxy(target: string, decide: (req: IncomingMessage) => Fault): Promise<FaultProxy> {
  const counts: Record<string, number> = {};
  const count = (k: string) => { counts[k] = (counts[k] ?? 0) + 1; };
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const fault = decide(req);
      if (fault.kind === 'reset') {
        count('reset');
        req.socket.destroy();
        return;
      }
      if (fault.kind === 'status') {
        count(String(fault.status));
        const headers: Record<string, string> = { 'content-type': 'application/json' };
        if (fault.retryAfterSeconds !== undefined) headers['retry-after'] = String(fault.retryAfterSeconds);
        res.writeHead(fault.status, headers).end(JSON.stringify({ errors: fault.status === 429 ? 'Exceeded 2 calls per second for api client.' : 'Service Unavailable' }));
        return;
      }
      count('forwarded');
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string' && !['host', 'connection', 'content-length', 'keep-alive'].includes(k)) headers[k] = v;
      const body = chunks.length ? Buffer.concat(chunks) : undefined;
      fetch(`${target}${req.url}`, { method: req.method, headers, body: req.method === 'GET' || req.method === 'HEAD' ? undefined : body })
        .then(async (r) => {
          const buf = Buffer.from(await r.arrayBuffer());
          const out: Record<string, string> = {};
          for (const h of ['content-type', 'retry-after']) { const v = r.headers.get(h); if (v) out[h] = v; }
          res.writeHead(r.status, out).end(buf);
        })
        .catch(() => req.socket.destroy());
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as { port: number }).port;
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    baseUrlTemplate: `${url}/shops/{shop}`,
    counts,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

// ---- A small real disk ----

export interface SmallDisk {
  dir: string;
  /** Fills the filesystem to its last byte with a ballast file; returns the bytes written. */
  fill(): number;
  /** Deletes the ballast: the space is back. */
  free(): void;
  /** Unmounts (lazily: a file still open elsewhere does not block it) and removes the mount point. */
  release(): void;
}

/**
 * A tmpfs of `sizeMb` mounted on a fresh directory: as root with mount(8), otherwise through
 * `sudo -n`. Null when neither is allowed here (the caller falls back and says so).
 */
export function mountSmallDisk(sizeMb: number): SmallDisk | null {
  const dir = mkdtempSync(join(tmpdir(), 'shopml-faults-disk-'));
  const args = ['-t', 'tmpfs', '-o', `size=${sizeMb}m,mode=1777`, 'shopml-faults', dir];
  const attempts: [string, string[]][] = process.getuid?.() === 0 ? [['mount', args]] : [['sudo', ['-n', 'mount', ...args]]];
  let mounted = false;
  for (const [cmd, a] of attempts) {
    try {
      execFileSync(cmd, a, { stdio: 'pipe' });
      mounted = true;
      break;
    } catch {
      // not allowed here
    }
  }
  if (!mounted) {
    rmSync(dir, { recursive: true, force: true });
    return null;
  }
  const ballast = join(dir, 'ballast.bin');
  const sudo = process.getuid?.() === 0 ? [] : ['sudo', '-n'];
  return {
    dir,
    fill() {
      const fd = openSync(ballast, 'a');
      let written = 0;
      try {
        for (const size of [1 << 20, 64 << 10, 4 << 10, 512]) {
          const buf = Buffer.alloc(size, 0xee);
          for (;;) {
            try {
              written += writeSync(fd, buf);
            } catch (err) {
              if ((err as NodeJS.ErrnoException).code === 'ENOSPC') break;
              throw err;
            }
          }
        }
      } finally {
        closeSync(fd);
      }
      return written;
    },
    free() {
      try { unlinkSync(ballast); } catch { /* already gone */ }
    },
    release() {
      const [cmd, ...rest] = [...sudo, 'umount', '-l', dir];
      try { execFileSync(cmd!, rest, { stdio: 'pipe' }); } catch { /* already unmounted */ }
      try { rmdirSync(dir); } catch { /* left for the OS */ }
    },
  };
}
