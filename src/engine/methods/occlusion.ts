// Occlusion (Zeiler & Fergus 2014): a square patch of the black image (after preprocessing) slides over the
// input; each pixel gets the mean, over the patches covering it, of score(x) − score(x with the patch).
// Pixels no patch covers (when the stride does not reach the border) get 0. Patch default ⌈min(H, W)/8⌉,
// stride default ⌈patch/2⌉.
import * as tf from '@tensorflow/tfjs-core';
import { LensError } from '../errors';
import { baseScore, classScores, forwardBatchSize, inBatches } from './perturbation';
import { defineMethod } from './types';

/** Top-left corners along one side of length `size`: 0, S, 2S, … while the patch fits. */
export function patchStarts(size: number, patch: number, stride: number): number[] {
  const out: number[] = [];
  for (let s = 0; s + patch <= size; s += stride) out.push(s);
  return out;
}

export function occlusionGeometry(H: number, W: number, patch: number, stride: number): { patch: number; stride: number } {
  const P = patch > 0 ? Math.floor(patch) : Math.ceil(Math.min(H, W) / 8);
  const S = stride > 0 ? Math.floor(stride) : Math.ceil(P / 2);
  if (P > Math.min(H, W)) throw new LensError(`occlusion: the patch (${P} px) is larger than the model's input (${H}×${W}); give --patch up to ${Math.min(H, W)}`);
  return { patch: P, stride: S };
}

export const occlusion = defineMethod('occlusion', {
  run: (ctx) => {
    const [, H, W] = ctx.x.shape as number[];
    const { patch, stride } = occlusionGeometry(H, W, ctx.options.patch, ctx.options.stride);
    const ys = patchStarts(H, patch, stride);
    const xs = patchStarts(W, patch, stride);
    const positions = ys.flatMap((y) => xs.map((x) => [y, x] as const));
    const mode = ctx.options.score;
    const y0 = baseScore(ctx, mode);
    const base = ctx.baseline();
    const sum = new Float64Array(H * W);
    const count = new Uint32Array(H * W);
    inBatches(ctx, positions.length, forwardBatchSize(ctx), (start, n) => {
      const mask = new Float32Array(n * H * W); // 1 inside the patch
      for (let i = 0; i < n; i++) {
        const [py, px] = positions[start + i];
        for (let y = py; y < py + patch; y++) mask.fill(1, i * H * W + y * W + px, i * H * W + y * W + px + patch);
      }
      const m = tf.tensor4d(mask, [n, H, W, 1]);
      const batch = tf.add(tf.mul(ctx.x, tf.sub(1, m)), tf.mul(base, m));
      const scores = classScores(ctx, ctx.net.run(batch).logits!, mode);
      for (let i = 0; i < n; i++) {
        const [py, px] = positions[start + i];
        const drop = y0 - scores[i];
        for (let y = py; y < py + patch; y++) {
          for (let x = px; x < px + patch; x++) {
            sum[y * W + x] += drop;
            count[y * W + x]++;
          }
        }
      }
    });
    const map = new Float32Array(H * W);
    for (let p = 0; p < map.length; p++) map[p] = count[p] ? sum[p] / count[p] : 0;
    return tf.tensor2d(map, [H, W]);
  },
});
