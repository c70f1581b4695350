// RISE (Petsiuk, Das & Saenko 2018): N random binary masks on a coarse s×s grid (each cell kept with
// p = 0.5), upsampled bilinearly to (s+1)·⌈H/s⌉ × (s+1)·⌈W/s⌉ and cropped at a random shift of less than
// one cell, so that masks are smooth and not aligned to the grid. The map is the class probability of the
// masked image averaged over the masks, per pixel kept: Σ_i P_c(x ⊙ M_i)·M_i / (N·p). Seeded; masks are
// drawn in the same order whatever the batch size.
import * as tf from '@tensorflow/tfjs-core';
import { LensError } from '../errors';
import { makeRng } from '../random';
import { classScores, forwardBatchSize, inBatches } from './perturbation';
import { defineMethod } from './types';

export const RISE_MASKS = 2000;
const KEEP = 0.5;

/** n masks [n, H, W, 1] from rng (grid cells, then the shift, mask by mask). */
export function riseMasks(rng: () => number, n: number, H: number, W: number, grid: number): tf.Tensor4D {
  return tf.tidy(() => {
    const cellH = Math.ceil(H / grid);
    const cellW = Math.ceil(W / grid);
    const cells = new Float32Array(n * grid * grid);
    const shifts: [number, number][] = [];
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < grid * grid; j++) cells[i * grid * grid + j] = rng() < KEEP ? 1 : 0;
      shifts.push([Math.floor(rng() * cellH), Math.floor(rng() * cellW)]);
    }
    const up = tf.image.resizeBilinear(tf.tensor4d(cells, [n, grid, grid, 1]), [(grid + 1) * cellH, (grid + 1) * cellW], false, true);
    return tf.concat(shifts.map(([dy, dx], i) => tf.slice(up, [i, dy, dx, 0], [1, H, W, 1]))) as tf.Tensor4D;
  });
}

export const rise = defineMethod('rise', {
  run: (ctx) => {
    const [, H, W] = ctx.x.shape as number[];
    const N = ctx.options.samples || RISE_MASKS;
    const grid = Math.floor(ctx.options.grid);
    if (!(grid >= 1) || grid > Math.min(H, W)) throw new LensError(`rise: --grid must be between 1 and ${Math.min(H, W)} (the model's input is ${H}×${W}); got ${ctx.options.grid}`);
    const rng = makeRng(ctx.options.seed);
    let sum: tf.Tensor = tf.zeros([H, W]);
    try {
      inBatches(ctx, N, forwardBatchSize(ctx), (_start, n) => {
        const masks = riseMasks(rng, n, H, W, grid);
        const p = classScores(ctx, ctx.net.run(tf.mul(ctx.x, masks)).logits!, 'probability');
        const next = tf.keep(tf.add(sum, tf.sum(tf.mul(tf.squeeze(masks, [3]), tf.tensor3d(p, [n, 1, 1])), 0)));
        sum.dispose();
        sum = next;
      });
      return tf.div(sum, N * KEEP);
    } finally {
      sum.dispose();
    }
  },
});
