// The one optimization loop behind activation maximization, feature inversion and DeepDream.
// Each step: parameters → image in [0, 1] → random transformation → model input → forward pass →
// objective − penalties → gradient with respect to the parameters only → Adam or a normalized gradient
// step. Progress, frames and cancellation are callbacks checked between steps.
import * as tf from '@tensorflow/tfjs-core';
import { tidyRead } from '../tidyRead';
import { CancelledError } from '../errors';
import type { RgbaImage } from '../image/decode';
import type { Network } from '../model/network';
import type { Objective } from './objectives';
import type { ImageParam } from './param';
import { gaussianBlur, penalty, type Regularizers } from './regularizers';
import { pixelsToRgba, toModelSpace, type InputSpace } from './space';
import { IDENTITY, randomAffine, warp, type TransformOptions } from './transforms';

/** Callbacks of an optimizing run. */
export interface VisHooks {
  /** After every step: 1-based step, steps in the whole run, the loss just minimized. */
  onStep?(step: number, total: number, loss: number): void;
  /** The current image (batch row 0) every `frameEvery` steps and after the last step. */
  onFrame?(frame: RgbaImage, step: number): void;
  /** Default 10. */
  frameEvery?: number;
  /** Checked before every step; true stops the run with CancelledError. */
  isCancelled?(): boolean;
}

export type StepRule =
  /** Adam (Kingma & Ba 2015) on the parameters. */
  | { kind: 'adam'; lr: number }
  /**
   * p ← p − stepSize · g / mean|g| (DeepDream's normalized gradient step), g first blurred with a Gaussian
   * of σ = smooth pixels when given (keeps the added detail from being pixel-scale speckle).
   */
  | { kind: 'normalized'; stepSize: number; smooth?: number };

export interface OptimizeSpec {
  net: Network;
  space: InputSpace;
  param: ImageParam;
  /** Starting parameters; not disposed. */
  start: tf.Tensor;
  objective: Objective;
  steps: number;
  rule: StepRule;
  regularizers: Regularizers;
  /** Random transformation each step (null: none). */
  transforms: TransformOptions | null;
  /** The last fraction of the steps runs without transformations (to settle details). Default 0. */
  settle?: number;
  rng: () => number;
  /** Resize the model input to this size before the forward pass (models that need a fixed size). */
  modelSize?: [number, number] | null;
  hooks?: VisHooks;
  /** Where these steps sit within a longer run (octaves, channel ranges), for progress. */
  progress?: { offset: number; total: number };
}

export interface OptimizeResult {
  /** Final parameters (the caller disposes them). */
  p: tf.Tensor;
  /** Loss at the last step. */
  loss: number;
}

/** Model input for pixels in [0, 1] (differentiable), resized when the model needs a fixed size. */
export function pixelsToModel(space: InputSpace, modelSize: [number, number] | null | undefined, pix: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => {
    const x = toModelSpace(space, pix);
    if (modelSize && (x.shape[1] !== modelSize[0] || x.shape[2] !== modelSize[1])) return tf.image.resizeBilinear(x, modelSize, false, true);
    return x;
  });
}

/** Model input for parameters p, without transformations. */
export function modelInput(spec: Pick<OptimizeSpec, 'param' | 'space' | 'modelSize'>, p: tf.Tensor): tf.Tensor4D {
  return tf.tidy(() => pixelsToModel(spec.space, spec.modelSize, spec.param.render(p)));
}

/** The objective for parameters p, without transformations. */
export function evaluate(spec: Pick<OptimizeSpec, 'param' | 'space' | 'modelSize' | 'net' | 'objective'>, p: tf.Tensor): number {
  return tf.tidy(() => {
    const x = modelInput(spec, p);
    const run = spec.net.run(x, { taps: spec.objective.taps, logits: spec.objective.logits });
    return spec.objective.score(run, x).dataSync()[0];
  });
}

/** Current image of batch row `row` as RGBA. */
export function renderRgba(param: ImageParam, p: tf.Tensor, row = 0): RgbaImage {
  const { height: H, width: W, channels: C } = param;
  const data = tidyRead(() => tf.slice(param.render(p), [row, 0, 0, 0], [1, H, W, C]).dataSync() as Float32Array);
  return pixelsToRgba(data, H, W, C);
}

/** The image for parameters p at the size optimized: model input space (HWC) and RGBA, batch row `row`. */
export function imageOf(space: InputSpace, param: ImageParam, p: tf.Tensor, row = 0): { data: Float32Array; shape: [number, number, number]; rgba: RgbaImage } {
  const { height: H, width: W, channels: C } = param;
  const [pix, x] = tidyRead(() => {
    const img = tf.slice(param.render(p), [row, 0, 0, 0], [1, H, W, C]) as tf.Tensor4D;
    return [img.dataSync() as Float32Array, toModelSpace(space, img).dataSync() as Float32Array];
  });
  return { data: Float32Array.from(x), shape: [H, W, C], rgba: pixelsToRgba(pix, H, W, C) };
}

const BETA1 = 0.9;
const BETA2 = 0.999;
const EPS = 1e-8;

export function optimize(spec: OptimizeSpec): OptimizeResult {
  const { net, param, objective, steps, rule, regularizers, rng } = spec;
  const hooks = spec.hooks ?? {};
  const frameEvery = Math.max(1, hooks.frameEvery ?? 10);
  const offset = spec.progress?.offset ?? 0;
  const total = spec.progress?.total ?? steps;
  const settleFrom = Math.round(steps * (1 - (spec.settle ?? 0)));
  const blur = param.kind !== 'fourier' && regularizers.blurEvery > 0;

  let p = tf.clone(spec.start);
  let m: tf.Tensor | null = rule.kind === 'adam' ? tf.zerosLike(p) : null;
  let v: tf.Tensor | null = rule.kind === 'adam' ? tf.zerosLike(p) : null;
  let loss = NaN;
  try {
    for (let step = 1; step <= steps; step++) {
      if (hooks.isCancelled?.()) throw new CancelledError();
      // Always draw, so the random sequence does not depend on the settle phase.
      const drawn = spec.transforms ? randomAffine(rng, spec.transforms) : IDENTITY;
      const affine = spec.transforms && step <= settleFrom ? drawn : IDENTITY;
      const boundary = spec.transforms?.boundary ?? 'reflect';
      const lossFn = (q: tf.Tensor): tf.Scalar => {
        const pix = param.render(q);
        const x = pixelsToModel(spec.space, spec.modelSize, warp(pix, affine, boundary));
        const run = net.run(x, { taps: objective.taps, logits: objective.logits });
        const score = objective.score(run, x);
        const pen = penalty(pix, regularizers);
        return (pen ? tf.sub(pen, score) : tf.neg(score)) as tf.Scalar;
      };
      net.prepareGradients();
      // [loss, new p, new Adam moments (adam only)], all kept by the tidy.
      const next = tf.tidy((): tf.Tensor[] => {
        const { value, grad } = tf.valueAndGrad(lossFn)(p);
        let q: tf.Tensor;
        const moments: tf.Tensor[] = [];
        if (rule.kind === 'adam') {
          const nm = tf.add(tf.mul(m!, BETA1), tf.mul(grad, 1 - BETA1));
          const nv = tf.add(tf.mul(v!, BETA2), tf.mul(tf.square(grad), 1 - BETA2));
          const mHat = tf.div(nm, 1 - BETA1 ** step);
          const vHat = tf.div(nv, 1 - BETA2 ** step);
          q = tf.sub(p, tf.mul(tf.div(mHat, tf.add(tf.sqrt(vHat), EPS)), rule.lr));
          moments.push(nm, nv);
        } else {
          const g = rule.smooth ? gaussianBlur(grad as tf.Tensor4D, rule.smooth) : grad;
          const scale = tf.add(tf.mean(tf.abs(g)), 1e-8);
          q = tf.sub(p, tf.mul(tf.div(g, scale), rule.stepSize));
        }
        q = param.project(q);
        if (blur && step % regularizers.blurEvery === 0) q = gaussianBlur(q as tf.Tensor4D, regularizers.blurSigma);
        return [value, q, ...moments];
      });
      loss = next[0].dataSync()[0];
      next[0].dispose();
      p.dispose();
      p = next[1];
      if (next.length === 4) {
        m!.dispose();
        v!.dispose();
        m = next[2];
        v = next[3];
      }
      hooks.onStep?.(offset + step, total, loss);
      if (hooks.onFrame && (step % frameEvery === 0 || step === steps)) hooks.onFrame(renderRgba(param, p), offset + step);
    }
  } catch (e) {
    p.dispose();
    throw e;
  } finally {
    m?.dispose();
    v?.dispose();
  }
  return { p, loss };
}
