import { createHash } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { DAY_MS } from '../../backend/src/features/customers.ts';
import { splitAt } from '../../backend/src/features/from-file.ts';
import { tensorBackend, type TensorBackend } from '../../backend/src/ml/tensor-backend.ts';
import { evaluateChurn } from '../../backend/src/models/churn/evaluate.ts';
import { CHURN_MODELS, scoreChurn, trainChurn } from '../../backend/src/models/churn/train.ts';
import { generateStore } from '../../simulator/store.ts';
import { simCleanData } from '../helpers/sim-data.ts';


const hash = (x: unknown) => createHash('sha256').update(JSON.stringify(x)).digest('hex');
const store = generateStore({ seed: 'churn-test', customers: 400, days: 365 });
const data = simCleanData(store);
const asOf = Date.parse(store.asOf!);
const split = asOf - 91 * DAY_MS;
const { train, test } = splitAt(data, split);
let backend: TensorBackend;
beforeAll(async () => { backend = await tensorBackend(); });

describe('churn: training on a simulated store', () => {
  it('predicts for every customer with an order before asOf, within range', async () => {
    const r = await trainChurn(data, {}, { seed: 1, backend, asOf });
    const customers = new Set(data.sales.filter((s) => s.customerId !== null).map((s) => s.customerId));
    expect(r.perCustomer!.size).toBe(customers.size);
    for (const o of r.perCustomer!.values()) {
      expect(o.orderProbability).toBeGreaterThanOrEqual(0);
      expect(o.orderProbability).toBeLessThanOrEqual(1);
      expect(o.churnProbability).toBeCloseTo(1 - o.orderProbability, 12);
      expect(o.pAlive!).toBeGreaterThanOrEqual(0);
      expect(o.pAlive!).toBeLessThanOrEqual(1);
      expect(o.expectedNextOrder).toBeGreaterThanOrEqual(asOf);
      expect(o.predictedSpend).toBeGreaterThanOrEqual(0);
    }
    const a = r.artifact;
    expect(a.horizonDays).toBe(90);
    expect([...CHURN_MODELS, 'base_rate']).toContain(a.chosen);
    expect(a.validation.window).toEqual({ from: asOf - 90 * DAY_MS, to: asOf });
    // the served model is calibrated on validation and beats the constant base rate there
    expect(r.metrics.validation_brier).toBeLessThan(r.metrics.validation_base_rate_brier!);
    expect(r.metrics.validation_auc).toBeGreaterThan(0.6);
    // recent frequent buyers are more likely to order again than long-gone one-timers
    const s = scoreChurn(a, data, asOf);
    let hi = 0, nHi = 0, lo = 0, nLo = 0;
    s.ids.forEach((_, i) => {
      if (s.features.frequency[i]! >= 5 && s.features.recencyDays[i]! < 30) { hi += s.orderProbability[i]!; nHi++; }
      if (s.features.frequency[i]! === 1 && s.features.recencyDays[i]! > 180) { lo += s.orderProbability[i]!; nLo++; }
    });
    expect(nHi && nLo).toBeGreaterThan(0);
    expect(hi / nHi).toBeGreaterThan(lo / nLo + 0.2);
  });

  it('same data + seed + backend → identical artifact bytes and outputs', async () => {
    const a = await trainChurn(data, {}, { seed: 5, backend, asOf });
    const b = await trainChurn({ ...data, sales: [...data.sales] }, {}, { seed: 5, backend, asOf });
    expect(hash(a.artifact)).toBe(hash(b.artifact));
    expect(hash([...a.perCustomer!])).toBe(hash([...b.perCustomer!]));
  });

  it('never looks past asOf: later sales change nothing', async () => {
    const a = await trainChurn(train, {}, { seed: 5, backend, asOf: split });
    const b = await trainChurn(data, {}, { seed: 5, backend, asOf: split });
    expect(hash(a.artifact)).toBe(hash(b.artifact));
  });

  it('a history shorter than the horizon falls back to BG/NBD without throwing', async () => {
    const short = splitAt(data, asOf - 300 * DAY_MS).test; // 65 days of history
    const r = await trainChurn(short, { horizonDays: 90 }, { seed: 1, backend, asOf });
    expect(r.artifact.chosen).toBe('bgnbd');
    expect(r.artifact.spend.chosen).toBe('bgnbd_gg');
    expect(r.perCustomer!.size).toBeGreaterThan(0);
    for (const o of r.perCustomer!.values()) expect(Number.isFinite(o.orderProbability)).toBe(true);
  });
});

describe('churn: offline evaluation', () => {
  const ctx = () => ({ seed: 1, backend, asOf: split, split, testEnd: asOf - DAY_MS });

  it('scores every candidate and the base rate on the test horizon', async () => {
    const ev = await evaluateChurn(train, test, ctx());
    expect(ev.horizonDays).toBe(90);
    expect(Object.keys(ev.models).sort()).toEqual(['base_rate', ...CHURN_MODELS].sort());
    expect(ev.models.base_rate!.auc).toBe(0.5);
    const chosen = ev.models[ev.chosen]!;
    expect(chosen.auc).toBeGreaterThan(0.65);
    expect(chosen.brier).toBeLessThan(ev.models.base_rate!.brier);
    expect(ev.customers).toBe(new Set(train.sales.filter((s) => s.customerId !== null).map((s) => s.customerId)).size);
    expect(JSON.parse(JSON.stringify(ev))).toEqual(ev);
  });

  it('`chosen` and every validation figure are unchanged when only the test data changes', async () => {
    const a = await evaluateChurn(train, test, ctx());
    const fewer = { ...test, sales: test.sales.filter((_, i) => i % 3 !== 0) };
    const b = await evaluateChurn({ ...train, sales: [...train.sales] }, fewer, ctx()); // a copy: no cached fit
    expect(b.chosen).toBe(a.chosen);
    expect(b.validation).toEqual(a.validation);
    expect(b.models).not.toEqual(a.models);
  });

  it('horizonDays overrides the horizon taken from the test period', async () => {
    const ev = await evaluateChurn(train, test, ctx(), { horizonDays: 28 });
    expect(ev.horizonDays).toBe(28);
    expect(ev.validation.window.from).toBe(split - 28 * DAY_MS);
  });
});
