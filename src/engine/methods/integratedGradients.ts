// Integrated gradients (Sundararajan, Taly & Yan 2017) from the black-image baseline (after
// preprocessing): (x − x′) ⊙ ∫₀¹ ∂score/∂x(x′ + α(x − x′)) dα, the integral by the trapezoidal rule over
// `steps` intervals. Completeness: Σ attributions ≈ score(x) − score(x′).
import * as tf from '@tensorflow/tfjs-core';
import { inputGradients, samplesPerBatch } from './gradients';
import { defineMethod } from './types';

export const integratedGradients = defineMethod('integrated-gradients', {
  run: (ctx) => {
    const { steps, score } = ctx.options;
    const batchSize = samplesPerBatch(ctx.net, ctx.x, ctx.options.batchSize);
    const base = ctx.baseline();
    const diff = tf.sub(ctx.x, base);
    const [, H, W, C] = ctx.x.shape;
    const points = steps + 1; // α = 0, 1/steps, …, 1
    let acc = tf.zeros([H, W, C]);
    for (let start = 0; start < points; ) {
      const b = Math.min(batchSize, points - start);
      const next = tf.tidy(() => {
        const alphas: number[] = [];
        const weights: number[] = [];
        for (let i = start; i < start + b; i++) {
          alphas.push(i / steps);
          weights.push(i === 0 || i === steps ? 0.5 : 1);
        }
        const a = tf.tensor4d(alphas, [b, 1, 1, 1]);
        const path = tf.add(base, tf.mul(a, diff));
        const g = inputGradients(ctx.net, path, [ctx.classIndex], { score });
        const weighted = tf.sum(tf.mul(g, tf.tensor4d(weights, [b, 1, 1, 1])), 0);
        return tf.add(acc, weighted);
      });
      acc.dispose();
      acc = next;
      start += b;
      ctx.step(start, points);
    }
    const out = tf.tidy(() => tf.mul(tf.squeeze(diff, [0]), tf.div(acc, steps)));
    acc.dispose();
    diff.dispose();
    return out;
  },
});
