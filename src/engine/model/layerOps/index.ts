// Forward computation of one layer with plain (unfused) tfjs ops, one file per op family:
// conv.ts, dense.ts, pool.ts, normalization.ts, activation.ts, mergeReshape.ts (common.ts: what they share).
//
// Why not layer.apply? tf.layers Conv2D/Dense run fused ops whose gradient always computes the weight
// gradients too (ENGINE-NOTES pitfall 1: 59 s instead of 1 s on MobileNetV2), BatchNormalization with
// scale:false has no working gradient in tfjs 4.22 (pitfall 4), and guided backpropagation needs its own
// ReLU gradient. Layers not listed here fall back to the layer's own call().
import type * as tf from '@tensorflow/tfjs-core';
import type { GraphNode } from '../graph';
import { applyActivationLayer } from './activation';
import { layerConfig, type L, type OpContext } from './common';
import { applyConvLayer } from './conv';
import { applyDense } from './dense';
import { applyMerge, applyReshapeLayer } from './mergeReshape';
import { applyBatchNorm } from './normalization';
import { applyPoolLayer } from './pool';

export { activationName } from './activation';
export { customGrad, recordingGradient, setFastGradients, type OpContext } from './common';
export { foldablePadding, foldPaddings, fuseEpilogues } from './conv';
export { prepareConvGradients } from './convGradients';
export { applyConvBatchNorm, foldableActivation, foldableIntoBatchNorm, foldBatchNorms, prepareFoldedGradients } from './normalization';

/** Computes the node's outputs, or returns null when the layer should run its own call(). */
function applyKnown(node: GraphNode, inputs: tf.Tensor[], ctx: OpContext): tf.Tensor | null {
  const cfg: L = layerConfig(node.layer as unknown as L);
  switch (node.className) {
    case 'InputLayer':
    case 'Dropout':
    case 'SpatialDropout1D':
    case 'SpatialDropout2D':
    case 'GaussianNoise':
    case 'GaussianDropout':
    case 'AlphaDropout':
    case 'ActivityRegularization':
      return inputs[0];
    default:
      return (
        applyConvLayer(node, inputs[0], cfg, ctx) ??
        applyDense(node, inputs[0], cfg, ctx) ??
        applyBatchNorm(node, inputs[0], cfg, ctx) ??
        applyActivationLayer(node, inputs[0], cfg, ctx) ??
        applyMerge(node, inputs, cfg) ??
        applyReshapeLayer(node, inputs[0], cfg) ??
        applyPoolLayer(node, inputs[0], cfg, ctx)
      );
  }
}

/** Runs one node. Layers we do not implement run their own call() (gradients still flow through it). */
export function applyNode(node: GraphNode, inputs: tf.Tensor[], ctx: OpContext): tf.Tensor[] {
  const y = applyKnown(node, inputs, ctx);
  if (y) return [y];
  const out = (node.layer as any).call(inputs.length === 1 ? inputs[0] : inputs, { training: false });
  return Array.isArray(out) ? out : [out];
}
