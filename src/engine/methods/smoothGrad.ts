// SmoothGrad (Smilkov et al. 2017): the mean over N noisy copies of the image of the saliency map
// (max over channels of |∂score/∂input|). The copies go through the network in batches.
import * as tf from '@tensorflow/tfjs-core';
import { makeRng, normalNoise } from '../random';
import { inputGradients, samplesPerBatch } from './gradients';
import type { AttributionMethod } from './types';

export const smoothGrad: AttributionMethod = {
  name: 'smoothgrad',
  title: 'SmoothGrad',
  paper: 'Smilkov et al. 2017, "SmoothGrad: removing noise by adding noise"',
  usesLayer: false,
  output: 'input-map',
  run: (ctx) => {
    const { samples, noise, seed, score } = ctx.options;
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
    let sum = tf.zeros([H, W]);
    for (let done = 0; done < samples; ) {
      const b = Math.min(batchSize, samples - done);
      const next = tf.tidy(() => {
        const eps = tf.tensor4d(normalNoise(b * H * W * C, sigma, rng), [b, H, W, C]);
        const noisy = tf.add(ctx.x, eps);
        const g = inputGradients(ctx.net, noisy, [ctx.classIndex], { score });
        return tf.add(sum, tf.sum(tf.max(tf.abs(g), -1), 0));
      });
      sum.dispose();
      sum = next;
      done += b;
      ctx.step(done, samples);
    }
    const mean = tf.div(sum, samples);
    sum.dispose();
    return mean;
  },
};
