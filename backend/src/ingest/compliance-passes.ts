// The compliance topics' work left for after their answer on a long store, done in short steps
// between deliveries by whichever thread applies webhooks (the webhook writer thread, or the main
// connection's group writer when there is none): customers/redact's sweeps (redaction-sweep.ts)
// first — a deletion the shop owes — then customers/data_request's scans for guest orders
// (data-request-export.ts). Each step is one short write through the group writer; deliveries
// queued meanwhile commit in between. A pass left unfinished by a crash or stop is a row in its
// table, so the passes of the next start go on from it.
import type { Db } from '../store/db.ts';
import { StoreUnavailableError, type GroupWriter } from '../store/writer.ts';
import { scanPending, scanStep, SCAN_STEP_ORDERS } from './data-request-export.ts';
import { sweepPending, sweepStep, SWEEP_STEP_ORDERS } from './redaction-sweep.ts';

export interface StepSizes {
  /** Log ids per step of a redaction sweep's log pass (default SWEEP_STEP_EVENTS). */
  stepEvents?: number;
  /** Orders read per step of a sweep's or a scan's orders pass (default SWEEP_STEP_ORDERS / SCAN_STEP_ORDERS). */
  stepOrders?: number;
}

/**
 * One step of the oldest pending redaction sweep, else of the oldest data request scan (call
 * inside a write transaction); `pending`: whether any pass of either kind is left.
 */
export function passStep(db: Db, sizes: StepSizes = {}): { deleted: number; exported: number; pending: boolean } {
  let deleted = 0, exported = 0;
  if (sweepPending(db)) deleted = sweepStep(db, sizes.stepEvents, sizes.stepOrders ?? SWEEP_STEP_ORDERS).deleted;
  else if (scanStep(db, sizes.stepOrders ?? SCAN_STEP_ORDERS).exported) exported = 1;
  return { deleted, exported, pending: passPending(db) };
}

/** Whether a pass is pending (a read). */
export function passPending(db: Db): boolean {
  return sweepPending(db) || scanPending(db);
}

export interface CompliancePasses {
  /** Starts the passes if they are not running: after a compliance webhook left a row, and at start-up. */
  kick(): void;
  /** Resolves when nothing is left to do (or stopped). */
  idle(): Promise<void>;
  /** No step starts after this; resolves when the one in flight (if any) has committed. */
  stop(): Promise<void>;
  readonly stats: { steps: number; deleted: number; exported: number; errors: number };
}

export interface PassesOptions extends StepSizes {
  /** Pause between two steps, ms: deliveries queued meanwhile commit first. Default 2. */
  pauseMs?: number;
  /** Wait after the store could not write, ms. Default 1000. */
  retryMs?: number;
  onError?: (err: unknown) => void;
}

export function startCompliancePasses(writer: GroupWriter, opts: PassesOptions = {}): CompliancePasses {
  const pauseMs = opts.pauseMs ?? 2;
  const retryMs = opts.retryMs ?? 1000;
  const stats = { steps: 0, deleted: 0, exported: 0, errors: 0 };
  let running: Promise<void> | null = null;
  // A kick while running: the row it is about may have committed after the step that found
  // nothing left, so the loop starts again once it has ended rather than leaving the row to the
  // next start-up.
  let kickedWhileRunning = false;
  let stopped = false;
  let retry: NodeJS.Timeout | null = null;

  const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

  async function loop(): Promise<void> {
    while (!stopped) {
      let r: { deleted: number; exported: number; pending: boolean };
      try {
        r = await writer.write((db) => passStep(db, opts));
      } catch (err) {
        stats.errors++;
        opts.onError?.(err);
        // A store that cannot write now (locked, full): again later. Anything else (the
        // connection closed under us) ends this run; the next kick or start-up goes on.
        if (err instanceof StoreUnavailableError && !stopped) {
          retry = setTimeout(() => { retry = null; kick(); }, retryMs);
          retry.unref();
        }
        return;
      }
      stats.steps++;
      stats.deleted += r.deleted;
      stats.exported += r.exported;
      if (!r.pending) return;
      await pause(pauseMs);
    }
  }

  function kick(): void {
    if (stopped) return;
    if (running) {
      kickedWhileRunning = true;
      return;
    }
    kickedWhileRunning = false;
    running = loop().finally(() => {
      running = null;
      if (kickedWhileRunning) kick();
    });
  }

  return {
    stats,
    kick,
    async idle() {
      while (running) await running;
    },
    async stop() {
      stopped = true;
      if (retry) clearTimeout(retry);
      await running;
    },
  };
}
