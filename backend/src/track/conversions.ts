// Conversions: order lines attributed to a recommendation, from `orders/create`, inside the
// webhook's transaction. A product line is attributed when
//
//   1. it carries the line-item property `_shopml_rec` (REC_PROPERTY) — the rec_id of the list
//      the product was added to the cart from; the block adds it on add to cart — and that
//      rec_id is authentic (signed by us) and was issued within the attribution window before
//      the order; or else
//   2. the order's customer is logged in and, within the window before the order, was shown the
//      product in a recommended list (impression) or clicked it there: the latest click wins,
//      else the latest impression.
//
// The arm and model version come from the signed rec_id, never from what the storefront says.
// Each attributed line is stored in `rec_conversions` (revenue = price × quantity, in the
// order's currency); then, per (unit, arm, version), the ConversionSink is called in the same
// transaction — that is where the rollout engine's `recordConversion` plugs in.
//
// Cheap by construction: an order with neither the property nor a customer costs nothing; a
// customer's order costs one primary-key read and one indexed range read. Whatever fails here
// is rolled back to a savepoint and never fails the webhook.
import type { Db } from '../store/db.ts';
import { perConnection } from '../store/per-connection.ts';
import type { Keys } from '../keys.ts';
import type { NormalizedOrder } from '../ingest/types.ts';
import { attributionDays } from '../serve/controls.ts';
import { createRecIds } from '../serve/rec-id.ts';
import type { RecIds, ServedVariant } from '../serve/rec-id.ts';
import { rolloutConversionSink } from '../serve/wiring.ts';

export const REC_PROPERTY = '_shopml_rec';
const DAY_MS = 86_400_000;
/** A rec_id issued up to this long after the order's timestamp still counts (clock skew). */
const SKEW_MS = 5 * 60_000;

export interface Conversion {
  shop: string;
  orderId: string;
  /** The unit the list was served to (logged-in customer id or the block's anonymous id), if known. */
  unit: string | null;
  customerId: string | null;
  variant: ServedVariant;
  version: string | null;
  /** The live experiment when the list was served (from the signed rec_id), or null. */
  experiment: number | null;
  /** Attributed revenue: Σ price × quantity of the attributed lines. */
  revenue: number;
  currency: string | null;
  lines: number;
  /** The order's creation time (ISO). */
  at: string;
}

/** Called inside the webhook's transaction, synchronously, once per (unit, arm, version) of an order. */
export interface ConversionSink {
  record(db: Db, c: Conversion): void;
}

const sinks = new WeakMap<Db, ConversionSink | null>();

/**
 * Sets the sink conversions recorded through this database handle are reported to (null: none;
 * undefined: back to the default, the rollout engine's recordConversion). Per handle, so it
 * applies where that handle writes webhooks (the main connection's group writer); the webhook
 * writer thread has its own handle and always uses the default.
 */
export function useConversionSink(db: Db, sink: ConversionSink | null | undefined): void {
  if (sink === undefined) sinks.delete(db);
  else sinks.set(db, sink);
}

const recIdsByKeys = new WeakMap<Keys, RecIds>();
function recIdsFor(keys: Keys): RecIds {
  let r = recIdsByKeys.get(keys);
  if (!r) recIdsByKeys.set(keys, (r = createRecIds(keys)));
  return r;
}

/** line item id → `_shopml_rec` value, from Shopify's order JSON (properties: [{name, value}]). */
export function recProperties(payload: Record<string, unknown>): Map<string, string> {
  const out = new Map<string, string>();
  const items = payload.line_items;
  if (!Array.isArray(items)) return out;
  for (const li of items as { id?: unknown; properties?: unknown }[]) {
    if (!Array.isArray(li?.properties) || li.properties.length === 0) continue;
    for (const p of li.properties as { name?: unknown; value?: unknown }[]) {
      if (p?.name === REC_PROPERTY && typeof p.value === 'string' && li.id !== undefined) out.set(String(li.id), p.value);
    }
  }
  return out;
}

interface EventRow { rec_id: string; type: string; product_id: string | null; product_ids: string | null; variant: string; model_version: string | null; experiment_id: number | null; occurred_at: string }

function prepare(db: Db) {
  return {
    unitOfRec: db.prepare('SELECT unit FROM storefront_events INDEXED BY storefront_events_rec WHERE shop = ? AND rec_id = ? AND unit IS NOT NULL LIMIT 1').pluck(), // not every event of the shop
    // `= +?`: one statement per webhook, kept prepared (docs/architecture.md, "Statements that stay prepared").
    shownTo: db.prepare(`SELECT rec_id, type, product_id, product_ids, variant, model_version, experiment_id, occurred_at FROM storefront_events
      WHERE shop = +? AND unit = +? AND occurred_at >= ? AND occurred_at <= ? AND variant IS NOT NULL AND rec_id IS NOT NULL
      ORDER BY occurred_at DESC LIMIT 2000`),
    insert: db.prepare(`INSERT OR IGNORE INTO rec_conversions (shop, order_id, line_id, product_id, unit, customer_id, variant, model_version, experiment_id, rec_id, method, revenue, currency, ordered_at, recommended_at)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
  };
}
const stmts = perConnection(prepare);

interface Attribution { lineId: string; productId: string; revenue: number; unit: string | null; variant: ServedVariant; version: string | null; experiment: number | null; recId: string; method: 'property' | 'window'; recommendedAt: string }

function attributions(db: Db, keys: Keys, shop: string, props: Map<string, string>, order: NormalizedOrder): Attribution[] {
  const lines = order.lines.filter((l) => l.lineKind === 'product' && l.productId !== null && l.quantity > 0);
  if (lines.length === 0) return [];
  const s = stmts(db);
  const orderAt = Date.parse(order.createdAt);
  const from = orderAt - attributionDays(db, shop) * DAY_MS;
  const out: Attribution[] = [];
  const rest: typeof lines = [];

  const recIds = props.size > 0 ? recIdsFor(keys) : null;
  for (const l of lines) {
    const recId = props.get(l.id);
    const info = recId && recIds ? recIds.parse(shop, recId) : null;
    if (!recId || !info || info.issuedAt < from || info.issuedAt > orderAt + SKEW_MS) {
      rest.push(l);
      continue;
    }
    const unit = (s.unitOfRec.get(shop, recId) as string | undefined) ?? order.customerId;
    out.push({ lineId: l.id, productId: l.productId!, revenue: l.price * l.quantity, unit, variant: info.variant, version: info.version, experiment: info.experiment, recId, method: 'property', recommendedAt: new Date(info.issuedAt).toISOString() });
  }

  if (rest.length > 0 && order.customerId !== null) {
    const wanted = new Set(rest.map((l) => l.productId!));
    // Latest click on the product, else its latest impression (rows come newest first).
    const best = new Map<string, EventRow>();
    for (const e of s.shownTo.all(shop, order.customerId, new Date(from).toISOString(), new Date(orderAt + SKEW_MS).toISOString()) as EventRow[]) {
      const products = e.product_ids ? e.product_ids.split(',') : e.product_id ? [e.product_id] : [];
      for (const p of products) {
        if (!wanted.has(p)) continue;
        const had = best.get(p);
        if (!had || (had.type !== 'click' && e.type === 'click')) best.set(p, e);
      }
    }
    for (const l of rest) {
      const e = best.get(l.productId!);
      if (!e) continue;
      out.push({ lineId: l.id, productId: l.productId!, revenue: l.price * l.quantity, unit: order.customerId, variant: e.variant as ServedVariant, version: e.model_version, experiment: e.experiment_id, recId: e.rec_id, method: 'window', recommendedAt: e.occurred_at });
    }
  }
  return out;
}

/**
 * Attributes an order's lines (call inside the transaction that records `orders/create`).
 * Returns the number of lines newly attributed. Never throws.
 */
export function attributeOrder(db: Db, keys: Keys, shop: string, payload: Record<string, unknown>, order: NormalizedOrder): number {
  if (order.test || order.cancelledAt !== null || order.kind !== 'order') return 0;
  try {
    const props = recProperties(payload);
    if (props.size === 0 && order.customerId === null) return 0;
    const found = attributions(db, keys, shop, props, order); // reads only
    if (found.length === 0) return 0;
    // A savepoint: a failure here undoes only the attribution, never the order.
    return db.transaction(() => {
      const s = stmts(db);
      const groups = new Map<string, Conversion>();
      let stored = 0;
      for (const a of found) {
        if (s.insert.run(shop, order.id, a.lineId, a.productId, a.unit, order.customerId, a.variant, a.version, a.experiment, a.recId, a.method, a.revenue, order.currency, order.createdAt, a.recommendedAt).changes === 0) continue;
        stored++;
        const key = `${a.unit ?? ''}\u0000${a.variant}\u0000${a.version ?? ''}\u0000${a.experiment ?? ''}`;
        const g = groups.get(key);
        if (g) {
          g.revenue += a.revenue;
          g.lines++;
        } else {
          groups.set(key, { shop, orderId: order.id, unit: a.unit, customerId: order.customerId, variant: a.variant, version: a.version, experiment: a.experiment, revenue: a.revenue, currency: order.currency, lines: 1, at: order.createdAt });
        }
      }
      const sink = sinks.has(db) ? sinks.get(db) : rolloutConversionSink;
      if (sink) {
        for (const c of groups.values()) {
          try {
            db.transaction(() => sink.record(db, c))();
          } catch {
            // The sink's failure (an experiment deleted meanwhile…) keeps our attribution rows.
          }
        }
      }
      return stored;
    })();
  } catch {
    return 0;
  }
}

export interface VariantAttribution {
  variant: string;
  currency: string | null;
  orders: number;
  lines: number;
  revenue: number;
}

/** Attributed orders, lines and revenue per arm (and currency), optionally from an ISO time on. */
export function attributionSummary(db: Db, shop: string, opts: { since?: string } = {}): VariantAttribution[] {
  return db.prepare(`SELECT variant, currency, count(DISTINCT order_id) AS orders, count(*) AS lines, round(sum(revenue), 2) AS revenue
    FROM rec_conversions WHERE shop = ? AND ordered_at >= ? GROUP BY variant, currency ORDER BY variant, currency`).all(shop, opts.since ?? '') as VariantAttribution[];
}
