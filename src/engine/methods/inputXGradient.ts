// Input × gradient (Shrikumar et al. 2016): x ⊙ ∂score/∂x, per value → [H, W, C]. A first-order Taylor
// estimate of each input value's contribution relative to an input of zeros (in the model's input space).
import * as tf from '@tensorflow/tfjs-core';
import { inputGradients } from './gradients';
import { defineMethod } from './types';

export const inputXGradient = defineMethod('input-x-gradient', {
  inputGradient: 'plain',
  run: (ctx) => {
    const g = ctx.precomputedGradient?.() ?? inputGradients(ctx.net, ctx.x, [ctx.classIndex], { score: ctx.options.score });
    const map = tf.tidy(() => tf.squeeze(tf.mul(ctx.x, g), [0]));
    g.dispose();
    return map;
  },
});
