// A worker thread with its own connection that claims jobs as fast as it can and completes each
// at once; posts the ids it claimed. Several of these race on one database file in
// test/unit/jobs-queue.test.ts.
import { parentPort, workerData } from 'node:worker_threads';
import { openDb } from '../../backend/src/store/db.ts';
import { claimJob, completeJob } from '../../backend/src/jobs/queue.ts';

const { path, owner, start } = workerData as { path: string; owner: string; start: Int32Array };
const db = openDb(path, { busyTimeoutMs: 10_000 });
// Durability is not what this race tests: skip the fsync per commit so 800 commits take
// milliseconds, not seconds (locking and atomicity are the same under NORMAL).
db.pragma('synchronous = NORMAL');
// Ready (start[1] counts the threads waiting), then every thread starts at the same moment (start[0]).
Atomics.add(start, 1, 1);
Atomics.wait(start, 0, 0);
const claimed: number[] = [];
for (;;) {
  const job = claimJob(db, { owner, now: new Date(), leaseMs: 60_000, limits: { global: 1e6, perType: {}, perShopType: {} } });
  if (!job) break;
  claimed.push(job.id);
  if (!completeJob(db, { id: job.id, owner, attempt: job.attempts }, new Date(), { by: owner })) throw new Error(`lost job ${job.id}`);
}
db.close();
parentPort!.postMessage(claimed);
