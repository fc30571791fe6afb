import { beforeAll, describe, expect, it } from 'vitest';
import { DAY_MS } from '../../backend/src/features/customers.ts';
import { splitAt } from '../../backend/src/features/from-file.ts';
import { tensorBackend, type TensorBackend } from '../../backend/src/ml/tensor-backend.ts';
import { evaluateValue } from '../../backend/src/models/churn/evaluate.ts';
import { scoreChurn, trainChurn, VALUE_MODELS } from '../../backend/src/models/churn/train.ts';
import { generateStore } from '../../simulator/store.ts';
import { simCleanData } from '../helpers/sim-data.ts';


const store = generateStore({ seed: 'value-test', customers: 400, days: 365 });
const data = simCleanData(store);
const asOf = Date.parse(store.asOf!);
const split = asOf - 91 * DAY_MS;
const { train, test } = splitAt(data, split);
let backend: TensorBackend;
beforeAll(async () => { backend = await tensorBackend(); });
const ctx = () => ({ seed: 1, backend, asOf: split, split, testEnd: asOf - DAY_MS });

describe('value: predicted spend over the horizon', () => {
  it('predictedSpend is the chosen value model and is zero-or-more for everyone', async () => {
    const r = await trainChurn(data, {}, { seed: 1, backend, asOf });
    const s = scoreChurn(r.artifact, data, asOf);
    const chosen = s.value[r.artifact.spend.chosen]!;
    expect(Array.from(s.predictedSpend)).toEqual(Array.from(chosen));
    s.ids.forEach((id, i) => expect(r.perCustomer!.get(id)!.predictedSpend).toBe(s.predictedSpend[i]));
    for (const v of s.predictedSpend) expect(v).toBeGreaterThanOrEqual(0);
    expect(Object.keys(r.artifact.validation.value).sort()).toEqual([...VALUE_MODELS].sort());
  });

  it('evaluateValue: Spearman and MAE for past_spend and every model; the chosen one from validation', async () => {
    const ev = await evaluateValue(train, test, ctx());
    expect(Object.keys(ev.models).sort()).toEqual([...VALUE_MODELS].sort());
    for (const m of Object.values(ev.models)) {
      expect(m.spearman).toBeGreaterThan(0);
      expect(m.mae).toBeGreaterThan(0);
    }
    // On the simulated store, where purchase rates are stable per customer, the models beat past spend.
    expect(ev.models[ev.chosen]!.spearman).toBeGreaterThan(ev.models.past_spend!.spearman);
    expect(ev.spearman_vs_past_spend).toBeCloseTo(ev.models[ev.chosen]!.spearman / ev.models.past_spend!.spearman, 5);
    const best = Object.entries(ev.validation).reduce((m, e) => (e[1]!.spearman > m[1]!.spearman ? e : m));
    expect(ev.chosen).toBe(best[0]);
  });

  it('`chosen` is unchanged when only the test data changes', async () => {
    const a = await evaluateValue(train, test, ctx());
    const doubled = { ...test, sales: test.sales.map((s) => ({ ...s, quantity: s.quantity * (s.productId.endsWith('1') ? 5 : 1) })) };
    const b = await evaluateValue({ ...train, sales: [...train.sales] }, doubled, ctx());
    expect(b.chosen).toBe(a.chosen);
    expect(b.validation).toEqual(a.validation);
  });

  it('past_spend MAE scales past spend to the horizon length', async () => {
    const ev = await evaluateValue(train, test, ctx());
    const r = await trainChurn(train, { horizonDays: ev.horizonDays }, { seed: 1, backend, asOf: split });
    const s = scoreChurn(r.artifact, train, split);
    let first = Infinity;
    for (const x of train.sales) first = Math.min(first, x.time);
    const span = (split - first) / DAY_MS;
    s.ids.forEach((_, i) => expect(s.value.past_spend![i]).toBeCloseTo((s.features.monetary[i]! * ev.horizonDays) / span, 6));
  });
});
