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
    gradFunc: (dy: tf.Tensor2D) => sparseRowsGradient(dy, kernel) ?? tf.transpose(tf.matMul(kernel, tf.transpose(dy))),
  })) as any) as (x: tf.Tensor2D) => tf.Tensor2D;
  return op(x);
}

/**
 * dy·Wᵀ from the columns of W that dy's nonzero entries select, when there are few: the gradient of a class
 * score reaches the last dense layer as one-hot rows, and W·dyᵀ read all of W (1.28 M weights of
 * MobileNetV2's classifier, 0.4–0.9 ms) to multiply all but one column by 0. Each row's sum has the same
 * nonzero terms, so the values are the same. null for a dy that is large or not sparse.
 */
export function sparseRowsGradient(dy: tf.Tensor2D, kernel: tf.Tensor2D): tf.Tensor2D | null {
  const [rows, n] = dy.shape;
  if (rows * n > 1 << 16 || dy.dtype !== 'float32') return null;
  const values = dy.dataSync();
  const cols: number[] = [];
  for (let i = 0; i < values.length; i++) if (values[i] !== 0) cols.push(i % n);
  if (cols.length > 4 * rows) return null;
  if (cols.length === 0) return tf.zeros([rows, kernel.shape[0]]);
  // weights [rows, nonzeros]: row r's entry for each nonzero it has, 0 elsewhere.
  const weights = new Float32Array(rows * cols.length);
  for (let i = 0, k = 0; i < values.length; i++) if (values[i] !== 0) weights[Math.floor(i / n) * cols.length + k++] = values[i];
  return tf.tidy(() => tf.matMul(tf.tensor2d(weights, [rows, cols.length]), tf.gather(kernel, tf.tensor1d(cols, 'int32'), 1), false, true));
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
