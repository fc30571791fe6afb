// A shop the dashboard has something to show for, built through the real parts: a simulated
// store's products, stock and orders stored as their webhooks would have been (recordEvent), all
// four model kinds trained in worker threads (quality gate, registry, promotion gate), a second
// recommend version as challenger, and a canary experiment with exposures, attributed
// conversions and serving counts recorded day by day through rollout/experiments.ts, and drift
// reports from the real monitor (monitor/monitor.ts) over the orders that came after training.
import type { Db } from '../../backend/src/store/db.ts';
import type { Keys } from '../../backend/src/keys.ts';
import { recordEvent } from '../../backend/src/ingest/record.ts';
import { normalizeInventoryLevel, normalizeOrder, normalizeProduct } from '../../backend/src/ingest/normalize-rest.ts';
import { trainShop } from '../../backend/src/models/train-pipeline.ts';
import { getAlias, promote } from '../../backend/src/registry/aliases.ts';
import { armsFor, recordConversion, recordExposure, recordServing, servingCounts, startExperiment } from '../../backend/src/rollout/experiments.ts';
import { createPrng } from '../../backend/src/ml/prng.ts';
import { latestOrderTime } from '../../backend/src/features/load.ts';
import { monitorShop } from '../../backend/src/monitor/monitor.ts';
import { generateStore } from '../../simulator/store.ts';
import { inventoryLevelPayload, orderPayload, productPayload } from '../../simulator/rest-payloads.ts';
import type { SimStore } from '../../simulator/types.ts';

const DAY = 86_400_000;

export function storeFor(shop: string, seed: number): SimStore {
  return generateStore({ seed, shop, customers: 160, products: 30, days: 240 });
}

/** Products, stock (a few nearly sold out, so stock-outs are predicted) and orders, as webhooks store them. */
export function recordStore(db: Db, keys: Keys, store: SimStore): void {
  const shop = store.shop;
  db.transaction(() => {
    for (const p of store.products) {
      recordEvent(db, keys, { shop, topic: 'products/create', source: 'webhook', sourceId: `p-${p.id}`, receivedAt: p.createdAt, payloadSha256: 'x', event: { type: 'product', product: normalizeProduct(productPayload(p, store)) } });
    }
    store.products.forEach((p, i) => {
      for (const v of p.variants) {
        const available = i % 3 === 0 ? 2 : v.inventoryQuantity;
        const payload = inventoryLevelPayload({ inventoryItemId: v.inventoryItemId, locationId: store.locationId ?? 1, available, updatedAt: p.updatedAt });
        recordEvent(db, keys, { shop, topic: 'inventory_levels/update', source: 'webhook', sourceId: `i-${v.inventoryItemId}`, receivedAt: p.updatedAt, payloadSha256: 'x', event: { type: 'inventory', level: normalizeInventoryLevel(payload) } });
      }
    });
    for (const o of store.orders) {
      recordEvent(db, keys, { shop, topic: 'orders/create', source: 'webhook', sourceId: `o-${o.id}`, receivedAt: o.createdAt, payloadSha256: 'x', event: { type: 'order', order: normalizeOrder(orderPayload(o, store), shop, keys) } });
    }
  })();
}

export interface TrainedShop {
  shop: string;
  store: SimStore;
  champion: Record<string, string>;
  challenger: string | null;
  experimentId: number | null;
  /** Monitor report ids, oldest first. */
  monitorReports: number[];
}

/**
 * Trains every kind (seed 1) — as of `holdBackDays` before the newest order when given, so the
 * orders after it are new data for the monitor, which then reports twice (halfway, and after the
 * newest order) — then recommend again (seed 2) as the challenger, and, with `experiment`, runs
 * a canary for `days` days: `unitsPerDay` anonymous units split by the experiment's real
 * bucketing, converting at the given rates per variant.
 */
export async function trainedShop(db: Db, keys: Keys, o: {
  shop: string; seed: number; artifactsDir: string; now: Date; holdBackDays?: number;
  experiment?: { days: number; unitsPerDay: number; rates: Record<'holdout' | 'champion' | 'challenger', number>; holdoutPct?: number; challengerPct?: number };
}): Promise<TrainedShop> {
  const store = storeFor(o.shop, o.seed);
  recordStore(db, keys, store);
  const newest = Date.parse(latestOrderTime(db, o.shop)!);
  const asOf = o.holdBackDays ? new Date(newest - o.holdBackDays * DAY).toISOString() : undefined;
  const first = await trainShop({ db, shop: o.shop, kinds: ['recommend', 'segment', 'churn', 'forecast'], seed: 1, artifactsDir: o.artifactsDir, asOf });
  for (const r of first.runs) if (r.status !== 'succeeded') throw new Error(`training ${r.kind} failed: ${r.error}`);
  const champion = Object.fromEntries(first.runs.map((r) => [r.kind, r.version!]));
  const monitorReports: number[] = [];
  if (o.holdBackDays) {
    for (const at of [newest - (o.holdBackDays / 2) * DAY, newest + 1]) {
      const id = monitorShop(db, o.shop, at, { artifactsDir: o.artifactsDir }).id;
      if (id !== null) monitorReports.push(id);
    }
  }
  if (!o.experiment) return { shop: o.shop, store, champion, challenger: null, experimentId: null, monitorReports };

  const second = await trainShop({ db, shop: o.shop, kinds: ['recommend'], seed: 2, artifactsDir: o.artifactsDir, asOf });
  const challenger = second.runs[0]!.version!;
  if (challenger === champion.recommend) throw new Error('the second recommend run produced the same bytes');
  if (getAlias(db, o.shop, 'recommend', 'challenger') !== challenger) {
    promote(db, { shop: o.shop, kind: 'recommend', version: challenger, to: 'challenger', reason: 'dashboard fixture', actor: 'test' });
  }
  const e = o.experiment;
  // Day-aligned (UTC midnight), so the canary covers exactly `days` calendar days whatever the time of day.
  const start = new Date(Math.floor((o.now.getTime() - e.days * DAY) / DAY) * DAY);
  const experimentId = startExperiment(db, {
    shop: o.shop, kind: 'recommend', championVersion: champion.recommend!, challengerVersion: challenger,
    holdoutPct: e.holdoutPct ?? 10, challengerPct: e.challengerPct ?? 30, at: start, actor: 'test',
  }).id;
  const arms = armsFor(db, o.shop, 'recommend').variantOf;
  const rng = createPrng(`dashboard-fixture-${o.seed}`);
  db.transaction(() => {
    let unit = 0;
    for (let d = 0; d < e.days; d++) {
      const dayStart = start.getTime() + d * DAY;
      const latencies: Record<string, number[]> = { holdout: [], champion: [], challenger: [] };
      for (let i = 0; i < e.unitsPerDay; i++) {
        const u = `anon-${o.seed}-${unit++}`;
        const variant = arms(u) as 'holdout' | 'champion' | 'challenger';
        const at = new Date(dayStart + (i / e.unitsPerDay) * DAY * 0.9);
        recordExposure(db, o.shop, experimentId, u, variant, at, null);
        latencies[variant]!.push(5 + rng.next() * 20);
        if (rng.next() < e.rates[variant]) {
          recordConversion(db, o.shop, experimentId, u, variant, Math.round((20 + rng.next() * 60) * 100) / 100, new Date(at.getTime() + 3_600_000), `ord-${o.seed}-${unit}`);
        }
      }
      for (const [v, l] of Object.entries(latencies)) recordServing(db, o.shop, experimentId, v as 'holdout', servingCounts(l), new Date(dayStart + DAY / 2));
    }
  })();
  return { shop: o.shop, store, champion, challenger, experimentId, monitorReports };
}
