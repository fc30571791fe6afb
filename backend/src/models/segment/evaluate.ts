// Offline evaluation of the segments on a time split: segments fitted on `train` as of the
// split; `test` only tells what each segment's customers did next — the share who ordered again
// within the horizon and their mean spend there. Useful segments separate those clearly.
import { customerActivity, customerHistories, DAY_MS } from '../../features/customers.ts';
import { round } from '../../ml/stats.ts';
import type { CleanData, EvalContext } from '../types.ts';
import { assignSegments, trainSegment, type SegmentArtifact, type SegmentParams } from './train.ts';

export interface SegmentEvaluation {
  k: number;
  horizonDays: number;
  sizes: Record<string, number>;
  silhouette: number;
  silhouette_by_k: Record<string, number>;
  repeat_rate_by_segment: Record<string, number>;
  future_value_by_segment: Record<string, number>;
  /** Median recency / frequency / monetary / tenure per segment, as of the split. */
  profiles: Record<string, SegmentArtifact['segments'][number]['profile']>;
  train_ms: number;
}

export async function evaluateSegment(train: CleanData, test: CleanData, ctx: EvalContext, opts: SegmentParams & { horizonDays?: number } = {}): Promise<SegmentEvaluation> {
  const horizonDays = opts.horizonDays ?? Math.max(1, Math.round((ctx.testEnd - ctx.split) / DAY_MS));
  const t0 = performance.now();
  const { artifact } = await trainSegment(train, opts, { ...ctx, asOf: ctx.split });
  const ms = performance.now() - t0;
  const a = assignSegments(artifact, customerHistories(train), ctx.split);
  const act = customerActivity(customerHistories(test), a.ids, ctx.split, ctx.split + horizonDays * DAY_MS);
  const sizes: Record<string, number> = {}, repeat: Record<string, number> = {}, value: Record<string, number> = {};
  const profiles: SegmentEvaluation['profiles'] = {};
  for (const s of artifact.segments) { sizes[s.name] = 0; repeat[s.name] = 0; value[s.name] = 0; profiles[s.name] = s.profile; }
  a.ids.forEach((_, i) => {
    const name = artifact.segments[a.index[i]!]!.name;
    sizes[name]!++;
    if (act.orders[i]! > 0) repeat[name]!++;
    value[name]! += act.spend[i]!;
  });
  for (const name of Object.keys(sizes)) {
    const n = sizes[name]!;
    repeat[name] = n ? round(repeat[name]! / n, 4) : NaN;
    value[name] = n ? round(value[name]! / n, 2) : NaN;
  }
  return {
    k: artifact.k, horizonDays, sizes, silhouette: artifact.silhouette, silhouette_by_k: artifact.kSelection.silhouetteByK,
    repeat_rate_by_segment: repeat, future_value_by_segment: value, profiles, train_ms: Math.round(ms),
  };
}
