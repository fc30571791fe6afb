// A simulated shop on a running test backend, as the admin insights see it: products, orders and
// the simulator's stock levels stored through the real ingestion path (normalize → recordEvent),
// installed (an offline token, so session tokens need no token exchange), and — unless told
// otherwise — the four model kinds trained on it (registry champions set by the promotion gate).
import { normalizeInventoryLevel, normalizeOrder, normalizeProduct } from '../../backend/src/ingest/normalize-rest.ts';
import { recordEvent } from '../../backend/src/ingest/record.ts';
import { latestOrderTime } from '../../backend/src/features/load.ts';
import { trainShop, type TrainShopResult } from '../../backend/src/models/train-pipeline.ts';
import { storeOfflineToken } from '../../backend/src/shopify/auth.ts';
import { inventoryLevelPayload, orderPayload, productPayload } from '../../simulator/rest-payloads.ts';
import type { SimStore } from '../../simulator/types.ts';
import type { TestBackend } from './backend.ts';

export interface SeededShop {
  /** The newest stored order's time (the training watermark is 1 ms later). */
  latestOrder: string;
  trained: TrainShopResult | null;
}

export async function seedShop(be: TestBackend, store: SimStore, opts: { train?: boolean; seed?: number } = {}): Promise<SeededShop> {
  const { db, keys } = be.deps;
  const shop = store.shop;
  const asOf = store.asOf;
  if (!asOf) throw new Error('the simulated store has no asOf');
  db.transaction(() => {
    for (const p of store.products) {
      recordEvent(db, keys, { shop, topic: 'products/create', source: 'webhook', sourceId: `p-${p.id}`, receivedAt: p.createdAt, payloadSha256: 'x', event: { type: 'product', product: normalizeProduct(productPayload(p, store)) } });
      for (const v of p.variants) {
        const level = inventoryLevelPayload({ inventoryItemId: v.inventoryItemId, locationId: store.locationId ?? 1, available: v.inventoryQuantity, updatedAt: asOf });
        recordEvent(db, keys, { shop, topic: 'inventory_levels/update', source: 'webhook', sourceId: `i-${v.inventoryItemId}`, receivedAt: asOf, payloadSha256: 'x', event: { type: 'inventory', level: normalizeInventoryLevel(level) } });
      }
    }
    for (const o of store.orders) {
      recordEvent(db, keys, { shop, topic: 'orders/create', source: 'webhook', sourceId: `o-${o.id}`, receivedAt: o.createdAt, payloadSha256: 'x', event: { type: 'order', order: normalizeOrder(orderPayload(o, store), shop, keys) } });
    }
  })();
  storeOfflineToken(db, keys, shop, `offline-token-${shop}`, 'read_orders,read_products,read_inventory', asOf);
  const latestOrder = latestOrderTime(db, shop)!;
  const trained = opts.train === false ? null
    : await trainShop({ db, shop, kinds: ['recommend', 'segment', 'churn', 'forecast'], seed: opts.seed ?? 7, artifactsDir: be.config.artifactsDir });
  if (trained) {
    const failed = trained.runs.filter((r) => r.status !== 'succeeded');
    if (failed.length > 0) throw new Error(`training failed: ${failed.map((r) => `${r.kind}: ${r.error}`).join('; ')}`);
  }
  return { latestOrder, trained };
}
