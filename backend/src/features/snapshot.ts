// Dataset versions. A snapshot is identified by the sha256 of the canonical bytes of the
// cleaned sales and returns every feature table is derived from, plus the watermark and the
// feature code version: same identity ⇒ same features ⇒ (with params, seed, backend) same model.
// The bytes themselves are not kept: they name customers, and a redaction must be able to
// remove a customer everywhere; re-reading the store as of the watermark rebuilds them, and a
// redaction shows up as a new snapshot id.
import { createHash } from 'node:crypto';
import type { CleanData } from './clean.ts';

/** Bump when cleaning or feature code changes what the same orders turn into. */
export const FEATURE_CODE_VERSION = 'features-1';

export interface SnapshotId {
  id: string; // sha256 hex
  watermark: string; // ISO: every order at or after it is excluded
  codeVersion: string;
  salesLines: number;
  returnLines: number;
  orders: number;
  customers: number;
  products: number;
}

export function snapshotOf(data: CleanData, watermark: string): SnapshotId {
  const h = createHash('sha256');
  h.update(`shopml-snapshot\n${FEATURE_CODE_VERSION}\n${watermark}\n`);
  // Canonical: fixed field order, one line per row, rows in the cleaning step's stable order.
  for (const s of data.sales) h.update(`s\t${s.orderId}\t${s.customerId ?? ''}\t${s.productId}\t${s.time}\t${s.quantity}\t${s.price}\n`);
  for (const r of data.returns) h.update(`r\t${r.orderId}\t${r.customerId ?? ''}\t${r.productId}\t${r.time}\t${r.quantity}\t${r.price}\n`);
  return {
    id: h.digest('hex'),
    watermark,
    codeVersion: FEATURE_CODE_VERSION,
    salesLines: data.sales.length,
    returnLines: data.returns.length,
    orders: new Set(data.sales.map((s) => s.orderId)).size,
    customers: new Set(data.sales.map((s) => s.customerId).filter((c) => c !== null)).size,
    products: new Set(data.sales.map((s) => s.productId)).size,
  };
}
