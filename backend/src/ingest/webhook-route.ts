// POST /webhooks — every topic; the topic comes from X-Shopify-Topic. Verified before anything
// is read; acknowledged only after the write committed (group commit, synchronous = FULL) —
// in the webhook writer thread when the runtime started one (webhook-writer.ts), otherwise on
// the main connection's group writer. Both run the same applyWebhook.
import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../app.ts';
import { errorBody, RETRY_AFTER_SECONDS } from '../errors.ts';
import { rawBytesOf, useRawBody, utf8Of } from '../http/raw-body.ts';
import { StoreUnavailableError } from '../store/writer.ts';
import { applyWebhook, COMPLIANCE_TOPICS, LIFECYCLE_TOPICS, shopNamedIn, type WebhookDelivery, type WebhookResult } from './webhooks.ts';
import { DATA_TOPICS } from './normalize-rest.ts';
import { webhookWriterOf } from './webhook-writer.ts';
import { startCompliancePasses, type CompliancePasses } from './compliance-passes.ts';

export const WEBHOOK_BODY_LIMIT = 5 * 1024 * 1024;

const KNOWN_TOPICS = new Set([...DATA_TOPICS, ...COMPLIANCE_TOPICS, ...LIFECYCLE_TOPICS]);

export async function webhookRoutes(app: FastifyInstance, deps: AppDeps): Promise<void> {
  useRawBody(app);
  app.post('/webhooks', { bodyLimit: WEBHOOK_BODY_LIMIT }, async (req, reply) => {
    const bytes = rawBytesOf(req.body);
    // Before verification the topic is whatever the sender wrote: as a metric label only when it
    // is one we know, else every forged topic would be a new time series in /metrics.
    const claimed = String(req.headers['x-shopify-topic'] ?? '').toLowerCase();
    const headerTopic = KNOWN_TOPICS.has(claimed) ? claimed : 'other';
    const v = await deps.verifier.webhook(bytes, req.raw);
    if (!v.ok) {
      deps.metrics.webhooks.inc({ topic: headerTopic, outcome: 'rejected' });
      req.log.warn({ reason: v.reason, topic: headerTopic }, 'webhook rejected');
      return reply.code(401).send(errorBody('unauthorized', v.reason));
    }
    const raw = utf8Of(bytes);
    // The HMAC covers the body, not X-Shopify-Shop-Domain: a body that names its shop must name
    // the header's, or a signed delivery for one shop could be replayed against another.
    const named = raw === null ? null : shopNamedIn(v.topic, raw);
    if (named !== null && named !== v.shop) {
      deps.metrics.webhooks.inc({ topic: v.topic, outcome: 'rejected' });
      req.log.warn({ shop: v.shop, topic: v.topic }, 'webhook rejected: the body names another shop');
      return reply.code(401).send(errorBody('unauthorized', 'shop_domain_mismatch: the signed body names another shop than X-Shopify-Shop-Domain'));
    }
    const delivery: WebhookDelivery = {
      shop: v.shop, topic: v.topic, webhookId: v.webhookId, triggeredAt: v.triggeredAt,
      receivedAt: deps.now().toISOString(), rawBody: raw ?? bytes.toString('utf8'),
      ...(raw === null ? { bodyError: 'body is not valid UTF-8' } : {}),
    };
    try {
      const thread = webhookWriterOf(deps);
      const result: WebhookResult = thread ? await thread.write(delivery) : await deps.writer.write((db) => applyWebhook(db, deps.keys, delivery, { redactInlineMaxEvents: deps.config.redactInlineMaxEvents }));
      deps.metrics.webhooks.inc({ topic: v.topic, outcome: result.outcome === 'applied' ? 'accepted' : result.outcome });
      if (result.outcome === 'quarantined') req.log.warn({ shop: v.shop, topic: v.topic, reason: result.reason }, 'webhook quarantined');
      if (result.bulkOperationId) deps.onBulkFinished?.(v.shop, result.bulkOperationId);
      if (result.pendingPass) {
        req.log.info({ shop: v.shop, topic: v.topic }, v.topic === 'customers/redact'
          ? 'customers/redact: the event log and guest orders follow in steps (redaction sweep)'
          : 'customers/data_request: guest orders are searched in steps, the export follows');
        if (!thread) mainCompliancePasses(deps).kick(); // the thread runs its own
      }
      // Quarantined deliveries are answered 200 as well: Shopify would otherwise retry a
      // payload that will never validate for hours. The reason is kept with the row.
      return reply.code(200).send({ ok: true, outcome: result.outcome });
    } catch (err) {
      if (err instanceof StoreUnavailableError) {
        deps.metrics.webhooks.inc({ topic: v.topic, outcome: 'unavailable' });
        req.log.error({ code: err.code, cause: (err.cause as { message?: string } | undefined)?.message }, 'store unavailable, asking Shopify to retry');
        return reply.code(503).header('Retry-After', String(RETRY_AFTER_SECONDS)).send(errorBody('store_unavailable'));
      }
      throw err;
    }
  });
}

// Without a webhook writer thread, the compliance passes (compliance-passes.ts) run on the main
// connection's group writer; runtime.ts kicks them at start-up and stops them before closing.
const passes = new WeakMap<AppDeps, CompliancePasses>();

export function mainCompliancePasses(deps: AppDeps): CompliancePasses {
  let s = passes.get(deps);
  if (!s) passes.set(deps, (s = startCompliancePasses(deps.writer)));
  return s;
}
