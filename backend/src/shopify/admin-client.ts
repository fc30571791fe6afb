// Admin GraphQL client with cost-aware throttling. Shopify rate-limits by query cost with a
// per-shop leaky bucket and answers an over-budget call with HTTP 200 + `THROTTLED` (which
// @shopify/graphql-client does not retry). So the client keeps an estimate of the bucket from
// each response's `extensions.cost.throttleStatus`, waits before a call that would not fit, and
// retries THROTTLED after exactly the restore time it needs. 429 / 5xx / network failures are
// retried with backoff; all retries are bounded.
import {
  AdminApiError,
  GraphqlErrors,
  type GraphqlError,
  HttpError,
  NetworkError,
  RetriesExhaustedError,
  ThrottledError,
  assertNoUserErrors,
  type UserError,
} from './admin-errors.ts';
import { ADMIN_API_VERSION } from './schema.ts';

export interface ThrottleStatus {
  maximumAvailable: number;
  currentlyAvailable: number;
  restoreRate: number;
}

export interface QueryCost {
  requestedQueryCost: number;
  actualQueryCost: number | null;
  throttleStatus: ThrottleStatus;
}

export interface AdminExtensions {
  cost?: QueryCost;
  [k: string]: unknown;
}

export interface AdminResponse<T> {
  data: T;
  extensions: AdminExtensions | undefined;
}

export interface ThrottleEvent {
  operationName: string | null;
  reason: 'budget' | 'throttled' | 'http_429' | 'http_5xx' | 'network';
  waitMs: number;
  attempt: number;
}

export interface AdminClientOptions {
  shop: string;
  accessToken: string;
  /** `https://{shop}` (default) or e.g. a simulator's `http://127.0.0.1:1234/shops/{shop}`. */
  baseUrl?: string;
  apiVersion?: string;
  fetch?: typeof globalThis.fetch;
  /** Retries for 429, 5xx and network errors, per request. */
  maxRetries?: number;
  /** Retries for THROTTLED answers, per request (waiting on the bucket is normal, not a fault). */
  maxThrottleRetries?: number;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
  random?: () => number;
  onThrottle?: (e: ThrottleEvent) => void;
  /** Expected cost of a document never sent before. Conservative: a typical mutation is 10. */
  defaultCost?: number;
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  /** Per attempt. */
  timeoutMs?: number;
}

export interface AdminClient {
  readonly shop: string;
  request<T = Record<string, unknown>>(
    document: string,
    variables?: Record<string, unknown>,
    opts?: { signal?: AbortSignal },
  ): Promise<AdminResponse<T>>;
  /** The client's current estimate of the shop's bucket (null before the first response). */
  throttleEstimate(): ThrottleStatus | null;
}

const OP_NAME = /\b(?:query|mutation|subscription)\s+([_A-Za-z][_0-9A-Za-z]*)/;

export function operationNameOf(document: string): string | null {
  return OP_NAME.exec(document)?.[1] ?? null;
}

function defaultSleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Retry-After is seconds (possibly fractional) or an HTTP date. */
export function parseRetryAfter(value: string | null, nowMs: number): number | null {
  if (!value) return null;
  const secs = Number(value);
  if (Number.isFinite(secs) && secs >= 0) return secs * 1000;
  const at = Date.parse(value);
  return Number.isFinite(at) ? Math.max(0, at - nowMs) : null;
}

interface Bucket {
  max: number;
  available: number; // may go negative: points already promised to queued calls
  rate: number;
  at: number;
}

export function createAdminClient(opts: AdminClientOptions): AdminClient {
  const shop = opts.shop;
  const base = (opts.baseUrl ?? 'https://{shop}').replaceAll('{shop}', shop).replace(/\/+$/, '');
  const endpoint = `${base}/admin/api/${opts.apiVersion ?? ADMIN_API_VERSION}/graphql.json`;
  const doFetch = opts.fetch ?? globalThis.fetch;
  const maxRetries = opts.maxRetries ?? 5;
  const maxThrottleRetries = opts.maxThrottleRetries ?? 20;
  const sleep = opts.sleep ?? defaultSleep;
  const now = opts.now ?? Date.now;
  const random = opts.random ?? Math.random;
  const defaultCost = opts.defaultCost ?? 50;
  const backoffBase = opts.backoffBaseMs ?? 500;
  const backoffMax = opts.backoffMaxMs ?? 30_000;
  const timeoutMs = opts.timeoutMs ?? 30_000;

  const lastCost = new Map<string, number>();
  let bucket: Bucket | null = null;
  // Points reserved by calls that are waiting for the bucket and not yet sent; a fresh reading
  // from Shopify cannot include them yet.
  let queued = 0;

  const estimate = (t: number): number =>
    bucket ? Math.min(bucket.max, bucket.available + ((t - bucket.at) / 1000) * bucket.rate) : Infinity;

  const observe = (cost: QueryCost | undefined): void => {
    const ts = cost?.throttleStatus;
    if (!ts || !Number.isFinite(ts.currentlyAvailable) || !(ts.restoreRate > 0)) return;
    bucket = { max: ts.maximumAvailable, available: ts.currentlyAvailable - queued, rate: ts.restoreRate, at: now() };
  };

  /** Reserves the expected cost and waits until the bucket should hold it. */
  const budget = async (document: string, operationName: string | null, attempt: number): Promise<void> => {
    if (!bucket) return;
    const expected = Math.min(lastCost.get(document) ?? defaultCost, bucket.max);
    const t = now();
    const est = estimate(t);
    const waitMs = est >= expected ? 0 : ((expected - est) / bucket.rate) * 1000;
    bucket.available = est - expected;
    bucket.at = t;
    if (waitMs <= 0) return;
    opts.onThrottle?.({ operationName, reason: 'budget', waitMs, attempt });
    queued += expected;
    try {
      await sleep(waitMs);
    } finally {
      queued -= expected;
    }
  };

  const backoff = (n: number): number => random() * Math.min(backoffMax, backoffBase * 2 ** (n - 1)) + backoffBase / 2;

  async function request<T>(
    document: string,
    variables: Record<string, unknown> = {},
    reqOpts: { signal?: AbortSignal } = {},
  ): Promise<AdminResponse<T>> {
    const operationName = operationNameOf(document);
    const ctx = { shop, operationName };
    let faults = 0;
    let throttles = 0;
    const retryOrGiveUp = async (err: AdminApiError, kind: ThrottleEvent['reason'], waitMs: number) => {
      faults++;
      if (faults > maxRetries) throw new RetriesExhaustedError(ctx, faults + throttles, err);
      opts.onThrottle?.({ operationName, reason: kind, waitMs, attempt: faults + throttles });
      await sleep(waitMs);
    };

    for (;;) {
      reqOpts.signal?.throwIfAborted();
      await budget(document, operationName, faults + throttles);
      let res: Response;
      try {
        const signals = [AbortSignal.timeout(timeoutMs), ...(reqOpts.signal ? [reqOpts.signal] : [])];
        res = await doFetch(endpoint, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', Accept: 'application/json', 'X-Shopify-Access-Token': opts.accessToken },
          body: JSON.stringify({ query: document, variables }),
          signal: AbortSignal.any(signals),
        });
      } catch (err) {
        if (reqOpts.signal?.aborted) throw err;
        // A mutation whose response was lost may have landed; shopml's mutations (tags,
        // metafields, flow triggers keyed by payload) are safe to repeat.
        await retryOrGiveUp(new NetworkError(ctx, err), 'network', backoff(faults + 1));
        continue;
      }

      if (res.status === 429) {
        await res.body?.cancel();
        const wait = parseRetryAfter(res.headers.get('retry-after'), now()) ?? backoff(faults + 1);
        await retryOrGiveUp(new HttpError(ctx, 429, ''), 'http_429', wait);
        continue;
      }
      if (res.status >= 500) {
        const text = await res.text().catch(() => '');
        await retryOrGiveUp(new HttpError(ctx, res.status, text), 'http_5xx', backoff(faults + 1));
        continue;
      }
      const text = await res.text();
      if (!res.ok) throw new HttpError(ctx, res.status, text);

      let body: { data?: T; errors?: GraphqlError[] | string | Record<string, unknown>; extensions?: AdminExtensions };
      try {
        body = JSON.parse(text);
      } catch {
        throw new HttpError(ctx, res.status, `invalid JSON: ${text}`);
      }
      const cost = body.extensions?.cost;
      observe(cost);
      if (cost && Number.isFinite(cost.requestedQueryCost)) lastCost.set(document, cost.requestedQueryCost);

      const errors = normalizeErrors(body.errors);
      if (errors.length > 0 && errors.some((e) => e.extensions?.code === 'THROTTLED')) {
        throttles++;
        const err = new ThrottledError(ctx, cost?.requestedQueryCost ?? null, cost?.throttleStatus.currentlyAvailable ?? null);
        // A query costing more than the whole bucket can never run: waiting would not help.
        if (cost && cost.requestedQueryCost > cost.throttleStatus.maximumAvailable) {
          throw new GraphqlErrors(ctx, [{ message: `query cost ${cost.requestedQueryCost} exceeds the bucket size ${cost.throttleStatus.maximumAvailable}: ask for fewer items per request`, extensions: { code: 'MAX_COST_EXCEEDED' } }]);
        }
        if (throttles > maxThrottleRetries) throw new RetriesExhaustedError(ctx, faults + throttles, err);
        // The wait itself happens in budget(): with the fresh reading it is
        // (requested - available) / restoreRate, shared fairly among queued calls.
        const ts = cost?.throttleStatus;
        const waitMs = cost && ts && ts.restoreRate > 0 ? Math.max(0, ((cost.requestedQueryCost - ts.currentlyAvailable) / ts.restoreRate) * 1000) : backoff(throttles);
        opts.onThrottle?.({ operationName, reason: 'throttled', waitMs, attempt: faults + throttles });
        if (!bucket) await sleep(waitMs); // no reading to schedule against
        continue;
      }
      if (errors.length > 0) throw new GraphqlErrors(ctx, errors);
      if (body.data === undefined || body.data === null) throw new GraphqlErrors(ctx, [{ message: 'response has no data' }]);
      return { data: body.data, extensions: body.extensions };
    }
  }

  return {
    shop,
    request,
    throttleEstimate() {
      if (!bucket) return null;
      return { maximumAvailable: bucket.max, currentlyAvailable: estimate(now()), restoreRate: bucket.rate };
    },
  };
}

/** Shopify answers `errors` as an array, or (for some 4xx) a string or an object. */
function normalizeErrors(errors: unknown): GraphqlError[] {
  if (!errors) return [];
  if (Array.isArray(errors)) return errors as GraphqlError[];
  if (typeof errors === 'string') return [{ message: errors }];
  return [{ message: JSON.stringify(errors) }];
}

/** Sends a mutation and throws UserErrors if its payload (data[root]) reports any. */
export async function mutate<T extends Record<string, { userErrors?: UserError[] | null } | null>>(
  client: AdminClient,
  document: string,
  variables: Record<string, unknown>,
): Promise<T> {
  const { data } = await client.request<T>(document, variables);
  const ctx = { shop: client.shop, operationName: operationNameOf(document) };
  for (const payload of Object.values(data)) assertNoUserErrors(payload, ctx);
  return data;
}

export {
  AdminApiError,
  GraphqlErrors,
  HttpError,
  NetworkError,
  RetriesExhaustedError,
  ThrottledError,
  UserErrors,
  assertNoUserErrors,
} from './admin-errors.ts';
export type { GraphqlError, UserError } from './admin-errors.ts';
