// Shared by the tests of the compliance topics on a long store (redaction-sweep.test.ts,
// data-request-export.test.ts): signed deliveries, a log filled past the inline limit, waiting for
// the passes, and a runtime on the main connection that is stopped and started again mid-pass.
import { expect } from 'vitest';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../backend/src/config.ts';
import { startRuntime, type Runtime } from '../../backend/src/runtime.ts';
import type { Db } from '../../backend/src/store/db.ts';
import { REDACT_INLINE_MAX_EVENTS } from '../../backend/src/ingest/compliance.ts';
import { webhookHeaders } from '../../simulator/sign.ts';
import { SHOP, TEST_SECRET, testEnv } from './backend.ts';

export const orderFixture = JSON.parse(readFileSync(new URL('../fixtures/orders-create.json', import.meta.url), 'utf8')) as Record<string, unknown>;

/** The fixture's customer with another id and email. */
export const customer = (id: number, email: string) => ({ ...(orderFixture.customer as object), id, email });

/** A signed delivery to SHOP; expects 200 and returns the answer. */
export async function deliver(url: string, topic: string, body: unknown): Promise<{ outcome: string }> {
  const rawBody = JSON.stringify(body);
  const headers = webhookHeaders({ secret: TEST_SECRET, shop: SHOP, topic, rawBody, webhookId: randomUUID() });
  const res = await fetch(`${url}/webhooks`, { method: 'POST', headers, body: rawBody });
  expect(res.status, await res.clone().text()).toBe(200);
  return (await res.json()) as { outcome: string };
}

/** Enough other events (another shop's) that the log is past the inline limit. */
export function fillLog(db: Db, n = REDACT_INLINE_MAX_EVENTS + 500): void {
  db.prepare(`WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < ?)
    INSERT INTO events (shop, topic, source, source_id, received_at, outcome, payload_sha256, payload)
    SELECT 'filler.myshopify.com', 'products/update', 'import', 'filler-' || i, '2026-07-01T00:00:00Z', 'applied', 'x', '{}' FROM k`).run(n);
}

export const count = (db: Db, sql: string, ...args: unknown[]) => db.prepare(sql).pluck().get(...args) as number;

export async function until(what: string, ok: () => boolean, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * A runtime without the webhook writer thread (its compliance passes on the main connection):
 * `before` runs on it, then it is stopped and started again on the same store and `after` runs
 * on the new one.
 */
export async function acrossRestart(before: (rt: Runtime) => Promise<void>, after: (rt: Runtime) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'shopml-restart-'));
  const config = loadConfig(testEnv(dir));
  let rt: Runtime | null = await startRuntime(config, { defaultMetrics: false, webhookWriterThread: false });
  try {
    await before(rt);
    await rt.close();
    rt = null;
    rt = await startRuntime(config, { defaultMetrics: false, webhookWriterThread: false });
    await after(rt);
  } finally {
    await rt?.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
