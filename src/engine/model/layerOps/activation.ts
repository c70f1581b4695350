// ReLU-family activations: guided backpropagation's ReLU, and ReLU/ReLU6 with gradients from the saved output.
import * as tf from '@tensorflow/tfjs-core';
import type { GraphNode } from '../graph';
import { hasSimdKernels, maskGradient } from '../../simd/simdKernels';
import { customGrad, fastGradients, type L, type OpContext } from './common';

/** ReLU whose gradient, in guided mode, is dy·[x>0]·[dy>0] (Springenberg et al. 2014) = ReLU(dy)·[y>0]. */
export const guidedRelu = customGrad(((x: tf.Tensor, save: tf.GradSaveFunc) => {
  const y = tf.relu(x);
  save([y]);
  return {
    value: y,
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => reluFamilyGradient(dy, saved[0], 'relu', true),
  };
  // customGrad's typing wants (...inputs, save) in one union; the call shape is (x, save).
}) as any) as (x: tf.Tensor) => tf.Tensor;

/** [0 < y < 6] for y = ReLU6(x), from float ops (wasm's comparisons and logical ops are slow loops). */
export function inside06(y: tf.Tensor): tf.Tensor {
  return tf.step(tf.mul(y, tf.sub(6, y)));
}

/**
 * dy through ReLU or ReLU6 from the output y: dy·[y > 0] or dy·[0 < y < 6]; guided, ReLU(dy) there. On wasm
 * one SIMD pass (simd/kernels.wat) instead of two to four ops (6 ms and 105 kernels of a MobileNetV2
 * saliency map); elsewhere float ops. Where y is NaN the SIMD pass gives 0 and the ops NaN.
 */
export function reluFamilyGradient(dy: tf.Tensor, y: tf.Tensor, kind: 'relu' | 'relu6', guided: boolean): tf.Tensor {
  if (hasSimdKernels() && dy.dtype === 'float32' && y.dtype === 'float32' && tf.util.arraysEqual(dy.shape, y.shape)) {
    return maskGradient(dy, y, 0, kind === 'relu' ? NaN : 6, guided);
  }
  const mask = kind === 'relu' ? tf.step(y) : inside06(y);
  return tf.mul(guided ? tf.relu(dy) : dy, mask);
}

/** ReLU (and ReLU6) with the deconvnet rule: the gradient passed back is ReLU(dy), whatever the input's sign. */
export const deconvRelu = customGrad(((x: tf.Tensor) => ({ value: tf.relu(x), gradFunc: (dy: tf.Tensor) => tf.relu(dy) })) as any) as (x: tf.Tensor) => tf.Tensor;
export const deconvRelu6 = customGrad(((x: tf.Tensor) => ({ value: tf.clipByValue(x, 0, 6), gradFunc: (dy: tf.Tensor) => tf.relu(dy) })) as any) as (x: tf.Tensor) => tf.Tensor;

/** ReLU6 with the guided rule: passes back where 0 < x < 6 and dy > 0. */
export const guidedRelu6 = customGrad(((x: tf.Tensor, save: tf.GradSaveFunc) => {
  const y = tf.clipByValue(x, 0, 6);
  save([y]);
  return {
    value: y,
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => reluFamilyGradient(dy, saved[0], 'relu6', true),
  };
}) as any) as (x: tf.Tensor) => tf.Tensor;

/**
 * ReLU and ReLU6 for recorded gradients: dy·[y > 0] and dy·[0 < y < 6] from the output, 2–4 float ops
 * where tfjs's clipByValue gradient takes five (two comparisons, a logical and, a zeros tensor and a
 * select: 60% of a MobileNetV2 input gradient on wasm). At exactly 0 or 6 the gradient is 0 (tfjs's
 * ReLU6 passes it there; a measure-zero choice of subgradient).
 */
export const fastRelu = customGrad(((x: tf.Tensor, save: tf.GradSaveFunc) => {
  const y = tf.relu(x);
  save([y]);
  return { value: y, gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => reluFamilyGradient(dy, saved[0], 'relu', false) };
}) as any) as (x: tf.Tensor) => tf.Tensor;

export const fastRelu6 = customGrad(((x: tf.Tensor, save: tf.GradSaveFunc) => {
  const y = tf.clipByValue(x, 0, 6);
  save([y]);
  return { value: y, gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => reluFamilyGradient(dy, saved[0], 'relu6', false) };
}) as any) as (x: tf.Tensor) => tf.Tensor;

function relu(x: tf.Tensor, ctx: OpContext): tf.Tensor {
  if (ctx.deconv) return deconvRelu(x);
  if (ctx.guided) return guidedRelu(x);
  return fastGradients('activation') ? fastRelu(x) : tf.relu(x);
}

export function relu6(x: tf.Tensor, ctx: OpContext): tf.Tensor {
  if (ctx.deconv) return deconvRelu6(x);
  if (ctx.guided) return guidedRelu6(x);
  return fastGradients('activation') ? fastRelu6(x) : tf.clipByValue(x, 0, 6);
}

/** Name of a layer's activation ('relu', 'softmax', 'linear', …). */
export function activationName(layer: L): string | null {
  const a = layer.activation;
  if (!a || typeof a.getClassName !== 'function') return null;
  return String(a.getClassName()).toLowerCase();
}

export function applyActivation(layer: L, x: tf.Tensor, ctx: OpContext): tf.Tensor {
  if (ctx.skipActivation) return x;
  const name = activationName(layer);
  switch (name) {
    case null:
    case 'linear':
      return x;
    case 'relu':
      return relu(x, ctx);
    case 'relu6':
      return relu6(x, ctx);
    default:
      return layer.activation.apply(x) as tf.Tensor;
  }
}
/** Activation, ReLU, LeakyReLU, ELU and Softmax layers; null for other layers. */
export function applyActivationLayer(node: GraphNode, x: tf.Tensor, cfg: L, ctx: OpContext): tf.Tensor | null {
  const layer = node.layer as unknown as L;
  switch (node.className) {
    case 'Activation':
      return applyActivation(layer, x, ctx);
    case 'ReLU': {
      if (ctx.skipActivation) return x;
      const maxValue = cfg.maxValue;
      if (maxValue === 6) return relu6(x, ctx);
      if (maxValue === undefined || maxValue === null) return relu(x, ctx);
      return tf.clipByValue(relu(x, ctx), 0, maxValue);
    }
    case 'LeakyReLU':
      return tf.leakyRelu(x, cfg.alpha ?? 0.3);
    case 'ELU':
      return tf.elu(x);
    case 'Softmax':
      return ctx.skipActivation ? x : tf.softmax(x, cfg.axis ?? -1);
    default:
      return null;
  }
}
