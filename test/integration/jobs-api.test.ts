// /api/v1/jobs over the real server (port 0, SQLite file, session-token verifier; the runner is
// off so the jobs stay as the test leaves them): 401 without a credential, a session token sees
// and retries its own shop's jobs only, the operator sees every shop, bad filters → 400.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestBackend, TEST_API_KEY, TEST_SECRET, type TestBackend } from '../helpers/backend.ts';
import { storeOfflineToken } from '../../backend/src/shopify/auth.ts';
import { claimJob, enqueueJob, failJob, getJob } from '../../backend/src/jobs/queue.ts';
import { sessionToken } from '../../simulator/sign.ts';

const A = 'jobs-a.myshopify.com';
const B = 'jobs-b.myshopify.com';
let be: TestBackend;
const ids: Record<string, number> = {};

beforeAll(async () => {
  be = await startTestBackend({}, { jobs: false });
  const db = be.deps.db;
  for (const shop of [A, B]) {
    storeOfflineToken(db, be.deps.keys, shop, `token-${shop}`, 'read_orders', new Date().toISOString());
    const id = enqueueJob(db, { type: 'api-test', shop, maxAttempts: 1, reason: `for ${shop}` }).id;
    const j = claimJob(db, { owner: 't', now: new Date(), leaseMs: 1000, types: ['api-test'] })!;
    failJob(db, { id: j.id, owner: 't', attempt: 1 }, new Date(), 'boom', { permanent: true, delayMs: 0 });
    ids[shop] = id;
  }
  enqueueJob(db, { type: 'api-test', shop: A, reason: 'waiting' });
});
afterAll(async () => { await be.stop(); });

const OPERATOR = () => ({ Authorization: `Bearer ${be.config.adminToken}` });
const session = (shop: string) => ({ Authorization: `Bearer ${sessionToken({ apiKey: TEST_API_KEY, secret: TEST_SECRET, shop })}` });
async function call(method: 'GET' | 'POST', path: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${be.url}${path}`, { method, headers });
  return { status: res.status, body: (await res.json().catch(() => null)) as any };
}

describe('/api/v1/jobs', () => {
  it('needs a credential', async () => {
    expect((await call('GET', '/api/v1/jobs')).status).toBe(401);
    expect((await call('POST', `/api/v1/jobs/${ids[A]}/retry`)).status).toBe(401);
    expect(getJob(be.deps.db, ids[A]!)!.status).toBe('dead');
  });

  it('a session token lists its own shop; the operator every shop or one', async () => {
    const own = await call('GET', '/api/v1/jobs', session(A));
    expect(own.status).toBe(200);
    expect(own.body.counts).toMatchObject({ pending: 1, dead: 1 });
    expect(own.body.jobs.map((j: { shop: string }) => j.shop)).toEqual([A, A]);
    expect((await call('GET', `/api/v1/jobs?shop=${B}`, session(A))).status).toBe(403);
    const all = await call('GET', '/api/v1/jobs?status=dead', OPERATOR());
    expect(all.body.jobs.map((j: { id: number }) => j.id).sort()).toEqual([ids[A], ids[B]].sort());
    expect(all.body.jobs[0]).toMatchObject({ status: 'dead', lastError: 'boom', attempts: 1 });
    expect((await call('GET', `/api/v1/jobs?shop=${B}`, OPERATOR())).body.jobs).toHaveLength(1);
    expect((await call('GET', '/api/v1/jobs?status=zombie', OPERATOR())).body).toMatchObject({ error: 'bad_request', detail: expect.stringMatching(/status must be one of/) });
    expect((await call('GET', '/api/v1/jobs?limit=0', OPERATOR())).status).toBe(400);
  });

  it('retry: own shop only (another shop\'s job is not found), dead → pending, twice → 409', async () => {
    expect((await call('POST', `/api/v1/jobs/${ids[B]}/retry`, session(A))).status).toBe(404);
    expect(getJob(be.deps.db, ids[B]!)!.status).toBe('dead');
    const r = await call('POST', `/api/v1/jobs/${ids[A]}/retry`, session(A));
    expect(r.status).toBe(200);
    expect(r.body.job).toMatchObject({ id: ids[A], status: 'pending', attempts: 0 });
    const again = await call('POST', `/api/v1/jobs/${ids[A]}/retry`, session(A));
    expect(again.status).toBe(409);
    expect(again.body.message).toMatch(/is pending; only dead or failed jobs can be retried/);
    expect((await call('POST', `/api/v1/jobs/${ids[B]}/retry`, OPERATOR())).body.job.status).toBe('pending');
    expect((await call('POST', '/api/v1/jobs/abc/retry', OPERATOR())).status).toBe(400);
    expect((await call('POST', '/api/v1/jobs/99999/retry', OPERATOR())).status).toBe(404);
  });
});
