// The app's webhook subscriptions as Shopify holds them after `shopify app deploy`: read from
// shopify.app.toml's [[webhooks.subscriptions]] tables. Shopify sends a subscription's topic only
// the fields named in its `include_fields` — top-level names, or nested ones with a period
// (`line_items.product_id`: that field of every line item) — and the whole payload when a
// subscription names none. The simulator shapes its deliveries the same way, so the demo, the
// tests and the load generator send what shopml receives in production. The reader handles the
// subset of TOML the file uses for these tables (strings and one-line arrays of strings) and
// refuses anything else inside them.
import { readFileSync } from 'node:fs';

export interface WebhookSubscription {
  topics: string[];
  uri: string | null;
  /** null: every field. */
  includeFields: string[] | null;
}

const APP_TOML = new URL('../shopify.app.toml', import.meta.url);

/** The [[webhooks.subscriptions]] tables of an app toml (compliance topics count as topics). */
export function readSubscriptions(text: string, file = 'shopify.app.toml'): WebhookSubscription[] {
  const out: WebhookSubscription[] = [];
  let current: WebhookSubscription | null = null;
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    if (line.startsWith('[')) {
      current = line === '[[webhooks.subscriptions]]' ? { topics: [], uri: null, includeFields: null } : null;
      if (current) out.push(current);
      return;
    }
    if (!current) return;
    const m = /^([A-Za-z_]+)\s*=\s*(.+)$/.exec(line);
    if (!m) throw new Error(`${file}:${i + 1}: unsupported line ${JSON.stringify(raw)}`);
    let value: unknown;
    try {
      value = JSON.parse(m[2]!);
    } catch {
      throw new Error(`${file}:${i + 1}: unsupported value ${m[2]}`);
    }
    const strings = (): string[] => {
      if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) throw new Error(`${file}:${i + 1}: ${m[1]} must be an array of strings`);
      return value as string[];
    };
    const sub: WebhookSubscription = current;
    if (m[1] === 'topics' || m[1] === 'compliance_topics') sub.topics.push(...strings());
    else if (m[1] === 'include_fields') sub.includeFields = strings();
    else if (m[1] === 'uri' && typeof value === 'string') sub.uri = value;
    else if (m[1] !== 'filter' && m[1] !== 'name') throw new Error(`${file}:${i + 1}: unsupported key ${m[1]}`);
  });
  return out;
}

let cached: Map<string, string[] | null> | null = null;

/** Topic → include_fields of the app's own shopify.app.toml (null: every field); read once. */
export function appIncludeFields(): Map<string, string[] | null> {
  if (!cached) {
    cached = new Map();
    for (const s of readSubscriptions(readFileSync(APP_TOML, 'utf8'))) for (const t of s.topics) cached.set(t, s.includeFields);
  }
  return cached;
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/**
 * The payload as Shopify sends it to a subscription with these include_fields: only the named
 * fields (a nested name keeps that field of the object, or of every object in the array, under
 * its parent). Fields the payload lacks stay absent; a parent that is null stays null.
 */
export function shapePayload(payload: unknown, includeFields: readonly string[] | null): unknown {
  if (includeFields === null || payload === null || typeof payload !== 'object' || Array.isArray(payload)) return payload;
  return pick(payload as Json, pathTree(includeFields));
}

type PathTree = Map<string, PathTree>;
const trees = new WeakMap<readonly string[], PathTree>();

/** The field names as a tree of their parts (kept per list: every delivery of a topic shares one). */
function pathTree(includeFields: readonly string[]): PathTree {
  let tree = trees.get(includeFields);
  if (tree) return tree;
  tree = new Map();
  for (const f of includeFields) {
    let node = tree;
    for (const part of f.split('.')) {
      let next = node.get(part);
      if (next === undefined) node.set(part, (next = new Map()));
      node = next;
    }
  }
  trees.set(includeFields, tree);
  return tree;
}

function pick(value: Json, tree: PathTree): Json {
  if (tree.size === 0 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => pick(v, tree));
  const out: { [k: string]: Json } = {};
  for (const [key, sub] of tree) if (Object.hasOwn(value, key)) out[key] = pick(value[key]!, sub);
  return out;
}

/** What Shopify would deliver for `topic` under the app's subscriptions (the whole payload for a topic they do not shape). */
export function deliveredPayload(topic: string, payload: unknown): unknown {
  return shapePayload(payload, appIncludeFields().get(topic) ?? null);
}
