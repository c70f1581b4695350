// The input gradient of a strided, padded window op as a forward op on the output gradient: dy dilated
// by the stride and padded (shared by the convolutions' and the pools' fast gradients).
import * as tf from '@tensorflow/tfjs-core';

/** Explicit [before, after] padding of one spatial axis, the way tfjs computes it for 'same'/'valid'. */
export function padAlong(size: number, kernel: number, stride: number, dilation: number, padding: 'same' | 'valid'): { out: number; before: number } {
  const eff = (kernel - 1) * dilation + 1;
  if (padding === 'valid') return { out: Math.ceil((size - eff + 1) / stride), before: 0 };
  const out = Math.ceil(size / stride);
  const total = Math.max((out - 1) * stride + eff - size, 0);
  return { out, before: Math.floor(total / 2) };
}

export interface TransposePlan {
  /** Zeros before and after each spatial axis of the dilated gradient. */
  pads: [[number, number], [number, number]];
  strides: [number, number];
  dilations: [number, number];
}

/** How to turn dy into the padded, dilated input of the forward kernel; null when the shapes fall outside the rule. */
export function transposePlan(inShape: number[], kernelHW: [number, number], strides: [number, number], padding: 'same' | 'valid', dilations: [number, number]): TransposePlan | null {
  const pads: [number, number][] = [];
  for (let a = 0; a < 2; a++) {
    const size = inShape[1 + a];
    const eff = (kernelHW[a] - 1) * dilations[a] + 1;
    const { out, before: padBefore } = padAlong(size, kernelHW[a], strides[a], dilations[a], padding);
    const dilatedLen = (out - 1) * strides[a] + 1;
    const before = eff - 1 - padBefore;
    const after = size + padBefore - dilatedLen;
    if (out < 1 || before < 0 || after < 0) return null;
    pads.push([before, after]);
  }
  return { pads: pads as [[number, number], [number, number]], strides, dilations };
}

/** Explicit padding of an NHWC window op: [[0, 0], [top, bottom], [left, right], [0, 0]]. */
export type ExplicitPad = [[0, 0], [number, number], [number, number], [0, 0]];

/**
 * dy with (stride − 1) zeros between entries along each spatial axis, and the zeros still to add around it
 * as the window op's explicit padding: the convolution pads inside its kernel, where a separate Pad op was
 * a copy of every output gradient (148 of them, 79 ms, in an InceptionV3 input gradient).
 */
export function spreadForTranspose(dy: tf.Tensor4D, plan: TransposePlan): { spread: tf.Tensor4D; pad: ExplicitPad } {
  const [sh, sw] = plan.strides;
  const [n, ho, wo, c] = dy.shape;
  let d: tf.Tensor4D = dy;
  let extraH = 0;
  let extraW = 0;
  if (sh > 1 || sw > 1) {
    // [n, ho, 1, wo, 1, c] padded to [n, ho, sh, wo, sw, c]: each entry followed by its zeros.
    const spread = tf.pad(tf.reshape(dy, [n, ho, 1, wo, 1, c]), [[0, 0], [0, 0], [0, sh - 1], [0, 0], [0, sw - 1], [0, 0]]);
    d = tf.reshape(spread, [n, ho * sh, wo * sw, c]);
    // The last entry's trailing zeros are part of the 'after' padding.
    extraH = sh - 1;
    extraW = sw - 1;
  }
  const [[tH, bH], [lW, rW]] = plan.pads;
  if (bH < extraH || rW < extraW) {
    d = tf.slice(d, [0, 0, 0, 0], [n, d.shape[1] - Math.max(0, extraH - bH), d.shape[2] - Math.max(0, extraW - rW), c]);
  }
  return { spread: d, pad: [[0, 0], [tH, Math.max(0, bH - extraH)], [lW, Math.max(0, rW - extraW)], [0, 0]] };
}
