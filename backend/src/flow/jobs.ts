// The jobs behind Flow and the write-back to Shopify. Every Admin call goes through the shop's
// shared throttled client; failures that another attempt cannot fix (shop not installed, a
// customer or order that does not exist, a payload that is wrong) are PermanentJobError; an
// Admin API that stays down or throttled beyond the client's own retries is
// DependencyUnavailableError (the job waits the outage out, its attempts not used up); the rest
// are retried by the runner with backoff.
import type { JobContext, JobHandler } from '../jobs/handlers.ts';
import { DependencyUnavailableError, PermanentJobError } from '../jobs/job-errors.ts';
import { enqueueJob } from '../jobs/queue.ts';
import type { AppDeps } from '../app.ts';
import { NotInstalledError } from '../ingest/backfill-shop.ts';
import { RetriesExhaustedError, UserErrors } from '../shopify/admin-client.ts';
import { shopAdminClient } from '../shopify/shop-client.ts';
import { INGEST_ORDER_JOB, TAG_CUSTOMER_JOB, type IngestOrderJob, type TagCustomerJob } from './action-handlers.ts';
import { ingestOrderFromAdmin, OrderNotFoundError } from './ingest-order.ts';
import { syncCustomerMetafields } from './metafields.ts';
import { retagChangedCustomers } from './retag.ts';
import { customerScore } from './scores.ts';
import { applyTagPlan, appliedTags, CustomerGoneError, isNoop, planTags, recordTags, TagPrefixError, tagWithPrefix } from './tags.ts';
import { FIRE_TRIGGER_JOB, markTriggerFailed, runQueuedTrigger, TriggerPayloadError } from './triggers.ts';

export const RETAG_JOB = 'flow.retag_changed';
export const METAFIELDS_SYNC_JOB = 'metafields.sync';

const PERMANENT = [NotInstalledError, UserErrors, CustomerGoneError, OrderNotFoundError, TriggerPayloadError, TagPrefixError];

/** The Admin API down or throttled beyond the client's retries: an outage the job waits out (also used by the backfill job). */
export function asOutage(err: unknown): unknown {
  return err instanceof RetriesExhaustedError ? new DependencyUnavailableError(`Admin API unavailable: ${err.message}`, { cause: err }) : err;
}

function classify(err: unknown): unknown {
  if (PERMANENT.some((C) => err instanceof C)) return new PermanentJobError((err as Error).message, { cause: err });
  return asOutage(err);
}

function wrap(fn: (ctx: JobContext) => Promise<unknown>): JobHandler {
  return async (ctx) => {
    try {
      return await fn(ctx);
    } catch (err) {
      throw classify(err);
    }
  };
}

function payloadOf<T>(ctx: JobContext, check: (p: Record<string, unknown>) => boolean, what: string): T {
  const p = ctx.payload as Record<string, unknown> | null;
  if (!p || typeof p !== 'object' || !check(p)) throw new PermanentJobError(`${what}: bad job payload ${JSON.stringify(ctx.payload)}`);
  return p as T;
}

const isId = (v: unknown) => typeof v === 'string' && /^\d+$/.test(v);

/** Replaces the customer's tag under one prefix with their current segment's (no segment: removes it). */
export async function tagCustomerNow(deps: AppDeps, shop: string, customerId: string, prefix: string, signal?: AbortSignal) {
  const client = shopAdminClient(deps, shop);
  const score = customerScore(deps.db, shop, customerId);
  const mine = appliedTags(deps.db, shop, [customerId]).get(customerId) ?? new Map<string, string>();
  const plan = planTags(mine, new Map([[prefix, score.segmentTag ? tagWithPrefix(score.segmentTag, prefix) : null]]));
  if (isNoop(plan)) return { customerId, segment: score.segment, added: [], removed: [], calls: 0 };
  const { calls } = await applyTagPlan(client, customerId, plan, signal);
  const at = deps.now().toISOString();
  await deps.writer.write((db) => recordTags(db, shop, customerId, plan.changes, at));
  return { customerId, segment: score.segment, added: plan.add, removed: plan.remove, calls };
}

export function flowJobHandlers(): Record<string, JobHandler> {
  return {
    [TAG_CUSTOMER_JOB]: wrap(async (ctx) => {
      const p = payloadOf<TagCustomerJob>(ctx, (x) => isId(x.customerId) && typeof x.prefix === 'string', TAG_CUSTOMER_JOB);
      return tagCustomerNow(ctx.deps, ctx.shop, p.customerId, p.prefix, ctx.signal);
    }),
    [INGEST_ORDER_JOB]: wrap(async (ctx) => {
      const p = payloadOf<IngestOrderJob>(ctx, (x) => isId(x.orderId), INGEST_ORDER_JOB);
      return ingestOrderFromAdmin(ctx.deps, shopAdminClient(ctx.deps, ctx.shop), ctx.shop, p.orderId, ctx.signal);
    }),
    [RETAG_JOB]: wrap(async (ctx) => {
      const r = await retagChangedCustomers(ctx.deps, ctx.shop, { signal: ctx.signal, heartbeat: ctx.heartbeat });
      return { versions: r.versions, resumed: r.resumed, ...r.counts };
    }),
    [METAFIELDS_SYNC_JOB]: wrap(async (ctx) => {
      const r = await syncCustomerMetafields(ctx.deps, ctx.shop, { signal: ctx.signal, heartbeat: ctx.heartbeat });
      return { versions: r.versions, resumed: r.resumed, ...r.counts };
    }),
    [FIRE_TRIGGER_JOB]: async (ctx) => {
      const p = payloadOf<{ sendId: number }>(ctx, (x) => Number.isInteger(x.sendId), FIRE_TRIGGER_JOB);
      try {
        return await runQueuedTrigger(ctx.deps, shopAdminClient(ctx.deps, ctx.shop), ctx.shop, p.sendId, ctx.signal);
      } catch (err) {
        const c = classify(err);
        if (c instanceof PermanentJobError) await markTriggerFailed(ctx.deps, p.sendId, (err as Error).message);
        throw c;
      }
    },
  };
}

/**
 * After a training run changed a champion (segment or churn): enqueue the re-tag and metafield
 * passes. Idempotent: while a pass is pending or running a second call returns it, and a pass
 * that finds the champion moved while it ran publishes the newer one before it finishes.
 */
export async function enqueueCustomerWriteBack(deps: AppDeps, shop: string, reason = 'champion changed'): Promise<{ retagJobId: number; metafieldsJobId: number }> {
  const now = deps.now();
  return deps.writer.write((db) => ({
    retagJobId: enqueueJob(db, { type: RETAG_JOB, shop, dedupeKey: 'flow:retag', reason, now }).id,
    metafieldsJobId: enqueueJob(db, { type: METAFIELDS_SYNC_JOB, shop, dedupeKey: 'flow:metafields', reason, now }).id,
  }));
}
