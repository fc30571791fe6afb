import { beforeAll, describe, expect, it } from 'vitest';
import { tensorBackend, type Tf } from '../../backend/src/ml/tensor-backend.ts';
import { fitEase, easeScores } from '../../backend/src/models/recommend/ease.ts';
import { cholesky, spdInverse, spdInverseF64 } from '../../backend/src/models/recommend/linalg.ts';

/** Plain Gauss-Jordan inverse with partial pivoting: the reference the solvers are checked against. */
function gaussJordan(a: number[][]): number[][] {
  const n = a.length;
  const m = a.map((row, i) => [...row, ...Array.from({ length: n }, (_, j) => (i === j ? 1 : 0))]);
  for (let c = 0; c < n; c++) {
    let piv = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(m[r]![c]!) > Math.abs(m[piv]![c]!)) piv = r;
    [m[c], m[piv]] = [m[piv]!, m[c]!];
    const d = m[c]![c]!;
    for (let j = 0; j < 2 * n; j++) m[c]![j]! /= d;
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = m[r]![c]!;
      for (let j = 0; j < 2 * n; j++) m[r]![j]! -= f * m[c]![j]!;
    }
  }
  return m.map((row) => row.slice(n));
}

/** Gram matrix XᵀX of a binary user × item matrix given as item lists. */
function gram(users: number[][], n: number): Float32Array {
  const g = new Float32Array(n * n);
  for (const u of users) for (const i of u) for (const j of u) g[i * n + j]! += 1;
  return g;
}

let tf: Tf;
beforeAll(async () => { tf = (await tensorBackend()).tf; });

describe('EASE closed form', () => {
  it('two items: B12 = x1·x2 / (x1·x1 + λ), the ridge regression of item 2 on item 1', () => {
    // Users {0,1}, {0}, {0,1}: x1·x1 = 3, x2·x2 = 2, x1·x2 = 2. With λ = 1:
    //   B[0][1] = 2 / (3 + 1) = 0.5   and   B[1][0] = 2 / (2 + 1) = 2/3, diagonal 0.
    const m = fitEase(tf, gram([[0, 1], [0], [0, 1]], 2), 2, 1, 1);
    expect(Array.from(m.b)).toEqual([0, expect.closeTo(0.5, 6), expect.closeTo(2 / 3, 6), 0]);
    // Scores of a user who bought item 0: x·B = [0, 0.5].
    expect(Array.from(easeScores(m, [0], new Float64Array(2)))).toEqual([0, expect.closeTo(0.5, 6)]);
  });

  it('matches B = −P / diag(P) with P from a direct inverse of XᵀX + λI', () => {
    const users = [[0, 1, 2], [1, 2], [0, 3], [2, 3, 4], [0, 1, 4], [4], [1, 3]];
    const n = 5, lambda = 2;
    const g = gram(users, n);
    const a = Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => g[i * n + j]! + (i === j ? lambda : 0)));
    const p = gaussJordan(a);
    const m = fitEase(tf, g, n, lambda, 1);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        const expected = i === j ? 0 : -p[i]![j]! / p[j]![j]!;
        expect(m.b[i * n + j]).toBeCloseTo(expected, 5);
      }
    }
  });

  it('leaves products with too few buyers out of the inverse (score 0)', () => {
    const users = [[0, 1], [0, 1], [0, 2], [1]];
    const m = fitEase(tf, gram(users, 3), 3, 1, 2); // product 2 has one buyer
    expect(Array.from(m.kept)).toEqual([0, 1]);
    const s = easeScores(m, [0, 2], new Float64Array(3));
    expect(s[2]).toBe(0);
    expect(s[1]).toBeGreaterThan(0);
  });
});

describe('SPD inverse', () => {
  it('Cholesky reproduces the matrix', () => {
    const a = Float64Array.from([4, 2, 2, 3]);
    const l = cholesky(a, 2);
    expect(Array.from(l)).toEqual([2, 0, 1, expect.closeTo(Math.sqrt(2), 12)]);
  });

  it('Float64 path equals Gauss-Jordan', () => {
    const a = [[5, 1, 0.5], [1, 4, 1], [0.5, 1, 3]];
    const ref = gaussJordan(a);
    const inv = spdInverseF64(a.flat(), 3);
    for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) expect(inv[i * 3 + j]).toBeCloseTo(ref[i]![j]!, 12);
  });

  it('blocked tensor path (n > 192) agrees with the Float64 Cholesky inverse', () => {
    // A co-purchase-like Gram matrix + λI, n = 300, from a fixed LCG.
    const n = 300;
    let state = 12345;
    const rnd = (): number => ((state = (state * 1103515245 + 12345) % 2147483648) / 2147483648);
    const users = Array.from({ length: 400 }, () => Array.from({ length: n }, (_, i) => i).filter(() => rnd() < 0.05));
    const g = gram(users, n);
    for (let i = 0; i < n; i++) g[i * n + i]! += 20;
    const exact = spdInverseF64(g, n);
    const fast = spdInverse(tf, g, n);
    let maxErr = 0, maxAbs = 0;
    for (let i = 0; i < n * n; i++) { maxErr = Math.max(maxErr, Math.abs(exact[i]! - fast[i]!)); maxAbs = Math.max(maxAbs, Math.abs(exact[i]!)); }
    expect(maxErr / maxAbs).toBeLessThan(1e-4);
  });
});
