// Messages between the training pipeline and its worker thread.
import type { CleanData } from '../features/clean.ts';
import type { ModelKind } from './types.ts';

export interface TrainJob {
  kind: ModelKind;
  data: CleanData;
  params: Record<string, unknown>;
  seed: number;
  asOf: number;
}

export type TrainMessage =
  | { type: 'progress'; fraction: number; message?: string }
  | {
      type: 'done';
      artifact: Uint8Array;
      perCustomer: [string, string][];
      metrics: Record<string, number>;
      params: Record<string, unknown>;
      backend: { name: string; description: string; fallbackReason: string | null };
      seconds: number;
    }
  | { type: 'error'; message: string };
