// Which test runs on a column and why (Evidently's default rules), histograms for plotting,
// missing values, too-small samples, dataset drift, and the settings' sources.
import { describe, expect, it } from 'vitest';
import { createPrng } from '../../backend/src/ml/prng.ts';
import { driftColumn, driftDataset, type ColumnInput } from '../../backend/src/monitor/drift.ts';
import { resolveSettings, SettingsError, settingsFromEnv, settingsFromFlags } from '../../backend/src/monitor/settings.ts';

const rng = createPrng('drift-columns');
const normal = (n: number, mu = 0) => Float64Array.from({ length: n }, () => mu + rng.normal());
const cats = (n: number, values: string[]) => Array.from({ length: n }, () => values[rng.below(values.length)]!);
const num = (name: string, reference: ArrayLike<number>, current: ArrayLike<number>): ColumnInput => ({ name, type: 'numeric', reference, current });

describe('test selection (Evidently defaults)', () => {
  it('numeric, reference ≤ 1,000 rows → KS on p < 0.05', () => {
    const c = driftColumn(num('x', normal(1000), normal(3000)));
    expect(c.test).toBe('ks');
    expect(c.scoreKind).toBe('p_value');
    expect(c.threshold).toBe(0.05);
    expect(c.reason).toMatch(/reference has 1,000 rows \(≤ 1,000\), numeric with [\d,]+ distinct values: two-sample Kolmogorov–Smirnov \(exact p-value\), drift if p < 0\.05/);
  });

  it('numeric, reference > 1,000 rows → normalized Wasserstein > 0.1', () => {
    const c = driftColumn(num('x', normal(1001), normal(200)));
    expect(c.test).toBe('wasserstein');
    expect(c.scoreKind).toBe('distance');
    expect(c.reason).toMatch(/> 1,000.*Wasserstein distance \/ reference std/);
    expect(c.also.ks?.statistic).toBeGreaterThan(0); // the other statistics are reported too
  });

  it('categorical: chi-squared (3+ values) or z (2 values) when small, Jensen–Shannon when large', () => {
    expect(driftColumn({ name: 's', type: 'categorical', reference: cats(300, ['a', 'b', 'c']), current: cats(300, ['a', 'b', 'c']) }).test).toBe('chisquare');
    const z = driftColumn({ name: 's', type: 'categorical', reference: cats(300, ['a', 'b']), current: cats(300, ['a', 'b']) });
    expect(z.test).toBe('z');
    expect(z.treatedAs).toBe('binary');
    const js = driftColumn({ name: 's', type: 'categorical', reference: cats(3000, ['a', 'b', 'c']), current: cats(300, ['a', 'b', 'c']) });
    expect(js.test).toBe('jensenshannon');
    expect(js.threshold).toBe(0.1);
  });

  it('a numeric column with ≤ 5 distinct values is tested as categorical', () => {
    const ref = Float64Array.from({ length: 400 }, (_, i) => i % 4), cur = Float64Array.from({ length: 400 }, (_, i) => (i % 5 === 0 ? 3 : i % 4));
    const c = driftColumn(num('orders30d', ref, cur));
    expect(c.test).toBe('chisquare');
    expect(c.treatedAs).toBe('categorical');
    expect(c.reason).toMatch(/numeric with 4 distinct values \(≤ 5\)/);
    expect(c.histogram).toMatchObject({ kind: 'categories', categories: ['0', '1', '2', '3'] });
    const bin = driftColumn(num('flag', Float64Array.from({ length: 2000 }, (_, i) => i % 2), Float64Array.from({ length: 2000 }, (_, i) => i % 3 === 0 ? 1 : 0)));
    expect(bin.test).toBe('jensenshannon');
  });

  it("method 'pvalue' keeps the p-value tests at any size", () => {
    expect(driftColumn(num('x', normal(5000), normal(5000)), { method: 'pvalue' }).test).toBe('ks');
    expect(driftColumn({ name: 's', type: 'categorical', reference: cats(3000, ['a', 'b', 'c']), current: cats(3000, ['a', 'b', 'c']) }, { method: 'pvalue' }).test).toBe('chisquare');
  });

  it('detects an obvious shift and not a null at small n', () => {
    expect(driftColumn(num('x', normal(300), normal(300, 1))).drifted).toBe(true);
    expect(driftColumn(num('x', normal(2000), normal(2000, 1))).drifted).toBe(true);
    const same = Float64Array.from({ length: 300 }, (_, i) => i);
    expect(driftColumn(num('x', same, same)).drifted).toBe(false);
  });
});

describe('data handling', () => {
  it('NaN values are missing: counted, not tested', () => {
    const ref = Float64Array.from({ length: 200 }, (_, i) => (i % 4 === 0 ? NaN : i));
    const c = driftColumn(num('meanGapDays', ref, ref));
    expect(c.reference).toMatchObject({ rows: 150, missing: 50 });
    expect(c.drifted).toBe(false);
    expect(c.score).toBe(1);
  });

  it('fewer than minRows values: reported with its figures, but not judged', () => {
    const c = driftColumn(num('x', normal(10), normal(10, 5)));
    expect(c.judged).toBe(false);
    expect(c.drifted).toBe(false);
    expect(c.test).toBe('ks');
    expect(c.reason).toMatch(/fewer than 20 non-missing values \(reference 10, current 10\): not judged \(would be: /);
    const empty = driftColumn(num('x', [], [1, 2]));
    expect(empty.test).toBeNull();
    expect(empty.reason).toMatch(/no non-missing values in the reference/);
  });

  it('histograms share the reference’s quantile bins and count every value', () => {
    const ref = normal(1000), cur = normal(800, 0.5);
    const c = driftColumn(num('x', ref, cur));
    const h = c.histogram;
    expect(h.kind).toBe('bins');
    if (h.kind !== 'bins') return;
    expect(h.edges).toHaveLength(19);
    expect(h.reference.reduce((a, b) => a + b, 0)).toBe(1000);
    expect(h.current.reduce((a, b) => a + b, 0)).toBe(800);
    for (const r of h.reference) expect(Math.abs(r - 50)).toBeLessThanOrEqual(1);
    expect(c.psi).toBeGreaterThan(0.1);
    expect(c.reference.median).toBeCloseTo(0, 0);
  });

  it('categorical histograms list categories by reference frequency, with missing counted', () => {
    const c = driftColumn({ name: 'segment', type: 'categorical', reference: ['b', 'a', 'a', null, 'c', 'a', 'b', ''], current: ['c', 'c', 'd'] });
    expect(c.histogram).toEqual({ kind: 'categories', categories: ['a', 'b', 'c', 'd'], reference: [3, 2, 1, 0], current: [0, 0, 2, 1] });
    expect(c.reference).toEqual({ rows: 6, missing: 2 });
  });
});

describe('dataset drift', () => {
  it('is the share of judged columns that drifted, against datasetShare', () => {
    const cols: ColumnInput[] = [
      num('a', normal(300), normal(300, 1)), num('b', normal(300), normal(300, 1)),
      num('c', normal(300), normal(300)), num('d', normal(300), normal(300)), num('tiny', normal(5), normal(5, 9)),
    ];
    const d = driftDataset(cols);
    expect(d.judged).toBe(4);
    expect(d.drifted).toBe(2);
    expect(d.share).toBe(0.5);
    expect(d.datasetDrift).toBe(true);
    expect(driftDataset(cols, { datasetShare: 0.6 }).datasetDrift).toBe(false);
  });
});

describe('settings', () => {
  it('reads SHOPML_DRIFT_* / SHOPML_MONITOR_* and flags; flags win; bad values are clear errors', () => {
    const env = settingsFromEnv({ SHOPML_DRIFT_ALPHA: '0.01', SHOPML_DRIFT_METHOD: 'pvalue', SHOPML_MONITOR_AUC_DROP: '0.1', SHOPML_DRIFT_SHARE: '' });
    const flags = settingsFromFlags({ alpha: '0.02', share: '0.3', json: true });
    const s = resolveSettings(env, flags);
    expect(s.drift.alpha).toBe(0.02);
    expect(s.drift.method).toBe('pvalue');
    expect(s.drift.datasetShare).toBe(0.3);
    expect(s.aucDrop).toBe(0.1);
    expect(s.drift.wassersteinThreshold).toBe(0.1);
    expect(() => settingsFromEnv({ SHOPML_DRIFT_ALPHA: 'often' })).toThrow(SettingsError);
    expect(() => settingsFromEnv({ SHOPML_DRIFT_ALPHA: '2' })).toThrow(/SHOPML_DRIFT_ALPHA must be a number from 1e-9 to 0.5 \(got "2"\)/);
    expect(() => settingsFromFlags({ bins: '2.5' })).toThrow(/--bins must be a whole number/);
    expect(() => settingsFromFlags({ method: 'bayes' })).toThrow(/--method must be evidently or pvalue/);
  });
});
