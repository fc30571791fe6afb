// A small binary classifier (inputs → ReLU hidden layer → logit) trained with TensorFlow.js,
// several models at once: every "head" is an independent network with its own weights and its
// own row weights (a 0/1 mask picks its training rows), so the K cross-validation fits and the
// final fit run as one batched computation instead of K + 1 training loops. Training is
// full-batch Adam — no shuffling, hence no hidden Math.random — with weights initialised from
// the seeded PRNG; snapshots are taken at the requested step counts so the number of steps can
// be chosen on validation data. Prediction runs in plain JS (float64) from the exported weights.
import type { Tf } from './tensor-backend.ts';
import { createPrng } from './prng.ts';

export interface MlpWeights {
  inputs: number;
  hidden: number;
  /** inputs × hidden, row-major. */
  w1: number[];
  b1: number[];
  /** hidden. */
  w2: number[];
  b2: number;
}

export interface MlpTrainOptions {
  hidden: number;
  /** L2 penalty on the weights (not the biases), per head; one value for all heads or one per head. */
  l2: number | number[];
  learningRate?: number; // default 0.01
  /** Snapshots are returned at these step counts (ascending); training runs to the last. */
  checkpoints: number[];
  seed: number | string;
}

/**
 * X: n × d row-major (standardised inputs), y: n labels in {0, 1}, masks: one Float32Array of
 * n row weights per head. Returns snapshots[checkpoint][head].
 */
export function trainMlpHeads(tf: Tf, X: Float32Array, n: number, d: number, y: Float32Array, masks: Float32Array[], opts: MlpTrainOptions): MlpWeights[][] {
  const G = masks.length, H = opts.hidden;
  const rng = createPrng(opts.seed).fork('mlp-init');
  const he = (fanIn: number, count: number): Float32Array => {
    const a = new Float32Array(count);
    const s = Math.sqrt(2 / fanIn);
    for (let i = 0; i < count; i++) a[i] = rng.normal() * s;
    return a;
  };
  const l2s = Array.isArray(opts.l2) ? opts.l2 : new Array<number>(G).fill(opts.l2);
  const snapshots: MlpWeights[][] = [];
  const steps = [...opts.checkpoints].sort((a, b) => a - b);
  tf.tidy(() => {
    const xs = tf.tensor2d(X, [n, d]);
    const ys = tf.tensor2d(y, [1, n]);
    const mask = tf.tensor2d(concat(masks), [G, n]);
    const maskSum = tf.maximum(tf.sum(mask, 1), 1e-9); // [G]
    const l2 = tf.tensor1d(l2s);
    // All heads' first layers side by side: one [n, d] × [d, G·H] product serves every head.
    const w1 = tf.variable(tf.tensor2d(transposeHeads(he(d, G * d * H), G, d, H), [d, G * H]));
    const b1 = tf.variable(tf.zeros([G * H]));
    const w2 = tf.variable(tf.tensor2d(he(H, G * H), [G, H]));
    const b2 = tf.variable(tf.zeros([G]));
    const opt = tf.train.adam(opts.learningRate ?? 0.01);
    const loss = () => {
      const h = tf.reshape(tf.relu(tf.add(tf.matMul(xs, w1), b1)), [n, G, H]);
      const z = tf.transpose(tf.add(tf.sum(tf.mul(h, w2), 2), b2)); // [G, n]
      // Stable binary cross-entropy from logits: max(z, 0) − z·y + log(1 + e^{−|z|}).
      const ce = tf.add(tf.sub(tf.relu(z), tf.mul(z, ys)), tf.softplus(tf.neg(tf.abs(z))));
      const perHead = tf.div(tf.sum(tf.mul(ce, mask), 1), maskSum);
      const w1Sq = tf.sum(tf.reshape(tf.square(w1), [d, G, H]), [0, 2]);
      const pen = tf.mul(l2, tf.add(w1Sq, tf.sum(tf.square(w2), 1)));
      return tf.sum(tf.add(perHead, pen)) as unknown as import('@tensorflow/tfjs').Scalar;
    };
    let done = 0;
    for (const target of steps) {
      for (; done < target; done++) tf.tidy(() => { opt.minimize(loss); });
      const [a1, c1, a2, c2] = [w1.dataSync(), b1.dataSync(), w2.dataSync(), b2.dataSync()];
      const heads: MlpWeights[] = [];
      for (let g = 0; g < G; g++) {
        const hw1: number[] = new Array(d * H);
        for (let j = 0; j < d; j++) for (let k = 0; k < H; k++) hw1[j * H + k] = a1[j * G * H + g * H + k]!;
        heads.push({
          inputs: d, hidden: H,
          w1: hw1,
          b1: Array.from(c1.subarray(g * H, (g + 1) * H)),
          w2: Array.from(a2.subarray(g * H, (g + 1) * H)),
          b2: c2[g]!,
        });
      }
      snapshots.push(heads);
    }
    opt.dispose();
    for (const v of [w1, b1, w2, b2]) v.dispose();
  });
  return snapshots;
}

/** [G][d][H] (head-major) → [d][G][H], the layout of the side-by-side first layer. */
function transposeHeads(a: Float32Array, G: number, d: number, H: number): Float32Array {
  const out = new Float32Array(a.length);
  for (let g = 0; g < G; g++) for (let j = 0; j < d; j++) for (let k = 0; k < H; k++) out[j * G * H + g * H + k] = a[g * d * H + j * H + k]!;
  return out;
}

function concat(parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

/** The logit for one standardised input row. */
export function mlpLogit(w: MlpWeights, row: ArrayLike<number>): number {
  let out = w.b2;
  for (let h = 0; h < w.hidden; h++) {
    let s = w.b1[h]!;
    for (let j = 0; j < w.inputs; j++) s += row[j]! * w.w1[j * w.hidden + h]!;
    if (s > 0) out += s * w.w2[h]!;
  }
  return out;
}
