// A subset of Shopify's search syntax for `orders(query:)` and `products(query:)`:
// space-separated terms, all of which must match (AND), `-term` negates. Supported fields, orders:
// created_at, updated_at, processed_at (comparators > >= < <= and date-only equality meaning that
// UTC day), financial_status, test, customer_id, id, name; products: created_at, updated_at, id,
// status, product_type, vendor, tag. Unknown fields are ignored, as Shopify ignores them (with a
// warning).
import type { SimOrder, SimProduct } from './types.ts';

type Pred<T = SimOrder> = (o: T) => boolean;

function tokens(q: string): string[] {
  return q.match(/-?[\w.]+:(?:[<>]=?|=)?(?:'[^']*'|"[^"]*"|\S+)|\S+/g) ?? [];
}

function unquote(v: string): string {
  return /^(['"]).*\1$/.test(v) ? v.slice(1, -1) : v;
}

function timePred<T>(get: (o: T) => string | null, op: string, raw: string): Pred<T> | null {
  const dateOnly = /^\d{4}-\d{2}-\d{2}$/.test(raw);
  const t = raw === 'now' ? Date.now() : Date.parse(dateOnly ? `${raw}T00:00:00Z` : raw);
  if (!Number.isFinite(t)) return null;
  const dayEnd = t + 86_400_000;
  return (o) => {
    const v = get(o);
    if (!v) return false;
    const x = Date.parse(v);
    switch (op) {
      case '>': return dateOnly ? x >= dayEnd : x > t;
      case '>=': return x >= t;
      case '<': return x < t;
      case '<=': return dateOnly ? x < dayEnd : x <= t;
      default: return dateOnly ? x >= t && x < dayEnd : x === t;
    }
  };
}

function numPred<T>(get: (o: T) => number | null, op: string, raw: string): Pred<T> | null {
  const n = Number(raw.replace(/^gid:\/\/shopify\/\w+\//, ''));
  if (!Number.isFinite(n)) return null;
  return (o) => {
    const v = get(o);
    if (v === null) return false;
    return op === '>' ? v > n : op === '>=' ? v >= n : op === '<' ? v < n : op === '<=' ? v <= n : v === n;
  };
}

function termPred(term: string): Pred | null {
  const m = /^([\w.]+):([<>]=?|=)?(.*)$/.exec(term);
  if (!m) return null; // free text: not supported, ignored
  const [, field, op = '=', rawValue] = m as unknown as [string, string, string | undefined, string];
  const value = unquote(rawValue);
  switch (field) {
    case 'created_at': return timePred((o) => o.createdAt, op, value);
    case 'updated_at': return timePred((o) => o.updatedAt, op, value);
    case 'processed_at': return timePred((o) => o.processedAt, op, value);
    case 'financial_status': return (o) => value.split(',').some((v) => v.toLowerCase() === o.financialStatus);
    case 'test': return (o) => String(o.test) === value.toLowerCase();
    case 'customer_id': return numPred((o) => o.customerId, op, value);
    case 'id': return numPred((o) => o.id, op, value);
    case 'name': return (o) => o.name.replace(/^#/, '') === value.replace(/^#/, '');
    default: return null;
  }
}

function filter<T>(query: string | null | undefined, term: (t: string) => Pred<T> | null): Pred<T> {
  if (!query || !query.trim()) return () => true;
  const preds: Pred<T>[] = [];
  for (const t of tokens(query)) {
    if (t === 'AND') continue;
    const negate = t.startsWith('-');
    const p = term(negate ? t.slice(1) : t);
    if (p) preds.push(negate ? (o) => !p(o) : p);
  }
  return (o) => preds.every((p) => p(o));
}

export function orderFilter(query: string | null | undefined): Pred {
  return filter(query, termPred);
}

function productTermPred(term: string): Pred<SimProduct> | null {
  const m = /^([\w.]+):([<>]=?|=)?(.*)$/.exec(term);
  if (!m) return null;
  const [, field, op = '=', rawValue] = m as unknown as [string, string, string | undefined, string];
  const value = unquote(rawValue);
  const oneOf = (v: string) => value.split(',').some((x) => x.trim().toLowerCase() === v.toLowerCase());
  switch (field) {
    case 'created_at': return timePred((p: SimProduct) => p.createdAt, op, value);
    case 'updated_at': return timePred((p: SimProduct) => p.updatedAt, op, value);
    case 'id': return numPred((p: SimProduct) => p.id, op, value);
    case 'status': return (p) => oneOf(p.status);
    case 'product_type': return (p) => oneOf(p.productType);
    case 'vendor': return (p) => oneOf(p.vendor);
    case 'tag': return (p) => p.tags.some((t) => t.toLowerCase() === value.toLowerCase());
    default: return null;
  }
}

export function productFilter(query: string | null | undefined): Pred<SimProduct> {
  return filter(query, productTermPred);
}
