// Tiny models for the method tests, built in code with seeded weights, and the plain-JavaScript pieces the
// tests compute their expectations with (nothing here calls the engine).
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { wrapLayersModel, type LoadedModel } from '../../../src/engine/model/loadModel';
import { makeRng } from '../../../src/engine/random';

export function seeded(seed: number, stddev = 0.5) {
  return tfl.initializers.randomNormal({ mean: 0, stddev, seed });
}

export function wrap(m: tfl.LayersModel, name: string): LoadedModel {
  return wrapLayersModel(m, `/nonexistent/${name}/model.json`);
}

/** n seeded images [n, h, w, c] of values in [−1, 1). */
export function randomImage(seed: number, h: number, w: number, c = 3, n = 1): tf.Tensor4D {
  const rng = makeRng(seed);
  return tf.tensor4d(new Float32Array(n * h * w * c).map(() => rng() * 2 - 1), [n, h, w, c]);
}

const conv = (name: string, filters: number, seed: number, activation: 'relu' | 'linear' = 'relu') =>
  tfl.layers.conv2d({ filters, kernelSize: 3, padding: 'same', activation, kernelInitializer: seeded(seed), biasInitializer: seeded(seed + 1, 0.2), name });

/** s×s×3 → conv1 → 'target' (5 channels) → GAP → Dense(3, softmax). */
export function gapHead(s: number): tfl.LayersModel {
  const input = tfl.input({ shape: [s, s, 3] });
  const t = conv('target', 5, 3).apply(conv('conv1', 4, 1).apply(input)) as tfl.SymbolicTensor;
  const gap = tfl.layers.globalAveragePooling2d({ name: 'gap' }).apply(t) as tfl.SymbolicTensor;
  const out = tfl.layers.dense({ units: 3, activation: 'softmax', kernelInitializer: seeded(5), biasInitializer: seeded(6), name: 'logits' }).apply(gap);
  return tfl.model({ inputs: input, outputs: out as tfl.SymbolicTensor });
}

/** s×s×3 → 'target' (5 channels, relu) → Flatten → Dense(3, softmax): ∂logit_c/∂A is the dense kernel's column c. */
export function flattenHead(s: number): tfl.LayersModel {
  const input = tfl.input({ shape: [s, s, 3] });
  const t = conv('target', 5, 11).apply(input) as tfl.SymbolicTensor;
  const flat = tfl.layers.flatten({ name: 'flat' }).apply(t) as tfl.SymbolicTensor;
  const out = tfl.layers.dense({ units: 3, activation: 'softmax', kernelInitializer: seeded(13, 0.3), biasInitializer: seeded(14), name: 'logits' }).apply(flat);
  return tfl.model({ inputs: input, outputs: out as tfl.SymbolicTensor });
}

/** s×s×3 → conv1 → max pool → 'target' (6 channels) → conv3 → GAP → Dense(3, linear): logits are the output. */
export function linearHead(s: number): tfl.LayersModel {
  const input = tfl.input({ shape: [s, s, 3] });
  const c1 = conv('conv1', 4, 21).apply(input) as tfl.SymbolicTensor;
  const pool = tfl.layers.maxPooling2d({ poolSize: 2, name: 'pool' }).apply(c1) as tfl.SymbolicTensor;
  const t = conv('target', 6, 23).apply(pool) as tfl.SymbolicTensor;
  const c3 = conv('conv3', 4, 25).apply(t) as tfl.SymbolicTensor;
  const gap = tfl.layers.globalAveragePooling2d({ name: 'gap' }).apply(c3) as tfl.SymbolicTensor;
  const out = tfl.layers.dense({ units: 3, kernelInitializer: seeded(27), biasInitializer: seeded(28), name: 'logits' }).apply(gap);
  return tfl.model({ inputs: input, outputs: out as tfl.SymbolicTensor });
}

/** A tail that reads an earlier layer: conv1 (4) → 'target' (4) → Concatenate(target, conv1) → GAP → Dense(3, linear). */
export function skipHead(s: number): tfl.LayersModel {
  const input = tfl.input({ shape: [s, s, 3] });
  const c1 = conv('conv1', 4, 31).apply(input) as tfl.SymbolicTensor;
  const t = conv('target', 4, 33).apply(c1) as tfl.SymbolicTensor;
  const add = tfl.layers.concatenate({ name: 'concat' }).apply([t, c1]) as tfl.SymbolicTensor;
  const gap = tfl.layers.globalAveragePooling2d({ name: 'gap' }).apply(add) as tfl.SymbolicTensor;
  const out = tfl.layers.dense({ units: 3, kernelInitializer: seeded(35), biasInitializer: seeded(36), name: 'logits' }).apply(gap);
  return tfl.model({ inputs: input, outputs: out as tfl.SymbolicTensor });
}

/** A layer's output for x by tfjs-layers' own forward pass, as [h·w·K] (position-major). */
export function layerOutput(m: tfl.LayersModel, layer: string, x: tf.Tensor): Float32Array {
  return tf.tidy(() => (tfl.model({ inputs: m.inputs, outputs: m.getLayer(layer).output as tfl.SymbolicTensor }).predict(x) as tf.Tensor).dataSync() as Float32Array);
}

/** The model's output row 0 by tfjs-layers' predict. */
export function predictRow(m: tfl.LayersModel, x: tf.Tensor): Float32Array {
  return tf.tidy(() => (m.predict(x) as tf.Tensor).dataSync() as Float32Array);
}

/** Bilinear resize of one [h, w] channel to [H, W] with half-pixel centres, edges clamped (a plain loop). */
export function resizeBilinearJs(src: ArrayLike<number>, h: number, w: number, H: number, W: number): Float64Array {
  const out = new Float64Array(H * W);
  for (let Y = 0; Y < H; Y++) {
    const sy = Math.min(Math.max((Y + 0.5) * (h / H) - 0.5, 0), h - 1);
    const y0 = Math.floor(sy);
    const y1 = Math.min(y0 + 1, h - 1);
    const fy = sy - y0;
    for (let X = 0; X < W; X++) {
      const sx = Math.min(Math.max((X + 0.5) * (w / W) - 0.5, 0), w - 1);
      const x0 = Math.floor(sx);
      const x1 = Math.min(x0 + 1, w - 1);
      const fx = sx - x0;
      const top = src[y0 * w + x0] * (1 - fx) + src[y0 * w + x1] * fx;
      const bottom = src[y1 * w + x0] * (1 - fx) + src[y1 * w + x1] * fx;
      out[Y * W + X] = top * (1 - fy) + bottom * fy;
    }
  }
  return out;
}

/** Eigenvalues and eigenvectors of a symmetric n×n matrix by cyclic Jacobi rotations; vectors as columns of V. */
export function jacobiEigen(S: ArrayLike<number>, n: number): { values: number[]; V: Float64Array } {
  const a = Float64Array.from(S);
  const V = new Float64Array(n * n);
  for (let i = 0; i < n; i++) V[i * n + i] = 1;
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += a[p * n + q] ** 2;
    if (off < 1e-22) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        if (Math.abs(a[p * n + q]) < 1e-300) continue;
        const theta = (a[q * n + q] - a[p * n + p]) / (2 * a[p * n + q]);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const akp = a[k * n + p];
          const akq = a[k * n + q];
          a[k * n + p] = c * akp - s * akq;
          a[k * n + q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = a[p * n + k];
          const aqk = a[q * n + k];
          a[p * n + k] = c * apk - s * aqk;
          a[q * n + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = V[k * n + p];
          const vkq = V[k * n + q];
          V[k * n + p] = c * vkp - s * vkq;
          V[k * n + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  return { values: Array.from({ length: n }, (_, i) => a[i * n + i]), V };
}
