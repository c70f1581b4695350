// Score-CAM (Wang et al. 2020, Algorithm 1): no gradients. Each channel A_k of the target layer, resized
// bilinearly to the input size and min-max normalized to [0, 1], masks the preprocessed image; the channel's
// weight is the class probability of the masked image, α_k = softmax(logits(x ⊙ M_k))_c. Channels that are
// constant (max = min) get 0. Map: ReLU(Σ_k α_k A_k).
// `maxChannels` N (Faster Score-CAM, Wang et al. 2020b) keeps only the N channels whose activation varies
// most over positions.
import * as tf from '@tensorflow/tfjs-core';
import { combineCam } from './gradCam';
import { classScores, forwardBatchSize, inBatches } from './perturbation';
import { defineMethod } from './types';

/** Channels of A [h, w, K] that are not constant, by decreasing variance over positions; at most `max` (0: all). */
export function scoreCamChannels(A: tf.Tensor3D, max: number): number[] {
  const [h, w, K] = A.shape;
  const d = A.dataSync();
  const n = h * w;
  const stats: { k: number; variance: number }[] = [];
  for (let k = 0; k < K; k++) {
    let lo = Infinity;
    let hi = -Infinity;
    let sum = 0;
    let sumSq = 0;
    for (let p = 0; p < n; p++) {
      const v = d[p * K + k];
      if (v < lo) lo = v;
      if (v > hi) hi = v;
      sum += v;
      sumSq += v * v;
    }
    if (hi > lo) stats.push({ k, variance: sumSq / n - (sum / n) ** 2 });
  }
  stats.sort((a, b) => b.variance - a.variance || a.k - b.k);
  return (max > 0 ? stats.slice(0, max) : stats).map((s) => s.k).sort((a, b) => a - b);
}

export const scoreCam = defineMethod('scorecam', {
  run: (ctx) => {
    const pass = ctx.pass();
    const A = tf.squeeze(pass.activation, [0]) as tf.Tensor3D;
    const [, , K] = A.shape;
    const [, H, W] = ctx.x.shape as number[];
    const channels = scoreCamChannels(A, ctx.options.maxChannels);
    const weights = new Float32Array(K);
    try {
      inBatches(ctx, channels.length, forwardBatchSize(ctx), (start, n) => {
      const picked = tf.gather(A, channels.slice(start, start + n), 2); // [h, w, n]
      const up = tf.image.resizeBilinear(picked, [H, W], false, true); // [H, W, n], half-pixel centres
      const lo = tf.min(up, [0, 1], true);
      const hi = tf.max(up, [0, 1], true);
      const masks = tf.div(tf.sub(up, lo), tf.sub(hi, lo)); // [H, W, n] in [0, 1]
      const batch = tf.mul(ctx.x, tf.expandDims(tf.transpose(masks, [2, 0, 1]), -1)); // [n, H, W, C]
      const alpha = classScores(ctx, ctx.net.run(batch).logits!, 'probability');
      for (let i = 0; i < n; i++) weights[channels[start + i]] = alpha[i];
      });
      return tf.tidy(() => combineCam(ctx, A, tf.tensor1d(weights)));
    } finally {
      A.dispose();
    }
  },
});
