// Vanilla gradient saliency (Simonyan, Vedaldi & Zisserman 2013): max over channels of |∂score/∂input|.
import * as tf from '@tensorflow/tfjs-core';
import { inputGradients } from './gradients';
import type { AttributionMethod } from './types';

export const saliency: AttributionMethod = {
  name: 'saliency',
  title: 'Vanilla gradient saliency',
  paper: 'Simonyan, Vedaldi & Zisserman 2013, "Deep Inside Convolutional Networks"',
  usesLayer: false,
  output: 'input-map',
  inputGradient: 'plain',
  run: (ctx) => {
    const g = ctx.precomputedGradient?.() ?? inputGradients(ctx.net, ctx.x, [ctx.classIndex], { score: ctx.options.score });
    const map = tf.tidy(() => tf.max(tf.abs(tf.squeeze(g, [0])), -1));
    g.dispose();
    return map;
  },
};
