// The statements that run once per webhook, per storefront request or per tracked event stay
// prepared between calls. SQLite (3.54) marks a statement for re-preparation when its planner
// looked at the value bound to a `column = ?` term it might use as a filter (to see whether it
// is 0 or 1), which it does for many statements with ORDER BY, max() or min(); and
// better-sqlite3 clears the bindings after every call, which expires such a statement — so each
// call parsed and planned it again: 16–28 µs instead of ~1 µs for the conversion lookup of
// every `orders/create`, 14–25 µs for the serving generation of every recommendation.
// Writing the value as `+?` keeps the planner from looking (docs/architecture.md, "Statements
// that stay prepared").
//
// better-sqlite3 does not expose SQLite's re-preparation counter, so this test tells a
// re-preparing statement by its cost: the same statement run with its values passed per call
// (bindings cleared after each, as the app runs it) against a copy bound once for good (never
// cleared, so never re-prepared). Re-preparing costs 10–30 µs on these tables; a statement that
// stays prepared costs the same either way (±1 µs of binding).
import { describe, expect, it } from 'vitest';
import type { Statement } from 'better-sqlite3';
import { useTempDb } from '../helpers/temp-db.ts';
import { placeholderArgs, recordPrepared } from '../helpers/prepared-sql.ts';
import { createKeys } from '../../backend/src/keys.ts';
import type { Db } from '../../backend/src/store/db.ts';
import { applyWebhook } from '../../backend/src/ingest/webhooks.ts';
import { ALL_LOCATIONS, recordEvent } from '../../backend/src/ingest/record.ts';
import { registryResolver, rolloutExposureSink, rolloutServingSink } from '../../backend/src/serve/wiring.ts';
import { customerOrderCount, readPersonalList } from '../../backend/src/serve/recommend.ts';
import { attributionDays, controlsGeneration, loadControls } from '../../backend/src/serve/controls.ts';
import { storeEvents } from '../../backend/src/track/events.ts';
import { createRecIds } from '../../backend/src/serve/rec-id.ts';
import { startExperiment } from '../../backend/src/rollout/experiments.ts';
import { generateStore } from '../../simulator/store.ts';
import { webhookPlan } from '../../simulator/webhook-events.ts';
import { productPayload } from '../../simulator/rest-payloads.ts';

const keys = createKeys('s'.repeat(48));
const t = useTempDb('shopml-stay-prepared-');

/**
 * Runs `drive` twice with `db.prepare` recorded; returns the statements prepared once — those a
 * module keeps (prepared per call, a statement is parsed and planned anyway).
 */
function keptPrepared(db: Db, drive: (round: number) => void): string[] {
  const recorder = recordPrepared(db);
  try {
    drive(0);
    drive(1);
  } finally {
    recorder.stop();
  }
  const times = new Map<string, number>();
  for (const sql of recorder.sqls) times.set(sql, (times.get(sql) ?? 0) + 1);
  return [...times].filter(([, n]) => n === 1).map(([sql]) => sql);
}

/** µs per call, the best of several rounds (a busy machine only ever makes a round slower). */
function perCall(fn: () => void): number {
  let best = Infinity;
  for (let round = 0; round < 7; round++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < 200; i++) fn();
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / 200 / 1000);
  }
  return best;
}

/** Statements (of `sqls` that read with a WHERE) that are parsed and planned again on every call. */
function reprepared(db: Db, sqls: string[]): { sql: string; perCallUs: number; boundUs: number }[] {
  const out: { sql: string; perCallUs: number; boundUs: number }[] = [];
  for (const sql of sqls) {
    if (!/\bWHERE\b/i.test(sql) || /^\s*INSERT\b(?![\s\S]*\bSELECT\b)/i.test(sql)) continue;
    const args = placeholderArgs(sql, 'x');
    const asRun = db.prepare(sql);
    const bound = (db.prepare(sql) as Statement<unknown[]>).bind(...args);
    const call = (s: Statement<unknown[]>, a: unknown[]) => (s.reader ? s.all(...a) : s.run(...a));
    db.exec('SAVEPOINT stay_prepared');
    try {
      const perCallUs = perCall(() => call(asRun, args));
      const boundUs = perCall(() => call(bound, []));
      if (perCallUs - boundUs > 5 && perCallUs > 3 * boundUs) out.push({ sql: sql.replace(/\s+/g, ' ').trim(), perCallUs, boundUs });
    } finally {
      db.exec('ROLLBACK TO stay_prepared');
      db.exec('RELEASE stay_prepared');
    }
  }
  return out;
}

describe('statements kept prepared stay prepared', () => {
  it('every statement of the webhook, serving, tracking and telemetry paths', () => {
    const { db } = t;
    const store = generateStore({ seed: 7, products: 30, customers: 40, days: 60 });
    const shop = store.shop;
    const plan = webhookPlan(store, { seed: 7 });
    const recIds = createRecIds(keys);
    const e = startExperiment(db, { shop, kind: 'recommend', championVersion: 'v1', challengerVersion: 'v2' });
    let resolver: ReturnType<typeof registryResolver> | undefined;
    const sqls = keptPrepared(db, (round) => {
      // Every webhook topic of a live store, through the writer's own function.
      for (let i = 0; i < 80; i++) {
        const w = plan.next().value!;
        db.transaction(() => applyWebhook(db, keys, { shop, topic: w.topic, webhookId: w.webhookId, triggeredAt: w.triggeredAt, receivedAt: w.triggeredAt, rawBody: JSON.stringify(w.payload) }))();
      }
      const product = store.products[0]!;
      db.transaction(() => applyWebhook(db, keys, { shop, topic: 'products/update', webhookId: `p-${round}`, triggeredAt: null, receivedAt: '2026-11-02T00:00:00Z', rawBody: JSON.stringify(productPayload(product, store)) }))();
      // A bulk export's stock total (the one inventory statement a webhook does not reach).
      db.transaction(() => recordEvent(db, keys, {
        shop, topic: 'bulk', source: 'bulk', sourceId: `b-${round}`, receivedAt: '2026-11-02T00:00:00Z', payloadSha256: 'x',
        event: { type: 'inventory', level: { inventoryItemId: String(product.variants[0]!.inventoryItemId), locationId: ALL_LOCATIONS, available: 3, updatedAt: '2026-11-02T00:00:00Z' } },
      }))();
      // Serving: per request (a new generation reloads the shop's controls).
      resolver ??= registryResolver(db); // one per server
      resolver.generation(shop);
      resolver.load(shop);
      controlsGeneration(db, shop);
      attributionDays(db, shop);
      loadControls(db, shop);
      customerOrderCount(db, shop, '1');
      readPersonalList(db, shop, 'v1', '1');
      // Tracking and serving telemetry.
      const recId = recIds.issue(shop, 'champion', 'v1', null, Date.now());
      db.transaction(() => storeEvents(db, recIds, shop, '1', { consent: true, events: [{ id: `event-000${round}`, type: 'impression', product_ids: ['1', '2'], rec_id: recId }] }, Date.now()))();
      rolloutExposureSink.record(db, [{ shop, experiment: e.id, unit: '1', variant: 'champion', version: 'v1', at: new Date().toISOString(), customerId: '1' }]);
      rolloutServingSink.record(db, [{ shop, experiment: e.id, variant: 'champion', requests: 1, errors: 0, latencyMsSum: 1, slowRequests: 0, at: new Date().toISOString() }]);
    });
    // The paths ran, and with them the statements this test is about.
    expect(sqls.some((s) => /FROM storefront_events\s+WHERE shop = \+\? AND unit = \+\?/.test(s))).toBe(true);
    expect(sqls.some((s) => /alias_generations WHERE shop = \+@shop/.test(s))).toBe(true);
    expect(sqls.some((s) => /SELECT max\(updated_at\) FROM inventory/.test(s))).toBe(true);
    expect(reprepared(db, sqls)).toEqual([]);
  });

  it('the check finds a statement that is prepared again on every call', () => {
    const found = reprepared(t.db, [
      `SELECT rec_id, type, product_id, product_ids, variant, model_version, experiment_id, occurred_at FROM storefront_events
        WHERE shop = ? AND unit = ? AND occurred_at >= ? AND occurred_at <= ? AND variant IS NOT NULL AND rec_id IS NOT NULL ORDER BY occurred_at DESC LIMIT 2000`,
      'SELECT max(updated_at) FROM inventory WHERE shop = ? AND inventory_item_id = ?',
    ]);
    expect(found).toHaveLength(2);
  });
});
