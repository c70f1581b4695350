// XGrad-CAM (Fu et al. 2020): w_k = Σ_positions (G·A)_k / Σ_positions A_k, and 0 where Σ A_k = 0.
import * as tf from '@tensorflow/tfjs-core';
import { camVariant, type CamWeights } from './gradCam';

export const xGradCamWeights: CamWeights = (A, G) => {
  const num = tf.sum(tf.mul(G, A), [0, 1]);
  const den = tf.sum(A, [0, 1]);
  const nonzero = tf.notEqual(den, 0);
  return tf.where(nonzero, tf.div(num, tf.where(nonzero, den, tf.onesLike(den))), tf.zerosLike(den)) as tf.Tensor1D;
};

export const xGradCam = camVariant('xgradcam', xGradCamWeights);
