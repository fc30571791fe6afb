// The serving catalog's refresh reads only the events appended since the last one: with a large
// event log and orders streaming in, a refresh (once per event-loop turn in the server) must not
// cost a walk over every event the shop ever had (test/reliability/load.test.ts found that it did).
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDb } from '../../backend/src/store/db.ts';
import { createKeys } from '../../backend/src/keys.ts';
import { recordEvent } from '../../backend/src/ingest/record.ts';
import { normalizeProduct } from '../../backend/src/ingest/normalize-rest.ts';
import { Catalog } from '../../backend/src/serve/catalog.ts';
import { generateStore } from '../../simulator/store.ts';
import { productPayload } from '../../simulator/rest-payloads.ts';

const SHOP = 'catalog-refresh.myshopify.com';
const dir = mkdtempSync(join(tmpdir(), 'shopml-catalog-refresh-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('Catalog.refresh', () => {
  it('picks up a new product event and costs the new events only, however long the log', () => {
    const db = openDb(join(dir, 'shopml.db'));
    const keys = createKeys('k'.repeat(48));
    const store = generateStore({ seed: 3, shop: SHOP, products: 20, customers: 10, days: 30 });
    const [first, second] = store.products;
    const productEvent = (p: typeof first, id: string) => recordEvent(db, keys, {
      shop: SHOP, topic: 'products/update', source: 'webhook', sourceId: id, receivedAt: p!.updatedAt, payloadSha256: 'x',
      event: { type: 'product', product: normalizeProduct(productPayload(p!, store)) },
    });
    productEvent(first, 'p-1');
    // A long event log of this shop: 60,000 order events (rows as the ingest path writes them).
    const insert = db.prepare(`INSERT INTO events (shop, topic, source, source_id, received_at, outcome, payload_sha256, payload)
      VALUES (?, 'orders/create', 'webhook', ?, '2026-01-01T00:00:00Z', 'applied', 'x', '{"type":"order"}')`);
    db.transaction(() => { for (let i = 0; i < 60_000; i++) insert.run(SHOP, `o-${i}`); })();

    const catalog = new Catalog(SHOP);
    catalog.load(db, Date.now());
    expect(catalog.size).toBe(1);

    // 300 refreshes, each after one more order event (what a request sees while webhooks stream in).
    let ms = 0;
    for (let i = 0; i < 300; i++) {
      insert.run(SHOP, `o-new-${i}`);
      const t0 = performance.now();
      catalog.refresh(db);
      ms += performance.now() - t0;
    }
    // Measured: 300 refreshes ≈ 15 ms reading only the new event, ≈ 1.3 s walking the shop's 60,000 events each time.
    expect(ms).toBeLessThan(300);

    const version = catalog.version;
    productEvent(second, 'p-2');
    catalog.refresh(db);
    expect(catalog.size).toBe(2);
    expect(catalog.version).toBe(version + 1);
    expect(catalog.product(String(second!.id)).title).toBe(second!.title);
    db.close();
  });
});
