// A simulated store's order history as cleaned sales, through the real path: Shopify's webhook
// JSON (simulator) → normalizeOrder → the one cleaning step. Model tests learn from exactly what
// production would store and clean.
import { cleanOrders, type CleanData } from '../../backend/src/features/clean.ts';
import { normalizeOrder } from '../../backend/src/ingest/normalize-rest.ts';
import { createKeys, type Keys } from '../../backend/src/keys.ts';
import { recordEvent } from '../../backend/src/ingest/record.ts';
import type { Db } from '../../backend/src/store/db.ts';
import { orderPayload } from '../../simulator/rest-payloads.ts';
import type { SimStore } from '../../simulator/types.ts';

const keys = createKeys('test-helper-sim-data-key-0123456789');

export function simCleanData(store: SimStore): CleanData {
  return cleanOrders(store.orders.map((o) => normalizeOrder(orderPayload(o, store), store.shop, keys)));
}

/** Stores a simulated store's history through recordEvent, as webhooks would have, in one transaction. */
export function recordSimOrders(db: Db, store: SimStore, k: Keys = keys): void {
  db.transaction(() => {
    for (const o of store.orders) {
      recordEvent(db, k, {
        shop: store.shop, topic: 'orders/create', source: 'webhook', sourceId: `w-${o.id}`, receivedAt: o.createdAt, payloadSha256: 'x',
        event: { type: 'order', order: normalizeOrder(orderPayload(o, store), store.shop, k) },
      });
    }
  })();
}
