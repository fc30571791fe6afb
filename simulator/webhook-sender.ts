// Delivers webhooks the way Shopify does: POST of the exact bytes that were signed, success only
// on 2xx within the timeout (redirects are failures), retries with exponential backoff and the
// same X-Shopify-Webhook-Id, and — since delivery is at-least-once — occasional duplicates of
// deliveries that already succeeded. The stream paces itself with timers, never a busy loop.
import { randomUUID } from 'node:crypto';
import { webhookHeaders, type HeaderMap } from './sign.ts';
import { webhookPlan, type PlannedWebhook, type WebhookPlanOptions } from './webhook-events.ts';
import type { SimStore } from './types.ts';
import { deliveredPayload } from './webhook-subscriptions.ts';

/**
 * Which fields of a payload object are sent: `subscribed` (default) — those the app's subscription
 * for the topic includes (shopify.app.toml `include_fields`), as Shopify sends them; `all` — every
 * field, as for a subscription made without include_fields (the privacy test's worst case).
 */
export type PayloadFields = 'subscribed' | 'all';

const bodyOf = (topic: string, payload: unknown, fields: PayloadFields | undefined): string =>
  JSON.stringify(fields === 'all' ? payload : deliveredPayload(topic, payload));

export interface RetryPolicy {
  /** Retries after the first attempt (Shopify: 8, spread over 4 hours). */
  maxRetries: number;
  /** Delay before retry n is baseDelayMs × 2^n, capped at maxDelayMs. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** An attempt that has not answered by then counts as failed (Shopify allows 5 s). */
  timeoutMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { maxRetries: 8, baseDelayMs: 1000, maxDelayMs: 60_000, timeoutMs: 5000 };

export interface DeliveryAttempt {
  attempt: number; // 0 = first try
  status: number | null; // null: no HTTP answer
  ok: boolean;
  error: string | null; // 'timeout' or the network error
  durationMs: number;
}

export interface DeliveryResult {
  webhookId: string;
  topic: string;
  ok: boolean;
  attempts: DeliveryAttempt[];
  rawBody: string;
  headers: HeaderMap;
}

/** Resolves after `ms`, or at once when `signal` aborts. */
function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted || ms <= 0) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

async function attemptOnce(url: string, rawBody: string, headers: HeaderMap, fetchImpl: typeof fetch, attempt: number, timeoutMs: number): Promise<DeliveryAttempt> {
  const started = performance.now();
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, timeoutMs);
  try {
    const res = await fetchImpl(url, { method: 'POST', headers, body: rawBody, redirect: 'manual', signal: controller.signal });
    await res.arrayBuffer(); // the answer must be complete within the timeout too; frees the socket
    const ok = res.status >= 200 && res.status < 300;
    return { attempt, status: res.status, ok, error: null, durationMs: performance.now() - started };
  } catch (err) {
    const error = timedOut ? 'timeout' : err instanceof Error ? err.message : String(err);
    return { attempt, status: null, ok: false, error, durationMs: performance.now() - started };
  } finally {
    clearTimeout(timer);
  }
}

export interface DeliverSignedOptions {
  url: string;
  topic: string;
  rawBody: string;
  headers: HeaderMap;
  fetchImpl?: typeof fetch;
  retry?: Partial<RetryPolicy>;
  /** Aborting stops further retries (an attempt in progress finishes). */
  signal?: AbortSignal;
  onAttempt?: (attempt: DeliveryAttempt) => void;
}

/** Delivers already-signed bytes, retrying per the policy. Never throws for HTTP/network failures. */
export async function deliverSigned(opts: DeliverSignedOptions): Promise<DeliveryResult> {
  const policy = { ...DEFAULT_RETRY, ...opts.retry };
  const fetchImpl = opts.fetchImpl ?? fetch;
  const attempts: DeliveryAttempt[] = [];
  for (let n = 0; ; n++) {
    const a = await attemptOnce(opts.url, opts.rawBody, opts.headers, fetchImpl, n, policy.timeoutMs);
    attempts.push(a);
    opts.onAttempt?.(a);
    if (a.ok || n >= policy.maxRetries || opts.signal?.aborted) break;
    await sleep(Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** n), opts.signal);
    if (opts.signal?.aborted) break;
  }
  return {
    webhookId: opts.headers['X-Shopify-Webhook-Id'] ?? '',
    topic: opts.topic,
    ok: attempts[attempts.length - 1]?.ok ?? false,
    attempts,
    rawBody: opts.rawBody,
    headers: opts.headers,
  };
}

export interface SendWebhookOptions {
  url: string;
  secret: string;
  shop: string;
  topic: string;
  /** An object is serialised once (its `payloadFields`); a string is sent byte for byte (to test odd encodings). */
  payload: unknown;
  payloadFields?: PayloadFields;
  webhookId?: string;
  eventId?: string;
  triggeredAt?: string;
  apiVersion?: string;
  fetchImpl?: typeof fetch;
  retry?: Partial<RetryPolicy>;
  signal?: AbortSignal;
  onAttempt?: (attempt: DeliveryAttempt) => void;
}

/** Signs and delivers one webhook (with retries). The result carries the exact bytes and headers. */
export function sendWebhook(opts: SendWebhookOptions): Promise<DeliveryResult> {
  const rawBody = typeof opts.payload === 'string' ? opts.payload : bodyOf(opts.topic, opts.payload, opts.payloadFields);
  const headers = webhookHeaders({
    secret: opts.secret,
    shop: opts.shop,
    topic: opts.topic,
    rawBody,
    webhookId: opts.webhookId ?? randomUUID(),
    apiVersion: opts.apiVersion,
    triggeredAt: opts.triggeredAt,
    eventId: opts.eventId,
  });
  return deliverSigned({ url: opts.url, topic: opts.topic, rawBody, headers, fetchImpl: opts.fetchImpl, retry: opts.retry, signal: opts.signal, onAttempt: opts.onAttempt });
}

export interface WebhookStreamOptions extends WebhookPlanOptions {
  url: string;
  secret: string;
  /** Grows as the stream runs (see webhook-events.ts). */
  store: SimStore;
  /** Planned webhooks started per second (default 10); Infinity: as fast as `concurrency` allows. */
  ratePerSecond?: number;
  /** Deliveries in flight at once, retries included (default 4). */
  concurrency?: number;
  /** Stop after this many planned webhooks (redeliveries not counted); default: until stop(). */
  maxEvents?: number;
  /** Pause before a duplicate delivery (default 20 ms). */
  redeliveryDelayMs?: number;
  apiVersion?: string;
  payloadFields?: PayloadFields;
  fetchImpl?: typeof fetch;
  retry?: Partial<RetryPolicy>;
  /** Called after each delivery (first or duplicate) has finished, retries included. */
  onDelivery?: (event: PlannedWebhook, result: DeliveryResult, duplicate: boolean) => void;
}

export interface WebhookStreamStats {
  /** Planned webhooks whose delivery started. */
  sent: number;
  /** Of those, delivered with a 2xx (eventually). */
  delivered: number;
  /** Gave up: retries exhausted or the stream stopped. */
  failed: number;
  /** Duplicate deliveries with an already-used webhook id. */
  redelivered: number;
  /** HTTP attempts, including retries and duplicates. */
  attempts: number;
  retries: number;
  /** Stale orders/updated among the sent ones. */
  stale: number;
  /** Attempts by HTTP status, or 'timeout' / 'error'. */
  byStatus: Record<string, number>;
  /** Sent webhooks by topic. */
  byTopic: Record<string, number>;
}

export interface WebhookStream {
  /** Runs until maxEvents or stop(); resolves with the final stats. Calling it again returns the same run. */
  start(): Promise<WebhookStreamStats>;
  /** Stops planning, cancels pending retries and duplicates, waits for attempts in progress. */
  stop(): Promise<WebhookStreamStats>;
  readonly stats: WebhookStreamStats;
  readonly running: boolean;
}

export function createWebhookStream(opts: WebhookStreamOptions): WebhookStream {
  const rate = opts.ratePerSecond ?? 10;
  const concurrency = Math.max(1, opts.concurrency ?? 4);
  const stopper = new AbortController();
  const stats: WebhookStreamStats = { sent: 0, delivered: 0, failed: 0, redelivered: 0, attempts: 0, retries: 0, stale: 0, byStatus: {}, byTopic: {} };
  let run: Promise<WebhookStreamStats> | null = null;
  let running = false;

  const countAttempt = (a: DeliveryAttempt) => {
    stats.attempts++;
    if (a.attempt > 0) stats.retries++;
    const key = a.status !== null ? String(a.status) : a.error === 'timeout' ? 'timeout' : 'error';
    stats.byStatus[key] = (stats.byStatus[key] ?? 0) + 1;
  };

  const deliverPlanned = async (event: PlannedWebhook) => {
    const rawBody = bodyOf(event.topic, event.payload, opts.payloadFields);
    const headers = webhookHeaders({
      secret: opts.secret, shop: opts.store.shop, topic: event.topic, rawBody,
      webhookId: event.webhookId, eventId: event.eventId, triggeredAt: event.triggeredAt, apiVersion: opts.apiVersion,
    });
    const common = { url: opts.url, topic: event.topic, rawBody, headers, fetchImpl: opts.fetchImpl, retry: opts.retry, signal: stopper.signal, onAttempt: countAttempt };
    stats.sent++;
    stats.byTopic[event.topic] = (stats.byTopic[event.topic] ?? 0) + 1;
    if (event.stale) stats.stale++;
    const first = await deliverSigned(common);
    if (first.ok) stats.delivered++;
    else stats.failed++;
    opts.onDelivery?.(event, first, false);
    if (!event.redeliver || stopper.signal.aborted) return;
    await sleep(opts.redeliveryDelayMs ?? 20, stopper.signal);
    if (stopper.signal.aborted) return;
    // Same bytes, same headers (same webhook id and HMAC): what a duplicate from Shopify looks like.
    const again = await deliverSigned(common);
    stats.redelivered++;
    opts.onDelivery?.(event, again, true);
  };

  const loop = async (): Promise<WebhookStreamStats> => {
    running = true;
    const plan = webhookPlan(opts.store, opts);
    const inFlight = new Set<Promise<void>>();
    const startedAt = performance.now();
    // A throwing onDelivery (or a bug) stops the stream and fails start(), never goes unhandled.
    let failure: { error: unknown } | null = null;
    try {
      for (let issued = 0; opts.maxEvents === undefined || issued < opts.maxEvents; issued++) {
        if (Number.isFinite(rate) && rate > 0) await sleep(startedAt + (issued * 1000) / rate - performance.now(), stopper.signal);
        while (inFlight.size >= concurrency && !stopper.signal.aborted) await Promise.race(inFlight);
        if (stopper.signal.aborted) break;
        const next = plan.next();
        if (next.done) break;
        const task: Promise<void> = deliverPlanned(next.value)
          .catch((error: unknown) => {
            failure ??= { error };
            stopper.abort();
          })
          .finally(() => inFlight.delete(task));
        inFlight.add(task);
      }
      await Promise.all(inFlight);
    } finally {
      running = false;
    }
    if (failure) throw (failure as { error: unknown }).error;
    return stats;
  };

  return {
    start() {
      run ??= loop();
      return run;
    },
    async stop() {
      stopper.abort();
      return run ? run : stats;
    },
    get stats() {
      return stats;
    },
    get running() {
      return running;
    },
  };
}
