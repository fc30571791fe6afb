// "Send order to shopml": fetch one order through the Admin API and record it exactly as every
// other source is recorded — the GraphQL order normalizer the bulk export uses, then recordEvent
// (event log + projections, idempotent, stale-safe, redaction-aware).
import { createHash } from 'node:crypto';
import type { AppDeps } from '../app.ts';
import type { AdminClient } from '../shopify/admin-client.ts';
import { ORDER_BY_ID, ORDER_LINE_ITEMS_PAGE } from '../shopify/documents.ts';
import { normalizeBulkOrder, normalizeLine } from '../shopify/bulk-jsonl.ts';
import { toGid } from '../shopify/gid.ts';
import { recordEvent } from '../ingest/record.ts';
import type { IngestOutcome } from '../ingest/types.ts';

export class OrderNotFoundError extends Error {
  override name = 'OrderNotFoundError';
}

/** Line items per request: 50 keep an order query near 260 cost points (100 would be ~510). */
const LINES_PER_PAGE = 50;

type RawLine = Parameters<typeof normalizeLine>[0];
type RawOrder = Parameters<typeof normalizeBulkOrder>[0] & { lineItems: { nodes: Omit<RawLine, '__parentId'>[] } };

async function allLines(client: AdminClient, gid: string, first: Omit<RawLine, '__parentId'>[], signal?: AbortSignal): Promise<Omit<RawLine, '__parentId'>[]> {
  if (first.length < LINES_PER_PAGE) return first;
  // The first page was full: read every line page by page (the first query has no cursor).
  const lines: Omit<RawLine, '__parentId'>[] = [];
  let after: string | null = null;
  for (;;) {
    const { data }: { data: { order: { lineItems: { pageInfo: { hasNextPage: boolean; endCursor: string | null }; nodes: Omit<RawLine, '__parentId'>[] } } | null } } =
      await client.request(ORDER_LINE_ITEMS_PAGE, { id: gid, first: LINES_PER_PAGE, after }, { signal });
    if (!data.order) throw new OrderNotFoundError(`order ${gid} disappeared while its line items were read`);
    lines.push(...data.order.lineItems.nodes);
    if (!data.order.lineItems.pageInfo.hasNextPage) return lines;
    after = data.order.lineItems.pageInfo.endCursor;
  }
}

export interface IngestedOrder {
  orderId: string;
  outcome: IngestOutcome;
  lines: number;
}

/** Fetches the order and records it (source `flow`). Throws OrderNotFoundError when Shopify has no such order. */
export async function ingestOrderFromAdmin(deps: AppDeps, client: AdminClient, shop: string, orderId: string, signal?: AbortSignal): Promise<IngestedOrder> {
  const gid = toGid('Order', orderId);
  const { data } = await client.request<{ order: RawOrder | null }>(ORDER_BY_ID, { id: gid, lineItemsFirst: LINES_PER_PAGE }, { signal });
  if (!data.order) throw new OrderNotFoundError(`order ${orderId} does not exist in ${shop}`);
  const raw = data.order;
  const rawLines = await allLines(client, gid, raw.lineItems.nodes, signal);
  const order = normalizeBulkOrder(raw, rawLines.map((l) => normalizeLine({ ...l, __parentId: gid })));
  const payloadSha256 = createHash('sha256').update(JSON.stringify({ order: raw, lines: rawLines })).digest('hex');
  const receivedAt = deps.now().toISOString();
  const outcome = await deps.writer.write((db) => recordEvent(db, deps.keys, {
    shop,
    topic: 'flow/send_order',
    source: 'flow',
    // Shopify's updatedAt verbatim: sending an unchanged order again is a duplicate, an edited one a new event.
    sourceId: `flow:${gid}:${raw.updatedAt ?? ''}`,
    receivedAt,
    payloadSha256,
    event: { type: 'order', order },
  }));
  return { orderId: order.id, outcome, lines: order.lines.length };
}
