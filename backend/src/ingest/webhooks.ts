// What each verified webhook does to the store, as one synchronous unit run inside the group
// writer's transaction: the event row, the projection change, or the quarantine row — all or
// nothing.
import { createHash } from 'node:crypto';
import type { Db } from '../store/db.ts';
import { perConnection } from '../store/per-connection.ts';
import type { Keys } from '../keys.ts';
import type { IngestOutcome } from './types.ts';
import { mentionsTombstoned, recordEvent } from './record.ts';
import { DATA_TOPICS, normalizeWebhook, ValidationError } from './normalize-rest.ts';
import { markUninstalled, recordDataRequest, redactCustomer, redactShop } from './compliance.ts';
import { jsonErrorSummary, scrubPersonalData, scrubText } from './scrub.ts';
import { attributeOrder } from '../track/conversions.ts';

export interface WebhookDelivery {
  shop: string;
  topic: string;
  webhookId: string;
  triggeredAt: string | null;
  receivedAt: string;
  rawBody: string;
  /** Set when the authentic body could not even be decoded (not UTF-8): quarantined with this reason. */
  bodyError?: string;
}

export interface WebhookResult {
  outcome: IngestOutcome;
  reason?: string;
  /** Set for bulk_operations/finish so the caller can wake a waiting export. */
  bulkOperationId?: string;
  /**
   * customers/redact or customers/data_request left work to compliance passes in steps
   * (compliance-passes.ts: a redaction sweep, a data request's scan): the caller starts them.
   */
  pendingPass?: true;
}

export const COMPLIANCE_TOPICS = new Set(['customers/redact', 'customers/data_request', 'shop/redact']);
export const LIFECYCLE_TOPICS = new Set(['app/uninstalled', 'bulk_operations/finish']);

export function sha256Hex(s: string): string {
  return createHash('sha256').update(s).digest('hex');
}

function prepare(db: Db) {
  return {
    seen: db.prepare('SELECT 1 FROM events WHERE shop = ? AND source_id = ?').pluck(),
    quarantine: db.prepare(`INSERT OR IGNORE INTO quarantine (shop, topic, source_id, received_at, reason, payload) VALUES (?, ?, ?, ?, ?, ?)`),
    ensureShop: db.prepare('INSERT OR IGNORE INTO shops (shop, installed_at, updated_at) VALUES (?, ?, ?)'),
    logOnly: db.prepare(`INSERT INTO events (shop, topic, source, source_id, received_at, triggered_at, outcome, payload_sha256, payload)
      VALUES (?, ?, 'webhook', ?, ?, ?, 'applied', ?, ?)`),
  };
}

const stmts = perConnection(prepare);

/** Kept instead of the body when it names a customer or order that was redacted. */
const WITHHELD = '"withheld: the body names a redacted customer or order"';

function quarantine(db: Db, keys: Keys, d: WebhookDelivery, reason: string, payload: unknown): WebhookResult {
  let kept = payload === undefined ? scrubText(d.rawBody) : JSON.stringify(scrubPersonalData(payload));
  if (mentionsTombstoned(db, keys, d.shop, kept)) kept = WITHHELD;
  stmts(db).quarantine.run(d.shop, d.topic, d.webhookId, d.receivedAt, reason, kept);
  return { outcome: 'quarantined', reason };
}

function logOnly(db: Db, d: WebhookDelivery, payload: unknown): void {
  stmts(db).logOnly.run(d.shop, d.topic, d.webhookId, d.receivedAt, d.triggeredAt, sha256Hex(d.rawBody), JSON.stringify(payload));
}

const asIdList = (v: unknown): string[] => (Array.isArray(v) ? v.map(String).filter((s) => /^\d+$/.test(s)) : []);
const asId = (v: unknown): string | null => (typeof v === 'number' || (typeof v === 'string' && /^\d+$/.test(v)) ? String(v) : null);

/** Topics whose payload names its shop (compliance: `shop_domain`; app/uninstalled: the Shop's `myshopify_domain`). */
const SHOP_FIELD: Record<string, string> = {
  'customers/redact': 'shop_domain', 'customers/data_request': 'shop_domain', 'shop/redact': 'shop_domain', 'app/uninstalled': 'myshopify_domain',
};

/**
 * The shop a delivery's body names, for the topics whose payload carries one; null otherwise
 * (other topics, unparsable bodies: those are quarantined by applyWebhook).
 */
export function shopNamedIn(topic: string, rawBody: string): string | null {
  const field = SHOP_FIELD[topic];
  if (field === undefined) return null;
  try {
    const v = (JSON.parse(rawBody) as Record<string, unknown> | null)?.[field];
    return typeof v === 'string' && v !== '' ? v : null;
  } catch {
    return null;
  }
}

export interface ApplyOptions {
  /** customers/redact and customers/data_request: see REDACT_INLINE_MAX_EVENTS (config SHOPML_REDACT_INLINE_EVENTS). */
  redactInlineMaxEvents?: number;
}

export function applyWebhook(db: Db, keys: Keys, d: WebhookDelivery, opts: ApplyOptions = {}): WebhookResult {
  if (stmts(db).seen.get(d.shop, d.webhookId)) return { outcome: 'duplicate' };
  if (d.bodyError !== undefined) return quarantine(db, keys, d, d.bodyError, undefined);
  let payload: unknown;
  try {
    payload = JSON.parse(d.rawBody);
  } catch (err) {
    return quarantine(db, keys, d, `body is not valid JSON: ${jsonErrorSummary(err)}`, undefined);
  }
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) return quarantine(db, keys, d, 'body is not a JSON object', payload);
  const body = payload as Record<string, unknown>;

  if (DATA_TOPICS.has(d.topic)) {
    let event;
    try {
      event = normalizeWebhook(d.topic, body, d.shop, keys, d.receivedAt);
    } catch (err) {
      if (err instanceof ValidationError) return quarantine(db, keys, d, err.message, body);
      throw err;
    }
    stmts(db).ensureShop.run(d.shop, d.receivedAt, d.receivedAt);
    const outcome = recordEvent(db, keys, {
      shop: d.shop, topic: d.topic, source: 'webhook', sourceId: d.webhookId, receivedAt: d.receivedAt,
      triggeredAt: d.triggeredAt, payloadSha256: sha256Hex(d.rawBody), event,
    });
    // Conversions: lines attributed to a recommendation, in this same transaction (cheap when
    // the order has no customer and no `_shopml_rec` property; never throws).
    if (outcome === 'applied' && d.topic === 'orders/create' && event.type === 'order') attributeOrder(db, keys, d.shop, body, event.order);
    return { outcome };
  }

  switch (d.topic) {
    case 'customers/redact': {
      const customer = (body.customer ?? {}) as Record<string, unknown>;
      const customerId = asId(customer.id);
      const email = typeof customer.email === 'string' && customer.email ? customer.email : null;
      if (!customerId && !email && asIdList(body.orders_to_redact).length === 0) return quarantine(db, keys, d, 'customers/redact names no customer id, email or order', body);
      const r = redactCustomer(db, keys, d.shop, { customerId, email, ordersToRedact: asIdList(body.orders_to_redact) }, d.receivedAt, { inlineMaxEvents: opts.redactInlineMaxEvents });
      // The log keeps that a redaction happened, never whom it was about.
      logOnly(db, d, { rows_deleted: r.rowsDeleted, orders_to_redact: asIdList(body.orders_to_redact).length });
      return { outcome: 'applied', ...(r.sweep ? { pendingPass: true as const } : {}) };
    }
    case 'customers/data_request': {
      const customer = (body.customer ?? {}) as Record<string, unknown>;
      const requestId = asId((body.data_request as Record<string, unknown> | undefined)?.id) ?? d.webhookId;
      const customerId = asId(customer.id);
      const email = typeof customer.email === 'string' && customer.email ? customer.email : null;
      const r = recordDataRequest(db, keys, d.shop, { requestId, customerId, email, ordersRequested: asIdList(body.orders_requested) }, d.receivedAt, { inlineMaxEvents: opts.redactInlineMaxEvents });
      logOnly(db, d, { data_request_id: requestId, ...(r.scan ? { export: 'in steps' } : { orders: r.orders }) });
      return { outcome: 'applied', ...(r.scan ? { pendingPass: true as const } : {}) };
    }
    case 'shop/redact': {
      const r = redactShop(db, d.shop);
      logOnly(db, d, { rows_deleted: r.rowsDeleted });
      return { outcome: 'applied' };
    }
    case 'app/uninstalled':
      markUninstalled(db, d.shop, d.receivedAt);
      logOnly(db, d, {});
      return { outcome: 'applied' };
    case 'bulk_operations/finish': {
      const id = typeof body.admin_graphql_api_id === 'string' ? body.admin_graphql_api_id : null;
      if (!id) return quarantine(db, keys, d, 'bulk_operations/finish without admin_graphql_api_id', body);
      db.prepare(`UPDATE bulk_operations SET status = ?, finished_at = ?, error = ? WHERE shop = ? AND operation_id = ?`)
        .run(String(body.status ?? 'completed').toUpperCase(), String(body.completed_at ?? d.receivedAt), body.error_code ? String(body.error_code) : null, d.shop, id);
      logOnly(db, d, scrubPersonalData(body));
      return { outcome: 'applied', bulkOperationId: id };
    }
    default:
      return quarantine(db, keys, d, `unsupported topic ${d.topic}`, body);
  }
}
