// The code behind shopml's Flow actions (definitions: flow-actions/actions.ts). Each runs inside
// the action request, so it does only what is fast — a database read, or enqueueing a job for
// the Admin API work — and Flow gets its 200 well within 10 s.
import { enqueueJob } from '../jobs/queue.ts';
import { isRedacted } from '../ingest/record.ts';
import { loadOfflineToken } from '../shopify/auth.ts';
import type { FlowActionContext } from './routes.ts';
import { customerScore, isScored } from './scores.ts';
import { normalizePrefix } from './tags.ts';

export const TAG_CUSTOMER_JOB = 'flow.tag_customer';
export const INGEST_ORDER_JOB = 'flow.ingest_order';

export interface TagCustomerProps { customer_id: string; tag_prefix?: string }
export interface ScoreCustomerProps { customer_id: string }
export interface SendOrderProps { order_id: string }

export interface TagCustomerJob { customerId: string; prefix: string; actionRunId: string }
export interface IngestOrderJob { orderId: string; actionRunId: string }

/** A Flow request the action cannot serve: answered 4xx, so Flow marks the step failed with this message. */
export class FlowActionInputError extends Error {
  override name = 'FlowActionInputError';
}

function requireInstalled(ctx: FlowActionContext): void {
  if (!loadOfflineToken(ctx.db, ctx.keys, ctx.shop)) throw new FlowActionInputError(`shopml is not installed on ${ctx.shop} (no offline token)`);
}

/** "Tag customer with ML segment": enqueue the tag replacement; the job reads the segment when it runs. */
export async function tagCustomerAction(props: TagCustomerProps, ctx: FlowActionContext): Promise<{ returnValue?: unknown }> {
  let prefix: string;
  try {
    prefix = normalizePrefix(props.tag_prefix);
  } catch (err) {
    throw new FlowActionInputError((err as Error).message);
  }
  requireInstalled(ctx);
  // A customer who asked to be forgotten gets no job (a row naming them): the step succeeds, doing nothing.
  if (isRedacted(ctx.db, ctx.keys, ctx.shop, 'customer', props.customer_id)) return {};
  const payload: TagCustomerJob = { customerId: props.customer_id, prefix, actionRunId: ctx.actionRunId };
  await ctx.deps.writer.write((db) => enqueueJob(db, {
    type: TAG_CUSTOMER_JOB, shop: ctx.shop, payload, dedupeKey: `flow-action:${ctx.actionRunId}`, reason: 'Flow action: Tag customer with ML segment',
    customerId: props.customer_id, now: ctx.deps.now(),
  }));
  return {};
}

/** "Score customer": the champions' segment, churn risk and predicted value, returned to the workflow. */
export async function scoreCustomerAction(props: ScoreCustomerProps, ctx: FlowActionContext): Promise<{ returnValue?: unknown }> {
  const s = customerScore(ctx.db, ctx.shop, props.customer_id);
  return {
    returnValue: {
      segment: s.segment,
      segmentTag: s.segmentTag,
      churnRisk: s.churnRisk,
      predictedValue: s.predictedValue,
      scored: isScored(s),
    },
  };
}

/** "Send order to shopml": enqueue fetching the order from the Admin API and recording it. */
export async function sendOrderAction(props: SendOrderProps, ctx: FlowActionContext): Promise<{ returnValue?: unknown }> {
  requireInstalled(ctx);
  // A redacted order would be suppressed when recorded; do not even queue a job naming it.
  if (isRedacted(ctx.db, ctx.keys, ctx.shop, 'order', props.order_id)) return {};
  const payload: IngestOrderJob = { orderId: props.order_id, actionRunId: ctx.actionRunId };
  await ctx.deps.writer.write((db) => enqueueJob(db, {
    type: INGEST_ORDER_JOB, shop: ctx.shop, payload, dedupeKey: `flow-action:${ctx.actionRunId}`, reason: 'Flow action: Send order to shopml',
    orderId: props.order_id, now: ctx.deps.now(),
  }));
  return {};
}
