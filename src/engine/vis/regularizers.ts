// Priors that keep an optimized image looking like an image: penalties added to the loss (L2 decay,
// total variation) and a periodic blur of the parameters (Yosinski et al. 2015).
import * as tf from '@tensorflow/tfjs-core';

export interface Regularizers {
  /** Weight of the mean squared distance of pixels from mid-gray (L2 decay). */
  l2: number;
  /** Weight of the total variation: mean squared difference of neighbouring pixels (β = 2). */
  tv: number;
  /** Blur the parameters every this many steps (0 = never); pixel parameterizations only. */
  blurEvery: number;
  /** Standard deviation of that blur in pixels. */
  blurSigma: number;
}

export const NO_REGULARIZERS: Regularizers = { l2: 0, tv: 0, blurEvery: 0, blurSigma: 0.5 };

/** Mean over pixels of Σ_channels (x − ½)². */
export function l2Penalty(pix: tf.Tensor4D): tf.Scalar {
  return tf.tidy(() => tf.mul(tf.mean(tf.square(tf.sub(pix, 0.5))), pix.shape[3]) as tf.Scalar);
}

/** Mean over pixels of Σ_channels (∂y x)² + (∂x x)² with forward differences. */
export function tvPenalty(pix: tf.Tensor4D): tf.Scalar {
  return tf.tidy(() => {
    const [b, h, w, c] = pix.shape;
    let total: tf.Tensor = tf.scalar(0);
    if (h > 1) total = tf.add(total, tf.sum(tf.square(tf.sub(tf.slice(pix, [0, 1, 0, 0], [b, h - 1, w, c]), tf.slice(pix, [0, 0, 0, 0], [b, h - 1, w, c])))));
    if (w > 1) total = tf.add(total, tf.sum(tf.square(tf.sub(tf.slice(pix, [0, 0, 1, 0], [b, h, w - 1, c]), tf.slice(pix, [0, 0, 0, 0], [b, h, w - 1, c])))));
    return tf.div(total, b * h * w) as tf.Scalar;
  });
}

/** The summed penalty for the loss (zero weights cost nothing). */
export function penalty(pix: tf.Tensor4D, r: Regularizers): tf.Scalar | null {
  const terms: tf.Tensor[] = [];
  if (r.l2 > 0) terms.push(tf.mul(l2Penalty(pix), r.l2));
  if (r.tv > 0) terms.push(tf.mul(tvPenalty(pix), r.tv));
  if (!terms.length) return null;
  return (terms.length === 1 ? terms[0] : tf.addN(terms)) as tf.Scalar;
}

/** Separable Gaussian blur of [B, H, W, C] with mirrored edges. */
export function gaussianBlur(x: tf.Tensor4D, sigma: number): tf.Tensor4D {
  const radius = Math.max(1, Math.ceil(2 * sigma));
  const taps: number[] = [];
  for (let i = -radius; i <= radius; i++) taps.push(Math.exp(-(i * i) / (2 * sigma * sigma)));
  const s = taps.reduce((a, b) => a + b, 0);
  const k = taps.map((t) => t / s);
  return tf.tidy(() => {
    const [, h, w, c] = x.shape;
    const ry = Math.min(radius, h - 1);
    const rx = Math.min(radius, w - 1);
    const padded = tf.mirrorPad(x, [[0, 0], [ry, ry], [rx, rx], [0, 0]], 'reflect');
    const ky = k.slice(radius - ry, radius + ry + 1);
    const kx = k.slice(radius - rx, radius + rx + 1);
    const kernelY = tf.tile(tf.reshape(tf.tensor1d(ky), [ky.length, 1, 1, 1]), [1, 1, c, 1]) as tf.Tensor4D;
    const kernelX = tf.tile(tf.reshape(tf.tensor1d(kx), [1, kx.length, 1, 1]), [1, 1, c, 1]) as tf.Tensor4D;
    const byY = tf.depthwiseConv2d(padded, kernelY, 1, 'valid');
    return tf.depthwiseConv2d(byY, kernelX, 1, 'valid');
  });
}
