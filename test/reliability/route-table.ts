// Fastify's route table as "METHOD /path" strings (HEAD left out: it runs the GET handler), read
// from printRoutes, so the reliability tests can check they reach every route the server has.
import type { FastifyInstance } from 'fastify';

export function routeTable(app: FastifyInstance): Set<string> {
  const out = new Set<string>();
  const stack: string[] = [];
  for (const line of app.printRoutes({ commonPrefix: false }).split('\n')) {
    const m = /^([│├└─\s]*)(\S+) \(([^)]+)\)/.exec(line);
    if (!m) continue;
    const depth = m[1]!.length / 4;
    const parent = depth > 1 ? stack[depth - 2]! : '';
    const seg = m[2]!;
    const path = depth === 1 ? seg : parent.endsWith('/') || seg.startsWith('/') ? parent + seg : `${parent}/${seg}`;
    stack[depth - 1] = path;
    for (const method of m[3]!.split(', ')) if (method !== 'HEAD') out.add(`${method} ${path}`);
  }
  // printRoutes shows the admin API's CORS preflight route ('/api/v1/*') as a bare '*' under the root.
  if (out.delete('OPTIONS /*')) {
    if (!app.hasRoute({ method: 'OPTIONS', url: '/api/v1/*' })) throw new Error('an OPTIONS wildcard route other than /api/v1/*');
    out.add('OPTIONS /api/v1/*');
  }
  return out;
}

/** The route of the table a concrete request (method, path with query) lands on, if any. */
export function routeOf(table: Set<string>, method: string, path: string): string | null {
  const p = path.split('?')[0]!;
  let wildcard: string | null = null;
  for (const r of table) {
    const [m, pattern] = r.split(' ') as [string, string];
    if (m !== method) continue;
    const re = new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/:[A-Za-z]+/g, '[^/]+').replace(/\*/g, '.*')}$`);
    if (!re.test(p)) continue;
    if (pattern.includes('*')) wildcard ??= r;
    else return r;
  }
  return wildcard;
}
