// The audit tests' model, built in code: 1×1 identity convolution → global average pooling → Dense(SCALE·I) →
// softmax, so a solid colour's class is its strongest channel (softmax(SCALE·rgb/255), computable by hand).
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

/** The model's input side. */
export const S = 8;
export const LABELS = ['red', 'green', 'blue'];
export const SCALE = 4;

export function colourModel(): tfl.LayersModel {
  const m = tfl.sequential({
    layers: [
      tfl.layers.conv2d({ inputShape: [S, S, 3], filters: 3, kernelSize: 1, useBias: false, name: 'last_conv' }),
      tfl.layers.globalAveragePooling2d({ name: 'gap' }),
      tfl.layers.dense({ units: 3, activation: 'softmax', name: 'out' }),
    ],
  });
  tf.tidy(() => {
    m.getLayer('last_conv').setWeights([tf.reshape(tf.eye(3), [1, 1, 3, 3])]);
    m.getLayer('out').setWeights([tf.mul(tf.eye(3), SCALE), tf.zeros([3])]);
  });
  return m;
}
