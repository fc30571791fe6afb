// The load generator's HTTP client (bench/raw-http.ts) against a real node:http server on port 0:
// what it sends is what the server reads, and it reads every answer shape a server may give.
import http from 'node:http';
import { Worker } from 'node:worker_threads';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RawHttpPool, reusableForMs, type RawAnswer, type RawRequest } from '../../bench/raw-http.ts';
import { runOpenLoop } from '../../bench/open-loop.ts';

let server: http.Server;
let base: string;
const seen: { method: string; url: string; headers: http.IncomingHttpHeaders; body: string; socket: number }[] = [];
const sockets = new WeakMap<object, number>();
let nextSocket = 0;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (!sockets.has(req.socket)) sockets.set(req.socket, nextSocket++);
      const body = Buffer.concat(chunks).toString('utf8');
      seen.push({ method: req.method!, url: req.url!, headers: req.headers, body, socket: sockets.get(req.socket)! });
      const u = new URL(req.url!, 'http://x');
      const delay = Number(u.searchParams.get('delay') ?? 0);
      setTimeout(() => {
        if (u.pathname === '/chunked') {
          res.writeHead(200, { 'content-type': 'text/plain' });
          res.write('hello, ');
          setTimeout(() => res.end('wörld'), 5);
        } else if (u.pathname === '/close') {
          res.writeHead(201, { connection: 'close', 'content-length': '2' });
          res.end('ok');
        } else if (u.pathname === '/hangup') {
          req.socket.destroy();
        } else {
          const out = JSON.stringify({ echo: body, bytes: Buffer.byteLength(body) });
          res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(out)), 'retry-after': '3' });
          res.end(out);
        }
      }, delay);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((r) => server.close(() => r())));

/** FN with a fresh pool of up to MAX connections, destroyed afterwards whatever happened. */
async function withPool(max: number, fn: (pool: RawHttpPool) => Promise<void>): Promise<void> {
  const pool = RawHttpPool.forUrl(base, max);
  try {
    await fn(pool);
  } finally {
    pool.destroy();
  }
}

const send = (pool: RawHttpPool, r: RawRequest) =>
  new Promise<RawAnswer>((resolve, reject) => pool.request(r, (err, a) => (err ? reject(err) : resolve(a!))));

describe('RawHttpPool', () => {
  it('sends method, path, headers and a UTF-8 body with its byte length; reads a content-length answer', () =>
    withPool(4, async (pool) => {
      const body = JSON.stringify({ name: 'Zoë Ångström — 東京' });
      const a = await send(pool, { method: 'POST', path: '/echo?x=1', headers: { 'X-Shopify-Topic': 'orders/create', 'Content-Type': 'application/json' }, body });
      expect(a.status).toBe(200);
      expect(a.headers['retry-after']).toBe('3');
      expect(JSON.parse(a.body.toString('utf8'))).toEqual({ echo: body, bytes: Buffer.byteLength(body) });
      const s = seen.at(-1)!;
      expect(s).toMatchObject({ method: 'POST', url: '/echo?x=1', body });
      expect(s.headers['x-shopify-topic']).toBe('orders/create');
      expect(s.headers['content-length']).toBe(String(Buffer.byteLength(body)));
    }));

  it('reuses one keep-alive connection for sequential requests; reads chunked answers', () =>
    withPool(4, async (pool) => {
      const before = seen.length;
      for (let k = 0; k < 5; k++) {
        const a = await send(pool, { method: 'GET', path: '/chunked', headers: {} });
        expect(a.status).toBe(200);
        expect(a.body.toString('utf8')).toBe('hello, wörld');
      }
      expect(new Set(seen.slice(before).map((s) => s.socket)).size).toBe(1);
      expect(pool.size).toBe(1);
    }));

  it('queues beyond maxSockets and answers every request; a "connection: close" answer retires its socket', () =>
    withPool(3, async (pool) => {
      const before = seen.length;
      const answers = await Promise.all(Array.from({ length: 12 }, (_, k) => send(pool, { method: 'GET', path: `/slow?delay=20&k=${k}`, headers: {} })));
      expect(answers.map((a) => a.status)).toEqual(Array(12).fill(200));
      expect(new Set(seen.slice(before).map((s) => s.socket)).size).toBe(3);
      const closed = await send(pool, { method: 'GET', path: '/close', headers: {} });
      expect([closed.status, closed.body.toString()]).toEqual([201, 'ok']);
      await new Promise((r) => setTimeout(r, 20));
      expect(pool.size).toBe(2);
      expect((await send(pool, { method: 'GET', path: '/after', headers: {} })).status).toBe(200);
    }));

  it('a connection the server drops fails its request with an error, and the pool goes on', () =>
    withPool(2, async (pool) => {
      await expect(send(pool, { method: 'GET', path: '/hangup', headers: {} })).rejects.toThrow(/closed|ECONNRESET/);
      expect((await send(pool, { method: 'GET', path: '/fine', headers: {} })).status).toBe(200);
    }));

  it('never reuses a connection idle past the server\'s keep-alive timeout, even when this process is late to read its close', async () => {
    // A server (in its own thread, so it keeps time while this one is held) that closes
    // connections idle for 1.5 s and announces `Keep-Alive: timeout=1`.
    const short = new Worker(
      `const http = require('node:http');
      const s = http.createServer((_req, res) => res.end('ok'));
      s.keepAliveTimeout = 1500;
      s.listen(0, '127.0.0.1', () => require('node:worker_threads').parentPort.postMessage(s.address().port));`,
      { eval: true },
    );
    const port = await new Promise<number>((resolve, reject) => { short.once('message', resolve); short.once('error', reject); });
    const pool = RawHttpPool.forUrl(`http://127.0.0.1:${port}`, 4);
    try {
      const first = await send(pool, { method: 'GET', path: '/', headers: {} });
      expect(first.headers['keep-alive']).toBe('timeout=1');
      // This event loop is held past the close (Node closes keepAliveTimeout + its 1 s
      // keepAliveTimeoutBuffer after the answer): a generator late under load. The close has
      // arrived but is not read yet, so the idle connection still looks open.
      const until = Date.now() + 3000;
      while (Date.now() < until) { /* busy */ }
      const again = await send(pool, { method: 'GET', path: '/', headers: {} });
      expect(again.status).toBe(200);
    } finally {
      pool.destroy();
      await short.terminate();
    }
  });

  it('the reuse limit: up to a second (at most half) before the announced timeout, Node\'s 5 s without one', () => {
    expect(reusableForMs('timeout=72')).toBe(71_000);
    expect(reusableForMs('timeout=1')).toBe(500);
    expect(reusableForMs(undefined)).toBe(4_000);
  });

  it('refuses header values with line breaks (no request smuggling from a generator bug)', () => {
    const pool = RawHttpPool.forUrl(base, 1);
    expect(() => pool.request({ method: 'GET', path: '/', headers: { 'X-A': 'a\r\nX-B: b' } }, () => {})).toThrow(/line breaks/);
    pool.destroy();
  });
});

describe('runOpenLoop on the raw client', () => {
  it('offers the scheduled rate, measures from the scheduled time, and counts unanswered requests as timeouts', async () => {
    const r = await runOpenLoop({
      baseUrl: base, seconds: 1, warmupSeconds: 0.2, drainSeconds: 0.3,
      streams: [
        { name: 'fast', rate: 200, request: (i) => ({ method: 'POST', path: '/echo', headers: {}, body: `{"i":${i}}` }) },
        { name: 'stuck', rate: 20, request: () => ({ method: 'GET', path: '/slow?delay=5000', headers: {} }) },
      ],
    });
    const [fast, stuck] = r.streams;
    expect(fast!.scheduled).toBe(200);
    expect(fast!.answered).toBe(200);
    expect(fast!.statuses).toEqual({ 200: 200 });
    expect(fast!.p50ms).toBeGreaterThan(0);
    expect(fast!.p99ms).toBeLessThan(1000);
    expect(stuck!.answered).toBe(0);
    expect(stuck!.timeouts).toBe(20);
  });
});
