// Vanilla gradient saliency (Simonyan, Vedaldi & Zisserman 2013): max over channels of |∂score/∂input|.
import * as tf from '@tensorflow/tfjs-core';
import { inputGradients } from './gradients';
import { defineMethod } from './types';

export const saliency = defineMethod('saliency', {
  inputGradient: 'plain',
  run: (ctx) => {
    const g = ctx.precomputedGradient?.() ?? inputGradients(ctx.net, ctx.x, [ctx.classIndex], { score: ctx.options.score });
    const map = tf.tidy(() => tf.max(tf.abs(tf.squeeze(g, [0])), -1));
    g.dispose();
    return map;
  },
});
