// Customer segments (model card: docs/models/segment.md): k-means (TensorFlow.js Lloyd
// iterations, k-means++ seeding from the seeded PRNG, best of 3 restarts) on standardised
// log recency / frequency / monetary / tenure, k = 6 by default (or chosen by the silhouette
// over k = 3..8 on a seeded sample with k: 'auto'), each segment named for people by where its
// centroid sits (Hungarian match of centroids to name prototypes in R/F/M/T space), and — when
// the previous artifact is given — the previous k and centroids as the starting point and names
// carried over by a Hungarian match of new centroids to old ones, so a retrain on a little more
// data keeps its labels.
import { customerFeatures, customerHistories, type CustomerFeatures, type CustomerHistories } from '../../features/customers.ts';
import { hungarian } from '../../ml/assignment.ts';
import { assign, kmeans, lloyd, silhouette, sqDist, type KMeansResult } from '../../ml/kmeans.ts';
import { createPrng } from '../../ml/prng.ts';
import { round } from '../../ml/stats.ts';
import type { CleanData, TrainContext, TrainResult } from '../types.ts';

export const SEGMENT_FEATURES = ['log1p_recency_days', 'log_frequency', 'log1p_monetary', 'log1p_tenure_days'] as const;

/**
 * Name prototypes in standardised units, as (recency score, frequency, monetary, tenure) where
 * the recency score is −z(log recency): higher = bought more recently.
 */
export const SEGMENT_PROTOTYPES: readonly { name: string; at: readonly [number, number, number, number] }[] = [
  { name: 'Champions', at: [1.0, 1.5, 1.5, 0.6] },
  { name: 'Loyal', at: [0.4, 0.9, 0.9, 0.7] },
  { name: 'Potential loyalist', at: [0.8, 0.2, 0.2, -0.2] },
  { name: 'New', at: [1.0, -0.8, -0.6, -1.5] },
  { name: 'Promising', at: [0.5, -0.6, -0.3, -0.5] },
  { name: 'Need attention', at: [0, 0, 0, 0] },
  { name: 'At risk', at: [-0.8, 0.6, 0.6, 0.6] },
  { name: "Can't lose them", at: [-0.6, 1.5, 1.5, 0.8] },
  { name: 'Hibernating', at: [-0.7, -0.5, -0.5, 0] },
  { name: 'Lost', at: [-1.4, -0.8, -0.8, 0.5] },
];

/**
 * Six segments by default: on the Online Retail data the silhouette is highest at k = 3
 * (0.378) and k = 6 scores 0.321 — RFM data has no sharp clusters, and three segments are too
 * coarse to act on, while six separate next-quarter repeat rates from 0.28 to 0.92 (model card).
 */
export const DEFAULT_K = 6;

export interface SegmentParams {
  /** A fixed k, or 'auto' (best silhouette over kMin..kMax). Default 6; a retrain with a previous artifact keeps its k. */
  k?: number | 'auto';
  kMin?: number; // default 3
  kMax?: number; // default 8
  /** Customers the silhouette is computed on (seeded sample). Default 1000. */
  silhouetteSample?: number;
  /** k-means++ restarts per k. Default 3. */
  restarts?: number;
}

export interface SegmentInfo {
  name: string;
  /** Customer tag for Shopify Flow, e.g. `shopml:champions`. */
  tag: string;
  size: number;
  /** Centroid in standardised units (the space distances are measured in). */
  centroid: number[];
  /** Centroid in the unstandardised log-feature space (what a retrain matches against). */
  centroidLog: number[];
  /** Medians of the segment's customers: a human-readable profile. */
  profile: { recencyDays: number; frequency: number; monetary: number; tenureDays: number };
}

export interface SegmentArtifact {
  kind: 'segment';
  version: 1;
  backend: string;
  asOf: number;
  features: string[];
  means: number[];
  sds: number[];
  k: number;
  kSelection: { method: 'silhouette' | 'fixed' | 'previous'; silhouetteByK: Record<string, number> };
  /** Mean silhouette of the final clustering on the seeded sample. */
  silhouette: number;
  customers: number;
  segments: SegmentInfo[];
}

export interface SegmentOutput { segment: string; tag: string }

export function segmentTag(name: string): string {
  return `shopml:${name.toLowerCase().replace(/'/g, '').replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '')}`;
}

/** Unstandardised model inputs (log space), row-major n × 4. */
export function segmentInputs(f: CustomerFeatures): Float64Array {
  const n = f.ids.length, X = new Float64Array(n * 4);
  for (let i = 0; i < n; i++) {
    X[i * 4] = Math.log1p(f.recencyDays[i]!);
    X[i * 4 + 1] = Math.log(f.frequency[i]!);
    X[i * 4 + 2] = Math.log1p(Math.max(0, f.monetary[i]!));
    X[i * 4 + 3] = Math.log1p(f.tenureDays[i]!);
  }
  return X;
}

function standardise(X: Float64Array, n: number, d: number, means: number[], sds: number[]): Float64Array {
  const Z = new Float64Array(n * d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) Z[i * d + j] = (X[i * d + j]! - means[j]!) / sds[j]!;
  return Z;
}

function median(values: number[]): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Names for k centroids (standardised): minimum total squared distance to distinct prototypes. */
export function nameCentroids(centroids: number[][], exclude: ReadonlySet<string> = new Set()): string[] {
  const protos = SEGMENT_PROTOTYPES.filter((p) => !exclude.has(p.name));
  const pos = (c: number[]) => [-c[0]!, c[1]!, c[2]!, c[3]!];
  const cost = centroids.map((c) => { const q = pos(c); return protos.map((p) => sqDist(q, 0, p.at, 0, 4)); });
  if (centroids.length > protos.length) throw new Error(`segment: at most ${protos.length} named segments`);
  return hungarian(cost).map((j) => protos[j]!.name);
}

/**
 * Names for new centroids given the previous model: new and old centroids matched one-to-one
 * (Hungarian, squared distance in the unstandardised log space, which does not move when the
 * population's means do); a new centroid left without a partner (k grew) is named from the
 * prototypes not already in use.
 */
export function carryNames(centroids: number[][], means: number[], sds: number[], previous: SegmentArtifact): string[] {
  const logs = centroids.map((c) => c.map((v, j) => v * sds[j]! + means[j]!));
  const old = previous.segments;
  const names = new Array<string>(centroids.length);
  if (logs.length <= old.length) {
    hungarian(logs.map((c) => old.map((o) => sqDist(c, 0, o.centroidLog, 0, 4)))).forEach((j, i) => { names[i] = old[j]!.name; });
    return names;
  }
  const match = hungarian(old.map((o) => logs.map((c) => sqDist(c, 0, o.centroidLog, 0, 4))));
  match.forEach((i, j) => { names[i] = old[j]!.name; });
  const rest = centroids.map((_, i) => i).filter((i) => names[i] === undefined);
  const fresh = nameCentroids(rest.map((i) => centroids[i]!), new Set(old.map((o) => o.name)));
  rest.forEach((i, r) => { names[i] = fresh[r]!; });
  return names;
}

export interface SegmentAssignment { ids: string[]; index: Int32Array; features: CustomerFeatures }

/** The segment of every customer with an order before `asOf` (default: the artifact's). */
export function assignSegments(a: SegmentArtifact, source: CustomerHistories | Pick<CleanData, 'sales' | 'returns'>, asOf = a.asOf): SegmentAssignment {
  const f = customerFeatures(source, asOf);
  const n = f.ids.length;
  const Z = standardise(segmentInputs(f), n, 4, a.means, a.sds);
  return { ids: f.ids, index: assign(Z, n, 4, a.segments.map((s) => s.centroid)), features: f };
}

export async function trainSegment(data: CleanData, params: SegmentParams, ctx: TrainContext, previous?: SegmentArtifact): Promise<TrainResult<SegmentArtifact, SegmentOutput>> {
  const { tf } = ctx.backend;
  const visible = data.sales.some((s) => s.time >= ctx.asOf) ? { sales: data.sales.filter((s) => s.time < ctx.asOf), returns: data.returns.filter((r) => r.time < ctx.asOf) } : data;
  ctx.onProgress?.(0, 'segment: features');
  const f = customerFeatures(customerHistories(visible), ctx.asOf);
  const n = f.ids.length, d = 4;
  const kMin = params.kMin ?? 3, kMax = Math.min(params.kMax ?? 8, SEGMENT_PROTOTYPES.length);
  if (n < 2) throw new Error(`segment: need at least 2 customers with orders before asOf (got ${n})`);
  const raw = segmentInputs(f);
  const means = [0, 0, 0, 0], sds = [0, 0, 0, 0];
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) means[j]! += raw[i * d + j]! / n;
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) sds[j]! += (raw[i * d + j]! - means[j]!) ** 2 / n;
  for (let j = 0; j < d; j++) { sds[j] = round(Math.sqrt(sds[j]!) || 1, 12); means[j] = round(means[j]!, 12); }
  // Rounded once here, so training and later scoring (assignSegments) standardise identically.
  const Z = standardise(raw, n, d, means, sds);
  const rng = createPrng(ctx.seed).fork('segment');
  const sample = rng.fork('silhouette-sample').sampleIndices(n, params.silhouetteSample ?? 1000);
  const restarts = params.restarts ?? 3;

  let result: KMeansResult;
  let method: SegmentArtifact['kSelection']['method'];
  const silhouetteByK: Record<string, number> = {};
  if (previous && (params.k === undefined || params.k === previous.k)) {
    // Retrain: keep k and start from the previous centroids (re-standardised).
    method = 'previous';
    const init = previous.segments.map((s) => s.centroidLog.map((v, j) => (v - means[j]!) / sds[j]!));
    result = lloyd(tf, Z, n, d, init.slice(0, Math.min(init.length, n)));
    silhouetteByK[String(result.k)] = round(silhouette(Z, d, result.labels, sample), 6);
  } else {
    const kParam = params.k ?? DEFAULT_K;
    const ks = typeof kParam === 'number' ? [kParam] : Array.from({ length: Math.max(0, kMax - kMin + 1) }, (_, i) => kMin + i);
    method = typeof kParam === 'number' ? 'fixed' : 'silhouette';
    let best: KMeansResult | null = null, bestS = -Infinity;
    for (const [i, k] of ks.entries()) {
      if (k > n) break;
      ctx.onProgress?.(0.1 + (0.8 * i) / ks.length, `segment: k = ${k}`);
      const r = kmeans(tf, Z, n, d, k, rng, restarts);
      const s = silhouette(Z, d, r.labels, sample);
      silhouetteByK[String(k)] = round(s, 6);
      if (!best || s > bestS + 1e-9) { best = r; bestS = s; }
    }
    result = best ?? kmeans(tf, Z, n, d, Math.min(n, kMin), rng, restarts);
  }
  const centroids = result.centroids.map((c) => c.map((v) => round(v, 9)));
  const names = previous ? carryNames(centroids, means, sds, previous) : nameCentroids(centroids);
  const k = centroids.length;
  // Labels from the stored (rounded) centroids: exactly what assignSegments will give.
  const labels = assign(Z, n, d, centroids);
  const members: number[][] = Array.from({ length: k }, () => []);
  for (let i = 0; i < n; i++) members[labels[i]!]!.push(i);
  const segments: SegmentInfo[] = centroids.map((c, s) => ({
    name: names[s]!,
    tag: segmentTag(names[s]!),
    size: members[s]!.length,
    centroid: c,
    centroidLog: c.map((v, j) => round(v * sds[j]! + means[j]!, 9)),
    profile: {
      recencyDays: round(median(members[s]!.map((i) => f.recencyDays[i]!)), 3),
      frequency: median(members[s]!.map((i) => f.frequency[i]!)),
      monetary: round(median(members[s]!.map((i) => f.monetary[i]!)), 2),
      tenureDays: round(median(members[s]!.map((i) => f.tenureDays[i]!)), 3),
    },
  }));
  const artifact: SegmentArtifact = {
    kind: 'segment', version: 1, backend: ctx.backend.name, asOf: ctx.asOf,
    features: [...SEGMENT_FEATURES], means, sds,
    k, kSelection: { method, silhouetteByK }, silhouette: round(silhouette(Z, d, labels, sample), 6), customers: n, segments,
  };
  const perCustomer = new Map<string, SegmentOutput>();
  f.ids.forEach((id, i) => { const s = segments[labels[i]!]!; perCustomer.set(id, { segment: s.name, tag: s.tag }); });
  const metrics: Record<string, number> = { k, silhouette: artifact.silhouette, customers: n, inertia: round(result.inertia, 6) };
  ctx.onProgress?.(1, 'segment: done');
  return { artifact, perCustomer, metrics, params: { k: params.k ?? DEFAULT_K, kMin, kMax, silhouetteSample: params.silhouetteSample ?? 1000, restarts, kSelection: method } };
}
