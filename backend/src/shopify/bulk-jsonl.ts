// Reading a bulk operation's JSONL result: line by line from a byte stream (files can be
// gigabytes, so never the whole text at once), then reassembling items from the ungrouped
// (`groupObjects: false`) layout, where every child (an order's line item, a product's variant) is
// its own line carrying `__parentId`.
import { createHash, type Hash } from 'node:crypto';
import type { LineKind, NormalizedLine, NormalizedOrder } from '../ingest/types.ts';
import { gidToId, parseGid } from './gid.ts';
import { invalidUtf8Offset, lineBreaksBefore } from '../ingest/utf8.ts';

export class BulkJsonlError extends Error {
  readonly lineNumber: number;
  constructor(lineNumber: number, message: string, options?: ErrorOptions) {
    super(`bulk JSONL line ${lineNumber}: ${message}`, options);
    this.name = 'BulkJsonlError';
    this.lineNumber = lineNumber;
  }
}

/** Yields each non-empty line with its 1-based number. */
export async function* readJsonlLines(body: AsyncIterable<Uint8Array>): AsyncGenerator<{ line: string; lineNumber: number }> {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let carry = '';
  let lineNumber = 0;
  for await (const chunk of body) {
    try {
      carry += decoder.decode(chunk, { stream: true });
    } catch (err) {
      const at = invalidUtf8Offset(chunk);
      throw new BulkJsonlError(lineNumber + 1 + (at < 0 ? 0 : lineBreaksBefore(chunk, at)), 'not valid UTF-8', { cause: err });
    }
    let nl: number;
    while ((nl = carry.indexOf('\n')) >= 0) {
      const line = carry.slice(0, nl).replace(/\r$/, '');
      carry = carry.slice(nl + 1);
      lineNumber++;
      if (line.trim() !== '') yield { line, lineNumber };
    }
  }
  try {
    carry += decoder.decode();
  } catch (err) {
    throw new BulkJsonlError(lineNumber + 1, 'not valid UTF-8 (the file ends inside a character)', { cause: err });
  }
  if (carry.trim() !== '') yield { line: carry.replace(/\r$/, ''), lineNumber: lineNumber + 1 };
}

interface RawMoney {
  shopMoney?: { amount?: string; currencyCode?: string } | null;
}

interface RawOrder {
  id: string;
  name?: string | null;
  createdAt?: string;
  updatedAt?: string;
  cancelledAt?: string | null;
  displayFinancialStatus?: string | null;
  currencyCode?: string | null;
  test?: boolean;
  totalPriceSet?: RawMoney | null;
  customer?: { id: string } | null;
}

interface RawLineItem {
  id: string;
  quantity?: number;
  sku?: string | null;
  title?: string | null;
  isGiftCard?: boolean | null;
  product?: { id: string } | null;
  variant?: { id: string } | null;
  originalUnitPriceSet?: RawMoney | null;
  __parentId: string;
}

function money(v: RawMoney | null | undefined, what: string): number | null {
  const amount = v?.shopMoney?.amount;
  if (amount === undefined || amount === null) return null;
  const n = Number(amount);
  if (!Number.isFinite(n)) throw new Error(`${what} is not a number: ${JSON.stringify(amount)}`);
  return n;
}

export function instant(v: string | null | undefined, what: string): string {
  const t = typeof v === 'string' ? Date.parse(v) : NaN;
  if (!Number.isFinite(t)) throw new Error(`${what} is not a timestamp: ${JSON.stringify(v)}`);
  return new Date(t).toISOString();
}

export function normalizeLine(raw: RawLineItem): NormalizedLine {
  const quantity = raw.quantity;
  if (typeof quantity !== 'number' || !Number.isFinite(quantity)) throw new Error(`line item ${raw.id} has no quantity`);
  const productId = raw.product?.id ? gidToId(raw.product.id, 'Product') : null;
  // Custom items (no product) and gift cards are revenue but not recommendable products; the
  // webhook normalizer classifies the same way.
  const lineKind: LineKind = productId && !raw.isGiftCard ? 'product' : 'non_product';
  return {
    id: gidToId(raw.id, 'LineItem'),
    productId,
    variantId: raw.variant?.id ? gidToId(raw.variant.id, 'ProductVariant') : null,
    sku: raw.sku ? raw.sku : null,
    title: raw.title ?? null,
    quantity,
    price: money(raw.originalUnitPriceSet, `line item ${raw.id} price`) ?? 0,
    lineKind,
  };
}

export function normalizeBulkOrder(raw: RawOrder, lines: NormalizedLine[]): NormalizedOrder {
  return {
    id: gidToId(raw.id, 'Order'),
    name: raw.name ?? null,
    kind: 'order',
    customerId: raw.customer?.id ? gidToId(raw.customer.id, 'Customer') : null,
    emailHash: null,
    createdAt: instant(raw.createdAt, 'createdAt'),
    updatedAt: instant(raw.updatedAt, 'updatedAt'),
    cancelledAt: raw.cancelledAt ? instant(raw.cancelledAt, 'cancelledAt') : null,
    currency: raw.currencyCode ?? raw.totalPriceSet?.shopMoney?.currencyCode ?? null,
    totalPrice: money(raw.totalPriceSet, 'totalPriceSet'),
    // Same spelling as REST webhooks' financial_status, so every source agrees.
    financialStatus: raw.displayFinancialStatus ? raw.displayFinancialStatus.toLowerCase() : null,
    sourceName: null,
    country: null,
    test: raw.test === true,
    lines,
  };
}

/** What a reassembled order came from: its GID, Shopify's updatedAt verbatim (for source ids)
 * and the sha256 of its raw JSONL lines. */
export interface BulkOrder {
  gid: string;
  rawUpdatedAt: string;
  payloadSha256: string;
  order: NormalizedOrder;
}

/** What one kind of bulk export is made of: its root object type (one per emitted item), the
 * child type it keeps (other children are counted and ignored), and how both are converted. */
export interface BulkShape<Root, Child, Out> {
  rootType: string;
  childType: string;
  /** Singular noun for messages: "order", "product". */
  noun: string;
  /** Converts one child line (its errors are reported at the child's line). */
  child(raw: Record<string, unknown>): Child;
  /** Builds the item from its root object and children (errors: at the root's line). */
  build(gid: string, root: Root, children: Child[], payloadSha256: string): Out;
}

interface Pending<Root, Child> {
  raw: Root;
  children: Child[];
  hash: Hash;
  firstLine: number;
}

/**
 * Reassembles root objects and their children from JSONL lines. Children come after their parent
 * but, ungrouped, not necessarily right after it; so up to `maxPending` roots stay open and the
 * oldest is emitted when the window is full (or at the end). A child whose parent was already
 * emitted is an error, never a silently dropped line: raise `maxPending` (or export with
 * groupObjects: true).
 */
export class BulkAssembler<Root, Child, Out> {
  readonly maxPending: number;
  private readonly shape: BulkShape<Root, Child, Out>;
  private pending = new Map<string, Pending<Root, Child>>();
  /** JSONL objects read. */
  objects = 0;
  /** Children of `childType` kept. */
  children = 0;
  /** Children of other types (counted, not kept). */
  ignored = 0;

  constructor(shape: BulkShape<Root, Child, Out>, maxPending = 10_000) {
    this.shape = shape;
    this.maxPending = maxPending;
  }

  /** Feeds one JSONL line; returns items that are now complete. */
  push(line: string, lineNumber: number): Out[] {
    let obj: unknown;
    try {
      obj = JSON.parse(line);
    } catch (err) {
      throw new BulkJsonlError(lineNumber, `malformed JSON (${(err as Error).message})`, { cause: err });
    }
    if (!obj || typeof obj !== 'object' || typeof (obj as { id?: unknown }).id !== 'string') {
      throw new BulkJsonlError(lineNumber, 'object without a string id');
    }
    this.objects++;
    const rec = obj as { id: string; __parentId?: string };
    const type = parseGid(rec.id)?.type;
    const { noun } = this.shape;
    try {
      if (rec.__parentId === undefined) {
        if (type !== this.shape.rootType) throw new Error(`unexpected root object ${rec.id}`);
        if (this.pending.has(rec.id)) throw new Error(`${noun} ${rec.id} appears twice`);
        const hash = createHash('sha256').update(line).update('\n');
        this.pending.set(rec.id, { raw: rec as Root, children: [], hash, firstLine: lineNumber });
        return this.pending.size > this.maxPending ? this.flushOldest(this.pending.size - this.maxPending) : [];
      }
      const parent = this.pending.get(rec.__parentId);
      if (!parent) {
        // Remembering every emitted id would make memory grow with the file; the message covers both cases.
        throw new Error(
          `child of ${rec.__parentId}, which is unknown or was already emitted (more than ${this.maxPending} newer ${noun}s came in between; raise maxPending)`,
        );
      }
      if (type !== this.shape.childType) {
        this.ignored++;
        return [];
      }
      parent.children.push(this.shape.child(rec as Record<string, unknown>));
      parent.hash.update(line).update('\n');
      this.children++;
      return [];
    } catch (err) {
      if (err instanceof BulkJsonlError) throw err;
      throw new BulkJsonlError(lineNumber, (err as Error).message, { cause: err });
    }
  }

  /** Emits every item still open (call at end of file). */
  finish(): Out[] {
    return this.flushOldest(this.pending.size);
  }

  private flushOldest(n: number): Out[] {
    const out: Out[] = [];
    for (const [gid, p] of this.pending) {
      if (out.length >= n) break;
      this.pending.delete(gid);
      try {
        out.push(this.shape.build(gid, p.raw, p.children, p.hash.digest('hex')));
      } catch (err) {
        throw new BulkJsonlError(p.firstLine, (err as Error).message, { cause: err });
      }
    }
    return out;
  }
}

const ORDER_SHAPE: BulkShape<RawOrder, NormalizedLine, BulkOrder> = {
  rootType: 'Order',
  childType: 'LineItem',
  noun: 'order',
  child: (raw) => normalizeLine(raw as unknown as RawLineItem),
  build: (gid, raw, lines, payloadSha256) => {
    const order = normalizeBulkOrder(raw, lines);
    return { gid, rawUpdatedAt: raw.updatedAt ?? order.updatedAt, payloadSha256, order };
  },
};

/** Orders with their line items (the orders bulk query). */
export class BulkOrderAssembler extends BulkAssembler<RawOrder, NormalizedLine, BulkOrder> {
  constructor(maxPending = 10_000) {
    super(ORDER_SHAPE, maxPending);
  }

  /** Line items read. */
  get lineItems(): number {
    return this.children;
  }
}
