// Deletion and insertion curves (Petsiuk, Das & Saenko 2018, "RISE"): pixels in order of importance are
// deleted from the image (set to the baseline) or inserted into the baseline, and the class probability
// is read after each of N steps. The 2(N+1) perturbed images go through the network in batches.
import * as tf from '@tensorflow/tfjs-core';
import type { CurveRecord, FaithfulnessRecord } from '../../shared/trustRecords';
import { CancelledError } from '../errors';
import { tidyRead } from '../tidyRead';
import type { JobHooks } from '../explain';
import { samplesPerBatch } from '../methods/gradients';
import type { Network } from '../model/network';
import { pixelsAtStep } from './importance';

/** Trapezoid rule over the N+1 points, divided by N. */
export function curveAuc(curve: ArrayLike<number>): number {
  const n = curve.length - 1;
  if (n < 1) return curve.length ? curve[0] : 0;
  let s = 0;
  for (let k = 0; k < n; k++) s += (curve[k] + curve[k + 1]) / 2;
  return s / n;
}

export interface CurveInput {
  net: Network;
  /** The preprocessed image [H·W·C]. */
  x: Float32Array;
  /** The baseline in the same space [H·W·C]. */
  baseline: Float32Array;
  height: number;
  width: number;
  channels: number;
  classIndex: number;
  /** Pixel indices, most important first (rankPixels). */
  order: Int32Array;
  steps: number;
  /** Images per forward pass; 0 chooses from the model's activation size. */
  batchSize?: number;
}

/** Which pixels are taken from `x` (1) rather than the baseline (0) at step k. */
function fillStep(dst: Float32Array, offset: number, inp: CurveInput, k: number, mode: 'deletion' | 'insertion'): void {
  const { x, baseline, order, channels: c } = inp;
  const pixels = inp.height * inp.width;
  const n = pixelsAtStep(k, inp.steps, pixels);
  // Deletion starts from the image and overwrites the top n pixels with the baseline; insertion the reverse.
  const [from, to] = mode === 'deletion' ? [x, baseline] : [baseline, x];
  dst.set(from, offset);
  for (let i = 0; i < n; i++) {
    const p = order[i] * c;
    for (let ch = 0; ch < c; ch++) dst[offset + p + ch] = to[p + ch];
  }
}

/** Both curves for one pixel order. Progress counts images; cancel is checked between batches. */
export function perturbationCurves(inp: CurveInput, hooks: JobHooks = {}, stage = 'faithfulness'): FaithfulnessRecord {
  const { net, height: H, width: W, channels: C, steps } = inp;
  if (!(Number.isInteger(steps) && steps >= 1)) throw new Error(`curves: steps must be a positive integer, got ${steps}`);
  if (inp.order.length !== H * W) throw new Error(`curves: the pixel order has ${inp.order.length} entries for ${H}×${W} pixels`);
  const jobs: { mode: 'deletion' | 'insertion'; k: number }[] = [];
  for (const mode of ['deletion', 'insertion'] as const) for (let k = 0; k <= steps; k++) jobs.push({ mode, k });
  const probe = tf.zeros([1, H, W, C]);
  const batch = Math.max(1, Math.min(32, inp.batchSize || samplesPerBatch(net, probe, 0) * 2));
  probe.dispose();
  const curves = { deletion: new Array<number>(steps + 1), insertion: new Array<number>(steps + 1) };
  const size = H * W * C;
  for (let start = 0; start < jobs.length; start += batch) {
    if (hooks.isCancelled?.()) throw new CancelledError();
    const part = jobs.slice(start, start + batch);
    const data = new Float32Array(part.length * size);
    part.forEach((j, b) => fillStep(data, b * size, inp, j.k, j.mode));
    const probs = tidyRead(() => {
      const logits = net.logits(tf.tensor4d(data, [part.length, H, W, C]));
      const p = net.probabilities(tf.reshape(logits, [part.length, -1]));
      return p.dataSync() as Float32Array;
    });
    const classes = probs.length / part.length;
    part.forEach((j, b) => (curves[j.mode][j.k] = probs[b * classes + inp.classIndex]));
    hooks.onProgress?.({ done: Math.min(jobs.length, start + batch), total: jobs.length, stage });
  }
  const record = (curve: number[]): CurveRecord => ({ auc: curveAuc(curve), curve });
  return { deletion: record(curves.deletion), insertion: record(curves.insertion) };
}
