// Guided Grad-CAM (Selvaraju et al. 2017): guided backpropagation × Grad-CAM upsampled to the input size.
import * as tf from '@tensorflow/tfjs-core';
import { gradCam } from './gradCam';
import { guidedBackprop } from './guidedBackprop';
import { defineMethod } from './types';

export const guidedGradCam = defineMethod('guided-gradcam', {
  run: (ctx) => {
    const cam = gradCam.run(ctx);
    const guided = guidedBackprop.run(ctx);
    return tf.tidy(() => {
      const [H, W] = guided.shape;
      const up = tf.image.resizeBilinear(tf.expandDims(cam, -1) as tf.Tensor3D, [H, W], false, true); // [H, W, 1]
      const out = tf.mul(guided, up);
      cam.dispose();
      guided.dispose();
      return out;
    });
  },
  layerGradient: true,
});
