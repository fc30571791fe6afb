// Recommendations: one interface over every model (popularity, repurchase, item_knn, ease,
// ease_repurchase and shopml's learned ranker).
//
//   trainRecommend(data, params, ctx)  → the artifact (plain data: product ids, the "related"
//                                        neighbour lists, recent best sellers, the ranker's
//                                        weights) + each customer's personal list (apart from
//                                        the artifact: it is personal data)
//   relatedProducts(artifact, ids, k)  → "bought together / related" for a product or a cart
//   personalList(source, customer, k)  → a stored personal list (or best sellers), filtered
//   evaluateRecommend(train, test, ctx) → the honest offline comparison (evaluate.ts)
//
// Lists never contain non-products (cleaning removed them) and the list functions take an
// `isAvailable(productId)` predicate so out-of-stock or deleted products are skipped at serve time.
import { createHash } from 'node:crypto';
import type { CleanData } from '../../features/clean.ts';
import type { TrainContext, TrainResult } from '../types.ts';
import { baselineScorer, BASELINES, DEFAULT_BASELINE_PARAMS, type BaselineName, type BaselineParams } from './baselines.ts';
import type { ChosenSettings } from './evaluate.ts';
import { knnFromCounts } from './knn.ts';
import { fitRankerBag, periodLabels, rankerLists, report, scorerLists, type ModelName, type RankerBag, type RecommendTask } from './pipeline.ts';
import { DEFAULT_RANKER_CONFIG, type RankerConfig, type RankerWeights } from './ranker.ts';
import { orderCoCounts } from './scoring.ts';
import { cutoffState, DAY_MS, type CutoffState } from './state.ts';

export { evaluateRecommend, type RecommendEvaluation, type RecommendMetrics, type RecommendEvalOptions, type ChosenSettings } from './evaluate.ts';
export { MODEL_NAMES, type ModelName, type RecommendTask } from './pipeline.ts';

export const RECOMMEND_ARTIFACT_FORMAT = 'shopml.recommend/1';

export interface RecommendParams {
  /** Default 'ranker'. */
  model?: ModelName;
  /** 'all' (default): own past purchases may be recommended; 'new': never. */
  task?: RecommendTask;
  /** Settings as chosen by evaluateRecommend (`settings.all` / `settings.new_items_only`). */
  settings?: Partial<ChosenSettings>;
  baseline?: Partial<BaselineParams>;
  ranker?: Partial<RankerConfig>;
  /** MLPs averaged in the ranker. Default 3. */
  bag?: number;
  /** Validation slice (and ranker label window) at the end of the data, days. Default 42. */
  validationDays?: number;
  /** Length of each stored personal list (longer than served, so filtering leaves enough). Default 50. */
  listLength?: number;
  /** Related neighbours kept per product. Default 30. */
  relatedK?: number;
  /** Compute `metrics` on the validation slice (for the ranker: one more fit). Default true. */
  validate?: boolean;
}

export interface RecommendArtifact {
  format: typeof RECOMMEND_ARTIFACT_FORMAT;
  model: ModelName;
  task: RecommendTask;
  /** Epoch ms: the snapshot watermark the model was trained as of. */
  asOf: number;
  /** Tensor backend the weights were computed on (part of the version's identity). */
  backend: string;
  seed: number;
  products: string[];
  /** Product indexes, best sellers of the last 30 days first, then by all-time buyers. */
  popular: Int32Array;
  /** "Bought together": per product its top-k neighbours by order-level co-occurrence (cosine, shrunk). */
  related: { k: number; index: Int32Array; score: Float32Array };
  settings: BaselineParams & { ranker: RankerConfig | null; bag: number; validationDays: number };
  /** The ranker's weights (model 'ranker' only): feature standardisation and MLP layers per member. */
  ranker: { features: string[]; members: RankerWeights[] } | null;
}

/** Personal lists by customer id, as returned in TrainResult.perCustomer or read back from storage. */
export type PersonalLists = ReadonlyMap<string, readonly string[]>;

function resolveSettings(params: RecommendParams): { base: BaselineParams; ranker: RankerConfig; bag: number } {
  const s = params.settings ?? {};
  const { ranker: sr, ...sb } = s;
  const base: BaselineParams = { ...DEFAULT_BASELINE_PARAMS, ...sb, ...params.baseline };
  const ranker: RankerConfig = {
    ...DEFAULT_RANKER_CONFIG,
    minSupport: base.minSupport,
    ...(sr ? { lambda: sr.lambda, knnK: sr.knnK, decayDays: sr.decayDays, hidden: sr.hidden, epochs: sr.epochs, loss: sr.loss } : {}),
    ...params.ranker,
  };
  return { base, ranker, bag: params.bag ?? sr?.bag ?? 3 };
}

function listsFor(s: CutoffState, model: ModelName, task: RecommendTask, base: BaselineParams, bag: RankerBag | null, customers: Int32Array, k: number): Map<number, Int32Array> {
  if (model === 'ranker') return rankerLists(s, bag!, customers, k).lists;
  return scorerLists(s, baselineScorer(s, model as BaselineName, base), customers, task, k);
}

export async function trainRecommend(data: CleanData, params: RecommendParams, ctx: TrainContext): Promise<TrainResult<RecommendArtifact, string[]>> {
  const tf = ctx.backend.tf;
  let model: ModelName = params.model ?? 'ranker';
  if (model !== 'ranker' && !(BASELINES as readonly string[]).includes(model)) throw new Error(`unknown recommend model: ${model}`);
  const task: RecommendTask = params.task ?? 'all';
  const { base, ranker: rcfg, bag } = resolveSettings(params);
  const days = params.validationDays ?? 42;
  const listLength = params.listLength ?? 50;
  const relatedK = params.relatedK ?? 30;
  const validate = params.validate ?? true;
  const progress = (f: number, m: string): void => ctx.onProgress?.(f, m);
  // Sales up to and including the watermark.
  const T = ctx.asOf + 1;
  const sales = data.sales.filter((x) => x.time < T);
  const V = T - days * DAY_MS;
  const metrics: Record<string, number> = {};
  let fallback: string | null = null;

  progress(0.05, 'baskets');
  const sT = cutoffState(tf, sales, T);
  if (sT.n === 0) throw new Error('no product sales to learn recommendations from');

  // The ranker learns from the last window: features as of V, labels = purchases in [V, T).
  let bagT: RankerBag | null = null;
  let sV: CutoffState | null = null;
  if (model === 'ranker' || validate) sV = cutoffState(tf, sales, V);
  const labV = sV ? periodLabels(sV, sales, T) : null;
  if (model === 'ranker') {
    progress(0.15, 'ranker: fitting');
    try {
      if (!labV || labV[task].size === 0) throw new Error(`no customer bought in the last ${days} days`);
      bagT = await fitRankerBag(sV!, rcfg, task, labV[task], ctx.seed, bag);
    } catch (err) {
      // Too little recent data to learn a ranker from: the best baseline on the reference data.
      fallback = `ranker not trainable (${(err as Error).message}): ease_repurchase instead`;
      model = 'ease_repurchase';
    }
  }

  // Validation figures: the same recipe one window earlier, scored on [V, T).
  if (validate && sV && labV && labV[task].size > 0) {
    progress(0.4, 'validation');
    let lists: Map<number, Int32Array> | null = null;
    if (model === 'ranker') {
      const sVV = cutoffState(tf, sales, V - days * DAY_MS);
      const labVV = periodLabels(sVV, sales, V);
      if (labVV[task].size > 0) {
        const bagV = await fitRankerBag(sVV, rcfg, task, labVV[task], ctx.seed, bag);
        lists = listsFor(sV, model, task, base, bagV, Int32Array.from(labV[task].keys()), 20);
      }
      sVV.release();
    } else {
      lists = listsFor(sV, model, task, base, null, Int32Array.from(labV[task].keys()), 20);
    }
    if (lists) {
      const r = report(sV, lists, labV[task]);
      Object.assign(metrics, { 'recall@20': r['recall@20'], 'ndcg@10': r['ndcg@10'], 'hr@10': r['hr@10'], coverage: r.coverage, validation_customers: r.users });
    }
  }
  sV?.release();

  progress(0.6, 'personal lists');
  const customers = Int32Array.from(sT.b.customers.keys());
  const lists = listsFor(sT, model, task, base, bagT, customers, listLength);
  const perCustomer = new Map<string, string[]>();
  for (const [c, l] of lists) perCustomer.set(sT.b.customers[c]!, Array.from(l, (p) => sT.b.products[p]!));

  progress(0.85, 'related products');
  const related = knnFromCounts(orderCoCounts(sT.b), sT.n, relatedK, 5);
  const recent = sT.popularity(30);
  const artifact: RecommendArtifact = {
    format: RECOMMEND_ARTIFACT_FORMAT,
    model, task, asOf: ctx.asOf, backend: ctx.backend.description, seed: ctx.seed,
    products: sT.b.products,
    popular: recent,
    related: { k: related.k, index: related.index, score: related.sim },
    settings: { ...base, ranker: model === 'ranker' ? rcfg : null, bag: model === 'ranker' ? bag : 0, validationDays: days },
    ranker: bagT ? { features: bagT.members[0]!.features, members: bagT.members } : null,
  };
  sT.release();
  progress(1, 'done');
  return { artifact, perCustomer, metrics, params: { model, task, ...artifact.settings, listLength, relatedK, ...(fallback ? { fallback } : {}) } };
}

function usable(isAvailable?: (id: string) => boolean, exclude?: Iterable<string> | null): (id: string) => boolean {
  const ex = new Set(exclude ?? []);
  return (id) => !ex.has(id) && (isAvailable ? isAvailable(id) : true);
}

/**
 * Products bought together with / related to one product or a cart: the sum of each product's
 * neighbour similarities, the products themselves and `exclude` left out, padded with recent
 * best sellers. Unknown ids are ignored (a cart of only unknown products gets best sellers).
 */
export function relatedProducts(artifact: RecommendArtifact, productIds: readonly string[], k: number, exclude?: Iterable<string> | null, isAvailable?: (id: string) => boolean): string[] {
  const index = productIndexOf(artifact);
  const ok = usable(isAvailable, [...(exclude ?? []), ...productIds]);
  const { k: nk, index: nb, score } = artifact.related;
  const scores = new Map<number, number>();
  for (const id of productIds) {
    const i = index.get(id);
    if (i === undefined) continue;
    for (let r = 0; r < nk; r++) {
      const j = nb[i * nk + r]!;
      if (j < 0) break;
      scores.set(j, (scores.get(j) ?? 0) + score[i * nk + r]!);
    }
  }
  const rank = popularRank(artifact);
  const ranked = [...scores].sort((a, b) => b[1] - a[1] || rank[a[0]]! - rank[b[0]]!);
  const out: string[] = [];
  const seen = new Set<string>();
  const push = (id: string): void => { if (out.length < k && !seen.has(id) && ok(id)) { seen.add(id); out.push(id); } };
  for (const [j] of ranked) { if (out.length >= k) break; push(artifact.products[j]!); }
  for (let r = 0; r < artifact.popular.length && out.length < k; r++) push(artifact.products[artifact.popular[r]!]!);
  return out;
}

function isArtifact(x: unknown): x is RecommendArtifact {
  return typeof x === 'object' && x !== null && (x as RecommendArtifact).format === RECOMMEND_ARTIFACT_FORMAT;
}

/**
 * A customer's personal list: from the stored lists (a Map of customer → list, or that
 * customer's list itself), filtered by availability and `exclude`, padded with the artifact's
 * best sellers when `fallback` is given. From an artifact alone (no per-customer data in it)
 * or for an unknown customer: best sellers.
 */
export function personalList(
  source: RecommendArtifact | PersonalLists | readonly string[],
  customerId: string | null,
  k: number,
  opts: { isAvailable?: (id: string) => boolean; exclude?: Iterable<string> | null; fallback?: RecommendArtifact } = {},
): string[] {
  const ok = usable(opts.isAvailable, opts.exclude);
  const fallback = isArtifact(source) ? source : opts.fallback;
  let list: readonly string[] = [];
  if (Array.isArray(source)) list = source as readonly string[];
  else if (source instanceof Map && customerId !== null) list = (source as PersonalLists).get(customerId) ?? [];
  const out: string[] = [];
  const seen = new Set<string>();
  const push = (id: string): void => { if (out.length < k && !seen.has(id) && ok(id)) { seen.add(id); out.push(id); } };
  for (const id of list) { if (out.length >= k) break; push(id); }
  if (fallback) for (let r = 0; r < fallback.popular.length && out.length < k; r++) push(fallback.products[fallback.popular[r]!]!);
  return out;
}

const indexCache = new WeakMap<RecommendArtifact, Map<string, number>>();
function productIndexOf(a: RecommendArtifact): Map<string, number> {
  let m = indexCache.get(a);
  if (!m) indexCache.set(a, (m = new Map(a.products.map((p, i) => [p, i]))));
  return m;
}
const rankCache = new WeakMap<RecommendArtifact, Int32Array>();
function popularRank(a: RecommendArtifact): Int32Array {
  let r = rankCache.get(a);
  if (!r) {
    r = new Int32Array(a.products.length).fill(a.products.length);
    a.popular.forEach((p, i) => { r![p] = i; });
    rankCache.set(a, r);
  }
  return r;
}

// ---- Serialisation: canonical JSON with typed arrays as base64 of their little-endian bytes ----

type Typed = Int32Array | Float32Array | Float64Array;
const TYPED: Record<string, { new (b: ArrayBuffer): Typed }> = { Int32Array, Float32Array, Float64Array };

function encodeValue(v: unknown): unknown {
  if (v instanceof Int32Array || v instanceof Float32Array || v instanceof Float64Array) {
    return { $typed: v.constructor.name, b64: Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64') };
  }
  if (Array.isArray(v)) return v.map(encodeValue);
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) out[k] = encodeValue((v as Record<string, unknown>)[k]);
    return out;
  }
  return v;
}

function decodeValue(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(decodeValue);
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    if (typeof o.$typed === 'string' && typeof o.b64 === 'string') {
      const buf = Buffer.from(o.b64, 'base64');
      const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer;
      const C = TYPED[o.$typed];
      if (!C) throw new Error(`unknown typed array ${o.$typed}`);
      return new C(ab);
    }
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(o)) out[k] = decodeValue(o[k]);
    return out;
  }
  return v;
}

/** Canonical bytes of an artifact: same artifact → same bytes (keys sorted, typed arrays as base64). */
export function encodeRecommendArtifact(a: RecommendArtifact): string {
  return JSON.stringify(encodeValue(a));
}

export function decodeRecommendArtifact(text: string): RecommendArtifact {
  const a = decodeValue(JSON.parse(text)) as RecommendArtifact;
  if (!isArtifact(a)) throw new Error('not a shopml recommend artifact');
  return a;
}

/** sha256 of the canonical artifact bytes. */
export function artifactDigest(a: RecommendArtifact): string {
  return createHash('sha256').update(encodeRecommendArtifact(a)).digest('hex');
}
