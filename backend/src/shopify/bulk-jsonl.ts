// Reading a bulk operation's JSONL result: line by line from a byte stream (files can be
// gigabytes, so never the whole text at once), then reassembling orders from the ungrouped
// (`groupObjects: false`) layout, where every line item is its own line carrying `__parentId`.
import { createHash, type Hash } from 'node:crypto';
import type { LineKind, NormalizedLine, NormalizedOrder } from '../ingest/types.ts';
import { gidToId, parseGid } from './gid.ts';

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
    carry += decoder.decode(chunk, { stream: true });
    let nl: number;
    while ((nl = carry.indexOf('\n')) >= 0) {
      const line = carry.slice(0, nl).replace(/\r$/, '');
      carry = carry.slice(nl + 1);
      lineNumber++;
      if (line.trim() !== '') yield { line, lineNumber };
    }
  }
  carry += decoder.decode();
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

function instant(v: string | null | undefined, what: string): string {
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

interface Pending {
  raw: RawOrder;
  lines: NormalizedLine[];
  hash: Hash;
  firstLine: number;
}

/**
 * Reassembles orders from JSONL objects. Children come after their parent but, ungrouped, not
 * necessarily right after it; so up to `maxPending` orders stay open and the oldest is emitted
 * when the window is full (or at the end). A child whose parent was already emitted is an error,
 * never a silently dropped line: raise `maxPending` (or export with groupObjects: true).
 */
export class BulkOrderAssembler {
  readonly maxPending: number;
  private pending = new Map<string, Pending>();
  objects = 0;
  lineItems = 0;
  ignored = 0;

  constructor(maxPending = 10_000) {
    this.maxPending = maxPending;
  }

  /** Feeds one JSONL line; returns orders that are now complete. */
  push(line: string, lineNumber: number): BulkOrder[] {
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
    try {
      if (rec.__parentId === undefined) {
        if (type !== 'Order') throw new Error(`unexpected root object ${rec.id}`);
        if (this.pending.has(rec.id)) throw new Error(`order ${rec.id} appears twice`);
        const hash = createHash('sha256').update(line).update('\n');
        this.pending.set(rec.id, { raw: rec as RawOrder, lines: [], hash, firstLine: lineNumber });
        return this.pending.size > this.maxPending ? this.flushOldest(this.pending.size - this.maxPending) : [];
      }
      const parent = this.pending.get(rec.__parentId);
      if (!parent) {
        // Remembering every emitted id would make memory grow with the file; the message covers both cases.
        throw new Error(
          `child of ${rec.__parentId}, which is unknown or was already emitted (more than ${this.maxPending} newer orders came in between; raise maxPending)`,
        );
      }
      if (type !== 'LineItem') {
        this.ignored++;
        return [];
      }
      parent.lines.push(normalizeLine(rec as RawLineItem));
      parent.hash.update(line).update('\n');
      this.lineItems++;
      return [];
    } catch (err) {
      if (err instanceof BulkJsonlError) throw err;
      throw new BulkJsonlError(lineNumber, (err as Error).message, { cause: err });
    }
  }

  /** Emits every order still open (call at end of file). */
  finish(): BulkOrder[] {
    return this.flushOldest(this.pending.size);
  }

  private flushOldest(n: number): BulkOrder[] {
    const out: BulkOrder[] = [];
    for (const [gid, p] of this.pending) {
      if (out.length >= n) break;
      this.pending.delete(gid);
      let order: NormalizedOrder;
      try {
        order = normalizeBulkOrder(p.raw, p.lines);
      } catch (err) {
        throw new BulkJsonlError(p.firstLine, (err as Error).message, { cause: err });
      }
      out.push({ gid, rawUpdatedAt: p.raw.updatedAt ?? order.updatedAt, payloadSha256: p.hash.digest('hex'), order });
    }
    return out;
  }
}
