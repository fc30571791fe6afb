// The sample-ratio check under repeated looks, simulated: how often a fair experiment is marked
// broken by a one-look chi-squared test against the anytime-valid Bayes factor (rollout/stats.ts),
// and how many shoppers the anytime-valid test needs to find a real imbalance at each prior
// concentration. The figures behind docs/rollout.md ("The sample-ratio-mismatch (SRM) flag") and
// SRM_PRIOR_CONCENTRATION's comment. Seeded: the same figures on every run (~1 minute).
//
//   node bench/srm-simulation.ts
import { chiSquaredFit, srmLogBayesFactor, SRM_THRESHOLD } from '../backend/src/rollout/stats.ts';
import { createPrng } from '../backend/src/ml/prng.ts';

const ALARM = Math.log(1 / SRM_THRESHOLD);

/** A draw of the category of one unit from cumulative shares. */
const draw = (cum: readonly number[], u: number): number => {
  for (let i = 0; i < cum.length; i++) if (u < cum[i]!) return i;
  return cum.length - 1;
};
const cumulative = (shares: readonly number[]) => shares.map((_, i) => shares.slice(0, i + 1).reduce((a, b) => a + b, 0));

/** Fair experiments looked at every `every` units: share of them either test marks broken. */
function falseAlarms(seed: string, experiments: number, units: number, every: number, shares: readonly number[]) {
  const rng = createPrng(seed);
  const cum = cumulative(shares);
  let chi2 = 0, anytime = 0;
  for (let r = 0; r < experiments; r++) {
    const n = shares.map(() => 0);
    let c = false, a = false;
    for (let i = 1; i <= units; i++) {
      n[draw(cum, rng.next())]!++;
      if (i % every !== 0 || Math.min(...shares.map((s) => s * i)) < 5) continue;
      c ||= chiSquaredFit(n, shares).p < SRM_THRESHOLD;
      a ||= srmLogBayesFactor(n, shares) >= ALARM;
    }
    if (c) chi2++;
    if (a) anytime++;
  }
  return { chi2, anytime };
}

/** Median number of units until the anytime-valid test (or chi-squared) first fires when one arm loses `loss` of its units. */
function detectionDelay(loss: number, concentration: number | 'chi2', runs = 20, every = 500, maxUnits = 2_000_000): number {
  const shares = [0.05, 0.05, 0.9];
  const cum = cumulative(shares);
  const firsts: number[] = [];
  for (let r = 0; r < runs; r++) {
    const rng = createPrng(`srm-delay-${r}`);
    const n = [0, 0, 0];
    let first = Infinity;
    for (let i = 1; i <= maxUnits && first === Infinity; i++) {
      const v = draw(cum, rng.next());
      if (v === 1 && rng.next() < loss) continue;
      n[v]!++;
      if (i % every !== 0) continue;
      const fired = concentration === 'chi2' ? chiSquaredFit(n, shares).p < SRM_THRESHOLD : srmLogBayesFactor(n, shares, concentration) >= ALARM;
      if (fired) first = i;
    }
    firsts.push(first);
  }
  firsts.sort((a, b) => a - b);
  return firsts[Math.floor(runs / 2)]!;
}

const pct = (k: number, n: number) => `${k} of ${n.toLocaleString('en-US')} (${((100 * k) / n).toFixed(2)}%)`;
console.log(`False alarms at p < ${SRM_THRESHOLD} on fair experiments, looked at repeatedly`);
console.log('| scenario | chi-squared | anytime-valid |\n| --- | --- | --- |');
for (const s of [
  { name: 'hourly for 8 weeks: 4,000 shoppers a day at 5 / 5 / 90, a look every 167', seed: 'srm-hourly', experiments: 1000, units: 224_000, every: 167, shares: [0.05, 0.05, 0.9] },
  { name: "the demo's canary: 264 shoppers at 10 / 20 / 70, a look every 22", seed: 'srm-demo', experiments: 20_000, units: 264, every: 22, shares: [0.1, 0.2, 0.7] },
]) {
  const r = falseAlarms(s.seed, s.experiments, s.units, s.every, s.shares);
  console.log(`| ${s.name} | ${pct(r.chi2, s.experiments)} | ${pct(r.anytime, s.experiments)} |`);
}
console.log('\nMedian shoppers until p < 0.001 when one 5% arm loses some of its shoppers (5 / 5 / 90, a look every 500, 20 runs)');
const columns = [100, 1000, 10_000, 'chi2'] as const;
console.log(`| lost | ${columns.map((c) => (c === 'chi2' ? 'chi-squared (invalid under peeking)' : `concentration ${c.toLocaleString('en-US')}`)).join(' | ')} |`);
console.log(`| --- |${columns.map(() => ' ---: |').join('')}`);
for (const loss of [0.05, 0.08, 0.2, 0.5]) {
  console.log(`| ${loss * 100}% | ${columns.map((c) => detectionDelay(loss, c).toLocaleString('en-US')).join(' | ')} |`);
}
