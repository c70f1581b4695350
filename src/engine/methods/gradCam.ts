// The CAM family's pipeline: activation A and gradient G at the target layer, weights from them, then
// ReLU(Σ_k w_k ⊙ A_k) (the ReLU off with `relu: false`). Grad-CAM, Grad-CAM++, XGrad-CAM, LayerCAM and
// HiResCAM differ only in the weights; the gradient-free CAMs (Score-CAM, Ablation-CAM) reuse the last step.
import * as tf from '@tensorflow/tfjs-core';
import { spatialMean } from '../simd/simdKernels';
import { layerGradient } from './gradients';
import { defineMethod, type AttributionMethod, type MethodContext, type MethodName } from './types';

/**
 * Weights from A and G, both [h, w, K]: per channel [K] (broadcast over positions) or per position and
 * channel [h, w, K].
 */
export type CamWeights = (A: tf.Tensor3D, G: tf.Tensor3D) => tf.Tensor1D | tf.Tensor3D;

/** Grad-CAM (Selvaraju et al. 2017): α_k = mean over positions of ∂score/∂A_k. */
export const gradCamWeights: CamWeights = (_A, G) => tf.reshape(spatialMean(tf.expandDims(G, 0) as tf.Tensor4D), [G.shape[2]]) as tf.Tensor1D;

/**
 * Grad-CAM++ (Chattopadhay et al. 2018), closed form: a = g² / (2g² + (Σ_positions A)·g³) where the
 * denominator is non-zero, else 0; w_k = Σ_positions a·ReLU(g).
 */
export const gradCamPlusPlusWeights: CamWeights = (A, G) => {
  const g2 = tf.square(G);
  const g3 = tf.mul(g2, G);
  const sumA = tf.sum(A, [0, 1], true);
  const denom = tf.add(tf.mul(g2, 2), tf.mul(sumA, g3));
  const safe = tf.notEqual(denom, 0);
  const alpha = tf.where(safe, tf.div(g2, tf.where(safe, denom, tf.onesLike(denom))), tf.zerosLike(denom));
  return tf.sum(tf.mul(alpha, tf.relu(G)), [0, 1]) as tf.Tensor1D;
};

/** Σ_k w_k ⊙ A_k → [h, w], ReLU'd unless the options turn it off. Call inside a tidy. */
export function combineCam(ctx: MethodContext, A: tf.Tensor3D, w: tf.Tensor): tf.Tensor2D {
  // Channel weights [K]: one product [h·w, K] × [K, 1] (a broadcast multiply and a sum over K took 4× that on
  // wasm). Weights per position and channel [h, w, K]: the product and the sum.
  const [h, wd, K] = A.shape;
  const sum = (w.rank === 1 ? tf.reshape(tf.matMul(tf.reshape(A, [h * wd, K]), tf.reshape(w, [K, 1])), [h, wd]) : tf.sum(tf.mul(A, w), -1)) as tf.Tensor2D;
  return ctx.options.relu ? tf.relu(sum) : sum;
}

/** The layer's activation A and gradient G for the class, [h, w, K] each. */
export function weightedCam(ctx: MethodContext, weights: CamWeights): tf.Tensor {
  const pass = ctx.pass();
  return tf.tidy(() => {
    const G = tf.squeeze(layerGradient(ctx.net, pass, ctx.classIndex, ctx.options.score), [0]) as tf.Tensor3D;
    const A = tf.squeeze(pass.activation, [0]) as tf.Tensor3D;
    return combineCam(ctx, A, weights(A, G));
  });
}

export function camVariant(name: MethodName, weights: CamWeights): AttributionMethod {
  return defineMethod(name, { run: (ctx) => weightedCam(ctx, weights), layerGradient: true });
}

export const gradCam = camVariant('gradcam', gradCamWeights);
export const gradCamPlusPlus = camVariant('gradcam++', gradCamPlusPlusWeights);
