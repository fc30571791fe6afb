// The persisted cursor of a publishing pass (flow_sync_runs): one row per shop and kind. A pass
// visits customers in customer_id order and commits each batch's state together with the cursor,
// so a pass that dies resumes after the last committed batch instead of starting over.
import type { AppDeps } from '../app.ts';
import type { Db } from '../store/db.ts';
import { championVersions, versionsKey, type ChampionVersions } from './scores.ts';

export type SyncKind = 'retag' | 'metafields';

export interface SyncRun {
  versions: string;
  cursor: string | null;
  status: 'running' | 'done';
  counts: Record<string, number>;
  resumed: boolean;
}

interface Row { versions: string; cursor: string | null; status: 'running' | 'done'; counts_json: string }

/**
 * Starts a pass for `versions`, or resumes the unfinished one for the same versions. A pass
 * for other versions (a newer champion) starts over from the first customer.
 */
export function beginSyncRun(db: Db, shop: string, kind: SyncKind, versions: string, at: string): SyncRun {
  const row = db.prepare('SELECT versions, cursor, status, counts_json FROM flow_sync_runs WHERE shop = ? AND kind = ?').get(shop, kind) as Row | undefined;
  if (row && row.status === 'running' && row.versions === versions) {
    return { versions, cursor: row.cursor, status: 'running', counts: JSON.parse(row.counts_json) as Record<string, number>, resumed: true };
  }
  db.prepare(`INSERT INTO flow_sync_runs (shop, kind, versions, cursor, status, started_at, updated_at, finished_at, counts_json)
    VALUES (?, ?, ?, NULL, 'running', ?, ?, NULL, '{}')
    ON CONFLICT (shop, kind) DO UPDATE SET versions = excluded.versions, cursor = NULL, status = 'running', started_at = excluded.started_at,
      updated_at = excluded.updated_at, finished_at = NULL, counts_json = '{}'`).run(shop, kind, versions, at, at);
  return { versions, cursor: null, status: 'running', counts: {}, resumed: false };
}

/** Records progress (inside the batch's transaction). */
export function advanceSyncRun(db: Db, shop: string, kind: SyncKind, cursor: string, counts: Record<string, number>, at: string): void {
  db.prepare(`UPDATE flow_sync_runs SET cursor = ?, counts_json = ?, updated_at = ? WHERE shop = ? AND kind = ? AND status = 'running'`)
    .run(cursor, JSON.stringify(counts), at, shop, kind);
}

export function finishSyncRun(db: Db, shop: string, kind: SyncKind, counts: Record<string, number>, at: string): void {
  db.prepare(`UPDATE flow_sync_runs SET status = 'done', counts_json = ?, updated_at = ?, finished_at = ? WHERE shop = ? AND kind = ?`)
    .run(JSON.stringify(counts), at, at, shop, kind);
}

export function getSyncRun(db: Db, shop: string, kind: SyncKind): (SyncRun & { startedAt: string; finishedAt: string | null }) | null {
  const r = db.prepare('SELECT versions, cursor, status, counts_json, started_at, finished_at FROM flow_sync_runs WHERE shop = ? AND kind = ?')
    .get(shop, kind) as (Row & { started_at: string; finished_at: string | null }) | undefined;
  if (!r) return null;
  return { versions: r.versions, cursor: r.cursor, status: r.status, counts: JSON.parse(r.counts_json) as Record<string, number>, resumed: false, startedAt: r.started_at, finishedAt: r.finished_at };
}

/** Customers after `cursor`, in order: those scored by the champions plus those shopml already tagged or published. */
export function nextCustomers(db: Db, shop: string, versions: { segment: string | null; churn: string | null }, cursor: string | null, limit: number): string[] {
  // Each source is read from its primary key after the cursor, so a batch costs O(limit), not O(customers).
  return db.prepare(`SELECT customer_id FROM (
      SELECT * FROM (SELECT customer_id FROM customer_outputs WHERE shop = @shop AND model_version = @segment AND customer_id > @cursor ORDER BY customer_id LIMIT @limit)
      UNION SELECT * FROM (SELECT customer_id FROM customer_outputs WHERE shop = @shop AND model_version = @churn AND customer_id > @cursor ORDER BY customer_id LIMIT @limit)
      UNION SELECT * FROM (SELECT DISTINCT customer_id FROM flow_customer_tags WHERE shop = @shop AND customer_id > @cursor ORDER BY customer_id LIMIT @limit)
      UNION SELECT * FROM (SELECT customer_id FROM flow_customer_state WHERE shop = @shop AND customer_id > @cursor ORDER BY customer_id LIMIT @limit)
    ) ORDER BY customer_id LIMIT @limit`).pluck()
    .all({ shop, segment: versions.segment ?? '', churn: versions.churn ?? '', cursor: cursor ?? '', limit }) as string[];
}

/** What one batch of a pass did: its records (written with the cursor, in one transaction) and whether it failed. */
export interface BatchOutcome {
  /** Writes the batch's records, inside the transaction that also advances the cursor. */
  write(w: Db, at: string): void;
  /** A failure is thrown after `write` committed; the cursor stays before the batch, so it is repeated. */
  failure?: { error: unknown };
}

export interface CustomerPass<C extends Record<string, number>> {
  kind: SyncKind;
  /** Counts of a fresh run (a resumed run continues from its stored counts). */
  zero: C;
  batchSize: number;
  /** Once per fresh run, before its first batch (e.g. creating metafield definitions). */
  start?(counts: C): Promise<void>;
  /** One batch of customers (in customer_id order) under the champions `versions`. */
  batch(ids: string[], versions: ChampionVersions, counts: C): Promise<BatchOutcome>;
}

export interface PassRunOptions {
  signal?: AbortSignal;
  /** Called after every committed batch (a job's lease heartbeat). */
  heartbeat?: () => void;
  /** Stop after this many batches, leaving the pass resumable (tests simulate a crash with it). */
  maxBatches?: number;
}

export interface PassResult<C> {
  versions: string;
  resumed: boolean;
  /** false when stopped by maxBatches: the next call resumes. */
  done: boolean;
  counts: C;
}

/**
 * The loop every publishing pass shares: begin (or resume) the run for the current champions,
 * visit customers batch by batch, commit each batch's records with the cursor, and finish — or
 * start over from the first customer when a promotion or rollback changed the champions
 * meanwhile, so the new champion is published too.
 */
export async function runCustomerPass<C extends Record<string, number>>(deps: AppDeps, shop: string, pass: CustomerPass<C>, opts: PassRunOptions = {}): Promise<PassResult<C>> {
  const { db } = deps;
  let batches = 0;
  let resumedAny = false;
  for (;;) {
    const versions = championVersions(db, shop);
    const key = versionsKey(versions);
    const run = await deps.writer.write((w) => beginSyncRun(w, shop, pass.kind, key, deps.now().toISOString()));
    resumedAny ||= run.resumed;
    const counts = { ...pass.zero, ...(run.counts as Partial<C>) };
    if (run.cursor === null) await pass.start?.(counts);
    let cursor = run.cursor;

    for (;;) {
      opts.signal?.throwIfAborted();
      const ids = nextCustomers(db, shop, versions, cursor, pass.batchSize);
      if (ids.length === 0) break;
      const outcome = await pass.batch(ids, versions, counts);
      const at = deps.now().toISOString();
      await deps.writer.write((w) => {
        outcome.write(w, at);
        // The cursor moves only past a batch that fully succeeded.
        if (!outcome.failure) advanceSyncRun(w, shop, pass.kind, ids[ids.length - 1]!, { ...counts }, at);
      });
      if (outcome.failure) throw outcome.failure.error;
      cursor = ids[ids.length - 1]!;
      opts.heartbeat?.();
      batches++;
      if (opts.maxBatches !== undefined && batches >= opts.maxBatches) return { versions: key, resumed: resumedAny, done: false, counts };
    }

    if (versionsKey(championVersions(db, shop)) !== key) continue;
    await deps.writer.write((w) => finishSyncRun(w, shop, pass.kind, { ...counts }, deps.now().toISOString()));
    return { versions: key, resumed: resumedAny, done: true, counts };
  }
}
