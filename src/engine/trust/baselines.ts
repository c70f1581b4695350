// What deleted pixels become: the black image after preprocessing, a blurred copy of the image, or the
// image's mean colour. Preprocessing is a per-channel affine map (and caffe's channel swap), so blurring
// or averaging the preprocessed input equals preprocessing the blurred or averaged image.
import type { PerturbationBaseline } from '../../shared/trustRecords';

/** σ of the blur baseline as a fraction of the input's longer side. */
export const BLUR_SIGMA_FRACTION = 0.05;

/** A normalized 1-D Gaussian kernel with radius ceil(3σ). */
export function gaussianKernel(sigma: number): Float32Array {
  const r = Math.max(1, Math.ceil(3 * sigma));
  const k = new Float32Array(2 * r + 1);
  let s = 0;
  for (let i = -r; i <= r; i++) s += k[i + r] = Math.exp(-(i * i) / (2 * sigma * sigma));
  for (let i = 0; i < k.length; i++) k[i] /= s;
  return k;
}

/** Separable Gaussian blur of an HWC image, edges replicated. */
export function gaussianBlur(x: Float32Array, h: number, w: number, c: number, sigma: number): Float32Array {
  const k = gaussianKernel(sigma);
  const r = (k.length - 1) / 2;
  const tmp = new Float32Array(x.length);
  const out = new Float32Array(x.length);
  for (let y = 0; y < h; y++) {
    for (let xx = 0; xx < w; xx++) {
      for (let ch = 0; ch < c; ch++) {
        let s = 0;
        for (let i = -r; i <= r; i++) s += k[i + r] * x[(y * w + Math.min(w - 1, Math.max(0, xx + i))) * c + ch];
        tmp[(y * w + xx) * c + ch] = s;
      }
    }
  }
  for (let y = 0; y < h; y++) {
    for (let xx = 0; xx < w; xx++) {
      for (let ch = 0; ch < c; ch++) {
        let s = 0;
        for (let i = -r; i <= r; i++) s += k[i + r] * tmp[(Math.min(h - 1, Math.max(0, y + i)) * w + xx) * c + ch];
        out[(y * w + xx) * c + ch] = s;
      }
    }
  }
  return out;
}

/** Every pixel set to the image's per-channel mean. */
export function meanImage(x: Float32Array, h: number, w: number, c: number): Float32Array {
  const mean = new Float64Array(c);
  for (let p = 0; p < h * w; p++) for (let ch = 0; ch < c; ch++) mean[ch] += x[p * c + ch];
  const out = new Float32Array(x.length);
  for (let p = 0; p < h * w; p++) for (let ch = 0; ch < c; ch++) out[p * c + ch] = mean[ch] / (h * w);
  return out;
}

/**
 * The baseline image in the model's input space [H·W·C]. `black` is the black image already preprocessed
 * (the caller's blackInput), passed in so this file needs no model.
 */
export function baselineImage(kind: PerturbationBaseline, x: Float32Array, h: number, w: number, c: number, black: () => Float32Array): Float32Array {
  switch (kind) {
    case 'black':
      return black();
    case 'blur':
      return gaussianBlur(x, h, w, c, BLUR_SIGMA_FRACTION * Math.max(h, w));
    case 'mean':
      return meanImage(x, h, w, c);
  }
}
