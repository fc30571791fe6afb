// Shopify signs the exact bytes it sends, so signed routes keep the raw body as bytes, verify the
// signature over those bytes, and only then decode (UTF-8, strictly) and parse JSON themselves.
// Registered inside a plugin, this parser applies to that plugin's routes only (Fastify
// encapsulation); the admin API keeps the strict JSON parser of app.ts.
import { isUtf8 } from 'node:buffer';
import type { FastifyInstance } from 'fastify';

const EMPTY = Buffer.alloc(0);

export function useRawBody(app: FastifyInstance): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
}

/** The body exactly as received (empty when there was none). */
export function rawBytesOf(body: unknown): Buffer {
  return Buffer.isBuffer(body) ? body : typeof body === 'string' ? Buffer.from(body, 'utf8') : EMPTY;
}

/** The body as text, or null when its bytes are not valid UTF-8 (a different answer than "not JSON"). */
export function utf8Of(bytes: Buffer): string | null {
  return isUtf8(bytes) ? bytes.toString('utf8') : null;
}

