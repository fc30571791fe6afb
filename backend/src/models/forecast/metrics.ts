// Scaled forecast errors (Hyndman & Koehler 2006; the M5 competition's RMSSE). Both are scaled by
// the in-sample one-step naive forecast's error on the product's own training series, so a value
// below 1 beats "next week = this week" as it would have done in sample, and products of any
// volume can be averaged.

/** Mean |y_t − y_{t−1}| and mean (y_t − y_{t−1})² over t = 1 … n−1 (NaN for n < 2). */
export function naiveScale(insample: ArrayLike<number>): { mae: number; mse: number } {
  const n = insample.length;
  if (n < 2) return { mae: NaN, mse: NaN };
  let a = 0;
  let s = 0;
  for (let t = 1; t < n; t++) {
    const d = insample[t]! - insample[t - 1]!;
    a += Math.abs(d);
    s += d * d;
  }
  return { mae: a / (n - 1), mse: s / (n - 1) };
}

/** MASE = mean|actual − forecast| / in-sample naive MAE. */
export function mase(actual: ArrayLike<number>, forecast: ArrayLike<number>, insample: ArrayLike<number>): number {
  let a = 0;
  for (let i = 0; i < actual.length; i++) a += Math.abs(actual[i]! - forecast[i]!);
  return a / actual.length / naiveScale(insample).mae;
}

/** RMSSE = sqrt(mean (actual − forecast)² / in-sample naive MSE). */
export function rmsse(actual: ArrayLike<number>, forecast: ArrayLike<number>, insample: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < actual.length; i++) s += (actual[i]! - forecast[i]!) ** 2;
  return Math.sqrt(s / actual.length / naiveScale(insample).mse);
}

export function mean(xs: readonly number[]): number {
  let s = 0;
  for (const x of xs) s += x;
  return xs.length ? s / xs.length : NaN;
}
