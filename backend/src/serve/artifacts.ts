// Recommendation artifacts in memory, by version (the sha256 of their bytes, so one entry serves
// every shop and alias that points at it), least recently used evicted beyond a byte budget.
// A version that cannot be loaded (file missing, hash mismatch, not a recommend artifact) is
// remembered as failed for `retryMs`, so a broken file costs one read per interval rather than
// one per request; serving falls back to popularity meanwhile.
import { loadArtifact, loadArtifactAsync } from '../ml/artifact.ts';
import { RECOMMEND_ARTIFACT_FORMAT, type RecommendArtifact } from '../models/recommend/index.ts';

export interface ArtifactCacheOptions {
  dir: string;
  /** Budget for loaded artifacts, bytes (estimated from their arrays and strings). Default 256 MiB. */
  maxBytes?: number;
  /** How long a failed load is remembered before trying again, ms. Default 30 s. */
  retryMs?: number;
  now?: () => number;
}

interface Loaded { artifact: RecommendArtifact; bytes: number }
type ArtifactFile = { kind?: string; artifact?: RecommendArtifact } | null;

export function artifactBytesEstimate(a: RecommendArtifact): number {
  let bytes = 1024 + a.popular.byteLength + a.related.index.byteLength + a.related.score.byteLength;
  for (const p of a.products) bytes += 48 + p.length * 2;
  bytes += a.products.length * 64; // the product → index map relatedProducts builds
  return bytes + sizeOf(a.ranker);
}

function sizeOf(v: unknown, depth = 0): number {
  if (v === null || v === undefined || depth > 8) return 8;
  if (typeof v === 'string') return 16 + v.length * 2;
  if (typeof v !== 'object') return 8;
  if (ArrayBuffer.isView(v)) return 64 + v.byteLength;
  let n = 32;
  for (const x of Array.isArray(v) ? v : Object.values(v)) n += 8 + sizeOf(x, depth + 1);
  return n;
}

export class ArtifactCache {
  private readonly dir: string;
  private readonly maxBytes: number;
  private readonly retryMs: number;
  private readonly now: () => number;
  private loaded = new Map<string, Loaded>();
  private failed = new Map<string, { at: number; error: string }>();
  private loading = new Map<string, Promise<void>>();
  bytes = 0;
  loads = 0;

  constructor(opts: ArtifactCacheOptions) {
    this.dir = opts.dir;
    this.maxBytes = opts.maxBytes ?? 256 * 2 ** 20;
    this.retryMs = opts.retryMs ?? 30_000;
    this.now = opts.now ?? Date.now;
  }

  /** The artifact of a version; throws (with the reason) when it cannot be loaded. */
  get(version: string): RecommendArtifact {
    const hit = this.loaded.get(version);
    if (hit) {
      // Refresh recency: Map iteration order is insertion order.
      this.loaded.delete(version);
      this.loaded.set(version, hit);
      return hit.artifact;
    }
    const f = this.failed.get(version);
    if (f && this.now() - f.at < this.retryMs) throw new Error(f.error);
    this.loads++;
    let file: ArtifactFile;
    try {
      file = loadArtifact<ArtifactFile>(this.dir, version);
    } catch (err) {
      throw new Error(this.fail(version, err));
    }
    return this.admit(version, file);
  }

  /**
   * Reads a version into memory off the calling thread's critical path (the file read and its
   * decompression on libuv's pool), for a version about to go live: the storefront goes on with
   * what it serves until this settles. Forgets an earlier failure (a fresh attempt); never
   * rejects — a version that cannot be loaded is remembered as failed, as get() does.
   */
  preload(version: string): Promise<void> {
    if (this.loaded.has(version)) return Promise.resolve();
    const running = this.loading.get(version);
    if (running) return running;
    this.failed.delete(version);
    this.loads++;
    const p = loadArtifactAsync<ArtifactFile>(this.dir, version)
      .then(
        (file) => {
          try {
            this.admit(version, file);
          } catch (err) {
            this.fail(version, err);
          }
        },
        (err: unknown) => {
          this.fail(version, err);
        },
      )
      .finally(() => this.loading.delete(version));
    this.loading.set(version, p);
    return p;
  }

  /** Checks a loaded file and keeps it (evicting the least recently used beyond the budget); throws what get() throws. */
  private admit(version: string, file: ArtifactFile): RecommendArtifact {
    if (file?.kind !== 'recommend' || file.artifact?.format !== RECOMMEND_ARTIFACT_FORMAT) {
      throw new Error(this.fail(version, new Error(`artifact ${version} is not a recommend artifact`)));
    }
    const artifact = file.artifact;
    this.failed.delete(version);
    const bytes = artifactBytesEstimate(artifact);
    this.loaded.set(version, { artifact, bytes });
    this.bytes += bytes;
    for (const [v, l] of this.loaded) {
      if (this.bytes <= this.maxBytes || v === version) break;
      this.loaded.delete(v);
      this.bytes -= l.bytes;
    }
    return artifact;
  }

  /** Remembers a failed load for retryMs; the message requests see meanwhile. */
  private fail(version: string, err: unknown): string {
    const error = `artifact ${version.slice(0, 12)}… unavailable: ${(err as Error).message.split('\n')[0]}`;
    this.failed.set(version, { at: this.now(), error });
    return error;
  }

  /** Forget a version (loaded or failed): the next request reads the file again. */
  forget(version: string): void {
    const l = this.loaded.get(version);
    if (l) {
      this.loaded.delete(version);
      this.bytes -= l.bytes;
    }
    this.failed.delete(version);
  }

  has(version: string): boolean {
    return this.loaded.has(version);
  }

  get size(): number {
    return this.loaded.size;
  }
}
