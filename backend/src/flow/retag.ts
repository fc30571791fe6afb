// After a retrain: puts every customer's shopml tag in line with the champion segment model, in
// throttled, resumable batches. Customers are visited in customer_id order; only those whose
// wanted tag differs from the tag shopml applied cost Admin API calls (tagsRemove of the old tag,
// tagsAdd of the new). Each batch commits its tag records, published segments and the cursor in
// one transaction, so a crash resumes after the last committed batch (and repeating the
// unfinished batch is harmless: tag changes are idempotent).
//
// The same pass fires "Customer segment changed" for customers whose segment differs from the
// one shopml last published for them — when a workflow listens.
import type { AppDeps } from '../app.ts';
import type { AdminClient } from '../shopify/admin-client.ts';
import { shopAdminClient } from '../shopify/shop-client.ts';
import { CUSTOMER_SEGMENT_CHANGED } from '../../../flow-actions/triggers.ts';
import { customerScores } from './scores.ts';
import { runCustomerPass, type PassResult, type PassRunOptions } from './sync-runs.ts';
import { applyTagPlan, appliedTags, CustomerGoneError, DEFAULT_TAG_PREFIX, isNoop, planTags, recordTags, tagWithPrefix, type TagPlan } from './tags.ts';
import { recordTriggerSend, segmentChangedPayload, sendTrigger, triggerListening } from './triggers.ts';
import { settleInPool } from './pool.ts';

export interface PassOptions extends PassRunOptions {
  /** Customers per committed batch (default 100). */
  batchSize?: number;
  /** Customers whose Admin calls are in flight at once (default 8). */
  concurrency?: number;
  /** Default: the shop's shared throttled client. */
  client?: AdminClient;
}

export type RetagResult = PassResult<RetagCounts>;

export interface RetagCounts extends Record<string, number> {
  visited: number;
  retagged: number;
  unchanged: number;
  tagCalls: number;
  /** Customers deleted in Shopify meanwhile: their records are dropped. */
  gone: number;
  segmentChangedFired: number;
}

const ZERO: RetagCounts = { visited: 0, retagged: 0, unchanged: 0, tagCalls: 0, gone: 0, segmentChangedFired: 0 };

interface Outcome {
  customerId: string;
  plan: TagPlan;
  gone: boolean;
  calls: number;
  segment: string | null;
  fired: Record<string, unknown> | null;
}

export async function retagChangedCustomers(deps: AppDeps, shop: string, opts: PassOptions = {}): Promise<RetagResult> {
  const concurrency = opts.concurrency ?? 8;
  const client = opts.client ?? shopAdminClient(deps, shop);
  const { db } = deps;

  return runCustomerPass(deps, shop, {
    kind: 'retag',
    zero: ZERO,
    batchSize: opts.batchSize ?? 100,
    async batch(ids, versions, counts) {
      const scores = customerScores(db, shop, ids, versions);
      const applied = appliedTags(db, shop, ids);
      const published = new Map((db.prepare(`SELECT customer_id AS c, segment AS s FROM flow_customer_state WHERE shop = ? AND customer_id IN (SELECT value FROM json_each(?))`)
        .all(shop, JSON.stringify(ids)) as { c: string; s: string | null }[]).map((r) => [r.c, r.s]));
      // Checked per batch: a workflow enabled mid-pass starts receiving from the next batch.
      const listening = triggerListening(db, shop, CUSTOMER_SEGMENT_CHANGED.handle);

      const results = await settleInPool(ids, concurrency, async (customerId): Promise<Outcome> => {
        const score = scores.get(customerId)!;
        const mine = applied.get(customerId) ?? new Map<string, string>();
        const wanted = new Map<string, string | null>();
        // The default prefix is kept on every scored customer; other prefixes (asked for by a
        // Flow action) follow the segment on the customers that have them.
        for (const prefix of new Set([DEFAULT_TAG_PREFIX, ...mine.keys()])) wanted.set(prefix, score.segmentTag ? tagWithPrefix(score.segmentTag, prefix) : null);
        const plan = planTags(mine, wanted);
        let calls = 0;
        try {
          if (!isNoop(plan)) calls = (await applyTagPlan(client, customerId, plan, opts.signal)).calls;
        } catch (err) {
          if (err instanceof CustomerGoneError) return { customerId, plan, gone: true, calls, segment: null, fired: null };
          throw err;
        }
        const before = published.get(customerId) ?? null;
        let fired: Record<string, unknown> | null = null;
        if (listening && before !== null && score.segment !== null && before !== score.segment) {
          fired = segmentChangedPayload({ customerId, segment: score.segment, previousSegment: before });
          await sendTrigger(client, CUSTOMER_SEGMENT_CHANGED.handle, fired, opts.signal);
        }
        return { customerId, plan, gone: false, calls, segment: score.segment, fired };
      });

      // Customers whose calls went through are recorded even when another one failed: their tags
      // are applied in Shopify (and the repeated batch finds them unchanged).
      const done = results.filter((r) => r.ok).map((r) => (r as { value: Outcome }).value);
      const failure = results.find((r) => !r.ok) as { error: unknown } | undefined;
      for (const o of done) {
        counts.visited++;
        counts.tagCalls += o.calls;
        if (o.gone) counts.gone++;
        else if (isNoop(o.plan)) counts.unchanged++;
        else counts.retagged++;
        if (o.fired) counts.segmentChangedFired++;
      }
      return {
        ...(failure ? { failure } : {}),
        write(w, at) {
          const setSegment = w.prepare(`INSERT INTO flow_customer_state (shop, customer_id, segment, updated_at) VALUES (?, ?, ?, ?)
            ON CONFLICT (shop, customer_id) DO UPDATE SET segment = excluded.segment, updated_at = excluded.updated_at`);
          for (const o of done) {
            if (o.gone) {
              w.prepare('DELETE FROM flow_customer_tags WHERE shop = ? AND customer_id = ?').run(shop, o.customerId);
              w.prepare('DELETE FROM flow_customer_state WHERE shop = ? AND customer_id = ?').run(shop, o.customerId);
              continue;
            }
            if (!isNoop(o.plan)) recordTags(w, shop, o.customerId, o.plan.changes, at);
            setSegment.run(shop, o.customerId, o.segment, at);
            if (o.fired) recordTriggerSend(w, shop, { handle: CUSTOMER_SEGMENT_CHANGED.handle, status: 'sent', customerId: o.customerId, payload: o.fired, at });
          }
        },
      };
    },
  }, opts);
}
