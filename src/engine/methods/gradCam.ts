// Grad-CAM and Grad-CAM++: one pipeline (activation A and gradient G at the target layer, weights per
// channel, ReLU of the weighted sum); the variants differ only in how the channel weights are made.
import * as tf from '@tensorflow/tfjs-core';
import { layerGradient } from './gradients';
import type { AttributionMethod, MethodContext, MethodName } from './types';

/** Channel weights [K] from A and G, both [h, w, K]. */
type ChannelWeights = (A: tf.Tensor3D, G: tf.Tensor3D) => tf.Tensor1D;

/** Grad-CAM (Selvaraju et al. 2017): α_k = mean over positions of ∂score/∂A_k. */
export const gradCamWeights: ChannelWeights = (_A, G) => tf.mean(G, [0, 1]) as tf.Tensor1D;

/**
 * Grad-CAM++ (Chattopadhay et al. 2018), closed form: a = g² / (2g² + (Σ_positions A)·g³) where the
 * denominator is non-zero, else 0; w_k = Σ_positions a·ReLU(g).
 */
export const gradCamPlusPlusWeights: ChannelWeights = (A, G) => {
  const g2 = tf.square(G);
  const g3 = tf.mul(g2, G);
  const sumA = tf.sum(A, [0, 1], true);
  const denom = tf.add(tf.mul(g2, 2), tf.mul(sumA, g3));
  const safe = tf.notEqual(denom, 0);
  const alpha = tf.where(safe, tf.div(g2, tf.where(safe, denom, tf.onesLike(denom))), tf.zerosLike(denom));
  return tf.sum(tf.mul(alpha, tf.relu(G)), [0, 1]) as tf.Tensor1D;
};

/** ReLU(Σ_k w_k A_k) → [h, w]. */
export function weightedCam(ctx: MethodContext, weights: ChannelWeights): tf.Tensor {
  const pass = ctx.pass();
  return tf.tidy(() => {
    const G = tf.squeeze(layerGradient(ctx.net, pass, ctx.classIndex, ctx.options.score), [0]) as tf.Tensor3D;
    const A = tf.squeeze(pass.activation, [0]) as tf.Tensor3D;
    const w = weights(A, G);
    return tf.relu(tf.sum(tf.mul(A, w), -1));
  });
}

function camVariant(name: MethodName, title: string, paper: string, weights: ChannelWeights): AttributionMethod {
  return { name, title, paper, usesLayer: true, output: 'layer-map', run: (ctx) => weightedCam(ctx, weights) };
}

export const gradCam = camVariant('gradcam', 'Grad-CAM', 'Selvaraju et al. 2017, "Grad-CAM: Visual Explanations from Deep Networks via Gradient-based Localization"', gradCamWeights);
export const gradCamPlusPlus = camVariant('gradcam++', 'Grad-CAM++', 'Chattopadhay et al. 2018, "Grad-CAM++: Improved Visual Explanations for Deep Convolutional Networks"', gradCamPlusPlusWeights);
