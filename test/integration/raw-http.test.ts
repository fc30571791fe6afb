// The load generator's HTTP client (bench/raw-http.ts) against a real node:http server on port 0:
// what it sends is what the server reads, and it reads every answer shape a server may give.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RawHttpPool, type RawAnswer, type RawRequest } from '../../bench/raw-http.ts';
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
