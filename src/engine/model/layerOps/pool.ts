// Pooling (max and average) with input gradients from elementwise ops.
import * as tf from '@tensorflow/tfjs-core';
import type { GraphNode } from '../graph';
import { channelsLast, convPadding, customGrad, fastGradients, pair, recording, type L, type OpContext } from './common';
import { spatialMean } from '../../simd/simdKernels';
import { padAlong, spreadForTranspose, transposePlan } from './transposedConv';

// ---------------------------------------------------------------------------------------------------
// Pooling gradients from elementwise ops. The wasm backend's MaxPoolGrad and AvgPoolGrad kernels are scalar
// loops that take 100–300× their forward pass (715 ms against 2.5 ms for VGG16's first pool): over a
// second of a VGG16 or InceptionV3 input gradient. Both are also wrong in places (see fastGradients).

/** Rows (or columns) of the input that each output position's window covers, padding excluded. */
function windowCounts(size: number, out: number, kernel: number, stride: number, padBefore: number): number[] {
  const counts: number[] = [];
  for (let o = 0; o < out; o++) {
    const start = o * stride - padBefore;
    counts.push(Math.min(start + kernel, size) - Math.max(start, 0));
  }
  return counts;
}

/**
 * avgPool whose input gradient is a transposed depthwise convolution with a kernel of ones: each output
 * gradient divided by its window's count of (unpadded) inputs, spread back over the window.
 */
export function avgPoolFastGrad(x: tf.Tensor4D, size: [number, number], strides: [number, number], padding: 'same' | 'valid'): tf.Tensor4D {
  const plan = fastGradients('avg-pool') ? transposePlan(x.shape, size, strides, padding, [1, 1]) : null;
  if (!plan) return tf.avgPool(x, size, strides, padding);
  const [, h, w, c] = x.shape;
  const rows = padAlong(h, size[0], strides[0], 1, padding);
  const cols = padAlong(w, size[1], strides[1], 1, padding);
  const countH = windowCounts(h, rows.out, size[0], strides[0], rows.before);
  const countW = windowCounts(w, cols.out, size[1], strides[1], cols.before);
  const inverse = new Float32Array(rows.out * cols.out);
  for (let i = 0; i < rows.out; i++) for (let j = 0; j < cols.out; j++) inverse[i * cols.out + j] = 1 / (countH[i] * countW[j]);
  const op = customGrad(((xi: tf.Tensor4D) => ({
    value: tf.avgPool(xi, size, strides, padding),
    gradFunc: (dy: tf.Tensor4D) => {
      const scaled = tf.mul(dy, tf.tensor4d(inverse, [1, rows.out, cols.out, 1]));
      const { spread, pad } = spreadForTranspose(scaled as tf.Tensor4D, plan);
      return tf.depthwiseConv2d(spread, tf.ones([size[0], size[1], c, 1]) as tf.Tensor4D, 1, pad);
    },
  })) as any) as (x: tf.Tensor4D) => tf.Tensor4D;
  return op(x);
}

/**
 * ∂/∂x of maxPool: each output's gradient goes to the first maximum of its window in row-major order
 * (tfjs's cpu kernel and TensorFlow choose the same). wasm's MaxPoolGrad starts each window's maximum at
 * the smallest positive float, so a window whose maximum is ≤ 0 — all zeros after a ReLU, or negative —
 * sends its gradient to a wrong place.
 *
 * The input, padded with −∞ to a whole number of strides, is split into its s×s phase grids
 * (P[r][t][i][j] = x[i·s + r][j·s + t], by rank-4 transposes: wasm's StridedSlice, DepthToSpace and
 * rank-6 Transpose are scalar loops). Window offset (p, q) = (a·s + r, b·s + t) reads grid (r, t) shifted
 * by (a, b); offsets are visited in row-major order and each takes the gradient of the windows whose
 * maximum it holds and that no earlier offset took. The per-offset gradients go back the same way.
 */
function maxPoolBackprop(dy: tf.Tensor4D, x: tf.Tensor4D, y: tf.Tensor4D, size: [number, number], s: number, padding: 'same' | 'valid'): tf.Tensor4D {
  const [n, h, w, c] = x.shape;
  const [, ho, wo] = y.shape;
  const [kh, kw] = size;
  const padTop = padAlong(h, kh, s, 1, padding).before;
  const padLeft = padAlong(w, kw, s, 1, padding).before;
  // Phase grids of hs × ws cover every window: rows up to (ho − 1)·s + kh − 1.
  const hs = ho - 1 + Math.ceil(kh / s);
  const ws = wo - 1 + Math.ceil(kw / s);
  const hIn = Math.min(h, hs * s - padTop);
  const wIn = Math.min(w, ws * s - padLeft);
  const xc = hIn < h || wIn < w ? tf.slice(x, [0, 0, 0, 0], [n, hIn, wIn, c]) : x;
  const xp = tf.pad(xc, [[0, 0], [padTop, hs * s - padTop - hIn], [padLeft, ws * s - padLeft - wIn], [0, 0]], -Infinity);
  // [n·hs, s, ws, s·c] → [s, n·hs, ws, s·c] → [s, n·hs·ws, s, c] → [s, s, n·hs·ws, c]: grid (r, t) is block r·s + t.
  const grids = s === 1 ? xp : tf.reshape(tf.transpose(tf.reshape(tf.transpose(tf.reshape(xp, [n * hs, s, ws, s * c]), [1, 0, 2, 3]), [s, n * hs * ws, s, c]), [0, 2, 1, 3]), [s * s * n, hs, ws, c]);
  const phase: (tf.Tensor | null)[] = new Array(s * s).fill(null);
  let remaining: tf.Tensor = dy;
  for (let p = 0; p < kh; p++) {
    for (let q = 0; q < kw; q++) {
      const [a, r, b, t] = [Math.floor(p / s), p % s, Math.floor(q / s), q % s];
      const k = r * s + t;
      const xs = tf.slice(grids, [k * n, a, b, 0], [n, ho, wo, c]);
      // 1 where this offset holds its window's maximum: y − x is 0 there and > 0 elsewhere (y is the
      // window's maximum; the −∞ padding gives +∞). Two SIMD ops where wasm's Equal and Select are scalar
      // loops (6 and 9 ms on a 112×112×128 map, a subtraction 0.3 ms); a product with 0/1 moves the gradient.
      const isMax = tf.sub(1, tf.step(tf.sub(y, xs)));
      const g = tf.mul(remaining, isMax);
      if (p < kh - 1 || q < kw - 1) remaining = tf.sub(remaining, g);
      const placed = a || b || hs > ho || ws > wo ? tf.pad(g, [[0, 0], [a, hs - ho - a], [b, ws - wo - b], [0, 0]]) : g;
      phase[k] = phase[k] ? tf.add(phase[k]!, placed) : placed;
    }
  }
  const blocks = phase.map((g) => g ?? tf.zeros([n, hs, ws, c]));
  const canvas =
    s === 1
      ? blocks[0]
      : tf.reshape(tf.transpose(tf.reshape(tf.transpose(tf.reshape(tf.concat(blocks, 0), [s, s, n * hs * ws, c]), [0, 2, 1, 3]), [s, n * hs, ws, s * c]), [1, 0, 2, 3]), [n, hs * s, ws * s, c]);
  const inside = tf.slice(canvas, [0, padTop, padLeft, 0], [n, hIn, wIn, c]);
  return (hIn < h || wIn < w ? tf.pad(inside, [[0, 0], [0, h - hIn], [0, w - wIn], [0, 0]]) : inside) as tf.Tensor4D;
}

export function maxPoolFastGrad(x: tf.Tensor4D, size: [number, number], strides: [number, number], padding: 'same' | 'valid'): tf.Tensor4D {
  if (!fastGradients('max-pool') || strides[0] !== strides[1]) return tf.maxPool(x, size, strides, padding);
  const op = customGrad(((xi: tf.Tensor4D, save: tf.GradSaveFunc) => {
    const y = tf.maxPool(xi, size, strides, padding);
    save([xi, y]);
    return { value: y, gradFunc: (dy: tf.Tensor4D, saved: tf.Tensor[]) => maxPoolBackprop(dy, saved[0] as tf.Tensor4D, saved[1] as tf.Tensor4D, size, strides[0], padding) };
  }) as any) as (x: tf.Tensor4D) => tf.Tensor4D;
  return op(x);
}
/**
 * Global average pooling whose gradient is dy / (h·w) spread over the map: tfjs's Mean gradient builds a
 * tensor of ones of the input's size in JavaScript and multiplies and divides by it (0.2 ms of a
 * MobileNetV2 Grad-CAM, most of what its head's gradient costs).
 */
export function globalAvgPoolFastGrad(x: tf.Tensor4D, keepDims: boolean): tf.Tensor {
  const [n, h, w, c] = x.shape;
  // The mean itself: one SIMD pass on wasm (simdKernels.spatialMean), where nothing differentiates it.
  const mean = (t: tf.Tensor4D) => (keepDims ? tf.reshape(spatialMean(t), [n, 1, 1, c]) : spatialMean(t));
  if (!recording()) return mean(x);
  if (!fastGradients('avg-pool')) return tf.mean(x, [1, 2], keepDims);
  const op = customGrad(((xi: tf.Tensor4D) => ({
    value: mean(xi),
    // A broadcast product with a [1, h, w, 1] map of ones (wasm's Tile took 5 ms for [1, 7, 7, 1280]).
    gradFunc: (dy: tf.Tensor) => tf.mul(tf.reshape(tf.mul(dy, 1 / (h * w)), [n, 1, 1, c]), tf.ones([1, h, w, 1])),
  })) as any) as (x: tf.Tensor4D) => tf.Tensor;
  return op(x);
}

/** Max/average pooling and their global forms; null for other layers (or layouts we leave to the layer). */
export function applyPoolLayer(node: GraphNode, x: tf.Tensor, cfg: L, ctx?: OpContext): tf.Tensor | null {
  switch (node.className) {
    case 'MaxPooling2D':
    case 'AveragePooling2D': {
      if (!channelsLast(cfg) || x.rank !== 4) return null;
      const size = pair(cfg.poolSize, 2);
      const strides = pair(cfg.strides ?? cfg.poolSize, 2);
      const pad = convPadding(cfg, ctx);
      return node.className === 'MaxPooling2D' ? maxPoolFastGrad(x as tf.Tensor4D, size, strides, pad) : avgPoolFastGrad(x as tf.Tensor4D, size, strides, pad);
    }
    case 'GlobalAveragePooling2D':
      if (!channelsLast(cfg) || x.rank !== 4) return null;
      return globalAvgPoolFastGrad(x as tf.Tensor4D, cfg.keepDims === true);
    case 'GlobalMaxPooling2D':
      if (!channelsLast(cfg) || x.rank !== 4) return null;
      return tf.max(x, [1, 2], cfg.keepDims === true);
    default:
      return null;
  }
}
