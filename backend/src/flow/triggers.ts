// Firing shopml's Flow triggers. A payload is validated against the trigger's own definition
// (flow-actions/triggers.ts, the source the extension tomls are generated from) before anything
// is sent: a mismatch is a bug in shopml and throws, it is never sent. A trigger is fired only
// when the lifecycle callback said that some enabled workflow of the shop uses it. Sends go
// through the shop's throttled Admin client, from a job (`flow.fire_trigger`) or from inside a
// publishing pass that is itself a job.
import type { AppDeps } from '../app.ts';
import type { Db } from '../store/db.ts';
import { enqueueJob } from '../jobs/queue.ts';
import type { AdminClient, UserError } from '../shopify/admin-client.ts';
import { assertNoUserErrors } from '../shopify/admin-client.ts';
import { FLOW_TRIGGER_RECEIVE } from '../shopify/documents.ts';
import {
  CHURN_RISK_ROSE,
  CUSTOMER_SEGMENT_CHANGED,
  FLOW_TRIGGERS,
  MODEL_DRIFT_DETECTED,
  STOCK_OUT_PREDICTED,
  type TriggerHandle,
} from '../../../flow-actions/triggers.ts';
import { describeIssues, triggerPayloadSchema } from '../../../flow-actions/payload.ts';
import type { FlowTriggerDefinition } from '../../../flow-actions/types.ts';
import type { ForecastArtifact } from '../models/forecast/train.ts';

export const FIRE_TRIGGER_JOB = 'flow.fire_trigger';

/** A payload that does not match its trigger's definition, or an unknown handle: a bug, never sent. */
export class TriggerPayloadError extends Error {
  readonly handle: string;
  constructor(handle: string, message: string) {
    super(`Flow trigger ${handle}: ${message}`);
    this.name = 'TriggerPayloadError';
    this.handle = handle;
  }
}

const byHandle = new Map(FLOW_TRIGGERS.map((t) => [t.handle, { def: t, schema: triggerPayloadSchema(t) }]));

export function triggerDefinition(handle: string): FlowTriggerDefinition {
  const t = byHandle.get(handle);
  if (!t) throw new TriggerPayloadError(handle, `no such trigger (known: ${[...byHandle.keys()].join(', ')})`);
  return t.def;
}

/** The payload, checked against the trigger's definition (field names and types, nothing extra, ≤ 50 KB). */
export function validateTriggerPayload(handle: string, payload: unknown): Record<string, unknown> {
  const t = byHandle.get(handle);
  if (!t) throw new TriggerPayloadError(handle, `no such trigger (known: ${[...byHandle.keys()].join(', ')})`);
  const r = t.schema.safeParse(payload);
  if (!r.success) throw new TriggerPayloadError(handle, `payload does not match the trigger definition: ${describeIssues(r.error)}`);
  return r.data;
}

/**
 * Whether an enabled workflow of the shop uses the trigger, by the newest lifecycle callback.
 * Flow identifies the trigger by `flow_trigger_definition_id`; its documented example is the
 * trigger's title ("Add row to spreadsheet"), CLI-made extensions may send the handle: both match.
 */
export function triggerListening(db: Db, shop: string, handle: string): boolean {
  const def = triggerDefinition(handle);
  const v = db.prepare(`SELECT has_enabled_flow FROM flow_trigger_lifecycle WHERE shop = ? AND lower(flow_trigger_definition_id) IN (lower(?), lower(?))
    ORDER BY julianday(timestamp) DESC LIMIT 1`).pluck().get(shop, def.handle, def.name) as number | undefined;
  return v === 1;
}

/** Which of shopml's triggers the shop's workflows listen to. */
export function listeningTriggers(db: Db, shop: string): Set<string> {
  return new Set(FLOW_TRIGGERS.filter((t) => triggerListening(db, shop, t.handle)).map((t) => t.handle));
}

/** Sends one trigger now (validating first). Throws UserErrors if Shopify refuses it. */
export async function sendTrigger(client: AdminClient, handle: string, payload: unknown, signal?: AbortSignal): Promise<void> {
  const valid = validateTriggerPayload(handle, payload);
  const { data } = await client.request<{ flowTriggerReceive: { userErrors: UserError[] } | null }>(FLOW_TRIGGER_RECEIVE, { handle, payload: valid }, { signal });
  assertNoUserErrors(data.flowTriggerReceive, { shop: client.shop, operationName: 'FlowTriggerReceive' });
}

export interface TriggerSendRecord {
  handle: string;
  dedupeKey?: string | null;
  status: 'queued' | 'sent' | 'failed';
  customerId?: string | null;
  productId?: string | null;
  payload: Record<string, unknown>;
  at: string;
  error?: string | null;
}

/** Inserts a send record; null when the dedupe key was already used. */
export function recordTriggerSend(db: Db, shop: string, r: TriggerSendRecord): number | null {
  const res = db.prepare(`INSERT INTO flow_trigger_sends (shop, handle, dedupe_key, status, customer_id, product_id, payload_json, created_at, sent_at, error)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`)
    .run(shop, r.handle, r.dedupeKey ?? null, r.status, r.customerId ?? null, r.productId ?? null, JSON.stringify(r.payload), r.at, r.status === 'sent' ? r.at : null, r.error ?? null);
  return res.changes === 1 ? Number(res.lastInsertRowid) : null;
}

export type FireOutcome =
  | { status: 'queued'; sendId: number; jobId: number }
  | { status: 'not_listening' }
  | { status: 'duplicate' };

export interface FireOptions {
  /** Fire once per key (per shop and trigger): a product's stock-out date, a drift report id. */
  dedupeKey?: string;
}

function subjectOf(payload: Record<string, unknown>): { customerId: string | null; productId: string | null } {
  const id = (v: unknown) => (v === undefined || v === null ? null : String(v));
  return { customerId: id(payload.customer_id), productId: id(payload.product_id) };
}

/**
 * Validates the payload (throws TriggerPayloadError on a mismatch), and if a workflow listens,
 * records the send and enqueues a `flow.fire_trigger` job that calls flowTriggerReceive through
 * the shop's throttled client (retried with backoff). The generic entry point; the typed
 * wrappers below build the payloads.
 */
export async function fireTrigger(deps: AppDeps, shop: string, handle: TriggerHandle, payload: Record<string, unknown>, opts: FireOptions = {}): Promise<FireOutcome> {
  const valid = validateTriggerPayload(handle, payload);
  if (!triggerListening(deps.db, shop, handle)) return { status: 'not_listening' };
  const at = deps.now();
  return deps.writer.write((db): FireOutcome => {
    const subject = subjectOf(valid);
    const sendId = recordTriggerSend(db, shop, { handle, dedupeKey: opts.dedupeKey, status: 'queued', ...subject, payload: valid, at: at.toISOString() });
    if (sendId === null) return { status: 'duplicate' };
    const job = enqueueJob(db, {
      type: FIRE_TRIGGER_JOB, shop, payload: { sendId }, dedupeKey: `flow-trigger:${sendId}`, reason: `Flow trigger ${handle}`,
      customerId: subject.customerId ?? undefined, now: at,
    });
    return { status: 'queued', sendId, jobId: job.id };
  });
}

/** `flow.fire_trigger`: sends a queued trigger; a send already made is not repeated. */
export async function runQueuedTrigger(deps: AppDeps, client: AdminClient, shop: string, sendId: number, signal?: AbortSignal): Promise<{ sendId: number; handle: string; status: 'sent' | 'already_sent' }> {
  const row = deps.db.prepare('SELECT handle, status, payload_json FROM flow_trigger_sends WHERE shop = ? AND id = ?').get(shop, sendId) as
    { handle: string; status: string; payload_json: string } | undefined;
  if (!row) throw new TriggerPayloadError(String(sendId), `no queued trigger send ${sendId} for ${shop} (redacted meanwhile?)`);
  if (row.status === 'sent') return { sendId, handle: row.handle, status: 'already_sent' };
  await sendTrigger(client, row.handle, JSON.parse(row.payload_json), signal);
  const at = deps.now().toISOString();
  await deps.writer.write((db) => db.prepare(`UPDATE flow_trigger_sends SET status = 'sent', sent_at = ?, error = NULL WHERE id = ?`).run(at, sendId));
  return { sendId, handle: row.handle, status: 'sent' };
}

export async function markTriggerFailed(deps: AppDeps, sendId: number, error: string): Promise<void> {
  await deps.writer.write((db) => db.prepare(`UPDATE flow_trigger_sends SET status = 'failed', error = ? WHERE id = ? AND status != 'sent'`).run(error.slice(0, 2000), sendId));
}

// ---- Payload builders and typed wrappers ----

const flowId = (id: string): number => {
  const n = Number(id);
  if (!/^\d+$/.test(id) || !Number.isSafeInteger(n) || n <= 0) throw new TriggerPayloadError('payload', `not a Shopify numeric id: ${JSON.stringify(id)}`);
  return n;
};

export interface SegmentChange { customerId: string; segment: string; previousSegment: string }
export interface ChurnRise { customerId: string; churnScore: number }
export interface StockOut { productId: string; daysUntilStockOut: number; suggestedOrderQuantity: number; /** YYYY-MM-DD: fires once per product and date. */ stockoutDate: string }
export interface ModelDrift { model: string; driftShare: number; /** Fires once per report. */ reportId: string }

export const segmentChangedPayload = (c: SegmentChange) => ({ customer_id: flowId(c.customerId), Segment: c.segment, 'Previous segment': c.previousSegment });
export const churnRosePayload = (c: ChurnRise) => ({ customer_id: flowId(c.customerId), 'Churn score': c.churnScore });
export const stockOutPayload = (s: StockOut) => ({ product_id: flowId(s.productId), 'Days until stock out': s.daysUntilStockOut, 'Suggested order quantity': s.suggestedOrderQuantity });
export const modelDriftPayload = (d: ModelDrift) => ({ Model: d.model, 'Drift share': d.driftShare });

export interface FireSummary { queued: number; duplicate: number; notListening: number }

async function fireMany<T>(deps: AppDeps, shop: string, handle: TriggerHandle, items: readonly T[], build: (t: T) => Record<string, unknown>, key: (t: T) => string | undefined): Promise<FireSummary> {
  const summary: FireSummary = { queued: 0, duplicate: 0, notListening: 0 };
  const payloads = items.map(build); // builds (and so validates) every payload first: one bad item sends nothing
  payloads.forEach((p) => validateTriggerPayload(handle, p));
  if (!triggerListening(deps.db, shop, handle)) {
    summary.notListening = items.length;
    return summary;
  }
  for (let i = 0; i < items.length; i++) {
    const r = await fireTrigger(deps, shop, handle, payloads[i]!, { dedupeKey: key(items[i]!) });
    if (r.status === 'queued') summary.queued++;
    else if (r.status === 'duplicate') summary.duplicate++;
    else summary.notListening++;
  }
  return summary;
}

/** "Customer segment changed" for each change (the publishing pass fires these itself after a retrain). */
export function fireSegmentChanges(deps: AppDeps, shop: string, changes: readonly SegmentChange[]): Promise<FireSummary> {
  return fireMany(deps, shop, CUSTOMER_SEGMENT_CHANGED.handle, changes, segmentChangedPayload, () => undefined);
}

/** "Churn risk rose" for each customer (the metafields pass fires these itself after a retrain). */
export function fireChurnRose(deps: AppDeps, shop: string, rises: readonly ChurnRise[]): Promise<FireSummary> {
  return fireMany(deps, shop, CHURN_RISK_ROSE.handle, rises, churnRosePayload, () => undefined);
}

/** "Stock out predicted", once per product and predicted stock-out date. */
export function fireStockOut(deps: AppDeps, shop: string, items: readonly StockOut[]): Promise<FireSummary> {
  return fireMany(deps, shop, STOCK_OUT_PREDICTED.handle, items, stockOutPayload, (s) => `${s.productId}:${s.stockoutDate}`);
}

/** "Model drift detected", once per drift report. */
export async function fireModelDrift(deps: AppDeps, shop: string, drift: ModelDrift): Promise<FireOutcome> {
  return fireTrigger(deps, shop, MODEL_DRIFT_DETECTED.handle, modelDriftPayload(drift), { dedupeKey: `${drift.model}:${drift.reportId}` });
}

const DAY_MS = 86_400_000;

/**
 * Pure: the forecast's products predicted to sell out within their lead time plus the review
 * period (the window in which an order placed now still matters), with a known stock and a
 * positive suggested order.
 */
export function stockOutsFromForecast(artifact: Pick<ForecastArtifact, 'dayStart' | 'reviewDays' | 'products'>): StockOut[] {
  const day0 = Date.parse(`${artifact.dayStart}T00:00:00Z`);
  const out: StockOut[] = [];
  for (const p of artifact.products) {
    if (p.stockoutDate === null || p.stock === null) continue;
    if (!/^\d+$/.test(p.productId)) continue; // imported history (stock codes): not a Shopify product Flow could reference
    const days = Math.round((Date.parse(`${p.stockoutDate}T00:00:00Z`) - day0) / DAY_MS);
    if (days > p.leadTimeDays + artifact.reviewDays) continue;
    const qty = p.suggestedOrderQty ?? Math.max(0, Math.ceil(p.orderUpTo - p.stock));
    if (!(qty > 0)) continue;
    out.push({ productId: p.productId, daysUntilStockOut: Math.max(0, days), suggestedOrderQuantity: qty, stockoutDate: p.stockoutDate });
  }
  return out;
}

/** Convenience for the forecast's training completion: stockOutsFromForecast → fireStockOut. */
export function fireStockOutsFromForecast(deps: AppDeps, shop: string, artifact: Pick<ForecastArtifact, 'dayStart' | 'reviewDays' | 'products'>): Promise<FireSummary> {
  return fireStockOut(deps, shop, stockOutsFromForecast(artifact));
}
