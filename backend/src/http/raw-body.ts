// Shopify signs the exact bytes it sends, so signed routes keep the raw body as a string and
// parse JSON themselves after verification. Registered inside a plugin, this parser applies to
// that plugin's routes only (Fastify encapsulation); the admin API keeps the default parser.
import type { FastifyInstance } from 'fastify';

export function useRawBody(app: FastifyInstance): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => done(null, body));
}

export function rawBodyOf(body: unknown): string {
  return typeof body === 'string' ? body : '';
}
