// The global model: ONE small neural network (TensorFlow.js) trained across all products on lag
// features, forecasting the next H weeks at once (direct multi-horizon output).
//
// Each sample is (product, origin t): the inputs describe the product's weekly units before t,
// the targets are its units in weeks t … t+H−1. Everything is divided by the product's scale s =
// mean weekly units over the (up to) 26 weeks before t (falling back to its whole history), so
// one network serves a product selling 2 a week and one selling 2,000; the forecast is
// max(0, output)·s. Targets that lie beyond the training data are masked out of the loss.
//
// Loss: the evaluation metric's shape — per sample sqrt(mean over its target weeks of the squared
// scaled error, divided by the sample's in-sample naive MSE), averaged over samples. The square
// root makes the network aim below the mean of a spiky product (which is what minimises RMSSE
// averaged over products) instead of chasing wholesale spikes.
//
// Deterministic: the weights are initialised from a seeded PRNG (Glorot uniform), samples are
// dealt into batches and batches visited in orders shuffled by the same PRNG, no dropout, and
// Adam runs in JS; the same data + seed + tensor backend give the same weights to the bit.
import type { Tf } from '../../ml/tensor-backend.ts';

export const FEATURE_NAMES: readonly string[] = [
  ...Array.from({ length: 13 }, (_, i) => `lag_${i + 1}`),
  'mean_4', 'mean_8', 'mean_13', 'mean_26', 'mean_all',
  'ses_0.1', 'ses_0.3', 'std_13', 'nonzero_share_13', 'weeks_since_sale', 'history_length', 'log_scale',
  'lines_momentum_4_26', 'lines_momentum_13_26', 'robust_level_13', 'max_share_26',
];
const NF = FEATURE_NAMES.length;
/** Scaled inputs and targets are clipped here: wholesale spikes of 50× the usual week would otherwise dominate the squared loss. */
const CLIP = 10;

export interface GlobalModelConfig {
  horizon: number;
  hidden: readonly number[];
  epochs: number;
  batchSize: number;
  learningRate: number;
  /** Networks trained (seeds seed, seed+1, …) and averaged. */
  bags: number;
  /** Samples need this many weeks of history before the origin. */
  minHistory: number;
  /** Scaled targets are clipped at this value. */
  clipTarget: number;
  /** 'rmsse': each sample's loss is divided by its in-sample naive MSE (in scaled units), as RMSSE does. */
  weighting: 'none' | 'rmsse';
  /** 'mse': masked squared error; 'rmsse': per sample sqrt(mean squared error over its horizon), averaged — the evaluation metric's shape. */
  loss: 'mse' | 'rmsse';
  /** A sample needs this many target weeks before the end of the data. */
  minTargets: number;
}

export const DEFAULT_GLOBAL_CONFIG: Omit<GlobalModelConfig, 'horizon'> = {
  hidden: [32, 16], epochs: 10, bags: 1, batchSize: 2048, learningRate: 0.01, minHistory: 4, clipTarget: 10, weighting: 'rmsse', loss: 'rmsse', minTargets: 1,
};

export interface Layer { inputs: number; outputs: number; kernel: Float32Array; bias: Float32Array }

export interface GlobalModel {
  features: readonly string[];
  config: GlobalModelConfig;
  /** The bagged networks (same data, different seeds); each: per layer, kernel (row-major in × out) and bias. The forecast is their mean. */
  nets: Layer[][];
  samples: number;
  finalLoss: number;
}

/** A product's weekly units on the shared grid; history starts at `first` (its first selling week). */
export interface SeriesRef {
  y: ArrayLike<number>;
  /** Sale lines per week (same grid). */
  lines: ArrayLike<number>;
  first: number;
}

/** mulberry32: a tiny seeded PRNG for initial weights and batch order. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The product's scale at origin t: mean of the last ≤26 weeks, else of the whole history (0: nothing sold). */
export function scaleAt(s: SeriesRef, t: number): number {
  const from = Math.max(s.first, t - 26);
  let sum = 0;
  for (let i = from; i < t; i++) sum += s.y[i]!;
  if (sum > 0) return sum / (t - from);
  for (let i = s.first; i < from; i++) sum += s.y[i]!;
  return t > s.first ? sum / (t - s.first) : 0;
}

/** Writes the features of (series, origin t) into out[off … off+NF). Returns the scale (0: no features). */
export function writeFeatures(s: SeriesRef, t: number, out: Float32Array, off: number): number {
  const scale = scaleAt(s, t);
  if (!(scale > 0)) return 0;
  const len = t - s.first;
  const v = (i: number): number => (i >= s.first && i < t ? s.y[i]! / scale : 0);
  const c = (x: number): number => (x > CLIP ? CLIP : x);
  for (let k = 1; k <= 13; k++) out[off + k - 1] = c(v(t - k));
  const meanLast = (k: number): number => {
    const n = Math.min(k, len);
    let sum = 0;
    for (let i = t - n; i < t; i++) sum += v(i);
    return n ? sum / n : 0;
  };
  out[off + 13] = c(meanLast(4));
  out[off + 14] = c(meanLast(8));
  out[off + 15] = c(meanLast(13));
  out[off + 16] = c(meanLast(26));
  out[off + 17] = c(meanLast(len));
  let l1 = v(s.first);
  let l3 = l1;
  for (let i = s.first + 1; i < t; i++) { l1 += 0.1 * (v(i) - l1); l3 += 0.3 * (v(i) - l3); }
  out[off + 18] = c(l1);
  out[off + 19] = c(l3);
  const n13 = Math.min(13, len);
  const m13 = meanLast(13);
  let ss = 0;
  let nz = 0;
  let since = len;
  for (let i = t - n13; i < t; i++) { ss += (v(i) - m13) ** 2; if (v(i) > 0) nz++; }
  for (let i = t - 1; i >= s.first; i--) if (s.y[i]! > 0) { since = t - 1 - i; break; }
  out[off + 20] = c(n13 ? Math.sqrt(ss / n13) : 0);
  out[off + 21] = n13 ? nz / n13 : 0;
  out[off + 22] = Math.min(since, 26) / 13;
  out[off + 23] = Math.min(len, 52) / 52;
  out[off + 24] = Math.log1p(scale) / 5;
  // Demand breadth: sale lines per week, and a robust level = lines/week × median units per line.
  const n26 = Math.min(26, len);
  let l26 = 0;
  let l13 = 0;
  let l4 = 0;
  let max26 = 0;
  let sum26 = 0;
  const upl: number[] = [];
  for (let i = t - n26; i < t; i++) {
    const li = s.lines[i]!;
    l26 += li;
    if (i >= t - 13) l13 += li;
    if (i >= t - 4) l4 += li;
    const yi = s.y[i]!;
    sum26 += yi;
    if (yi > max26) max26 = yi;
    if (li > 0) upl.push(yi / li);
  }
  upl.sort((a, b) => a - b);
  const med = upl.length ? (upl.length % 2 ? upl[(upl.length - 1) / 2]! : (upl[upl.length / 2 - 1]! + upl[upl.length / 2]!) / 2) : 0;
  const m26 = n26 ? l26 / n26 : 0;
  out[off + 25] = m26 > 0 ? c(l4 / Math.min(4, len) / m26) : 0;
  out[off + 26] = m26 > 0 ? c(l13 / Math.min(13, len) / m26) : 0;
  out[off + 27] = c((l13 / Math.max(1, Math.min(13, len))) * med / scale);
  out[off + 28] = sum26 > 0 ? max26 / sum26 : 0;
  return scale;
}

interface Dataset { x: Float32Array; y: Float32Array; m: Float32Array; w: Float32Array; n: number }

/** Training samples: every (product, origin t) with ≥ minHistory weeks of history, a non-zero scale and ≥ 1 target week before `end`. */
export function buildSamples(series: readonly SeriesRef[], end: number, cfg: GlobalModelConfig): Dataset {
  const H = cfg.horizon;
  let cap = 0;
  for (const s of series) cap += Math.max(0, end - (s.first + cfg.minHistory));
  const x = new Float32Array(cap * NF);
  const y = new Float32Array(cap * H);
  const m = new Float32Array(cap * H);
  const sw = new Float32Array(cap);
  let n = 0;
  for (const s of series) {
    for (let t = s.first + cfg.minHistory; t <= end - cfg.minTargets; t++) {
      const scale = writeFeatures(s, t, x, n * NF);
      if (!scale) continue;
      let w = 1;
      if (cfg.weighting === 'rmsse') {
        let d2 = 0;
        for (let i = s.first + 1; i < t; i++) d2 += ((s.y[i]! - s.y[i - 1]!) / scale) ** 2;
        w = t - s.first > 1 && d2 > 0 ? (t - s.first - 1) / d2 : 0;
        if (w > 10) w = 10;
        if (!w) continue;
      }
      for (let h = 0; h < H && t + h < end; h++) {
        const target = s.y[t + h]! / scale;
        y[n * H + h] = target > cfg.clipTarget ? cfg.clipTarget : target;
        m[n * H + h] = 1;
      }
      sw[n] = w;
      n++;
    }
  }
  return { x, y, m, w: sw, n };
}

function shuffle(a: Int32Array, rand: () => number): void {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    const t = a[i]!; a[i] = a[j]!; a[j] = t;
  }
}

function initLayers(sizes: number[], rand: () => number): Layer[] {
  const layers: Layer[] = [];
  for (let i = 0; i + 1 < sizes.length; i++) {
    const inputs = sizes[i]!;
    const outputs = sizes[i + 1]!;
    const limit = Math.sqrt(6 / (inputs + outputs));
    const kernel = new Float32Array(inputs * outputs);
    for (let j = 0; j < kernel.length; j++) kernel[j] = (rand() * 2 - 1) * limit;
    layers.push({ inputs, outputs, kernel, bias: new Float32Array(outputs) });
  }
  return layers;
}

/** Trains `cfg.bags` networks on the samples with targets before week `end` (seeds derived from `seed`). */
export async function trainGlobalModel(
  tf: Tf, series: readonly SeriesRef[], end: number, cfg: GlobalModelConfig, seed: number,
  onProgress?: (fraction: number) => void,
): Promise<GlobalModel> {
  const data = buildSamples(series, end, cfg);
  const nets: Layer[][] = [];
  let loss = 0;
  for (let b = 0; b < Math.max(1, cfg.bags); b++) {
    const rand = seededRandom((seed + 0x9e3779b9 * b) >>> 0);
    const layers = initLayers([NF, ...cfg.hidden, cfg.horizon], rand);
    if (data.n) loss += await trainNet(tf, data, layers, cfg, rand, (f) => onProgress?.((b + f) / Math.max(1, cfg.bags)));
    nets.push(layers);
  }
  return { features: FEATURE_NAMES, config: cfg, nets, samples: data.n, finalLoss: data.n ? loss / nets.length : NaN };
}

/**
 * Trains one network. The forward and backward passes run in TensorFlow.js (matrix products,
 * ReLU); the backward pass is written out by hand (for a plain MLP it is three lines per layer) —
 * on the wasm backend that is ~2.5× faster than tf's autodiff, which transposes through slow
 * paths. Adam's update runs in JS on the downloaded gradients (float64 moments), so the whole
 * optimiser state is plain, seeded and reproducible. Returns the last epoch's mean loss.
 */
async function trainNet(tf: Tf, data: Dataset, layers: Layer[], cfg: GlobalModelConfig, rand: () => number, onProgress?: (fraction: number) => void): Promise<number> {
  const H = cfg.horizon;
  const L = layers.length;
  const params = layers.flatMap((l) => [l.kernel, l.bias]);
  const m1 = params.map((p) => new Float64Array(p.length));
  const m2 = params.map((p) => new Float64Array(p.length));
  const b1 = 0.9;
  const b2 = 0.999;
  // One seeded shuffle deals the samples into batches (stored contiguous, with the inputs also
  // transposed for the first layer's gradient); each epoch visits the batches in a fresh seeded order.
  const bsMax = Math.min(cfg.batchSize, data.n);
  const perm = Int32Array.from({ length: data.n }, (_, i) => i);
  shuffle(perm, rand);
  const batches: { size: number; x: Float32Array; xT: Float32Array; y: Float32Array; m: Float32Array; w: Float32Array }[] = [];
  for (let start = 0; start < data.n; start += bsMax) {
    const size = Math.min(bsMax, data.n - start);
    const bt = { size, x: new Float32Array(size * NF), xT: new Float32Array(size * NF), y: new Float32Array(size * H), m: new Float32Array(size * H), w: new Float32Array(size) };
    for (let r = 0; r < size; r++) {
      const k = perm[start + r]!;
      for (let j = 0; j < NF; j++) {
        const v = data.x[k * NF + j]!;
        bt.x[r * NF + j] = v;
        bt.xT[j * size + r] = v;
      }
      for (let j = 0; j < H; j++) { bt.y[r * H + j] = data.y[k * H + j]!; bt.m[r * H + j] = data.m[k * H + j]!; }
      bt.w[r] = data.w[k]!;
    }
    batches.push(bt);
  }
  const batchOrder = Int32Array.from({ length: batches.length }, (_, i) => i);
  const gOut = new Float32Array(bsMax * H);
  const ones = new Map<number, ReturnType<Tf['tensor2d']>>();
  let iter = 0;
  let lossSum = 0;
  let finalLoss = NaN;
  for (let epoch = 0; epoch < cfg.epochs; epoch++) {
    shuffle(batchOrder, rand);
    lossSum = 0;
    for (const bi of batchOrder) {
      const { size: bs, x: xb, xT: xTb, y: yb, m: mb, w: wb } = batches[bi]!;
      let onesRow = ones.get(bs);
      if (!onesRow) ones.set(bs, (onesRow = tf.ones([1, bs])));
      // Forward pass in tf, keeping each layer's input and pre-activation.
      const ws = layers.map((l) => tf.tensor2d(l.kernel, [l.inputs, l.outputs]));
      const bsT = layers.map((l) => tf.tensor1d(l.bias));
      const inputs = [tf.tensor2d(xb, [bs, NF])];
      const x0T = tf.tensor2d(xTb, [NF, bs]);
      const pre: ReturnType<Tf['tensor2d']>[] = [];
      for (let i = 0; i < L; i++) {
        const prod = tf.matMul(inputs[i]!, ws[i]!);
        const z = tf.add(prod, bsT[i]!) as ReturnType<Tf['tensor2d']>;
        prod.dispose();
        pre.push(z);
        if (i < L - 1) inputs.push(tf.relu(z));
      }
      const out = pre[L - 1]!.dataSync();
      // Loss and its gradient with respect to the outputs, in JS.
      let wsum = 0;
      for (let r = 0; r < bs; r++) wsum += wb[r]!;
      let loss = 0;
      for (let r = 0; r < bs; r++) {
        let se = 0;
        let cnt = 0;
        for (let h = 0; h < H; h++) {
          const q = r * H + h;
          if (mb[q]) { const d = out[q]! - yb[q]!; se += d * d; cnt++; }
        }
        const n = Math.max(1, cnt);
        const w = wb[r]!;
        let coef: number;
        if (cfg.loss === 'rmsse') {
          const l = Math.sqrt((w * se) / n + 1e-4);
          loss += l / bs;
          coef = w / (bs * l * n);
        } else {
          loss += (w * se) / n / Math.max(wsum, 1e-6);
          coef = (2 * w) / (n * Math.max(wsum, 1e-6));
        }
        for (let h = 0; h < H; h++) {
          const q = r * H + h;
          gOut[q] = mb[q] ? coef * (out[q]! - yb[q]!) : 0;
        }
      }
      lossSum += loss;
      // Backward pass in tf.
      const grads = tf.tidy(() => {
        let g = tf.tensor2d(gOut.subarray(0, bs * H), [bs, H]);
        const parts: ReturnType<Tf['tensor']>[] = new Array(2 * L);
        for (let i = L - 1; i >= 0; i--) {
          parts[2 * i] = tf.reshape(tf.matMul(i === 0 ? x0T : tf.transpose(inputs[i]!), g), [-1]);
          parts[2 * i + 1] = tf.reshape(tf.matMul(onesRow!, g), [-1]);
          if (i > 0) g = tf.mul(tf.matMul(g, tf.transpose(ws[i]!)), tf.step(pre[i - 1]!));
        }
        return tf.concat(parts);
      });
      const gd = grads.dataSync();
      grads.dispose();
      tf.dispose([...ws, ...bsT, ...inputs, ...pre, x0T]);
      // Adam.
      iter++;
      const lr = (cfg.learningRate * Math.sqrt(1 - b2 ** iter)) / (1 - b1 ** iter);
      let off = 0;
      for (let k = 0; k < params.length; k++) {
        const p = params[k]!;
        const a = m1[k]!;
        const v = m2[k]!;
        for (let j = 0; j < p.length; j++) {
          const gj = gd[off + j]!;
          a[j] = b1 * a[j]! + (1 - b1) * gj;
          v[j] = b2 * v[j]! + (1 - b2) * gj * gj;
          p[j] = p[j]! - (lr * a[j]!) / (Math.sqrt(v[j]!) + 1e-7);
        }
        off += p.length;
      }
    }
    finalLoss = lossSum / batches.length;
    onProgress?.((epoch + 1) / cfg.epochs);
  }
  for (const t of ones.values()) t.dispose();
  return finalLoss;
}

/** Forecast H weeks from origin t for each series (0 where the series has no scale): a plain JS forward pass, the mean over the bagged networks. */
export function predictGlobal(model: GlobalModel, series: readonly SeriesRef[], t: number): number[][] {
  const H = model.config.horizon;
  const x = new Float32Array(NF);
  return series.map((s) => {
    if (t - s.first < 1) return new Array<number>(H).fill(0);
    const scale = writeFeatures(s, t, x, 0);
    if (!scale) return new Array<number>(H).fill(0);
    const sum = new Float64Array(H);
    for (const net of model.nets) {
      let h: Float32Array = x;
      net.forEach((l, li) => {
        const out = new Float32Array(l.outputs);
        for (let o = 0; o < l.outputs; o++) {
          let z = l.bias[o]!;
          for (let i = 0; i < l.inputs; i++) z += h[i]! * l.kernel[i * l.outputs + o]!;
          out[o] = li < net.length - 1 && z < 0 ? 0 : z;
        }
        h = out;
      });
      for (let k = 0; k < H; k++) sum[k]! += h[k]!;
    }
    return Array.from(sum, (v) => Math.max(0, v / model.nets.length) * scale);
  });
}
