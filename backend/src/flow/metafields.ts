// Customer metafields: shopml writes each customer's segment, churn risk and predicted value as
// metafields (namespace `shopml`) with metafield definitions, so merchants can filter on them in
// Shopify customer segments (a customer metafield with a definition is a segment filter). The
// definitions are created first, idempotently ("already exists" is success). Values go out with
// metafieldsSet, at most 25 metafields per call, a customer's metafields always in one call; a
// value unchanged since the last write is not written again (flow_customer_state keeps a digest).
// Resumable like the re-tag pass; it also fires "Churn risk rose".
import { createHash } from 'node:crypto';
import type { AppDeps } from '../app.ts';
import type { AdminClient, UserError } from '../shopify/admin-client.ts';
import { UserErrors } from '../shopify/admin-client.ts';
import { METAFIELD_DEFINITION_CREATE, METAFIELDS_SET } from '../shopify/documents.ts';
import { toGid } from '../shopify/gid.ts';
import { shopAdminClient } from '../shopify/shop-client.ts';
import { CHURN_RISK_ROSE } from '../../../flow-actions/triggers.ts';
import { customerScores, type CustomerScore } from './scores.ts';
import { runCustomerPass, type PassResult } from './sync-runs.ts';
import { churnRosePayload, recordTriggerSend, sendTrigger, triggerListening } from './triggers.ts';
import { settleInPool } from './pool.ts';
import type { PassOptions } from './retag.ts';

export const METAFIELD_NAMESPACE = 'shopml';
/** Shopify's limit per metafieldsSet call. */
export const METAFIELDS_PER_CALL = 25;
/** "Churn risk rose" fires when the churn risk crosses this from below (default). */
export const DEFAULT_CHURN_ALERT_THRESHOLD = 0.75;

export interface CustomerMetafield {
  key: string;
  name: string;
  type: 'single_line_text_field' | 'number_decimal';
  description: string;
  value(s: CustomerScore): string | null;
}

export const CUSTOMER_METAFIELDS: readonly CustomerMetafield[] = [
  { key: 'segment', name: 'ML segment', type: 'single_line_text_field', description: 'Customer segment from shopml (e.g. Champions, At risk)', value: (s) => s.segment },
  { key: 'churn_risk', name: 'ML churn risk', type: 'number_decimal', description: 'Probability from 0 to 1 that the customer places no order within the churn horizon (shopml)', value: (s) => (s.churnRisk === null ? null : s.churnRisk.toFixed(4)) },
  { key: 'predicted_value', name: 'ML predicted value', type: 'number_decimal', description: 'Predicted spend within the churn horizon, store currency (shopml)', value: (s) => (s.predictedValue === null ? null : s.predictedValue.toFixed(2)) },
];

export interface MetafieldInput { ownerId: string; namespace: string; key: string; type: string; value: string }

/** Pure: a customer's metafield inputs (null values left out) and their digest. */
export function customerMetafieldInputs(s: CustomerScore): { inputs: MetafieldInput[]; digest: string } {
  const inputs: MetafieldInput[] = [];
  for (const m of CUSTOMER_METAFIELDS) {
    const value = m.value(s);
    if (value !== null) inputs.push({ ownerId: toGid('Customer', s.customerId), namespace: METAFIELD_NAMESPACE, key: m.key, type: m.type, value });
  }
  const digest = createHash('sha256').update(JSON.stringify(inputs.map((i) => [i.key, i.type, i.value]))).digest('hex').slice(0, 32);
  return { inputs, digest };
}

/** Pure: customers packed whole into calls of at most `max` metafields, in order. */
export function packCalls<T extends { inputs: unknown[] }>(items: readonly T[], max = METAFIELDS_PER_CALL): T[][] {
  const calls: T[][] = [];
  let cur: T[] = [];
  let n = 0;
  for (const it of items) {
    if (it.inputs.length > max) throw new Error(`one customer has ${it.inputs.length} metafields; at most ${max} fit in a call`);
    if (n + it.inputs.length > max && cur.length > 0) {
      calls.push(cur);
      cur = [];
      n = 0;
    }
    cur.push(it);
    n += it.inputs.length;
  }
  if (cur.length > 0) calls.push(cur);
  return calls;
}

const isTaken = (e: UserError) => e.code === 'TAKEN' || /already exists|in use/i.test(e.message);

/**
 * Creates the customer metafield definitions shopml writes to. A definition that exists already
 * (created by an earlier pass, or by the merchant with the same namespace and key) is fine.
 */
export async function ensureMetafieldDefinitions(client: AdminClient, signal?: AbortSignal): Promise<{ created: number; existing: number }> {
  let created = 0;
  let existing = 0;
  for (const m of CUSTOMER_METAFIELDS) {
    const { data } = await client.request<{ metafieldDefinitionCreate: { createdDefinition: { id: string } | null; userErrors: UserError[] } | null }>(
      METAFIELD_DEFINITION_CREATE,
      { definition: { name: m.name, namespace: METAFIELD_NAMESPACE, key: m.key, type: m.type, ownerType: 'CUSTOMER', description: m.description } },
      { signal },
    );
    const p = data.metafieldDefinitionCreate;
    const errors = p?.userErrors ?? [];
    if (errors.length === 0 && p?.createdDefinition) created++;
    else if (errors.length > 0 && errors.every(isTaken)) existing++;
    else throw new UserErrors({ shop: client.shop, operationName: 'MetafieldDefinitionCreate' }, errors.length ? errors : [{ message: 'no definition returned' }]);
  }
  return { created, existing };
}

interface Pending { customerId: string; inputs: MetafieldInput[]; digest: string; score: CustomerScore }

type SetPayload = { metafieldsSet: { metafields: { id: string }[] | null; userErrors: (UserError & { elementIndex?: number | null })[] } | null };

/**
 * One metafieldsSet call. Shopify applies a call all or nothing: when it names owners that no
 * longer exist (customers deleted meanwhile), those customers are dropped and the call repeated.
 */
async function setCall(client: AdminClient, group: Pending[], signal?: AbortSignal): Promise<{ written: Pending[]; gone: string[]; calls: number }> {
  let rest = group;
  const gone: string[] = [];
  for (let calls = 1; ; calls++) {
    const inputs = rest.flatMap((p) => p.inputs);
    const { data } = await client.request<SetPayload>(METAFIELDS_SET, { metafields: inputs }, { signal });
    const errors = data.metafieldsSet?.userErrors ?? [];
    if (errors.length === 0) return { written: rest, gone, calls };
    const missing = new Set<string>();
    for (const e of errors) {
      const i = e.elementIndex;
      if (e.field?.includes('ownerId') && typeof i === 'number' && inputs[i]) missing.add(inputs[i]!.ownerId);
    }
    if (missing.size === 0 || missing.size !== new Set(errors.map((e) => inputs[e.elementIndex ?? -1]?.ownerId)).size || calls >= 3) {
      throw new UserErrors({ shop: client.shop, operationName: 'MetafieldsSet' }, errors);
    }
    for (const p of rest) if (missing.has(toGid('Customer', p.customerId))) gone.push(p.customerId);
    rest = rest.filter((p) => !missing.has(toGid('Customer', p.customerId)));
    if (rest.length === 0) return { written: [], gone, calls };
  }
}

export interface MetafieldSyncOptions extends PassOptions {
  /** "Churn risk rose" threshold (default 0.75). */
  churnAlertThreshold?: number;
}

export interface MetafieldCounts extends Record<string, number> {
  visited: number;
  written: number;
  unchanged: number;
  metafields: number;
  calls: number;
  gone: number;
  churnRoseFired: number;
  definitionsCreated: number;
}

const ZERO: MetafieldCounts = { visited: 0, written: 0, unchanged: 0, metafields: 0, calls: 0, gone: 0, churnRoseFired: 0, definitionsCreated: 0 };

export async function syncCustomerMetafields(deps: AppDeps, shop: string, opts: MetafieldSyncOptions = {}): Promise<PassResult<MetafieldCounts>> {
  const concurrency = opts.concurrency ?? 8;
  const threshold = opts.churnAlertThreshold ?? DEFAULT_CHURN_ALERT_THRESHOLD;
  const client = opts.client ?? shopAdminClient(deps, shop);
  const { db } = deps;

  return runCustomerPass(deps, shop, {
    kind: 'metafields',
    zero: ZERO,
    batchSize: opts.batchSize ?? 200,
    async start(counts) {
      counts.definitionsCreated += (await ensureMetafieldDefinitions(client, opts.signal)).created;
    },
    async batch(ids, versions, counts) {
      const scores = customerScores(db, shop, ids, versions);
      const state = new Map((db.prepare(`SELECT customer_id AS c, churn_risk AS r, metafields_digest AS d FROM flow_customer_state
        WHERE shop = ? AND customer_id IN (SELECT value FROM json_each(?))`).all(shop, JSON.stringify(ids)) as { c: string; r: number | null; d: string | null }[])
        .map((r) => [r.c, r]));
      const listening = triggerListening(db, shop, CHURN_RISK_ROSE.handle);

      const pending: Pending[] = [];
      for (const id of ids) {
        const score = scores.get(id)!;
        const { inputs, digest } = customerMetafieldInputs(score);
        counts.visited++;
        if (inputs.length === 0 || state.get(id)?.d === digest) counts.unchanged++;
        else pending.push({ customerId: id, inputs, digest, score });
      }
      const results = await settleInPool(packCalls(pending), concurrency, (group) => setCall(client, group, opts.signal));
      const written: Pending[] = [];
      const gone: string[] = [];
      for (const r of results) {
        if (!r.ok) continue;
        written.push(...r.value.written);
        gone.push(...r.value.gone);
        counts.calls += r.value.calls;
      }
      let failure = results.find((r) => !r.ok) as { error: unknown } | undefined;

      // "Churn risk rose": from below the threshold (as last published) to at or above it.
      const fired: { customerId: string; payload: Record<string, unknown> }[] = [];
      if (!failure && listening) {
        for (const p of written) {
          const before = state.get(p.customerId)?.r ?? null;
          const now = p.score.churnRisk;
          if (before === null || now === null || !(before < threshold && now >= threshold)) continue;
          const payload = churnRosePayload({ customerId: p.customerId, churnScore: now });
          try {
            await sendTrigger(client, CHURN_RISK_ROSE.handle, payload, opts.signal);
          } catch (err) {
            failure = { error: err };
            break;
          }
          fired.push({ customerId: p.customerId, payload });
        }
      }
      const firedIds = new Set(fired.map((f) => f.customerId));
      return {
        ...(failure ? { failure } : {}),
        write(w, at) {
          const put = w.prepare(`INSERT INTO flow_customer_state (shop, customer_id, churn_risk, metafields_digest, updated_at) VALUES (?, ?, ?, ?, ?)
            ON CONFLICT (shop, customer_id) DO UPDATE SET churn_risk = excluded.churn_risk, metafields_digest = excluded.metafields_digest, updated_at = excluded.updated_at`);
          for (const p of written) {
            // A rise whose trigger was not sent yet keeps the old churn risk, so the retry fires it.
            const rose = p.score.churnRisk !== null && (state.get(p.customerId)?.r ?? 1) < threshold && p.score.churnRisk >= threshold;
            const keepOld = failure && listening && rose && !firedIds.has(p.customerId);
            put.run(shop, p.customerId, keepOld ? (state.get(p.customerId)?.r ?? null) : p.score.churnRisk, keepOld ? null : p.digest, at);
          }
          for (const id of gone) {
            w.prepare('DELETE FROM flow_customer_tags WHERE shop = ? AND customer_id = ?').run(shop, id);
            w.prepare('DELETE FROM flow_customer_state WHERE shop = ? AND customer_id = ?').run(shop, id);
          }
          for (const f of fired) recordTriggerSend(w, shop, { handle: CHURN_RISK_ROSE.handle, status: 'sent', customerId: f.customerId, payload: f.payload, at });
          // Counted with the cursor: a failed batch is repeated, and counted then.
          if (!failure) {
            counts.written += written.length;
            counts.metafields += written.reduce((a, p) => a + p.inputs.length, 0);
            counts.gone += gone.length;
            counts.churnRoseFired += fired.length;
          }
        },
      };
    },
  }, opts);
}
