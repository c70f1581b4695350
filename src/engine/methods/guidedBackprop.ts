// Guided backpropagation (Springenberg et al. 2014): the input gradient where every ReLU passes back
// only positive gradient at positive input.
import * as tf from '@tensorflow/tfjs-core';
import { inputGradients } from './gradients';
import { defineMethod } from './types';

export const guidedBackprop = defineMethod('guided-backprop', {
  inputGradient: 'guided',
  run: (ctx) => {
    const g = ctx.precomputedGradient?.() ?? inputGradients(ctx.net, ctx.x, [ctx.classIndex], { guided: true, score: ctx.options.score });
    const map = tf.squeeze(g, [0]);
    g.dispose();
    return map;
  },
});
