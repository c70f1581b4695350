// Image parameterizations: how the optimized numbers become an image with values in [0, 1]
// (pixel channels in RGB order; one channel = gray; a fourth channel = alpha).
//
// - 'fourier' (Olah, Mordvintsev & Schubert 2017, "Feature Visualization", Distill): the image is the
//   inverse real 2-D Fourier transform of a spectrum whose coefficients are scaled by 1/frequency, so
//   gradient steps change low frequencies about as readily as high ones; the three colour channels come
//   from decorrelated ones through the square root of natural-image colour covariance; a sigmoid keeps
//   values in range. Steepest descent in this basis whitens the gradient and gives far less
//   high-frequency noise than steps on pixels.
// - 'pixel': one number per pixel and channel through a sigmoid (classic activation maximization).
// - 'raw': the pixels themselves in [0, 1], clamped after every step (DeepDream edits the photo itself).
import * as tf from '@tensorflow/tfjs-core';
import { normalNoise } from '../random';

export type ParamKind = 'fourier' | 'pixel' | 'raw';
export const PARAM_KINDS: readonly ParamKind[] = ['fourier', 'pixel', 'raw'];

export interface ImageParam {
  readonly kind: ParamKind;
  readonly batch: number;
  readonly height: number;
  readonly width: number;
  readonly channels: number;
  /** The optimized tensor; owned by the caller of makeParam (dispose it, and dispose()). */
  init: tf.Tensor;
  /** Image [rows of p, H, W, C] with values in [0, 1], differentiable with respect to p. */
  render(p: tf.Tensor): tf.Tensor4D;
  /** Brings p back into its valid set after a step (clamping for 'raw'); identity otherwise. */
  project(p: tf.Tensor): tf.Tensor;
  /** Frees the constants (transform matrices). */
  dispose(): void;
}

export interface ParamOptions {
  batch: number;
  height: number;
  width: number;
  channels: number;
  rng: () => number;
  /** Standard deviation of the initial noise (per coefficient or per pixel logit). */
  noiseStd?: number;
  /** Start from this image instead of noise: [B·H·W·C] values in [0, 1] ('pixel' and 'raw' only). */
  image?: Float32Array;
  /** Every batch row starts from the same noise (the first row's draw), as separate runs with one seed would. */
  sameNoise?: boolean;
}

/** Initial noise for B rows of n values each: B draws, or one draw repeated. */
function noise(o: ParamOptions, n: number, std: number): Float32Array {
  if (!o.sameNoise) return normalNoise(o.batch * n, std, o.rng);
  const row = normalNoise(n, std, o.rng);
  const out = new Float32Array(o.batch * n);
  for (let b = 0; b < o.batch; b++) out.set(row, b * n);
  return out;
}

/**
 * Square root of the colour covariance of natural (ImageNet) images, as published with Lucid and used in
 * Olah et al. 2017; rows are R, G, B, columns the decorrelated channels. Normalized below so that its
 * largest column has unit norm.
 */
const COLOR_SQRT_COV = [
  [0.26, 0.09, 0.02],
  [0.27, 0.0, -0.05],
  [0.27, -0.09, 0.03],
];

function colorMatrix(channels: number): number[][] {
  if (channels < 3) return Array.from({ length: channels }, (_, i) => Array.from({ length: channels }, (_, j) => (i === j ? 1 : 0)));
  let maxNorm = 0;
  for (let j = 0; j < 3; j++) maxNorm = Math.max(maxNorm, Math.hypot(COLOR_SQRT_COV[0][j], COLOR_SQRT_COV[1][j], COLOR_SQRT_COV[2][j]));
  const m: number[][] = [];
  for (let i = 0; i < channels; i++) {
    const row: number[] = [];
    for (let j = 0; j < channels; j++) row.push(i < 3 && j < 3 ? COLOR_SQRT_COV[i][j] / maxNorm : i === j ? 1 : 0);
    m.push(row);
  }
  return m;
}

/**
 * y = A·X and y = X·B for constant matrices, with gradients that multiply by the pre-transposed constant:
 * the wasm backend's matMul with a transposed operand is ~5× slower than a plain one, and the default
 * gradient uses exactly that.
 */
function leftMul(a: tf.Tensor2D, aT: tf.Tensor2D): (x: tf.Tensor2D) => tf.Tensor2D {
  return tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => ({ value: tf.matMul(a, args[0] as tf.Tensor2D) as tf.Tensor, gradFunc: (dy: tf.Tensor) => tf.matMul(aT, dy as tf.Tensor2D) })) as (x: tf.Tensor2D) => tf.Tensor2D;
}

function rightMul(b: tf.Tensor2D, bT: tf.Tensor2D): (x: tf.Tensor2D) => tf.Tensor2D {
  return tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => ({ value: tf.matMul(args[0] as tf.Tensor2D, b) as tf.Tensor, gradFunc: (dy: tf.Tensor) => tf.matMul(dy as tf.Tensor2D, bT) })) as (x: tf.Tensor2D) => tf.Tensor2D;
}

/** Sample frequencies of a length-n DFT in cycles per pixel (numpy's fftfreq order). */
function fftFreq(n: number): number[] {
  const f: number[] = [];
  for (let i = 0; i < n; i++) f.push((i <= Math.floor((n - 1) / 2) ? i : i - n) / n);
  return f;
}

function fourierParam(o: ParamOptions): ImageParam {
  const { batch: B, height: H, width: W, channels: C } = o;
  const Wf = Math.floor(W / 2) + 1;
  // Spectrum layout: [B, 2 (re, im), H, C·Wf] so that the transform along H is one matMul per part.
  const fy = fftFreq(H);
  const scale = new Float32Array(H * C * Wf);
  // 1/f scaling (decay power 1) with the lowest frequency 1/max(H, W); √(HW) makes the transform unitary-like
  // so learning rates carry over from pixel optimisation; /4 keeps the start near mid-gray after the sigmoid.
  const norm = Math.sqrt(H * W);
  for (let u = 0; u < H; u++) {
    for (let c = 0; c < C; c++) {
      for (let v = 0; v < Wf; v++) {
        const f = Math.hypot(fy[u], v / W);
        scale[u * C * Wf + c * Wf + v] = (1 / Math.max(f, 1 / Math.max(H, W))) * norm;
      }
    }
  }
  // Inverse DFT along H (complex): P = E·S with E[h,u] = exp(2πi·uh/H).
  const cosH = new Float32Array(H * H);
  const sinH = new Float32Array(H * H);
  for (let h = 0; h < H; h++) {
    for (let u = 0; u < H; u++) {
      const t = (2 * Math.PI * ((u * h) % H)) / H;
      cosH[h * H + u] = Math.cos(t);
      sinH[h * H + u] = Math.sin(t);
    }
  }
  // Inverse real DFT along W: x[w] = Σ_v g_v (Re P_v cos − Im P_v sin)(2π·vw/W), g_v = 1 for the DC and
  // Nyquist terms, 2 otherwise (the implicit conjugate half of the spectrum); 1/(HW) normalizes.
  const cosW = new Float32Array(Wf * W);
  const sinW = new Float32Array(Wf * W);
  for (let v = 0; v < Wf; v++) {
    const g = v === 0 || (W % 2 === 0 && v === W / 2) ? 1 : 2;
    for (let w = 0; w < W; w++) {
      const t = (2 * Math.PI * ((v * w) % W)) / W;
      cosW[v * W + w] = (g * Math.cos(t)) / (H * W) / 4;
      sinW[v * W + w] = (g * Math.sin(t)) / (H * W) / 4;
    }
  }
  const colour = colorMatrix(C);
  const consts = tf.tidy(() => {
    const c = {
      scale: tf.tensor2d(scale, [H, C * Wf]),
      cosH: tf.tensor2d(cosH, [H, H]),
      sinH: tf.tensor2d(sinH, [H, H]),
      cosW: tf.tensor2d(cosW, [Wf, W]),
      sinW: tf.tensor2d(sinW, [Wf, W]),
      // x_rgb = M·x_decorrelated per pixel: as a right-multiplication of [pixels, C] rows by Mᵀ.
      colourT: tf.transpose(tf.tensor2d(colour.flat(), [C, C])) as tf.Tensor2D,
    };
    return { ...c, cosHT: tf.transpose(c.cosH) as tf.Tensor2D, sinHT: tf.transpose(c.sinH) as tf.Tensor2D, cosWT: tf.transpose(c.cosW) as tf.Tensor2D, sinWT: tf.transpose(c.sinW) as tf.Tensor2D, colour: tf.tensor2d(colour.flat(), [C, C]) };
  });
  const byCosH = leftMul(consts.cosH, consts.cosHT);
  const bySinH = leftMul(consts.sinH, consts.sinHT);
  const byCosW = rightMul(consts.cosW, consts.cosWT);
  const bySinW = rightMul(consts.sinW, consts.sinWT);
  const byColour = rightMul(consts.colourT, consts.colour);
  const init = tf.tensor4d(noise(o, 2 * H * C * Wf, o.noiseStd ?? 0.01), [B, 2, H, C * Wf]);
  return {
    kind: 'fourier',
    batch: B,
    height: H,
    width: W,
    channels: C,
    init,
    render: (p) =>
      tf.tidy(() => {
        const images: tf.Tensor[] = [];
        // Any number of rows (the batch of p, e.g. one row sliced out to evaluate it alone).
        for (let b = 0; b < p.shape[0]; b++) {
          const re = tf.mul(tf.reshape(tf.slice(p, [b, 0, 0, 0], [1, 1, H, C * Wf]), [H, C * Wf]), consts.scale) as tf.Tensor2D;
          const im = tf.mul(tf.reshape(tf.slice(p, [b, 1, 0, 0], [1, 1, H, C * Wf]), [H, C * Wf]), consts.scale) as tf.Tensor2D;
          const pr = tf.sub(byCosH(re), bySinH(im));
          const pi = tf.add(bySinH(re), byCosH(im));
          // [H, C·Wf] → [H·C, Wf] rows, then along W.
          const x = tf.sub(byCosW(tf.reshape(pr, [H * C, Wf]) as tf.Tensor2D), bySinW(tf.reshape(pi, [H * C, Wf]) as tf.Tensor2D));
          // [H, C, W] → [H·W, C]
          const hwc = tf.reshape(tf.transpose(tf.reshape(x, [H, C, W]), [0, 2, 1]), [H * W, C]) as tf.Tensor2D;
          images.push(tf.reshape(byColour(hwc), [1, H, W, C]));
        }
        const all = images.length === 1 ? images[0] : tf.concat(images, 0);
        return tf.sigmoid(all) as tf.Tensor4D;
      }),
    project: (p) => p,
    dispose: () => Object.values(consts).forEach((t) => t.dispose()),
  };
}

function logit(v: number): number {
  const c = Math.min(0.999, Math.max(0.001, v));
  return Math.log(c / (1 - c));
}

function pixelParam(o: ParamOptions): ImageParam {
  const { batch: B, height: H, width: W, channels: C } = o;
  const n = B * H * W * C;
  let data: Float32Array;
  if (o.image) {
    if (o.image.length !== n) throw new Error(`internal: start image has ${o.image.length} values, expected ${n}`);
    data = o.image.map(logit);
  } else {
    data = noise(o, H * W * C, o.noiseStd ?? 0.1);
  }
  return {
    kind: 'pixel',
    batch: B,
    height: H,
    width: W,
    channels: C,
    init: tf.tensor4d(data, [B, H, W, C]),
    render: (p) => tf.sigmoid(p) as tf.Tensor4D,
    project: (p) => p,
    dispose: () => undefined,
  };
}

function rawParam(o: ParamOptions): ImageParam {
  const { batch: B, height: H, width: W, channels: C } = o;
  const n = B * H * W * C;
  let data: Float32Array;
  if (o.image) {
    if (o.image.length !== n) throw new Error(`internal: start image has ${o.image.length} values, expected ${n}`);
    data = Float32Array.from(o.image);
  } else {
    data = noise(o, H * W * C, o.noiseStd ?? 0.1).map((v) => Math.min(1, Math.max(0, 0.5 + v)));
  }
  return {
    kind: 'raw',
    batch: B,
    height: H,
    width: W,
    channels: C,
    init: tf.tensor4d(data, [B, H, W, C]),
    render: (p) => p as tf.Tensor4D,
    project: (p) => tf.clipByValue(p, 0, 1),
    dispose: () => undefined,
  };
}

export function makeParam(kind: ParamKind, o: ParamOptions): ImageParam {
  switch (kind) {
    case 'fourier':
      if (o.image) throw new Error('internal: the Fourier parameterization starts from noise');
      return fourierParam(o);
    case 'pixel':
      return pixelParam(o);
    case 'raw':
      return rawParam(o);
  }
}
