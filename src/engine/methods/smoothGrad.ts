// SmoothGrad (Smilkov et al. 2017) over N noisy copies x + ε_i of the image, gradients g_i = ∂score/∂x:
//   mean:   mean_i max_c |g_i|        (the paper's: the saliency map averaged)
//   square: max_c mean_i g_i²         (SmoothGrad-Squared, Adebayo et al. 2018 / Hooker et al. 2019)
//   var:    max_c var_i g_i           (VarGrad, Adebayo et al. 2018)
// square and var work on the raw gradients per value, as Captum's NoiseTunnel does, then take each pixel's
// largest channel like saliency. The copies go through the network in batches.
import * as tf from '@tensorflow/tfjs-core';
import { makeRng, normalNoise } from '../random';
import { maxAbsLastAxis } from '../simd/simdKernels';
import { inputGradients, samplesPerBatch } from './gradients';
import { defineMethod } from './types';

export const SMOOTHGRAD_SAMPLES = 25;

export const smoothGrad = defineMethod('smoothgrad', {
  run: (ctx) => {
    const { noise, seed, score, smooth } = ctx.options;
    const samples = ctx.options.samples || SMOOTHGRAD_SAMPLES;
    const batchSize = samplesPerBatch(ctx.net, ctx.x, ctx.options.batchSize);
    const [, H, W, C] = ctx.x.shape;
    const xData = ctx.x.dataSync();
    let lo = Infinity;
    let hi = -Infinity;
    for (const v of xData) {
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    const sigma = noise * (hi > lo ? hi - lo : 1);
    const rng = makeRng(seed);
    // mean: Σ max_c|g| [H, W]; square/var: Σ g and Σ g² [H, W, C].
    let sum = smooth === 'mean' ? tf.zeros([H, W]) : tf.zeros([H, W, C]);
    let sumSq = smooth === 'mean' ? null : tf.zeros([H, W, C]);
    for (let done = 0; done < samples; ) {
      const b = Math.min(batchSize, samples - done);
      const [nextSum, nextSq] = tf.tidy(() => {
        const eps = tf.tensor4d(normalNoise(b * H * W * C, sigma, rng), [b, H, W, C]);
        const g = inputGradients(ctx.net, tf.add(ctx.x, eps), [ctx.classIndex], { score });
        if (smooth === 'mean') return [tf.add(sum, tf.sum(maxAbsLastAxis(g), 0))];
        return [tf.add(sum, tf.sum(g, 0)), tf.add(sumSq!, tf.sum(tf.square(g), 0))];
      });
      sum.dispose();
      sumSq?.dispose();
      sum = nextSum;
      sumSq = nextSq ?? null;
      done += b;
      ctx.step(done, samples);
    }
    const out = tf.tidy(() => {
      if (smooth === 'mean') return tf.div(sum, samples);
      const meanSq = tf.div(sumSq!, samples);
      if (smooth === 'square') return tf.max(meanSq, -1);
      const mean = tf.div(sum, samples);
      return tf.max(tf.relu(tf.sub(meanSq, tf.square(mean))), -1); // relu: rounding can make E[g²] − E[g]² slightly negative
    });
    sum.dispose();
    sumSq?.dispose();
    return out;
  },
});
