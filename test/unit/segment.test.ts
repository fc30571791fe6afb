import { createHash } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { DAY_MS } from '../../backend/src/features/customers.ts';
import { splitAt } from '../../backend/src/features/from-file.ts';
import { tensorBackend, type TensorBackend } from '../../backend/src/ml/tensor-backend.ts';
import { evaluateSegment } from '../../backend/src/models/segment/evaluate.ts';
import { assignSegments, nameCentroids, SEGMENT_PROTOTYPES, segmentTag, trainSegment } from '../../backend/src/models/segment/train.ts';
import { generateStore } from '../../simulator/store.ts';
import { simCleanData } from '../helpers/sim-data.ts';


const hash = (x: unknown) => createHash('sha256').update(JSON.stringify(x)).digest('hex');
const store = generateStore({ seed: 'segment-test', customers: 400, days: 365 });
const data = simCleanData(store);
const asOf = Date.parse(store.asOf!);
let backend: TensorBackend;
beforeAll(async () => { backend = await tensorBackend(); });

describe('segment: naming', () => {
  it('tags are slugs under shopml:', () => {
    expect(segmentTag('Champions')).toBe('shopml:champions');
    expect(segmentTag('Potential loyalist')).toBe('shopml:potential-loyalist');
    expect(segmentTag("Can't lose them")).toBe('shopml:cant-lose-them');
    expect(new Set(SEGMENT_PROTOTYPES.map((p) => segmentTag(p.name))).size).toBe(SEGMENT_PROTOTYPES.length);
  });

  it('names centroids for people by their position in (log recency, frequency, monetary, tenure)', () => {
    // standardised centroids: recency is a z-score of log recency, so recent = negative
    const names = nameCentroids([
      [-1.0, 1.6, 1.5, 0.6], // recent, frequent, big spenders
      [1.5, -0.8, -0.8, 0.5], // long gone one-timers
      [-1.1, -0.9, -0.6, -1.6], // just arrived
      [0.8, 0.7, 0.6, 0.6], // used to buy a lot, not lately
    ]);
    expect(names).toEqual(['Champions', 'Lost', 'New', 'At risk']);
  });
});

describe('segment: training on a simulated store', () => {
  it('six named segments, distinct names and tags, every customer with an order assigned', async () => {
    const r = await trainSegment(data, {}, { seed: 1, backend, asOf });
    const a = r.artifact;
    expect(a.k).toBe(6);
    expect(a.kSelection.method).toBe('fixed');
    expect(new Set(a.segments.map((s) => s.name)).size).toBe(6);
    for (const s of a.segments) expect(s.tag).toBe(segmentTag(s.name));
    const customers = new Set(data.sales.filter((s) => s.customerId !== null && s.time < asOf).map((s) => s.customerId));
    expect(r.perCustomer!.size).toBe(customers.size);
    expect(a.segments.reduce((t, s) => t + s.size, 0)).toBe(customers.size);
    expect(a.silhouette).toBeGreaterThan(0);
    expect(a.silhouette).toBeLessThanOrEqual(1);
    // Champions buy more often and more recently than Lost customers
    const seg = (n: string) => a.segments.find((s) => s.name === n);
    const champions = seg('Champions'), lost = seg('Lost') ?? seg('Hibernating');
    expect(champions && lost).toBeTruthy();
    expect(champions!.profile.frequency).toBeGreaterThan(lost!.profile.frequency);
    expect(champions!.profile.recencyDays).toBeLessThan(lost!.profile.recencyDays);
    // scoring with the artifact reproduces the training labels
    const again = assignSegments(a, data, asOf);
    again.ids.forEach((id, i) => expect(a.segments[again.index[i]!]!.name).toBe(r.perCustomer!.get(id)!.segment));
  });

  it('same data + seed + backend → identical artifact bytes and labels', async () => {
    const a = await trainSegment(data, {}, { seed: 3, backend, asOf });
    const b = await trainSegment({ ...data, sales: [...data.sales] }, {}, { seed: 3, backend, asOf });
    expect(hash(a.artifact)).toBe(hash(b.artifact));
    expect(hash([...a.perCustomer!])).toBe(hash([...b.perCustomer!]));
  });

  it('never looks past asOf', async () => {
    const cut = asOf - 30 * DAY_MS;
    const a = await trainSegment(data, {}, { seed: 3, backend, asOf: cut });
    const b = await trainSegment(splitAt(data, cut).train, {}, { seed: 3, backend, asOf: cut });
    expect(hash(a.artifact)).toBe(hash(b.artifact));
  });

  it("k: 'auto' takes the best silhouette over k = 3..8", async () => {
    const r = await trainSegment(data, { k: 'auto' }, { seed: 1, backend, asOf });
    const byK = r.artifact.kSelection.silhouetteByK;
    expect(Object.keys(byK).map(Number)).toEqual([3, 4, 5, 6, 7, 8]);
    const best = Object.entries(byK).reduce((m, e) => (e[1] > m[1] ? e : m));
    expect(r.artifact.k).toBe(Number(best[0]));
    expect(r.artifact.kSelection.method).toBe('silhouette');
  });

  it('labels are stable across a retrain on two more weeks of data', async () => {
    const before = await trainSegment(data, {}, { seed: 1, backend, asOf: asOf - 14 * DAY_MS });
    const after = await trainSegment(data, {}, { seed: 1, backend, asOf }, before.artifact);
    const fresh = await trainSegment(data, {}, { seed: 99, backend, asOf });
    expect(after.artifact.kSelection.method).toBe('previous');
    expect(after.artifact.segments.map((s) => s.name).sort()).toEqual(before.artifact.segments.map((s) => s.name).sort());
    let both = 0, kept = 0, keptFresh = 0;
    for (const [id, v] of after.perCustomer!) {
      const old = before.perCustomer!.get(id);
      if (!old) continue;
      both++;
      if (old.segment === v.segment) kept++;
      if (old.segment === fresh.perCustomer!.get(id)!.segment) keptFresh++;
    }
    expect(both).toBeGreaterThan(200);
    expect(kept / both).toBeGreaterThan(0.75); // two weeks move some customers, not the names
    expect(kept).toBeGreaterThanOrEqual(keptFresh);
  });

  it('evaluateSegment: sizes, silhouette, repeat rate and future value per segment', async () => {
    const split = asOf - 91 * DAY_MS;
    const { train, test } = splitAt(data, split);
    const ev = await evaluateSegment(train, test, { seed: 1, backend, asOf: split, split, testEnd: asOf - DAY_MS });
    expect(ev.k).toBe(6);
    expect(ev.horizonDays).toBe(90);
    const names = Object.keys(ev.sizes);
    expect(names).toHaveLength(6);
    expect(Object.keys(ev.repeat_rate_by_segment).sort()).toEqual([...names].sort());
    expect(Object.keys(ev.future_value_by_segment).sort()).toEqual([...names].sort());
    for (const n of names) {
      expect(ev.repeat_rate_by_segment[n]).toBeGreaterThanOrEqual(0);
      expect(ev.repeat_rate_by_segment[n]).toBeLessThanOrEqual(1);
      expect(ev.future_value_by_segment[n]).toBeGreaterThanOrEqual(0);
    }
    if (ev.repeat_rate_by_segment.Champions !== undefined && ev.repeat_rate_by_segment.Lost !== undefined) {
      expect(ev.repeat_rate_by_segment.Champions).toBeGreaterThan(ev.repeat_rate_by_segment.Lost);
    }
    expect(JSON.parse(JSON.stringify(ev))).toEqual(ev); // plain JSON
  });
});
