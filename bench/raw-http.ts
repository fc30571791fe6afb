// A lean HTTP/1.1 client for load generators: keep-alive connections on raw TCP sockets, one request
// in flight per connection (no pipelining, as a browser or Shopify's deliverer sends), each request
// written as one string (head and body, one write), each answer parsed from the socket's bytes.
//
// Why not node:http: at 1,500 requests/s on a 2-core machine the generator shares the CPU with the
// server it measures, and node:http's client (ClientRequest/IncomingMessage streams, header
// objects, an agent's free-socket bookkeeping) cost ~0.34 cores there — time the server then did
// not have. This client does what a load generator needs and no more; it is not a general client
// (no redirects, no 1xx, no upgrades, no request streaming).
import net from 'node:net';

export interface RawRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
}

export interface RawAnswer {
  status: number;
  /** Lower-case names; a repeated header keeps its last value. */
  headers: Record<string, string>;
  body: Buffer;
}

type Callback = (err: Error | null, answer?: RawAnswer) => void;

const CRLF2 = Buffer.from('\r\n\r\n');

/** Parses HTTP/1.1 answers from a byte stream, one at a time. */
class AnswerParser {
  private buf: Buffer | null = null;
  private head: { status: number; headers: Record<string, string>; bodyStart: number; length: number; chunked: boolean } | null = null;

  /** Feeds bytes; returns the answers completed by them (at most one per request sent). */
  push(chunk: Buffer, done: (a: RawAnswer, close: boolean) => void): void {
    this.buf = this.buf && this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    for (;;) {
      if (!this.head) {
        const end = this.buf.indexOf(CRLF2);
        if (end < 0) return;
        this.head = parseHead(this.buf.toString('latin1', 0, end), end + 4);
      }
      const h = this.head;
      let body: Buffer;
      let next: number;
      if (h.chunked) {
        const r = dechunk(this.buf, h.bodyStart);
        if (!r) return;
        [body, next] = r;
      } else {
        if (this.buf.length < h.bodyStart + h.length) return;
        body = this.buf.subarray(h.bodyStart, h.bodyStart + h.length);
        next = h.bodyStart + h.length;
      }
      this.head = null;
      this.buf = this.buf.subarray(next);
      done({ status: h.status, headers: h.headers, body }, h.headers.connection?.toLowerCase() === 'close');
      if (this.buf.length === 0) return;
    }
  }
}

function parseHead(text: string, bodyStart: number) {
  const lines = text.split('\r\n');
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '');
  if (!m) throw new Error(`not an HTTP/1.1 status line: ${JSON.stringify((lines[0] ?? '').slice(0, 80))}`);
  const headers: Record<string, string> = {};
  for (let k = 1; k < lines.length; k++) {
    const line = lines[k]!;
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const chunked = /\bchunked\b/i.test(headers['transfer-encoding'] ?? '');
  const length = chunked ? 0 : Number(headers['content-length'] ?? 0);
  if (!Number.isSafeInteger(length) || length < 0) throw new Error(`bad content-length: ${headers['content-length']}`);
  return { status: Number(m[1]), headers, bodyStart, length, chunked };
}

/** A chunked body starting at FROM: the body and where the next answer starts, or null while incomplete. */
function dechunk(buf: Buffer, from: number): [Buffer, number] | null {
  const parts: Buffer[] = [];
  let at = from;
  for (;;) {
    const eol = buf.indexOf('\r\n', at, 'latin1');
    if (eol < 0) return null;
    const size = parseInt(buf.toString('latin1', at, eol).split(';')[0]!, 16);
    if (!Number.isFinite(size) || size < 0) throw new Error('bad chunk size');
    if (size === 0) {
      // The last chunk: its line's CRLF then (no trailers expected, any skipped) an empty line.
      const end = buf.indexOf(CRLF2, eol);
      return end < 0 ? null : [Buffer.concat(parts), end + 4];
    }
    if (buf.length < eol + 2 + size + 2) return null;
    parts.push(buf.subarray(eol + 2, eol + 2 + size));
    at = eol + 2 + size + 2;
  }
}

/** Without a `Keep-Alive: timeout=N` hint, Node's default keepAliveTimeout (5 s). */
const DEFAULT_KEEP_ALIVE_MS = 5_000;

/**
 * How long an idle connection may be reused: up to a second (at most half) before the server's
 * announced keep-alive timeout. A server closes a connection idle that long; a request written on
 * it as the close crosses — or before this process has read the close, when its event loop is
 * late — ends in ECONNRESET or "connection closed before the answer". Browsers and undici retire
 * idle connections by the same hint.
 */
export function reusableForMs(keepAliveHeader: string | undefined): number {
  const m = /\btimeout=(\d+)/i.exec(keepAliveHeader ?? '');
  const hintMs = m ? Number(m[1]) * 1000 : DEFAULT_KEEP_ALIVE_MS;
  return hintMs - Math.min(1000, hintMs / 2);
}

/** One keep-alive connection; one request at a time. */
class Connection {
  readonly socket: net.Socket;
  private parser = new AnswerParser();
  private pending: Callback | null = null;
  closed = false;
  /** When its last answer was read (performance.now()), and how long it may then be reused. */
  idleSince = 0;
  reusableForMs = reusableForMs(undefined);

  private readonly onIdle: (c: Connection) => void;
  private readonly onGone: (c: Connection) => void;

  constructor(host: string, port: number, onIdle: (c: Connection) => void, onGone: (c: Connection) => void) {
    this.onIdle = onIdle;
    this.onGone = onGone;
    this.socket = net.connect({ host, port, noDelay: true });
    this.socket.on('data', (chunk: Buffer) => {
      const answers: [RawAnswer, boolean][] = [];
      try {
        this.parser.push(chunk, (answer, close) => answers.push([answer, close]));
      } catch (err) {
        this.fail(err as Error);
        return;
      }
      for (const [answer, close] of answers) {
        const cb = this.pending;
        if (!cb) {
          this.fail(new Error('an answer nobody asked for'));
          return;
        }
        this.pending = null;
        if (close) this.close();
        this.idleSince = performance.now();
        this.reusableForMs = reusableForMs(answer.headers['keep-alive']);
        cb(null, answer);
        if (!close) this.onIdle(this);
      }
    });
    this.socket.on('error', (err) => this.fail(err));
    this.socket.on('close', () => this.fail(new Error('connection closed before the answer')));
  }

  get busy(): boolean {
    return this.pending !== null;
  }

  send(head: string, body: string | undefined, cb: Callback): void {
    this.pending = cb;
    this.socket.write(body === undefined ? head : head + body, 'utf8');
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.destroy();
    this.onGone(this);
  }

  private fail(err: Error): void {
    const cb = this.pending;
    this.pending = null;
    this.close();
    cb?.(err);
  }
}

/**
 * A pool of up to maxSockets keep-alive connections to one server; requests beyond wait in a
 * queue (and that wait is theirs: a caller timing from its own clock sees it).
 */
export class RawHttpPool {
  private readonly idle: Connection[] = [];
  private readonly all = new Set<Connection>();
  private readonly queue: { head: string; body: string | undefined; cb: Callback }[] = [];
  private readonly hostHeader: string;
  private readonly host: string;
  private readonly port: number;
  private readonly maxSockets: number;

  constructor(host: string, port: number, maxSockets = 512) {
    this.host = host;
    this.port = port;
    this.maxSockets = maxSockets;
    this.hostHeader = `${host}:${port}`;
  }

  static forUrl(baseUrl: string, maxSockets?: number): RawHttpPool {
    const u = new URL(baseUrl);
    if (u.protocol !== 'http:') throw new Error(`RawHttpPool speaks plain HTTP only: ${baseUrl}`);
    return new RawHttpPool(u.hostname, Number(u.port || 80), maxSockets);
  }

  /** Connections open now. */
  get size(): number {
    return this.all.size;
  }

  request(r: RawRequest, cb: Callback): void {
    const head = serializeHead(r, this.hostHeader);
    const conn = this.take();
    if (conn) conn.send(head, r.body, cb);
    else this.queue.push({ head, body: r.body, cb });
  }

  destroy(): void {
    for (const q of this.queue.splice(0)) q.cb(new Error('pool destroyed'));
    for (const c of [...this.all]) c.close();
  }

  private take(): Connection | null {
    const now = performance.now();
    while (this.idle.length) {
      const c = this.idle.pop()!;
      if (c.closed) continue;
      if (now - c.idleSince < c.reusableForMs) return c;
      c.close(); // idle past the server's keep-alive timeout (or about to be): a fresh one instead
    }
    if (this.all.size >= this.maxSockets) return null;
    const c = new Connection(this.host, this.port, (x) => this.release(x), (x) => this.gone(x));
    this.all.add(c);
    return c;
  }

  private release(c: Connection): void {
    const q = this.queue.shift();
    if (q) c.send(q.head, q.body, q.cb);
    else this.idle.push(c);
  }

  private gone(c: Connection): void {
    this.all.delete(c);
    // A queued request gets a fresh connection in the closed one's place.
    if (this.queue.length && this.all.size < this.maxSockets) {
      const q = this.queue.shift()!;
      const fresh = this.take()!;
      fresh.send(q.head, q.body, q.cb);
    }
  }
}

function serializeHead(r: RawRequest, host: string): string {
  let head = `${r.method} ${r.path} HTTP/1.1\r\nHost: ${host}\r\nConnection: keep-alive\r\n`;
  for (const name in r.headers) {
    const v = r.headers[name]!;
    if (/[\r\n]/.test(name) || /[\r\n]/.test(v)) throw new Error(`header ${JSON.stringify(name)}: line breaks are not allowed`);
    head += `${name}: ${v}\r\n`;
  }
  if (r.body !== undefined) head += `Content-Length: ${Buffer.byteLength(r.body, 'utf8')}\r\n`;
  return head + '\r\n';
}
