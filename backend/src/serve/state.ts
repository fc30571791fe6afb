// Serving state for the process: shops' states (least recently used evicted beyond `maxShops`),
// the artifact cache, rec ids, and the exposure buffer. Each request first brings its shop up to
// date — three cheap reads: the resolver's generation (alias moves, experiment changes), the
// controls generation, and the event log's last id (catalog changes) — so a rollback, a control
// change or a stock change applies to the very next request, from this process or another.
//
// `serve.recommend(shop, request)` never throws: whatever fails (the resolver, the database, an
// artifact, a bug) the answer degrades to popularity, then to an empty list.
import type { Db } from '../store/db.ts';
import type { GroupWriter } from '../store/writer.ts';
import type { TelemetryWriter } from './telemetry-writer.ts';
import type { Keys } from '../keys.ts';
import type { AppDeps } from '../app.ts';
import { ArtifactCache } from './artifacts.ts';
import { Catalog, type ServedProduct } from './catalog.ts';
import { controlsGeneration, loadControls, type Controls } from './controls.ts';
import { popularIds } from './popular.ts';
import { createRecIds, type Arm, type RecIds } from './rec-id.ts';
import { customerOrderCount, readPersonalList, recommend, clampLimit, POPULARITY, type Recommendation, type RecommendRequest, type ShopState } from './recommend.ts';
import { assign, latestRunResolver, type Resolver, type Rollout } from './resolver.ts';
import { registryResolver, rolloutExposureSink, rolloutServingSink } from './wiring.ts';

/** One unit's first sight of an arm (and version) in a live experiment: what the rollout engine counts as exposed. */
export interface Exposure {
  shop: string;
  experiment: number;
  unit: string;
  /** Set when the unit is a logged-in customer (so customers/redact finds it). */
  customerId: string | null;
  variant: Arm;
  version: string | null;
  at: string;
}

/** Receives exposures in batches, inside a group-writer transaction. Must be idempotent. */
export interface ExposureSink {
  record(db: Db, batch: readonly Exposure[]): void;
}

/** Requests served per (shop, experiment, arm) since the last flush, for the rollout's guardrails. */
export interface ServingCount {
  shop: string;
  experiment: number;
  variant: Arm;
  requests: number;
  /** Requests whose version could not be used (served popularity instead). */
  errors: number;
  /** Σ in-process lookup time, ms. */
  latencyMsSum: number;
  /** Lookups slower than `slowMs`. */
  slowRequests: number;
  at: string;
}

/** Receives serving counts every few seconds, inside a group-writer transaction. */
export interface ServingSink {
  record(db: Db, counts: readonly ServingCount[]): void;
}

export interface ServeOptions {
  db: Db;
  keys: Keys;
  artifactsDir: string;
  /** Default here: the newest successful recommend run is the champion (latestRunResolver); the app's state (serveStateFor) uses the registry and rollout engine (wiring.ts). */
  resolver?: Resolver;
  /** Default: none. */
  exposures?: ExposureSink | null;
  /** Default: none. */
  serving?: ServingSink | null;
  /** Needed for exposures and serving counts: batches are written through it (unless `telemetry`). */
  writer?: GroupWriter;
  /**
   * Writes exposures and serving counts in a worker thread instead (the app's default when it has
   * a database file: runtime.ts). Used only with the rollout sinks it implements.
   */
  telemetry?: TelemetryWriter | null;
  /** Serving counts are flushed this often, ms. Default 5 s. */
  servingFlushMs?: number;
  /** A lookup slower than this counts as slow, ms. Default 250. */
  slowMs?: number;
  now?: () => number;
  maxArtifactBytes?: number;
  artifactRetryMs?: number;
  maxShops?: number;
  /** How long the popularity list is reused, ms. Default 10 min. */
  popularTtlMs?: number;
  /** A full catalog reload at least this often (changes made outside the event log), ms. Default 10 min. */
  catalogMaxAgeMs?: number;
  /**
   * Exposures are written this often (or at 250 waiting), ms. Default 100: short batches (with a
   * telemetry thread they are committed off the event loop; through `writer`, each is a commit on
   * this thread, so short ones keep every pause short).
   */
  exposureFlushMs?: number;
  /** Anonymous product-keyed lists kept per shop (0: none). Default 10,000. */
  listCacheSize?: number;
  /** How long such a list is reused at most, ms. Default 60 s (as long as a browser may cache it). */
  listCacheMs?: number;
  /** Distinct (experiment, arm, unit) exposures remembered to log each once. Default 200,000. */
  exposureMemory?: number;
  /** First wait before exposures that failed to write are tried again (doubling, at most 10 s). Default 250 ms. */
  exposureRetryMs?: number;
  onError?: (what: string, err: unknown) => void;
}

export interface ServeRequest extends RecommendRequest {
  /** The block reported the shopper's analytics consent: only then is an exposure logged. */
  consent?: boolean;
}

export interface ServeState {
  readonly db: Db;
  readonly artifacts: ArtifactCache;
  readonly recIds: RecIds;
  resolver: Resolver;
  exposures: ExposureSink | null;
  serving: ServingSink | null;
  /** The shop's state, brought up to date (throws when that fails). */
  shop(shop: string): ShopState;
  /** The storefront's answer; never throws. */
  recommend(shop: string, req: ServeRequest): Recommendation;
  /** Writes buffered exposures and serving counts now. */
  flush(): Promise<void>;
  /** Drops a shop's state (next request reloads it). */
  invalidate(shop?: string): void;
  readonly stats: { requests: number; fallbacks: number; errors: number; exposures: number; exposureErrors: number; listHits: number };
}

const UNSET = Symbol('unset');
const changeProbe = (db: Db) => db.prepare<[]>('SELECT (SELECT data_version FROM pragma_data_version) AS d, total_changes() AS t');
const NO_ROLLOUT: Rollout = { experiment: null, champion: null, challenger: null, variantOf: () => 'champion' };

class ShopStateImpl implements ShopState {
  readonly shop: string;
  readonly catalog: Catalog;
  controls!: Controls;
  rollout: Rollout = NO_ROLLOUT;
  rolloutGeneration: number | string | typeof UNSET = UNSET;
  /** A newer rollout whose versions are being read into memory; `rollout` serves until they are. */
  next: { generation: number | string; rollout: Rollout; loading: number } | null = null;
  /** The database's change markers when this state was last brought up to date. */
  seenDataVersion = -1;
  seenChanges = -1;
  popularList: readonly string[] | null = null;
  popularAt = 0;
  /** Anonymous product-keyed lists (the answers that may be cached), by arm, limit and products. */
  readonly lists = new Map<string, { stamp: string; at: number; version: string | null; rec: Omit<Recommendation, 'rec_id'> }>();

  /** What a cached list depends on besides its key: catalog, controls, rollout, popularity. */
  stamp(): string {
    return `${this.catalog.version}.${this.controls.generation}.${String(this.rolloutGeneration)}.${this.popularAt}`;
  }
  private readonly serve: ServeStateImpl;

  constructor(serve: ServeStateImpl, shop: string) {
    this.serve = serve;
    this.shop = shop;
    this.catalog = new Catalog(shop);
  }

  get recIds(): RecIds {
    return this.serve.recIds;
  }

  artifact(version: string) {
    return this.serve.artifacts.get(version);
  }

  popular(): readonly string[] {
    const now = this.serve.now();
    if (this.popularList === null || now - this.popularAt > this.serve.popularTtlMs) {
      this.popularAt = now;
      try {
        this.popularList = popularIds(this.serve.db, this.shop);
      } catch (err) {
        this.serve.onError('popularity', err);
        this.popularList ??= [];
      }
    }
    return this.popularList;
  }

  personal(version: string, customerId: string) {
    return readPersonalList(this.serve.db, this.shop, version, customerId);
  }

  orderCount(customerId: string): number {
    return customerOrderCount(this.serve.db, this.shop, customerId);
  }

  now(): number {
    return this.serve.now();
  }
}

class ServeStateImpl implements ServeState {
  readonly db: Db;
  readonly artifacts: ArtifactCache;
  readonly recIds: RecIds;
  resolver: Resolver;
  exposures: ExposureSink | null;
  serving: ServingSink | null;
  readonly now: () => number;
  readonly popularTtlMs: number;
  readonly stats = { requests: 0, fallbacks: 0, errors: 0, exposures: 0, exposureErrors: 0, listHits: 0 };
  readonly onError: (what: string, err: unknown) => void;
  private readonly writer: GroupWriter | undefined;
  private readonly telemetry: TelemetryWriter | null;
  private readonly maxShops: number;
  private readonly catalogMaxAgeMs: number;
  private readonly exposureMemory: number;
  private readonly exposureRetryMs: number;
  /** Consecutive failed exposure writes (0 after a success). */
  private exposureFailures = 0;
  private shops = new Map<string, ShopStateImpl>();
  private exposed = new Set<string>();
  private pending: Exposure[] = [];
  private flushTimer: NodeJS.Timeout | null = null;
  private inflight: Promise<void> = Promise.resolve();
  private readonly probe: ReturnType<typeof changeProbe>;
  private counts = new Map<string, ServingCount>();
  private countsTimer: NodeJS.Timeout | null = null;
  private readonly servingFlushMs: number;
  private readonly exposureFlushMs: number;
  private readonly listCacheSize: number;
  private readonly listCacheMs: number;
  private readonly slowMs: number;

  constructor(o: ServeOptions) {
    this.db = o.db;
    this.probe = changeProbe(o.db);
    this.now = o.now ?? Date.now;
    this.artifacts = new ArtifactCache({ dir: o.artifactsDir, maxBytes: o.maxArtifactBytes, retryMs: o.artifactRetryMs, now: this.now });
    this.recIds = createRecIds(o.keys);
    this.resolver = o.resolver ?? latestRunResolver(o.db);
    this.exposures = o.exposures ?? null;
    this.serving = o.serving ?? null;
    this.servingFlushMs = o.servingFlushMs ?? 5000;
    this.exposureFlushMs = o.exposureFlushMs ?? 100;
    this.listCacheSize = o.listCacheSize ?? 10_000;
    this.listCacheMs = o.listCacheMs ?? 60_000;
    this.slowMs = o.slowMs ?? 250;
    this.writer = o.writer;
    this.telemetry = o.telemetry ?? null;
    this.maxShops = o.maxShops ?? 256;
    this.popularTtlMs = o.popularTtlMs ?? 10 * 60_000;
    this.catalogMaxAgeMs = o.catalogMaxAgeMs ?? 10 * 60_000;
    this.exposureMemory = o.exposureMemory ?? 200_000;
    this.exposureRetryMs = o.exposureRetryMs ?? 250;
    this.onError = o.onError ?? (() => {});
  }

  shop(shop: string): ShopStateImpl {
    const now = this.now();
    // Has anything at all been committed since this shop was last brought up to date? Another
    // connection's commit changes `data_version`; this connection's own writes change
    // `total_changes()`. One read instead of three while nothing changed — and one per turn of
    // the event loop: requests read in the same I/O phase are concurrent with any commit made
    // meanwhile, and this connection's own writes (the group writer) run in a later phase.
    const probe = this.changeMarkers();
    let s = this.shops.get(shop);
    if (s) {
      this.shops.delete(shop);
      this.shops.set(shop, s);
      const unchanged = probe.d === s.seenDataVersion && probe.t === s.seenChanges && now - s.catalog.loadedAt <= this.catalogMaxAgeMs;
      if (unchanged && this.resolver.inDatabase && s.rolloutGeneration !== UNSET && s.next === null) return s;
      if (!unchanged) {
        if (controlsGeneration(this.db, shop) !== s.controls.generation) s.controls = loadControls(this.db, shop);
        if (now - s.catalog.loadedAt > this.catalogMaxAgeMs) s.catalog.load(this.db, now);
        else s.catalog.refresh(this.db);
      }
    } else {
      s = new ShopStateImpl(this, shop);
      s.controls = loadControls(this.db, shop);
      s.catalog.load(this.db, now);
      this.shops.set(shop, s);
      if (this.shops.size > this.maxShops) this.shops.delete(this.shops.keys().next().value!);
    }
    // Last, so that when the resolver fails the shop's catalog and controls are still at hand
    // for the degraded answer (and the next request asks again: nothing is marked as seen).
    const g = this.resolver.generation(shop);
    if (g !== s.rolloutGeneration) this.reloadRollout(s, g);
    s.seenDataVersion = probe.d;
    s.seenChanges = probe.t;
    return s;
  }

  private markers: { d: number; t: number } | null = null;
  private changeMarkers(): { d: number; t: number } {
    if (this.markers === null) {
      this.markers = this.probe.get() as { d: number; t: number };
      setImmediate(() => { this.markers = null; });
    }
    return this.markers;
  }

  /**
   * Brings the shop's rollout (aliases, experiment) to GENERATION. A version the aliases now point
   * at that is not in memory is read in the background (ArtifactCache.preload: the file read and
   * gunzip off the event loop) while the current rollout goes on serving, and the new rollout
   * takes over on the first request after it settled — so a version going live does not stall the
   * storefront behind its artifact's load. A version that failed gets a fresh attempt. The shop's
   * first rollout loads on the request path (there is nothing to serve meanwhile).
   */
  private reloadRollout(s: ShopStateImpl, generation: number | string): void {
    if (s.next?.generation === generation) {
      if (s.next.loading > 0) return;
      s.rollout = s.next.rollout;
      s.rolloutGeneration = generation;
      s.next = null;
      return;
    }
    const r = this.resolver.load(s.shop);
    const missing = [r.champion, r.challenger].filter((v): v is string => v !== null && !this.artifacts.has(v));
    if (missing.length === 0 || s.rolloutGeneration === UNSET) {
      for (const v of missing) this.artifacts.forget(v);
      s.rollout = r;
      s.rolloutGeneration = generation;
      s.next = null;
      return;
    }
    const next = { generation, rollout: r, loading: missing.length };
    s.next = next;
    for (const v of missing) void this.artifacts.preload(v).then(() => { next.loading--; });
  }

  recommend(shop: string, req: ServeRequest): Recommendation {
    this.stats.requests++;
    const t0 = performance.now();
    let rec: Recommendation;
    try {
      const s = this.shop(shop);
      const unit = req.customerId ?? req.anonymousId;
      const { variant, version } = assign(s.rollout, unit);
      rec = this.cacheable(req) ? this.listFor(s, req, variant) : recommend(s, req);
      if (rec.fallback !== undefined) {
        this.stats.fallbacks++;
        this.onError('artifact', new Error(rec.fallback));
      }
      if (rec.experiment !== null && rec.variant !== 'fallback') {
        if (req.consent === true && unit !== null && this.exposures) this.expose(shop, rec.experiment, unit, req.customerId, rec.variant, version);
        if (this.serving) this.count(shop, rec.experiment, rec.variant, performance.now() - t0, rec.fallback !== undefined);
      }
    } catch (err) {
      this.stats.errors++;
      this.onError('recommend', err);
      rec = this.degraded(shop, req, err);
    }
    return rec;
  }

  private cacheable(req: ServeRequest): boolean {
    return this.listCacheSize > 0 && req.customerId === null && req.productIds.length > 0;
  }

  /**
   * An anonymous product page or cart: the same list for everyone in the arm, so it is kept
   * (up to `listCacheMs`, and only while the catalog, controls, rollout and popularity it was made
   * from are unchanged); each answer still gets its own rec_id.
   */
  private listFor(s: ShopStateImpl, req: ServeRequest, variant: Arm): Recommendation {
    const now = this.now();
    const key = `${variant}\u0000${clampLimit(req.limit)}\u0000${req.productIds.join(',')}`;
    const stamp = s.stamp();
    const hit = s.lists.get(key);
    if (hit && hit.stamp === stamp && now - hit.at < this.listCacheMs) {
      this.stats.listHits++;
      return { ...hit.rec, rec_id: this.recIds.issue(s.shop, hit.rec.variant, hit.version, hit.rec.experiment, now) };
    }
    const rec = recommend(s, req);
    if (rec.fallback === undefined) {
      const { rec_id: _, ...rest } = rec;
      if (s.lists.size >= this.listCacheSize) s.lists.delete(s.lists.keys().next().value!);
      s.lists.set(key, { stamp: s.stamp(), at: now, version: rec.model_version === POPULARITY ? null : rec.model_version, rec: rest });
    }
    return rec;
  }

  private count(shop: string, experiment: number, variant: Arm, ms: number, error: boolean): void {
    const key = `${shop}\u0000${experiment}\u0000${variant}`;
    let c = this.counts.get(key);
    if (!c) this.counts.set(key, (c = { shop, experiment, variant, requests: 0, errors: 0, latencyMsSum: 0, slowRequests: 0, at: '' }));
    c.requests++;
    if (error) c.errors++;
    c.latencyMsSum += ms;
    if (ms > this.slowMs) c.slowRequests++;
    if (!this.countsTimer) {
      this.countsTimer = setTimeout(() => void this.flush(), this.servingFlushMs);
      this.countsTimer.unref();
    }
  }

  /** Popularity with whatever state is still at hand; an empty list if even that fails. */
  private degraded(shop: string, req: RecommendRequest, err: unknown): Recommendation {
    let products: ServedProduct[] = [];
    let recId: string;
    try {
      recId = this.recIds.issue(shop, 'fallback', null, null, this.now());
    } catch {
      recId = `f-${this.now().toString(36)}`;
    }
    try {
      const s = this.shops.get(shop);
      const limit = clampLimit(req.limit);
      const skip = new Set([...req.productIds, ...(s?.controls.excluded ?? [])]);
      const ids = s ? s.popular() : popularIds(this.db, shop, { cap: 50 });
      const out: string[] = [];
      for (const id of ids) {
        if (out.length >= limit) break;
        if (!skip.has(id) && (s ? s.catalog.isServable(id) : true)) out.push(id);
      }
      // Without a catalog nothing is known to be in stock: serve nothing rather than guess.
      products = s ? out.map((id) => s.catalog.product(id)) : [];
    } catch {
      products = [];
    }
    return { variant: 'fallback', experiment: null, model_version: POPULARITY, rec_id: recId, products, source: 'popular', cacheable: false, fallback: (err as Error)?.message ?? String(err) };
  }

  private expose(shop: string, experiment: number, unit: string, customerId: string | null, variant: Arm, version: string | null): void {
    // Once per unit and arm of an experiment (the version is the arm's, fixed by the experiment).
    const key = exposureKey({ experiment, variant, unit, shop });
    if (this.exposed.has(key)) return;
    if (this.exposed.size >= this.exposureMemory) this.exposed.delete(this.exposed.values().next().value!);
    this.exposed.add(key);
    this.pending.push({ shop, experiment, unit, customerId, variant, version, at: new Date(this.now()).toISOString() });
    if (this.pending.length >= 250) void this.flush();
    else if (!this.flushTimer) {
      this.flushTimer = setTimeout(() => void this.flush(), this.exposureFlushMs);
      this.flushTimer.unref();
    }
  }

  /**
   * Exposures whose write failed (a locked or full disk) go back to the front of the queue and are
   * written with the next flush, which comes after a wait doubling from `exposureRetryMs` (at most
   * 10 s). Dropping them would bias the experiment, not just shrink it: a unit never served again
   * would be missing from its arm, while one that later buys is added back by its conversion — more
   * often in the arm that converts better. After MAX_EXPOSURE_RETRIES failures in a row, or past
   * `exposureMemory` queued, the oldest are dropped and logged again when their unit is next served.
   */
  private retryExposures(batch: Exposure[]): void {
    if (this.exposureFailures >= MAX_EXPOSURE_RETRIES) {
      this.exposureFailures = 0;
      for (const e of batch) this.exposed.delete(exposureKey(e));
      return;
    }
    this.exposureFailures++;
    this.pending = batch.concat(this.pending);
    const over = this.pending.length - this.exposureMemory;
    if (over > 0) for (const e of this.pending.splice(0, over)) this.exposed.delete(exposureKey(e));
    if (!this.flushTimer) {
      this.flushTimer = setTimeout(() => void this.flush(), Math.min(10_000, this.exposureRetryMs * 2 ** (this.exposureFailures - 1)));
      this.flushTimer.unref();
    }
  }

  flush(): Promise<void> {
    if (this.flushTimer) {
      clearTimeout(this.flushTimer);
      this.flushTimer = null;
    }
    if (this.countsTimer) {
      clearTimeout(this.countsTimer);
      this.countsTimer = null;
    }
    const batch = this.pending;
    this.pending = [];
    const at = new Date(this.now()).toISOString();
    const counts = [...this.counts.values()].map((c) => ({ ...c, at }));
    this.counts.clear();
    const writer = this.writer;
    const exposures = this.exposures;
    const serving = this.serving;
    const telemetry = this.telemetry;
    // The telemetry thread implements the rollout sinks only: a sink put in their place (tests,
    // configureServing) is written through `writer` as before.
    const writeExposures = telemetry && exposures === rolloutExposureSink ? () => telemetry.exposures(batch)
      : writer && exposures ? () => writer.write((db) => exposures.record(db, batch)) : null;
    const writeCounts = telemetry && serving === rolloutServingSink ? () => telemetry.serving(counts)
      : writer && serving ? () => writer.write((db) => serving.record(db, counts)) : null;
    if (batch.length > 0 && writeExposures) {
      this.inflight = this.inflight.then(writeExposures).then(
        () => { this.stats.exposures += batch.length; this.exposureFailures = 0; },
        (err) => {
          // Exposure logging must never affect serving: count, report, try again later.
          this.stats.exposureErrors += batch.length;
          this.onError('exposures', err);
          this.retryExposures(batch);
        },
      );
    }
    if (counts.length > 0 && writeCounts) {
      this.inflight = this.inflight.then(writeCounts).then(
        () => {},
        (err) => this.onError('serving counts', err),
      );
    }
    return this.inflight;
  }

  invalidate(shop?: string): void {
    if (shop === undefined) this.shops.clear();
    else this.shops.delete(shop);
  }
}

/** What `exposed` remembers per logged exposure: one per experiment, arm, unit and shop. */
const exposureKey = (e: Pick<Exposure, 'experiment' | 'variant' | 'unit' | 'shop'>): string => `${e.experiment}|${e.variant}|${e.unit}|${e.shop}`;

/** Failed exposure writes in a row after which a batch is dropped (waits 0.25 + 0.5 + … + 8 s ≈ 16 s at the default). */
export const MAX_EXPOSURE_RETRIES = 6;

export function createServeState(o: ServeOptions): ServeState {
  return new ServeStateImpl(o);
}

// ---- One ServeState per app (deps), created on first use; the final wiring replaces parts ----

const states = new WeakMap<AppDeps, ServeState>();

/** Options the app's serving state is created with (everything but what deps provide). */
export type ServingConfig = Omit<ServeOptions, 'db' | 'keys' | 'artifactsDir' | 'writer'> & { artifactsDir?: string };

export function serveStateFor(deps: AppDeps): ServeState {
  let s = states.get(deps);
  if (!s) {
    s = createServeState(defaultOptions(deps, {}));
    states.set(deps, s);
  }
  return s;
}

/** The app's defaults: the registry and rollout engine behind every seam (wiring.ts). */
function defaultOptions(deps: AppDeps, c: ServingConfig): ServeOptions {
  return {
    db: deps.db,
    keys: deps.keys,
    writer: deps.writer,
    telemetry: deps.telemetry ?? null,
    now: () => deps.now().getTime(),
    resolver: registryResolver(deps.db),
    exposures: rolloutExposureSink,
    serving: rolloutServingSink,
    ...c,
    artifactsDir: c.artifactsDir ?? deps.config.artifactsDir,
  };
}

/** Replaces the app's serving state with one built from `config` (resolver, exposure sink, limits). */
export function configureServing(deps: AppDeps, config: ServingConfig): ServeState {
  const s = createServeState(defaultOptions(deps, config));
  states.set(deps, s);
  return s;
}
