// What a `train` job records as its result: a compact summary of trainShop's outcome.
import type { TrainShopResult } from '../models/train-pipeline.ts';
import type { ModelKind } from '../models/types.ts';

export interface TrainJobResult {
  snapshot: string;
  watermark: string;
  orders: number;
  quality: { ok: boolean; failed: string[] };
  runs: { runId: number; kind: ModelKind; status: 'succeeded' | 'failed' | 'blocked'; version: string | null; decision: string | null; reason: string | null; error: string | null }[];
  tensorBackend: string | null;
  seconds: number;
  /** Training runs left `running` by an earlier, lost attempt of this job, now marked failed. */
  interruptedRuns?: number[];
  /** onTrained hooks that threw (the training itself stands). */
  hookErrors?: string[];
}

export function summarizeTraining(r: TrainShopResult, seconds: number): TrainJobResult {
  return {
    snapshot: r.snapshot.id,
    watermark: r.snapshot.watermark,
    orders: r.snapshot.orders,
    quality: { ok: r.quality.ok, failed: r.quality.checks.filter((c) => !c.ok).map((c) => c.name) },
    runs: r.runs.map((x) => ({
      runId: x.runId, kind: x.kind, status: x.status, version: x.version,
      decision: x.decision?.decision ?? null, reason: x.decision?.reason ?? null, error: x.error ?? null,
    })),
    tensorBackend: r.tensorBackend,
    seconds: Number(seconds.toFixed(3)),
  };
}
