// Full exports through a bulk operation (orders with their line items, products with their
// variants): start it, wait for it (the `bulk_operations/finish` webhook or polling, whichever
// comes first), then stream the JSONL and yield normalized items in batches for the caller to
// record in chunk transactions.
import type { NormalizedOrder } from '../ingest/types.ts';
import { type AdminClient, operationNameOf } from './admin-client.ts';
import { AdminApiError, UserErrors, type UserError } from './admin-errors.ts';
import { BULK_ORDERS_QUERY, BULK_POLL, BULK_PRODUCTS_QUERY, BULK_RUN } from './documents.ts';
import { type BulkAssembler, BulkOrderAssembler, readJsonlLines } from './bulk-jsonl.ts';
import { type BulkProduct, BulkProductAssembler } from './bulk-products.ts';
import { parseGid, toGid } from './gid.ts';

export type BulkStatus = 'CREATED' | 'RUNNING' | 'COMPLETED' | 'CANCELING' | 'CANCELED' | 'FAILED' | 'EXPIRED';

export interface BulkOperationInfo {
  id: string;
  status: BulkStatus;
  errorCode: string | null;
  objectCount: string | null;
  rootObjectCount: string | null;
  fileSize: string | null;
  url: string | null;
  partialDataUrl: string | null;
  createdAt: string | null;
  completedAt: string | null;
}

export class BulkOperationInProgressError extends UserErrors {
  constructor(shop: string, userErrors: UserError[]) {
    super({ shop, operationName: 'BulkRun' }, userErrors);
    this.name = 'BulkOperationInProgressError';
    this.message = `${shop}: another bulk query operation is already running; wait for it to finish (or cancel it with bulkOperationCancel) and retry`;
  }
}

export class BulkOperationFailedError extends AdminApiError {
  readonly operation: BulkOperationInfo;
  constructor(shop: string, op: BulkOperationInfo) {
    super(`bulk operation ${op.id} ended ${op.status}${op.errorCode ? ` (${op.errorCode})` : ''}`, { shop, operationName: 'BulkPoll' });
    this.name = 'BulkOperationFailedError';
    this.operation = op;
  }
}

// ---- Waiters: the webhook route tells a running export that its operation finished. ----

const waiters = new Map<string, Set<() => void>>();
// A webhook can beat the export to registering its waiter; remember recent notifications.
const recentlyFinished = new Map<string, number>();
const RECENT_TTL_MS = 10 * 60_000;

function waiterKey(shop: string, operationId: string): string {
  const id = parseGid(operationId)?.id ?? operationId;
  return `${shop}\u0000${id}`;
}

export const bulkWaiters = {
  /** Called by the `bulk_operations/finish` webhook route (id may be the GID or numeric). */
  notifyBulkFinished(shop: string, operationId: string): void {
    const key = waiterKey(shop, operationId);
    const t = Date.now();
    for (const [k, at] of recentlyFinished) if (t - at > RECENT_TTL_MS) recentlyFinished.delete(k);
    recentlyFinished.set(key, t);
    const set = waiters.get(key);
    waiters.delete(key);
    for (const wake of set ?? []) wake();
  },
  /** Resolves when notified (or at once if the notification already came). */
  wait(shop: string, operationId: string, signal?: AbortSignal): Promise<void> {
    const key = waiterKey(shop, operationId);
    if (recentlyFinished.has(key)) return Promise.resolve();
    return new Promise((resolve) => {
      let set = waiters.get(key);
      if (!set) waiters.set(key, (set = new Set()));
      const wake = (): void => {
        set.delete(wake);
        if (set.size === 0 && waiters.get(key) === set) waiters.delete(key);
        resolve();
      };
      set.add(wake);
      signal?.addEventListener('abort', wake, { once: true });
    });
  },
  size(): number {
    return waiters.size;
  },
};

export const notifyBulkFinished = bulkWaiters.notifyBulkFinished;

// ---- The export ----

export type BulkProgress =
  | { phase: 'started'; operationId: string }
  | { phase: 'polled'; operationId: string; status: BulkStatus; objectCount: string | null; via: 'poll' | 'webhook' }
  | { phase: 'completed'; operation: BulkOperationInfo }
  /** `items`: orders or products reassembled so far (`orders` kept for the orders export). */
  | { phase: 'downloading'; what: 'orders' | 'products'; lines: number; items: number; orders?: number };

export interface BulkExportOptions {
  client: AdminClient;
  /** For downloading the result file (a signed URL: no access token is sent). */
  fetch?: typeof globalThis.fetch;
  /** Bulk query; defaults to all orders with their line items (all products with their variants
   * for runBulkProductExport). */
  query?: string;
  pollIntervalMs?: number;
  /** Extra completion signal (e.g. a promise the webhook route resolves). */
  waitForFinish?: Promise<unknown>;
  signal?: AbortSignal;
  /** Items (orders, products) per yielded batch. */
  batchSize?: number;
  /** Give up waiting after this long (the operation keeps running at Shopify). */
  maxWaitMs?: number;
  /** Orders (products) kept open waiting for late children (see BulkAssembler); default 2000. */
  maxPending?: number;
  /** The former name of `maxPending`. */
  maxPendingOrders?: number;
  onProgress?: (p: BulkProgress) => void;
}

export interface BulkExportSummary {
  operation: BulkOperationInfo;
  objects: number;
  orders: number;
  lines: number;
}

const payloadDigests = new WeakMap<NormalizedOrder, string>();

/** sha256 (hex) of the JSONL lines an exported order was assembled from. */
export function bulkPayloadSha256(order: NormalizedOrder): string | undefined {
  return payloadDigests.get(order);
}

/** The event-log source id of an exported order: re-exports of an unchanged order dedupe. */
export function bulkSourceId(order: NormalizedOrder): string {
  return `bulk:${toGid('Order', order.id)}:${order.updatedAt}`;
}

interface RunPayload {
  bulkOperationRunQuery: { bulkOperation: { id: string; status: BulkStatus } | null; userErrors: UserError[] } | null;
}

export async function startBulkQuery(client: AdminClient, query: string): Promise<string> {
  const { data } = await client.request<RunPayload>(BULK_RUN, { query });
  const payload = data.bulkOperationRunQuery;
  const ctx = { shop: client.shop, operationName: operationNameOf(BULK_RUN) };
  const errs = payload?.userErrors ?? [];
  if (errs.some((e) => e.code === 'OPERATION_IN_PROGRESS')) throw new BulkOperationInProgressError(client.shop, errs);
  if (errs.length > 0) throw new UserErrors(ctx, errs);
  if (!payload?.bulkOperation) throw new AdminApiError('bulkOperationRunQuery returned no operation', ctx);
  return payload.bulkOperation.id;
}

export async function pollBulkOperation(client: AdminClient, id: string): Promise<BulkOperationInfo> {
  const { data } = await client.request<{ bulkOperation: BulkOperationInfo | null }>(BULK_POLL, { id });
  if (!data.bulkOperation) throw new AdminApiError(`bulk operation ${id} not found`, { shop: client.shop, operationName: 'BulkPoll' });
  return data.bulkOperation;
}

const RUNNING: ReadonlySet<BulkStatus> = new Set(['CREATED', 'RUNNING', 'CANCELING']);

function delay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** Waits for the operation to leave the running states: polls every `pollIntervalMs`, and polls
 * at once when the webhook (or `waitForFinish`) says it finished. */
export async function waitForBulkOperation(
  client: AdminClient,
  id: string,
  opts: Pick<BulkExportOptions, 'pollIntervalMs' | 'waitForFinish' | 'signal' | 'maxWaitMs' | 'onProgress'>,
): Promise<BulkOperationInfo> {
  const interval = opts.pollIntervalMs ?? 5_000;
  const deadline = Date.now() + (opts.maxWaitMs ?? 6 * 3600_000);
  const stop = new AbortController();
  const signal = opts.signal ? AbortSignal.any([opts.signal, stop.signal]) : stop.signal;
  let notified = false;
  const notice = Promise.race([bulkWaiters.wait(client.shop, id, signal), opts.waitForFinish ?? new Promise(() => {})]).then(() => {
    notified = true;
  });
  try {
    for (;;) {
      opts.signal?.throwIfAborted();
      const op = await pollBulkOperation(client, id);
      opts.onProgress?.({ phase: 'polled', operationId: id, status: op.status, objectCount: op.objectCount, via: notified ? 'webhook' : 'poll' });
      if (!RUNNING.has(op.status)) return op;
      if (Date.now() > deadline) throw new AdminApiError(`bulk operation ${id} still ${op.status} after ${opts.maxWaitMs} ms`, { shop: client.shop, operationName: 'BulkPoll' });
      if (notified) {
        // Finished per the webhook but not yet visible: short re-poll, not the full interval.
        await delay(Math.min(interval, 250), opts.signal);
      } else {
        await Promise.race([delay(interval, signal), notice]);
      }
    }
  } finally {
    stop.abort();
  }
}

interface RawSummary {
  operation: BulkOperationInfo;
  objects: number;
  items: number;
  children: number;
}

/**
 * Runs one bulk query and yields batches of what `assembler` reassembles from its JSONL. A
 * malformed line throws BulkJsonlError (with its line number) before the batch holding it is
 * yielded, so the caller never records a partial batch.
 */
async function* runBulkExport<T>(
  opts: BulkExportOptions,
  query: string,
  what: 'orders' | 'products',
  assembler: BulkAssembler<unknown, unknown, T>,
): AsyncGenerator<T[], RawSummary, void> {
  const { client } = opts;
  const batchSize = opts.batchSize ?? 250;
  const id = await startBulkQuery(client, query);
  opts.onProgress?.({ phase: 'started', operationId: id });
  const op = await waitForBulkOperation(client, id, opts);
  if (op.status !== 'COMPLETED') throw new BulkOperationFailedError(client.shop, op);
  opts.onProgress?.({ phase: 'completed', operation: op });

  const summary: RawSummary = { operation: op, objects: 0, items: 0, children: 0 };
  // No url: the query matched nothing (Shopify omits the file for zero objects).
  if (!op.url) return summary;

  const res = await (opts.fetch ?? globalThis.fetch)(op.url, { signal: opts.signal });
  if (!res.ok || !res.body) {
    await res.body?.cancel();
    throw new AdminApiError(`downloading bulk result failed: HTTP ${res.status}`, { shop: client.shop, operationName: 'BulkDownload' });
  }
  let ready: T[] = [];
  const take = (done: T[]): void => {
    for (const item of done) ready.push(item);
    summary.items += done.length;
  };
  let lines = 0;
  const progress = (): void => {
    opts.onProgress?.({ phase: 'downloading', what, lines, items: summary.items, ...(what === 'orders' ? { orders: summary.items } : {}) });
  };
  const full = function* (all: boolean): Generator<T[]> {
    while (ready.length >= batchSize || (all && ready.length > 0)) {
      const out = ready.slice(0, batchSize);
      ready = ready.slice(batchSize);
      yield out;
    }
  };
  for await (const { line, lineNumber } of readJsonlLines(res.body)) {
    take(assembler.push(line, lineNumber));
    lines = lineNumber;
    if (ready.length >= batchSize) {
      summary.objects = assembler.objects;
      progress();
      yield* full(false);
    }
  }
  take(assembler.finish());
  summary.objects = assembler.objects;
  summary.children = assembler.children;
  yield* full(true);
  progress();
  return summary;
}

/**
 * Runs the orders export and yields batches of normalized orders. Returns a summary when done.
 * A malformed line throws BulkJsonlError (with its line number) before the batch holding it is
 * yielded, so the caller never records a partial batch.
 */
export async function* runBulkOrderExport(opts: BulkExportOptions): AsyncGenerator<NormalizedOrder[], BulkExportSummary, void> {
  const gen = runBulkExport(opts, opts.query ?? BULK_ORDERS_QUERY, 'orders', new BulkOrderAssembler(opts.maxPending ?? opts.maxPendingOrders ?? 2_000));
  for (;;) {
    const step = await gen.next();
    if (step.done) {
      const s = step.value;
      return { operation: s.operation, objects: s.objects, orders: s.items, lines: s.children };
    }
    yield step.value.map((o) => {
      payloadDigests.set(o.order, o.payloadSha256);
      return o.order;
    });
  }
}

export interface BulkProductExportSummary {
  operation: BulkOperationInfo;
  objects: number;
  products: number;
  variants: number;
}

/** The event-log source id of an exported product: re-exports of an unchanged product dedupe. */
export function bulkProductSourceId(p: BulkProduct): string {
  return `bulk:${p.gid}:${p.rawUpdatedAt}`;
}

/**
 * Runs the products export (every product with its variants, images and stock) and yields
 * batches of reassembled products; same contract as runBulkOrderExport.
 */
export async function* runBulkProductExport(opts: BulkExportOptions): AsyncGenerator<BulkProduct[], BulkProductExportSummary, void> {
  const gen = runBulkExport(opts, opts.query ?? BULK_PRODUCTS_QUERY, 'products', new BulkProductAssembler(opts.maxPending ?? opts.maxPendingOrders ?? 2_000));
  for (;;) {
    const step = await gen.next();
    if (step.done) {
      const s = step.value;
      return { operation: s.operation, objects: s.objects, products: s.items, variants: s.children };
    }
    yield step.value;
  }
}
