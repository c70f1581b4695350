// Deconvnet (Zeiler & Fergus 2014) as a gradient rule: the input gradient where every ReLU passes back
// ReLU(gradient), whatever the sign of its input (guided backpropagation also requires a positive input;
// the plain gradient requires only that). → [H, W, C].
import * as tf from '@tensorflow/tfjs-core';
import { inputGradients } from './gradients';
import { defineMethod } from './types';

export const deconvnet = defineMethod('deconvnet', {
  inputGradient: 'deconv',
  run: (ctx) => {
    const g = ctx.precomputedGradient?.() ?? inputGradients(ctx.net, ctx.x, [ctx.classIndex], { deconv: true, score: ctx.options.score });
    const map = tf.squeeze(g, [0]);
    g.dispose();
    return map;
  },
});
