// Occlusion (Zeiler & Fergus 2014): a square patch of the black image (after preprocessing) slides over the
// input; each pixel gets the mean, over the patches covering it, of score(x) − score(x with the patch).
// Pixels no patch covers (when the stride does not reach the border) get 0. Patch default ⌈min(H, W)/8⌉,
// stride default ⌈patch/2⌉. Each copy is computed only where its patch reaches (model/regionRun.ts).
import * as tf from '@tensorflow/tfjs-core';
import { LensError } from '../errors';
import { baseScore, classScores, forwardBatchSize, inBatches } from './perturbation';
import { RegionRunner } from '../model/regionRun';
import { defineMethod, type MethodContext } from './types';

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
    const regions = occlusionRegions(ctx, patch, positions);
    try {
      // A copy through the runner holds its patch's rectangles until the layers that see the whole map: a
      // fraction of a plain pass's memory, so 4× the batch (at most 32; MobileNetV2 24: 6% faster than 6).
      const batch = regions && !(ctx.options.batchSize > 0) ? Math.min(32, 4 * forwardBatchSize(ctx)) : forwardBatchSize(ctx);
      inBatches(ctx, positions.length, batch, (start, n) => {
        const at = positions.slice(start, start + n);
        const logits = regions
          ? regions.logits(base as tf.Tensor4D, at.map(([y]) => y), at.map(([, x]) => x), patch, patch)
          : ctx.net.run(occludedBatch(ctx.x, base, at, patch)).logits!;
        const scores = classScores(ctx, logits, mode);
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
    } finally {
      regions?.dispose();
    }
    const map = new Float32Array(H * W);
    for (let p = 0; p < map.length; p++) map[p] = count[p] ? sum[p] / count[p] : 0;
    return tf.tensor2d(map, [H, W]);
  },
});

/** x with, in copy i, the patch at positions[i] taken from `fill`: [n, H, W, C]. */
function occludedBatch(x: tf.Tensor, fill: tf.Tensor, positions: (readonly [number, number])[], patch: number): tf.Tensor {
  const [, H, W] = x.shape as number[];
  const n = positions.length;
  const mask = new Float32Array(n * H * W); // 1 inside the patch
  positions.forEach(([py, px], i) => {
    for (let y = py; y < py + patch; y++) mask.fill(1, i * H * W + y * W + px, i * H * W + y * W + px + patch);
  });
  const m = tf.tensor4d(mask, [n, H, W, 1]);
  return tf.add(tf.mul(x, tf.sub(1, m)), tf.mul(fill, m));
}

/**
 * The runner that computes only what each patch changes (model/regionRun.ts), when it saves at least a
 * fifth of the work for a patch in the middle of the image and a pass is big enough (5 M multiply-adds) for
 * that to outweigh the runner's extra ops; null otherwise (plain passes). MobileNetV2's occlusion
 * (patch 28, stride 14) went from 2.9 to 1.4 s, VGG16's from 101 to 17 s, a Teachable Machine model's from
 * 1.65 to 0.62 s; on models of 0.1–3 M multiply-adds (MNIST, CIFAR) both take the same time.
 * $CNN_LENS_OCCLUSION_REGIONS=off always runs plain passes, =on always the runner (tests, A/B runs).
 */
function occlusionRegions(ctx: MethodContext, patch: number, positions: (readonly [number, number])[]): RegionRunner | null {
  const mode = process.env.CNN_LENS_OCCLUSION_REGIONS;
  if (mode === 'off' || positions.length < 2) return null;
  const runner = RegionRunner.create(ctx.net, ctx.x as tf.Tensor4D);
  if (!runner) return null;
  const [y, x] = positions[Math.floor(positions.length / 2)];
  const work = runner.work(patch, patch, y, x);
  if (mode !== 'on' && (work.share > 0.8 || work.full < 5e6)) {
    runner.dispose();
    return null;
  }
  return runner;
}
