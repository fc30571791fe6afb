// Dense symmetric positive-definite inverse for EASE. TensorFlow.js has no matrix inverse, so:
//  - small blocks: Cholesky in Float64 (A = L Lᵀ, A⁻¹ = L⁻ᵀ L⁻¹), plain loops;
//  - large matrices: recursive block inversion through the Schur complement, every O(n³) step a
//    matMul on the tensor backend (float32):
//      A = [A11 A12; A12ᵀ A22],  T = A11⁻¹ A12,  S = A22 − A12ᵀ T,
//      A⁻¹ = [A11⁻¹ + T S⁻¹ Tᵀ,  −T S⁻¹;  −S⁻¹ Tᵀ,  S⁻¹]
//    ≈ (4/3)·n³ multiply-adds in matMuls, i.e. about two thirds of one n×n matMul.
// Float32 is enough here: EASE inverts G + λI with λ in the hundreds, a well-conditioned matrix.
import type { Tf } from '../../ml/tensor-backend.ts';

type Tensor2D = ReturnType<Tf['tensor2d']>;

/** In-place Cholesky of an n×n SPD matrix (row-major): returns L (lower, upper part zeroed). */
export function cholesky(a: Float64Array, n: number): Float64Array {
  const l = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    const rj = j * n;
    let d = a[rj + j]!;
    for (let k = 0; k < j; k++) d -= l[rj + k]! * l[rj + k]!;
    if (!(d > 0)) throw new Error(`matrix is not positive definite (pivot ${j}: ${d})`);
    const ljj = Math.sqrt(d);
    l[rj + j] = ljj;
    for (let i = j + 1; i < n; i++) {
      const ri = i * n;
      let s = a[ri + j]!;
      for (let k = 0; k < j; k++) s -= l[ri + k]! * l[rj + k]!;
      l[ri + j] = s / ljj;
    }
  }
  return l;
}

/** Inverse of an SPD matrix through its Cholesky factor, in Float64. O(n³): for small n. */
export function spdInverseF64(a: ArrayLike<number>, n: number): Float64Array {
  const l = cholesky(Float64Array.from(a), n);
  // M = L⁻¹ (lower triangular), column by column of the identity: forward substitution.
  const m = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    const ri = i * n;
    const lii = l[ri + i]!;
    m[ri + i] = 1 / lii;
    for (let j = 0; j < i; j++) {
      let s = 0;
      for (let k = j; k < i; k++) s -= l[ri + k]! * m[k * n + j]!;
      m[ri + j] = s / lii;
    }
  }
  // A⁻¹ = Mᵀ M: (A⁻¹)_ij = Σ_{k ≥ max(i,j)} M_ki M_kj.
  const out = new Float64Array(n * n);
  for (let k = 0; k < n; k++) {
    const rk = k * n;
    for (let i = 0; i <= k; i++) {
      const mki = m[rk + i]!;
      if (mki === 0) continue;
      const ri = i * n;
      for (let j = 0; j <= i; j++) out[ri + j]! += mki * m[rk + j]!;
    }
  }
  for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) out[j * n + i] = out[i * n + j]!;
  return out;
}

const BASE = 192;

function invRec(tf: Tf, a: Tensor2D): Tensor2D {
  const n = a.shape[0];
  if (n <= BASE) {
    const inv = spdInverseF64(a.dataSync() as Float32Array, n);
    return tf.tensor2d(Float32Array.from(inv), [n, n]);
  }
  // Split on a multiple of 64 for friendlier matMul shapes.
  const n1 = Math.max(64, Math.round(n / 2 / 64) * 64);
  const n2 = n - n1;
  const a11 = tf.slice(a, [0, 0], [n1, n1]) as Tensor2D;
  const b11 = invRec(tf, a11);
  a11.dispose();
  // The wasm backend's matMul is fast only without its transpose flags: transpose explicitly.
  const a12 = tf.slice(a, [0, n1], [n1, n2]) as Tensor2D;
  const t = tf.matMul(b11, a12);
  a12.dispose();
  const s = tf.tidy(() => tf.sub(tf.slice(a, [n1, n1], [n2, n2]), tf.matMul(tf.slice(a, [n1, 0], [n2, n1]), t)) as Tensor2D);
  const si = invRec(tf, s);
  s.dispose();
  const o12 = tf.tidy(() => tf.neg(tf.matMul(t, si)) as Tensor2D);
  const o21 = tf.transpose(o12) as Tensor2D;
  const o11 = tf.tidy(() => tf.sub(b11, tf.matMul(t, o21)) as Tensor2D);
  b11.dispose();
  t.dispose();
  const out = tf.tidy(() => tf.concat([tf.concat([o11, o12], 1), tf.concat([o21, si], 1)], 0) as Tensor2D);
  o11.dispose();
  o12.dispose();
  o21.dispose();
  si.dispose();
  return out;
}

/** Inverse of an n×n SPD matrix (row-major), float32 result, O(n³) on the tensor backend. */
export function spdInverse(tf: Tf, a: Float32Array | Float64Array, n: number): Float32Array {
  if (n <= BASE) return Float32Array.from(spdInverseF64(a, n));
  const t = tf.tensor2d(a instanceof Float32Array ? a : Float32Array.from(a), [n, n]);
  const inv = invRec(tf, t);
  t.dispose();
  const out = inv.dataSync() as Float32Array;
  inv.dispose();
  return Float32Array.from(out);
}
