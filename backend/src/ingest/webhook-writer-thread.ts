// Runs in a worker thread (started by webhook-writer.ts): owns the webhook writes. It has its
// own better-sqlite3 connection (WAL, synchronous = FULL) and its own group writer, so
// JSON.parse, validation, the SQL statements and the COMMIT's fsync all happen off the main
// thread's event loop. Every delivery that arrived while the previous transaction was running
// goes into the next one; each is answered only after its transaction committed. The group
// writer's rules hold unchanged here: one failing write rolls back alone (savepoints), a store
// that cannot write rejects the whole batch (nothing half-written).
import { parentPort, workerData } from 'node:worker_threads';
import { openDb } from '../store/db.ts';
import { createGroupWriter, StoreUnavailableError } from '../store/writer.ts';
import { createKeys } from '../keys.ts';
import { applyWebhook } from './webhooks.ts';
import { passPending, startCompliancePasses } from './compliance-passes.ts';
import type { ThreadReply, ThreadRequest, WebhookWriterThreadData } from './webhook-writer.ts';

const { path, secretKey, busyTimeoutMs, maxBatch, redactInlineMaxEvents } = workerData as WebhookWriterThreadData;
const port = parentPort!;

const db = openDb(path, { busyTimeoutMs });
// Checkpoints belong to the checkpointer thread (checkpointer.ts), as on the main connection:
// an automatic checkpoint here would fsync the database file inside a webhook commit.
db.pragma('wal_autocheckpoint = 0');
const keys = createKeys(secretKey);
// Another connection's write lock (the telemetry thread's and main thread's writers, a log reset by
// the checkpointer) is held ~1 ms at a time: waited out here by trying again every 0.1 ms for up
// to BUSY_SPIN_MS — this thread has nothing else to do meanwhile — instead of on a timer that
// wakes 1, 2, 4 … ms later (later still on a busy machine). Past that, the timer path as elsewhere.
const BUSY_SPIN_MS = 20;
const writer = createGroupWriter(db, { maxBatch, spinOnBusyMs: BUSY_SPIN_MS, ownsConnection: true });
// The compliance topics' steps on a long store (a redaction's sweep, a data request's scan) run
// here, between deliveries; a pass left unfinished by a crash or stop goes on when the thread starts.
const passes = startCompliancePasses(writer);
if (passPending(db)) passes.kick();

// Replies of one group commit go back in one message. Every write of a batch settles in the
// same microtask checkpoint after its COMMIT; a tick scheduled from the first settlement runs
// after all of them.
let outbox: ThreadReply[] = [];
const send = (): void => {
  if (outbox.length === 0) return;
  const replies = outbox;
  outbox = [];
  port.postMessage({ type: 'replies', replies });
};
const answer = (r: ThreadReply): void => {
  if (outbox.push(r) === 1) process.nextTick(send);
};

function failure(seq: number, err: unknown): ThreadReply {
  if (err instanceof StoreUnavailableError) return { seq, ok: false, unavailable: err.code, message: err.message };
  const e = err instanceof Error ? err : new Error(String(err));
  return { seq, ok: false, message: e.message, name: e.name, stack: e.stack };
}

port.on('message', (m: ThreadRequest) => {
  if (m.type === 'write') {
    for (const { seq, delivery } of m.items) {
      writer.write((d) => applyWebhook(d, keys, delivery, { redactInlineMaxEvents })).then(
        (value) => {
          if (value.pendingPass) passes.kick();
          answer({ seq, ok: true, value });
        },
        (err: unknown) => answer(failure(seq, err)),
      );
    }
    return;
  }
  if (m.type === 'stats') {
    port.postMessage({ type: 'stats', stats: { ...writer.stats } });
    return;
  }
  if (m.type === 'stop') {
    // Everything posted before 'stop' is queued ahead of the drain marker, so it commits first.
    // The passes stop between two steps; the next start goes on from their rows.
    void passes.stop().then(() => writer.drain()).then(() => {
      send();
      db.close();
      port.postMessage({ type: 'stopped' });
      port.close();
    });
  }
});
port.postMessage({ type: 'ready' });
