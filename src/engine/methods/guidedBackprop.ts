// Guided backpropagation (Springenberg et al. 2014): the input gradient where every ReLU passes back
// only positive gradient at positive input.
import * as tf from '@tensorflow/tfjs-core';
import { inputGradients } from './gradients';
import type { AttributionMethod } from './types';

export const guidedBackprop: AttributionMethod = {
  name: 'guided-backprop',
  title: 'Guided backpropagation',
  paper: 'Springenberg et al. 2014, "Striving for Simplicity: The All Convolutional Net"',
  usesLayer: false,
  output: 'input-channels',
  inputGradient: 'guided',
  run: (ctx) => {
    const g = ctx.precomputedGradient?.() ?? inputGradients(ctx.net, ctx.x, [ctx.classIndex], { guided: true, score: ctx.options.score });
    const map = tf.squeeze(g, [0]);
    g.dispose();
    return map;
  },
};
