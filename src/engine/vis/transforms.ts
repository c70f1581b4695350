// Random input transformations applied to the image before every optimization step: jitter, scale and
// rotation (Mordvintsev et al. 2015; Olah et al. 2017 call this "transformation robustness"). Without them
// gradient ascent finds high-frequency patterns the network reacts to but people don't see.
//
// All three are one affine resampling with bilinear interpolation, computed in JavaScript with an exact
// adjoint as its gradient. That keeps them differentiable on every backend (tfjs has no gradient for its
// image transform op, and the wasm backend none for bilinear resize), and makes the result bit-identical
// everywhere for the same random numbers.
import * as tf from '@tensorflow/tfjs-core';

/** Output pixel (y, x) reads the input at A·(y − cy, x − cx) + (cy + ty, cx + tx). */
export interface AffineMap {
  a: number; // dy/dy
  b: number; // dy/dx
  c: number; // dx/dy
  d: number; // dx/dx
  ty: number;
  tx: number;
}

/** How samples outside the image are read: mirrored at the edge, or wrapped around (a roll). */
export type Boundary = 'reflect' | 'wrap';

export interface TransformOptions {
  /** Largest shift in pixels, each direction (uniform integer). */
  jitter: number;
  /** Scale factors are drawn uniformly from [1 − scale, 1 + scale]. 0 = none. */
  scale: number;
  /** Rotation angles are drawn uniformly from [−rotate, rotate] degrees. 0 = none. */
  rotate: number;
  boundary: Boundary;
}

export const IDENTITY: AffineMap = { a: 1, b: 0, c: 0, d: 1, ty: 0, tx: 0 };

export function isIdentity(m: AffineMap): boolean {
  return m.a === 1 && m.b === 0 && m.c === 0 && m.d === 1 && m.ty === 0 && m.tx === 0;
}

/** Draws one transformation. Always consumes the same number of random numbers, whatever the options. */
export function randomAffine(rng: () => number, o: TransformOptions): AffineMap {
  const u1 = rng();
  const u2 = rng();
  const u3 = rng();
  const u4 = rng();
  const ty = Math.floor(u1 * (2 * o.jitter + 1)) - o.jitter;
  const tx = Math.floor(u2 * (2 * o.jitter + 1)) - o.jitter;
  const s = 1 + o.scale * (2 * u3 - 1);
  const theta = ((o.rotate * (2 * u4 - 1)) * Math.PI) / 180;
  // Sampling the input at (R(θ)/s)·p shows it scaled by s and rotated by −θ.
  const cos = Math.cos(theta) / s;
  const sin = Math.sin(theta) / s;
  return { a: cos, b: -sin, c: sin, d: cos, ty, tx };
}

function reflectIndex(i: number, n: number): number {
  if (n === 1) return 0;
  const period = 2 * (n - 1);
  let m = i % period;
  if (m < 0) m += period;
  return m < n ? m : period - m;
}

function wrapIndex(i: number, n: number): number {
  const m = i % n;
  return m < 0 ? m + n : m;
}

/** For every output pixel, the four input pixels it reads and their weights. */
interface Taps {
  idx: Int32Array;
  w: Float32Array;
}

function computeTaps(h: number, w: number, m: AffineMap, boundary: Boundary): Taps {
  const idx = new Int32Array(h * w * 4);
  const wt = new Float32Array(h * w * 4);
  const fold = boundary === 'reflect' ? reflectIndex : wrapIndex;
  const cy = (h - 1) / 2;
  const cx = (w - 1) / 2;
  let o = 0;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const dy = y - cy;
      const dx = x - cx;
      const sy = m.a * dy + m.b * dx + cy + m.ty;
      const sx = m.c * dy + m.d * dx + cx + m.tx;
      const y0 = Math.floor(sy);
      const x0 = Math.floor(sx);
      const fy = sy - y0;
      const fx = sx - x0;
      const ya = fold(y0, h) * w;
      const yb = fold(y0 + 1, h) * w;
      const xa = fold(x0, w);
      const xb = fold(x0 + 1, w);
      idx[o] = ya + xa;
      wt[o++] = (1 - fy) * (1 - fx);
      idx[o] = ya + xb;
      wt[o++] = (1 - fy) * fx;
      idx[o] = yb + xa;
      wt[o++] = fy * (1 - fx);
      idx[o] = yb + xb;
      wt[o++] = fy * fx;
    }
  }
  return { idx, w: wt };
}

function resample(src: Float32Array, batch: number, pixels: number, ch: number, taps: Taps): Float32Array {
  const out = new Float32Array(src.length);
  const { idx, w } = taps;
  for (let b = 0; b < batch; b++) {
    const base = b * pixels * ch;
    for (let p = 0; p < pixels; p++) {
      const o = base + p * ch;
      for (let k = 0; k < 4; k++) {
        const wk = w[p * 4 + k];
        if (wk === 0) continue;
        const s = base + idx[p * 4 + k] * ch;
        for (let c = 0; c < ch; c++) out[o + c] += wk * src[s + c];
      }
    }
  }
  return out;
}

/** The adjoint of resample: every output gradient is spread back onto the four pixels it read. */
function resampleAdjoint(dy: Float32Array, batch: number, pixels: number, ch: number, taps: Taps): Float32Array {
  const out = new Float32Array(dy.length);
  const { idx, w } = taps;
  for (let b = 0; b < batch; b++) {
    const base = b * pixels * ch;
    for (let p = 0; p < pixels; p++) {
      const o = base + p * ch;
      for (let k = 0; k < 4; k++) {
        const wk = w[p * 4 + k];
        if (wk === 0) continue;
        const s = base + idx[p * 4 + k] * ch;
        for (let c = 0; c < ch; c++) out[s + c] += wk * dy[o + c];
      }
    }
  }
  return out;
}

/**
 * Resamples every image of the batch x [B, H, W, C] with the same affine map (output size = input size).
 * Differentiable: the gradient is the exact adjoint of the bilinear resampling.
 */
export function warp(x: tf.Tensor4D, m: AffineMap, boundary: Boundary): tf.Tensor4D {
  if (isIdentity(m)) return x;
  const [batch, h, w, ch] = x.shape;
  const taps = computeTaps(h, w, m, boundary);
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const value: tf.Tensor = tf.tensor4d(resample((args[0] as tf.Tensor).dataSync() as Float32Array, batch, h * w, ch, taps), [batch, h, w, ch]);
    return {
      value,
      gradFunc: (dy: tf.Tensor): tf.Tensor => tf.tensor4d(resampleAdjoint(dy.dataSync() as Float32Array, batch, h * w, ch, taps), [batch, h, w, ch]),
    };
  }) as (t: tf.Tensor) => tf.Tensor4D;
  return f(x);
}
