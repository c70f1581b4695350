// The two spaces an optimized image lives in: display pixels in [0, 1] (RGB order, what the
// parameterizations produce and the regularizers see) and the model's input space (after its
// preprocessing preset, what the network sees and what --raw writes).
import * as tf from '@tensorflow/tfjs-core';
import type { RgbaImage } from '../image/decode';
import { presetRange, toModelInput, type PreprocessPreset } from '../image/preprocess';

export interface InputSpace {
  preset: PreprocessPreset;
  channels: number;
  /** For model channel k: the pixel channel it reads (caffe reads B, G, R). */
  source: number[];
  /** Model-space value of pixel 0 and pixel 1 (i.e. 255) per model channel. */
  min: number[];
  max: number[];
}

export function inputSpace(preset: PreprocessPreset, channels: number): InputSpace {
  const { min, max } = presetRange(preset, channels);
  const source = Array.from({ length: channels }, (_, k) => k);
  if (channels >= 3) {
    // Which model channel reads red? Found from the preset itself rather than assumed.
    const red: RgbaImage = { width: 1, height: 1, data: new Uint8ClampedArray([255, 0, 0, 255]) };
    const v = toModelInput(red, { height: 1, width: 1, channels: channels as 3 | 4, preset });
    const atMax = (k: number) => Math.abs(v[k] - max[k]) < 1e-6 * Math.max(1, Math.abs(max[k]));
    if (!atMax(0) && atMax(2)) {
      source[0] = 2;
      source[2] = 0;
    }
  }
  return { preset, channels, source, min, max };
}

function isIdentityOrder(s: InputSpace): boolean {
  return s.source.every((j, k) => j === k);
}

/** [B, H, W, C] pixels in [0, 1] → model input (differentiable). */
export function toModelSpace(space: InputSpace, pix: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => {
    let ordered: tf.Tensor4D = pix;
    if (!isIdentityOrder(space)) {
      const parts = tf.split(pix, space.channels, 3);
      ordered = tf.concat(space.source.map((j) => parts[j]), 3) as tf.Tensor4D;
    }
    const range = tf.tensor1d(space.max.map((m, k) => m - space.min[k]));
    return tf.add(tf.mul(ordered, range), tf.tensor1d(space.min)) as tf.Tensor4D;
  });
}

/** Model-space HWC data → pixels in [0, 1] (RGB order), not clamped. */
export function fromModelSpace(space: InputSpace, x: Float32Array): Float32Array {
  const C = space.channels;
  const out = new Float32Array(x.length);
  for (let p = 0; p < x.length; p += C) {
    for (let k = 0; k < C; k++) out[p + space.source[k]] = (x[p + k] - space.min[k]) / (space.max[k] - space.min[k]);
  }
  return out;
}

/** An RGBA image as pixels in [0, 1] with `channels` channels (composited over white, gray, resized like toModelInput). */
export function imageToPixels(img: RgbaImage, height: number, width: number, channels: number): Float32Array {
  return toModelInput(img, { height, width, channels: channels as 1 | 3 | 4, preset: 'unit' });
}

/** Pixels in [0, 1] (HWC, 1, 3 or 4 channels) → RGBA for display, clamped. */
export function pixelsToRgba(pix: Float32Array, height: number, width: number, channels: number): RgbaImage {
  const data = new Uint8ClampedArray(height * width * 4);
  for (let p = 0; p < height * width; p++) {
    const s = p * channels;
    const o = p * 4;
    if (channels === 1) {
      data[o] = data[o + 1] = data[o + 2] = Math.round(pix[s] * 255);
      data[o + 3] = 255;
    } else {
      data[o] = Math.round(pix[s] * 255);
      data[o + 1] = Math.round(pix[s + 1] * 255);
      data[o + 2] = Math.round(pix[s + 2] * 255);
      data[o + 3] = channels === 4 ? Math.round(pix[s + 3] * 255) : 255;
    }
  }
  return { width, height, data };
}
