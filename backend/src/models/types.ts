// What every model kind shares. Data comes in as cleaned sales (features/clean.ts), already
// split by time where evaluation needs it; artifacts are plain, deterministic data (no Date.now,
// no Math.random: seeded everywhere) so the same data + params + seed + tensor backend give the
// same bytes; per-customer outputs are returned apart from the artifact, because they are
// stored in tables keyed by (model version, customer) that a redaction can delete.
import type { CleanData } from '../features/clean.ts';
import type { TensorBackend } from '../ml/tensor-backend.ts';

export type ModelKind = 'recommend' | 'segment' | 'churn' | 'forecast';

export interface TrainContext {
  seed: number;
  backend: TensorBackend;
  /** The snapshot's watermark: "now" for every feature (recency, tenure, horizons). Epoch ms. */
  asOf: number;
  onProgress?: (fraction: number, message?: string) => void;
}

export interface EvalContext extends TrainContext {
  /** Last day of the test period (epoch ms) — the evaluation horizon ends there. */
  testEnd: number;
  /** Start of the test period: the split (epoch ms). */
  split: number;
}

export interface TrainResult<A, C = unknown> {
  /** Plain JSON-serialisable data (typed arrays allowed): the immutable model. */
  artifact: A;
  /** Per-customer outputs (segments, scores, personal lists) keyed by customer id; never in the artifact. */
  perCustomer?: Map<string, C>;
  /** Offline metrics on the validation slice cut from the end of the training period. */
  metrics: Record<string, number>;
  params: Record<string, unknown>;
}

export type { CleanData };
