// Eigen-CAM (Muhammad & Yeasin 2020): no gradients and no class. The activation vectors of the target
// layer's positions, [h·w, K], centred (their mean over positions subtracted), projected on their first
// right-singular vector; the sign chosen so that the projection correlates positively with Σ_k A_k (an SVD's
// sign is arbitrary); then ReLU. The same map for every class.
import * as tf from '@tensorflow/tfjs-core';
import { defineMethod } from './types';

/**
 * Top eigenvector of the symmetric positive semi-definite n×n matrix S (row-major), by power iteration from
 * a fixed start; unit length. Zero vector when S is 0.
 */
export function topEigenvector(S: Float64Array, n: number, maxIterations = 5000): Float64Array {
  let v = new Float64Array(n);
  // A start that is not orthogonal to any particular vector in practice (fixed, so maps are reproducible).
  for (let i = 0; i < n; i++) v[i] = 1 + ((i * 0.6180339887) % 1);
  let norm = Math.sqrt(v.reduce((a, b) => a + b * b, 0));
  for (let i = 0; i < n; i++) v[i] /= norm;
  for (let it = 0; it < maxIterations; it++) {
    const w = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      let s = 0;
      const row = i * n;
      for (let j = 0; j < n; j++) s += S[row + j] * v[j];
      w[i] = s;
    }
    norm = 0;
    for (let i = 0; i < n; i++) norm += w[i] * w[i];
    norm = Math.sqrt(norm);
    if (norm === 0) return new Float64Array(n);
    let change = 0;
    for (let i = 0; i < n; i++) {
      w[i] /= norm;
      change = Math.max(change, Math.abs(w[i] - v[i]));
    }
    v = w;
    if (change < 1e-10) break;
  }
  return v;
}

/** The projection [h·w] of the centred activations on their first principal axis, sign as above. */
export function eigenProjection(A: tf.Tensor3D): Float32Array {
  const [h, w, K] = A.shape;
  const n = h * w;
  let gram = new Float64Array(0);
  let centred: Float32Array = new Float32Array(0);
  let sums: Float32Array = new Float32Array(0);
  tf.tidy(() => {
    const X = tf.reshape(A, [n, K]);
    const C = tf.sub(X, tf.mean(X, 0, true));
    // The smaller Gram matrix: C·Cᵀ [n, n] has the left-singular vectors, Cᵀ·C [K, K] the right ones.
    const G = n <= K ? tf.matMul(C, C, false, true) : tf.matMul(C, C, true, false);
    gram = Float64Array.from(G.dataSync());
    centred = C.dataSync() as Float32Array;
    sums = tf.sum(X, 1).dataSync() as Float32Array;
  });
  const proj = new Float64Array(n);
  if (n <= K) {
    // C v = σ u with u the top eigenvector of C·Cᵀ and σ² its eigenvalue.
    const u = topEigenvector(gram, n);
    let lambda = 0;
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let j = 0; j < n; j++) s += gram[i * n + j] * u[j];
      lambda += u[i] * s;
    }
    const sigma = Math.sqrt(Math.max(0, lambda));
    for (let i = 0; i < n; i++) proj[i] = sigma * u[i];
  } else {
    const v = topEigenvector(gram, K);
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let k = 0; k < K; k++) s += centred[i * K + k] * v[k];
      proj[i] = s;
    }
  }
  let meanP = 0;
  let meanS = 0;
  for (let i = 0; i < n; i++) {
    meanP += proj[i] / n;
    meanS += sums[i] / n;
  }
  let cov = 0;
  for (let i = 0; i < n; i++) cov += (proj[i] - meanP) * (sums[i] - meanS);
  const sign = cov < 0 ? -1 : 1;
  return Float32Array.from(proj, (p) => sign * p);
}

export const eigenCam = defineMethod('eigencam', {
  run: (ctx) => {
    const a = ctx.pass().activation;
    const [, h, w] = a.shape as number[];
    const proj = tf.tidy(() => eigenProjection(tf.squeeze(a, [0]) as tf.Tensor3D));
    return tf.tidy(() => {
      const map = tf.tensor2d(proj, [h, w]);
      return ctx.options.relu ? tf.relu(map) : map;
    });
  },
});
