// Artifacts are immutable (named by their sha256), so what the dashboard extracts from one can be
// kept: a small least-recently-used map from version to summary. A file that cannot be read
// (missing, corrupt) yields an error message and is tried again on the next request (a restored
// backup fixes it).
//
// One summary per version and cache: the first `summarize` given for a version is the one kept,
// so a cache must always summarize a given artifact kind the same way (a version is one kind's
// bytes; give each different summary of the same kind its own cache).
import { loadArtifact } from '../../ml/artifact.ts';

export class SummaryCache {
  private readonly map = new Map<string, unknown>();
  private readonly max: number;
  constructor(max = 16) {
    this.max = max;
  }

  get<T>(dir: string, version: string, summarize: (artifact: unknown) => T): { ok: true; value: T } | { ok: false; error: string } {
    const key = `${dir}\u0000${version}`;
    if (this.map.has(key)) {
      const v = this.map.get(key) as { ok: true; value: T } | { ok: false; error: string };
      this.map.delete(key);
      this.map.set(key, v);
      return v;
    }
    let out: { ok: true; value: T };
    try {
      const file = loadArtifact<{ artifact: unknown }>(dir, version);
      out = { ok: true, value: summarize(file.artifact) };
    } catch (err) {
      return { ok: false, error: `artifact ${version.slice(0, 12)} cannot be read: ${(err as Error).message}` };
    }
    this.map.set(key, out);
    if (this.map.size > this.max) this.map.delete(this.map.keys().next().value!);
    return out;
  }
}
