// Vanilla gradient saliency (Simonyan, Vedaldi & Zisserman 2013): max over channels of |∂score/∂input|.
import * as tf from '@tensorflow/tfjs-core';
import { maxAbsLastAxis } from '../simd/simdKernels';
import { inputGradients } from './gradients';
import { defineMethod } from './types';

export const saliency = defineMethod('saliency', {
  inputGradient: 'plain',
  run: (ctx) => {
    const g = ctx.precomputedGradient?.() ?? inputGradients(ctx.net, ctx.x, [ctx.classIndex], { score: ctx.options.score });
    const map = tf.tidy(() => maxAbsLastAxis(tf.squeeze(g, [0])));
    g.dispose();
    return map;
  },
});
