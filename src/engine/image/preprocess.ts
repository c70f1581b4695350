// Turning a decoded image into a model's input tensor data (HWC float32), and back again for display.
//
// Presets (x is a pixel value 0..255, channels in RGB order unless said otherwise):
//   raw    x                              (models with their own Rescaling layer, e.g. many Keras 3 models)
//   unit   x / 255                        (0..1)
//   tf     x / 127.5 - 1                  (-1..1: MobileNet, Inception, Teachable Machine)
//   caffe  RGB -> BGR, then x - [103.939, 116.779, 123.68] (BGR ImageNet means; VGG, ResNet50 in Keras)
//   torch  (x / 255 - [0.485, 0.456, 0.406]) / [0.229, 0.224, 0.225]   (PyTorch ImageNet statistics)
// For 1-channel (grayscale) models caffe and torch use the mean of their three constants
// (mean 114.799; torch mean 0.449, std 0.226). For 4-channel models the first three channels are treated
// as above and the alpha channel like a grayscale channel.
import type { RgbaImage } from './decode';
import { bilinearTaps } from './resize';

export type PreprocessPreset = 'raw' | 'unit' | 'tf' | 'caffe' | 'torch';
export const PREPROCESS_PRESETS: readonly PreprocessPreset[] = ['raw', 'unit', 'tf', 'caffe', 'torch'];

export const PRESET_DESCRIPTIONS: Record<PreprocessPreset, string> = {
  raw: 'pixel values 0..255 as they are',
  unit: 'x/255 (0..1)',
  tf: 'x/127.5-1 (-1..1; MobileNet, Inception, Teachable Machine)',
  caffe: 'BGR order minus ImageNet means (VGG, ResNet in Keras)',
  torch: '(x/255-mean)/std with ImageNet statistics (PyTorch)',
};

/** ImageNet channel means in BGR order, as subtracted by Keras's "caffe" mode. */
export const CAFFE_BGR_MEANS = [103.939, 116.779, 123.68] as const;
export const TORCH_MEAN = [0.485, 0.456, 0.406] as const;
export const TORCH_STD = [0.229, 0.224, 0.225] as const;

export interface ModelInputSpec {
  height: number;
  width: number;
  channels: 1 | 3 | 4;
  preset: PreprocessPreset;
}

export function isPreprocessPreset(s: string): s is PreprocessPreset {
  return (PREPROCESS_PRESETS as readonly string[]).includes(s);
}

const mean3 = (a: readonly number[]) => (a[0] + a[1] + a[2]) / 3;

/**
 * Per model channel k: model[k] = (pixel[source[k]] - sub[k]) * mul[k], pixel values 0..255.
 * source maps a model channel to the pixel channel it reads (caffe reads B, G, R).
 */
interface Affine {
  source: number[];
  sub: number[];
  mul: number[];
}

function affine(preset: PreprocessPreset, channels: number): Affine {
  const source = channels === 1 ? [0] : channels === 3 ? [0, 1, 2] : [0, 1, 2, 3];
  if (preset === 'caffe' && channels >= 3) {
    source[0] = 2;
    source[2] = 0;
  }
  const sub: number[] = [];
  const mul: number[] = [];
  for (let k = 0; k < channels; k++) {
    const rgb = channels >= 3 && k < 3; // a colour channel (else gray or alpha)
    switch (preset) {
      case 'raw': sub.push(0); mul.push(1); break;
      case 'unit': sub.push(0); mul.push(1 / 255); break;
      case 'tf': sub.push(127.5); mul.push(1 / 127.5); break;
      case 'caffe': sub.push(rgb ? CAFFE_BGR_MEANS[k] : mean3(CAFFE_BGR_MEANS)); mul.push(1); break;
      case 'torch': {
        const m = rgb ? TORCH_MEAN[k] : mean3(TORCH_MEAN);
        const s = rgb ? TORCH_STD[k] : mean3(TORCH_STD);
        sub.push(255 * m);
        mul.push(1 / (255 * s));
        break;
      }
    }
  }
  return { source, sub, mul };
}

function checkSpec(h: number, w: number, channels: number, preset: string): void {
  if (!(Number.isInteger(h) && Number.isInteger(w) && h > 0 && w > 0)) throw new Error(`model input size ${h}x${w} is not a positive size`);
  if (channels !== 1 && channels !== 3 && channels !== 4) throw new Error(`model input has ${channels} channels (1, 3 or 4 supported)`);
  if (!isPreprocessPreset(preset)) throw new Error(`unknown preprocessing "${preset}" (expected ${PREPROCESS_PRESETS.join(', ')})`);
}

/**
 * HWC float32 model input of exactly spec.height x spec.width x spec.channels:
 * 1. for 1- or 3-channel models, transparent pixels are composited over WHITE (the usual look of a
 *    transparent image on a page, and what a user expects from a logo or a drawing);
 * 2. for 1 channel, RGB becomes gray with ITU-R BT.601 luma 0.299 R + 0.587 G + 0.114 B;
 * 3. bilinear resize with half-pixel centres (nothing is resampled when the size already matches);
 * 4. the preset's scaling (see the top of this file).
 * Steps 1-3 are linear, so doing them per sampled pixel equals doing them on the whole image first.
 */
export function toModelInput(img: RgbaImage, spec: ModelInputSpec): Float32Array {
  const { height: oh, width: ow, channels: c, preset } = spec;
  checkSpec(oh, ow, c, preset);
  const { width: w, height: h, data } = img;
  // Pixel values (after compositing / gray) at the source resolution, c per pixel, computed lazily per tap.
  const px = new Float32Array(4);
  const fetch = (i: number): void => {
    const r = data[i], g = data[i + 1], b = data[i + 2], a = data[i + 3];
    if (c === 4) {
      px[0] = r; px[1] = g; px[2] = b; px[3] = a;
      return;
    }
    const t = a / 255;
    const white = 255 * (1 - t);
    const R = r * t + white, G = g * t + white, B = b * t + white;
    if (c === 3) {
      px[0] = R; px[1] = G; px[2] = B;
    } else {
      px[0] = 0.299 * R + 0.587 * G + 0.114 * B;
    }
  };
  const pix = new Float32Array(oh * ow * c);
  if (h === oh && w === ow) {
    for (let p = 0, o = 0; p < w * h; p++) {
      fetch(p * 4);
      for (let k = 0; k < c; k++) pix[o++] = px[k];
    }
  } else {
    const ys = bilinearTaps(h, oh);
    const xs = bilinearTaps(w, ow);
    const v00 = new Float32Array(4), v01 = new Float32Array(4), v10 = new Float32Array(4), v11 = new Float32Array(4);
    let o = 0;
    for (let y = 0; y < oh; y++) {
      const r0 = ys.i0[y] * w, r1 = ys.i1[y] * w, fy = ys.f[y];
      for (let x = 0; x < ow; x++) {
        const c0 = xs.i0[x], c1 = xs.i1[x], fx = xs.f[x];
        fetch((r0 + c0) * 4); v00.set(px);
        fetch((r0 + c1) * 4); v01.set(px);
        fetch((r1 + c0) * 4); v10.set(px);
        fetch((r1 + c1) * 4); v11.set(px);
        for (let k = 0; k < c; k++) {
          const top = v00[k] + (v01[k] - v00[k]) * fx;
          const bottom = v10[k] + (v11[k] - v10[k]) * fx;
          pix[o++] = top + (bottom - top) * fy;
        }
      }
    }
  }
  const { source, sub, mul } = affine(preset, c);
  const out = new Float32Array(oh * ow * c);
  for (let p = 0; p < oh * ow; p++) {
    const base = p * c;
    for (let k = 0; k < c; k++) out[base + k] = (pix[base + source[k]] - sub[k]) * mul[k];
  }
  return out;
}

/**
 * The inverse of the preset (not of the resize or compositing): model-space HWC data back to an RGBA image,
 * values clamped to 0..255. 1 channel becomes gray; 3 channels opaque RGB; 4 channels RGBA.
 */
export function fromModelInput(x: Float32Array, h: number, w: number, channels: number, preset: PreprocessPreset): RgbaImage {
  checkSpec(h, w, channels, preset);
  if (x.length !== h * w * channels) throw new Error(`image data has ${x.length} values, expected ${h}x${w}x${channels} = ${h * w * channels}`);
  const { source, sub, mul } = affine(preset, channels);
  const data = new Uint8ClampedArray(h * w * 4);
  const px = new Float64Array(4);
  for (let p = 0; p < h * w; p++) {
    for (let k = 0; k < channels; k++) px[source[k]] = x[p * channels + k] / mul[k] + sub[k];
    const o = p * 4;
    if (channels === 1) {
      data[o] = data[o + 1] = data[o + 2] = px[0];
      data[o + 3] = 255;
    } else {
      data[o] = px[0];
      data[o + 1] = px[1];
      data[o + 2] = px[2];
      data[o + 3] = channels === 4 ? px[3] : 255;
    }
  }
  return { width: w, height: h, data };
}

/** Per model channel, the values that pixels 0 and 255 map to: the range of a valid image in model space. */
export function presetRange(preset: PreprocessPreset, channels: number): { min: number[]; max: number[] } {
  checkSpec(1, 1, channels, preset);
  const { sub, mul } = affine(preset, channels);
  return {
    min: sub.map((s, k) => (0 - s) * mul[k]),
    max: sub.map((s, k) => (255 - s) * mul[k]),
  };
}
