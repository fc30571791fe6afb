// The job queue of one shop (jobs/queue.ts, migration 006): counts per status, the latest jobs,
// and the last errors (failed jobs waiting for a retry, dead jobs waiting for a person).
import type { Db } from '../../store/db.ts';
import { jobCounts, listJobs, type JobRecord } from '../../jobs/queue.ts';

export interface JobsView {
  available: boolean;
  counts: Record<string, number>;
  recent: JobRow[];
  errors: JobRow[];
}

export interface JobRow {
  id: number;
  type: string;
  status: string;
  reason: string | null;
  attempts: number;
  maxAttempts: number;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  runAt: string | null;
  lastError: string | null;
}

const row = (j: JobRecord): JobRow => ({
  id: j.id, type: j.type, status: j.status, reason: j.reason, attempts: j.attempts, maxAttempts: j.maxAttempts,
  createdAt: j.createdAt, startedAt: j.startedAt, finishedAt: j.finishedAt, runAt: j.runAt,
  // One line is enough on the page; the CLI shows the whole error.
  lastError: j.lastError ? j.lastError.split('\n')[0]!.slice(0, 300) : null,
});

export function jobsView(db: Db, shop: string): JobsView {
  const exists = db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'jobs'`).pluck().get();
  if (!exists) return { available: false, counts: {}, recent: [], errors: [] };
  const recent = listJobs(db, { shop, limit: 20 });
  const errors = [...listJobs(db, { shop, status: 'dead', limit: 10 }), ...listJobs(db, { shop, status: 'failed', limit: 10 })]
    .filter((j) => j.lastError !== null).sort((a, b) => b.id - a.id).slice(0, 10);
  return { available: true, counts: jobCounts(db, shop), recent: recent.map(row), errors: errors.map(row) };
}
