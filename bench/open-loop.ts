// An open-loop HTTP load generator: requests are sent at fixed times (stream k's i-th request at
// start + i / rate_k) whether or not earlier ones were answered, and each latency is measured from
// the time the request was *scheduled*, not from when it was sent. A server that stalls therefore
// shows its stall in every request that should have gone out meanwhile (no coordinated omission,
// unlike a closed loop — bench/load.ts — whose senders wait and so stop offering load).
//
// The generator's own delay (building, signing, a late timer) is part of each latency, so it can
// only make the figures worse; `sendLagP99ms` says how large it was. It shares the machine with
// the server, so it speaks HTTP over raw keep-alive sockets (bench/raw-http.ts) rather than
// through node:http's client: 0.25–0.27 cores instead of 0.32–0.37 at 1,000 webhooks + 500
// recommendations per second, building and signing included.
import http from 'node:http';
import { percentile, type LoadRequest } from './load.ts';
import { RawHttpPool } from './raw-http.ts';

export interface OpenLoopStream {
  name: string;
  /** Offered rate, requests per second. */
  rate: number;
  /** The i-th request of the stream, built (and signed) when it is due. */
  request(i: number): LoadRequest;
  /** Sees every answer (status and body) — to check what came back, not only how fast. */
  onAnswer?(i: number, status: number, headers: Record<string, string>, body: string): void;
}

export interface OpenLoopOptions {
  baseUrl: string;
  streams: OpenLoopStream[];
  /** Measured seconds (after the warm-up). */
  seconds: number;
  /** Requests scheduled in the first warmupSeconds are sent at the same rate but not counted. */
  warmupSeconds?: number;
  /** After the last scheduled request, wait this long for answers; what is still open then is a timeout. Default 10 s. */
  drainSeconds?: number;
  /** Connections per stream (default 512); beyond, requests queue in the client — and that wait counts. */
  maxSockets?: number;
  /** Also return every measured request's scheduled time and latency (to cut a sub-window afterwards). */
  keepSamples?: boolean;
}

/** The measured window's requests in schedule order: when each was due (epoch ms) and its latency (NaN: no answer). */
export interface OpenLoopSamples {
  scheduledAtMs: Float64Array;
  latencyMs: Float64Array;
  /** How late the generator sent each request (included in its latency), ms. */
  sendLagMs: Float64Array;
}

export interface OpenLoopStreamResult {
  name: string;
  offeredRate: number;
  /** Requests scheduled in the measured window, and how many of them were answered. */
  scheduled: number;
  answered: number;
  /** Answers completed inside the measured window, per second (throughput). */
  achievedRate: number;
  /** Connection errors and requests still unanswered at the end of the drain (both of the measured window). */
  errors: number;
  /** The connection errors by kind (`ECONNRESET`, `connection closed before the answer`…). */
  errorKinds: Record<string, number>;
  timeouts: number;
  p50ms: number;
  p90ms: number;
  p99ms: number;
  p999ms: number;
  maxms: number;
  statuses: Record<string, number>;
  /** How late the generator itself sent (timer granularity, building and signing): p99, ms. */
  sendLagP99ms: number;
  samples?: OpenLoopSamples;
}

export interface OpenLoopResult {
  seconds: number;
  warmupSeconds: number;
  streams: OpenLoopStreamResult[];
}

export function runOpenLoop(o: OpenLoopOptions): Promise<OpenLoopResult> {
  const warmMs = (o.warmupSeconds ?? 0) * 1000;
  const endMs = warmMs + o.seconds * 1000;
  const drainMs = (o.drainSeconds ?? 10) * 1000;
  for (const s of o.streams) if (!(s.rate > 0)) throw new Error(`stream ${s.name}: rate must be > 0 (got ${s.rate})`);

  const state = o.streams.map((s) => {
    const n = Math.ceil((endMs / 1000) * s.rate);
    return {
      s,
      pool: RawHttpPool.forUrl(o.baseUrl, o.maxSockets ?? 512),
      interval: 1000 / s.rate,
      n,
      /** The first request of the measured window. */
      first: Math.ceil((warmMs / 1000) * s.rate),
      next: 0,
      latency: new Float64Array(n).fill(NaN),
      lag: new Float64Array(n),
      statuses: {} as Record<string, number>,
      errors: 0,
      errorKinds: {} as Record<string, number>,
      inWindowAnswers: 0,
      /** Requests sent (or queued for a connection) and not yet answered. */
      open: new Set<number>(),
    };
  });

  return new Promise((resolve) => {
    const t0 = performance.now() + 20;
    let finishing = false;

    const fire = (st: (typeof state)[number], i: number, due: number) => {
      const r = st.s.request(i);
      st.lag[i] = performance.now() - due;
      st.open.add(i);
      st.pool.request(r, (err, a) => {
        st.open.delete(i);
        if (err || !a) {
          if (i >= st.first && !finishing) {
            st.errors++;
            const kind = (err as NodeJS.ErrnoException | null)?.code ?? err?.message ?? 'no answer';
            st.errorKinds[kind] = (st.errorKinds[kind] ?? 0) + 1;
          }
          return;
        }
        const done = performance.now();
        st.s.onAnswer?.(i, a.status, a.headers, a.body.toString('utf8'));
        if (i < st.first) return;
        st.latency[i] = done - due;
        st.statuses[a.status] = (st.statuses[a.status] ?? 0) + 1;
        if (done - t0 < endMs) st.inWindowAnswers++;
      });
    };

    const finish = () => {
      finishing = true;
      const streams = state.map((st): OpenLoopStreamResult => {
        const first = st.first;
        const window = st.latency.subarray(first);
        const answered = window.filter((x) => !Number.isNaN(x)).sort();
        const timeouts = [...st.open].filter((i) => i >= first).length;
        st.pool.destroy();
        const lag = st.lag.slice(first).sort();
        return {
          name: st.s.name, offeredRate: st.s.rate, scheduled: window.length, answered: answered.length,
          achievedRate: st.inWindowAnswers / o.seconds, errors: st.errors, errorKinds: st.errorKinds, timeouts,
          p50ms: percentile(answered, 50), p90ms: percentile(answered, 90), p99ms: percentile(answered, 99),
          p999ms: percentile(answered, 99.9), maxms: answered.length ? answered[answered.length - 1]! : NaN,
          statuses: st.statuses, sendLagP99ms: percentile(lag, 99),
          ...(o.keepSamples ? {
            samples: {
              scheduledAtMs: Float64Array.from({ length: window.length }, (_, k) => performance.timeOrigin + t0 + (first + k) * st.interval),
              latencyMs: window.slice(),
              sendLagMs: st.lag.slice(first),
            },
          } : {}),
        };
      });
      resolve({ seconds: o.seconds, warmupSeconds: warmMs / 1000, streams });
    };

    const drain = () => {
      const deadline = performance.now() + drainMs;
      const check = () => {
        if (state.every((st) => st.open.size === 0) || performance.now() >= deadline) finish();
        else setTimeout(check, 20);
      };
      check();
    };

    const tick = () => {
      const now = performance.now();
      let nextDue = Infinity;
      for (const st of state) {
        while (st.next < st.n) {
          const due = t0 + st.next * st.interval;
          if (due > now) {
            nextDue = Math.min(nextDue, due);
            break;
          }
          fire(st, st.next++, due);
        }
      }
      if (nextDue === Infinity) drain();
      else setTimeout(tick, Math.max(0, nextDue - performance.now()));
    };
    setTimeout(tick, 20);
  });
}

export interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** One request over AGENT, answered in full (a closed-loop sender's step; connection errors reject). */
export function sendOnce(agent: http.Agent, baseUrl: string, r: LoadRequest): Promise<Answer> {
  const url = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: url.hostname, port: url.port, method: r.method, path: r.path, headers: r.headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(r.body);
  });
}
