// Merchant controls over what the storefront is served, per shop: excluded products (never
// served, by any arm or fallback), pinned products (served first, in position order, by every
// arm alike so the experiment stays fair), the minimum order history before a logged-in customer
// gets a personal list (below it: related products or popularity), and the attribution window.
// Every change bumps `serve_settings.generation`; servers compare it on each request, so a
// change from the CLI (another process) or the API applies to the next request.
import type { Db } from '../store/db.ts';
import { perConnection } from '../store/per-connection.ts';

export const DEFAULT_MIN_HISTORY_ORDERS = 1;
export const DEFAULT_ATTRIBUTION_DAYS = 7;
export const MAX_PINS = 50;

export type ProductAction = 'exclude' | 'include' | 'pin' | 'unpin';
export const PRODUCT_ACTIONS: readonly ProductAction[] = ['exclude', 'include', 'pin', 'unpin'];

export interface Controls {
  generation: number;
  excluded: ReadonlySet<string>;
  /** Pinned product ids, top first. */
  pinned: readonly string[];
  minHistoryOrders: number;
  attributionDays: number;
}

export interface ControlsView {
  shop: string;
  excluded: string[];
  pinned: { product_id: string; position: number }[];
  min_history_orders: number;
  attribution_days: number;
  generation: number;
  updated_at: string | null;
}

export class ControlError extends Error {
  override name = 'ControlError';
}

function prepare(db: Db) {
  return {
    generation: db.prepare('SELECT generation FROM serve_settings WHERE shop = ?').pluck(),
    settings: db.prepare('SELECT min_history_orders, attribution_days, generation, updated_at FROM serve_settings WHERE shop = ?'),
    // `= +?` in kept statements with ORDER BY: docs/architecture.md, "Statements that stay prepared".
    products: db.prepare('SELECT product_id, action, position FROM serve_product_controls WHERE shop = +? ORDER BY action, position, product_id'),
    bump: db.prepare(`INSERT INTO serve_settings (shop, generation, updated_at) VALUES (?, 1, ?)
      ON CONFLICT (shop) DO UPDATE SET generation = serve_settings.generation + 1, updated_at = excluded.updated_at`),
    upsert: db.prepare(`INSERT INTO serve_product_controls (shop, product_id, action, position, updated_at) VALUES (?, ?, ?, ?, ?)
      ON CONFLICT (shop, product_id) DO UPDATE SET action = excluded.action, position = excluded.position, updated_at = excluded.updated_at`),
    remove: db.prepare('DELETE FROM serve_product_controls WHERE shop = ? AND product_id = ? AND action = ?'),
    current: db.prepare('SELECT action FROM serve_product_controls WHERE shop = ? AND product_id = ?').pluck(),
    pins: db.prepare(`SELECT product_id FROM serve_product_controls WHERE shop = +? AND action = 'pin' ORDER BY position, product_id`).pluck(),
    setPosition: db.prepare(`UPDATE serve_product_controls SET position = ? WHERE shop = ? AND product_id = ?`),
    setSettings: db.prepare(`UPDATE serve_settings SET min_history_orders = coalesce(?, min_history_orders), attribution_days = coalesce(?, attribution_days) WHERE shop = ?`),
  };
}
const stmts = perConnection(prepare);

/** The shop's control generation: 0 when it never had a control set. One primary-key read. */
export function controlsGeneration(db: Db, shop: string): number {
  return (stmts(db).generation.get(shop) as number | undefined) ?? 0;
}

export function loadControls(db: Db, shop: string): Controls {
  const s = stmts(db);
  const row = s.settings.get(shop) as { min_history_orders: number; attribution_days: number; generation: number } | undefined;
  const excluded = new Set<string>();
  const pinned: string[] = [];
  for (const r of s.products.all(shop) as { product_id: string; action: string }[]) (r.action === 'exclude' ? excluded.add(r.product_id) : pinned.push(r.product_id));
  return {
    generation: row?.generation ?? 0,
    excluded,
    pinned,
    minHistoryOrders: row?.min_history_orders ?? DEFAULT_MIN_HISTORY_ORDERS,
    attributionDays: row?.attribution_days ?? DEFAULT_ATTRIBUTION_DAYS,
  };
}

export function showControls(db: Db, shop: string): ControlsView {
  const s = stmts(db);
  const row = s.settings.get(shop) as { min_history_orders: number; attribution_days: number; generation: number; updated_at: string } | undefined;
  const rows = s.products.all(shop) as { product_id: string; action: string; position: number | null }[];
  return {
    shop,
    excluded: rows.filter((r) => r.action === 'exclude').map((r) => r.product_id).sort(),
    pinned: rows.filter((r) => r.action === 'pin').map((r, i) => ({ product_id: r.product_id, position: i + 1 })),
    min_history_orders: row?.min_history_orders ?? DEFAULT_MIN_HISTORY_ORDERS,
    attribution_days: row?.attribution_days ?? DEFAULT_ATTRIBUTION_DAYS,
    generation: row?.generation ?? 0,
    updated_at: row?.updated_at ?? null,
  };
}

export function isProductId(id: unknown): id is string {
  return typeof id === 'string' && /^\d{1,20}$/.test(id);
}

/**
 * exclude: never served (removes a pin); include: undoes exclude; pin: served first, at
 * `position` (1 = top; default: after the other pins; removes an exclusion); unpin: undoes pin.
 * Must run in a transaction (the caller's, or the group writer's). Returns the view after.
 */
export function setProductControl(db: Db, shop: string, productId: string, action: ProductAction, now: string, position?: number): ControlsView {
  if (!isProductId(productId)) throw new ControlError('product id must be a Shopify product id (digits)');
  const s = stmts(db);
  s.bump.run(shop, now);
  if (action === 'exclude') s.upsert.run(shop, productId, 'exclude', null, now);
  else if (action === 'include') s.remove.run(shop, productId, 'exclude');
  else if (action === 'unpin') s.remove.run(shop, productId, 'pin');
  else {
    const pins = (s.pins.all(shop) as string[]).filter((p) => p !== productId);
    if (pins.length >= MAX_PINS) throw new ControlError(`at most ${MAX_PINS} pinned products`);
    const at = position === undefined ? pins.length : Math.max(0, Math.min(pins.length, Math.trunc(position) - 1));
    pins.splice(at, 0, productId);
    s.upsert.run(shop, productId, 'pin', at + 1, now);
    pins.forEach((p, i) => s.setPosition.run(i + 1, shop, p));
  }
  return showControls(db, shop);
}

export function setServeSettings(db: Db, shop: string, settings: { minHistoryOrders?: number; attributionDays?: number }, now: string): ControlsView {
  const { minHistoryOrders: m, attributionDays: d } = settings;
  if (m !== undefined && !(Number.isInteger(m) && m >= 0 && m <= 1000)) throw new ControlError('min history must be a whole number of orders from 0 to 1000');
  if (d !== undefined && !(Number.isInteger(d) && d >= 1 && d <= 90)) throw new ControlError('attribution window must be a whole number of days from 1 to 90');
  const s = stmts(db);
  s.bump.run(shop, now);
  s.setSettings.run(m ?? null, d ?? null, shop);
  return showControls(db, shop);
}

/** The attribution window of a shop, in days (a primary-key read). */
export function attributionDays(db: Db, shop: string): number {
  const row = stmts(db).settings.get(shop) as { attribution_days: number } | undefined;
  return row?.attribution_days ?? DEFAULT_ATTRIBUTION_DAYS;
}
