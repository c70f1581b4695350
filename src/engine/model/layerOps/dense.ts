// Dense layers: a product whose input gradient uses untransposed operands.
import * as tf from '@tensorflow/tfjs-core';
import type { GraphNode } from '../graph';
import { applyActivation } from './activation';
import { customGrad, fastGradients, read, type L, type OpContext } from './common';
import { addBias } from './conv';

// Dense layers. tfjs's matMul gradient is dy·Wᵀ, a product with a transposed operand, which the wasm
// backend runs as a scalar loop (its XNNPACK path takes untransposed operands only): 0.5 s for VGG16's fc1.
// The same numbers come from (W·dyᵀ)ᵀ with untransposed operands (dy is small to transpose).

export function matMulFastGrad(x: tf.Tensor2D, kernel: tf.Tensor2D): tf.Tensor2D {
  if (!fastGradients('conv')) return tf.matMul(x, kernel);
  const op = customGrad(((xi: tf.Tensor2D) => ({
    value: tf.matMul(xi, kernel),
    gradFunc: (dy: tf.Tensor2D) => tf.transpose(tf.matMul(kernel, tf.transpose(dy))),
  })) as any) as (x: tf.Tensor2D) => tf.Tensor2D;
  return op(x);
}
/** Dense layers (on the last axis of any rank); null for other layers. */
export function applyDense(node: GraphNode, x: tf.Tensor, _cfg: L, ctx: OpContext): tf.Tensor | null {
  if (node.className !== 'Dense') return null;
  const layer = node.layer as unknown as L;
  const kernel = read(layer.kernel) as tf.Tensor2D;
  let y: tf.Tensor;
  if (x.rank === 2) y = matMulFastGrad(x as tf.Tensor2D, kernel);
  else {
    const lead = x.shape.slice(0, -1);
    y = tf.reshape(matMulFastGrad(tf.reshape(x, [-1, x.shape[x.rank - 1]]) as tf.Tensor2D, kernel), [...lead, kernel.shape[1]]);
  }
  return applyActivation(layer, addBias(y, layer), ctx);
}
