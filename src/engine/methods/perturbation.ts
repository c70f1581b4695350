// The loop every perturbation method shares: many changed copies of the image (or of a layer's
// activation) through the network in batches sized by memory, with progress and a cancel check between
// batches. A method supplies what one batch is and what to do with its scores.
import * as tf from '@tensorflow/tfjs-core';
import { activationFloatsPerImage } from './gradients';
import type { MethodContext } from './types';

/**
 * Copies per forward batch: `requested` when positive, else as many as fit about 128 MB of forward values, at
 * most 16. A plain forward pass frees each layer output after its last reader, so a copy costs the floats
 * alive at the pass's peak (Network.forwardPeakFloatsPerImage) — MobileNetV2: 2.4 M floats against 6.6 M for
 * all its outputs; a pass that reuses a cached pass (`cached`, Ablation-CAM) holds every output it computes.
 * Twice that, for the temporaries inside ops.
 */
export function forwardBatchSize(ctx: MethodContext, requested = ctx.options.batchSize, cached = false): number {
  if (requested > 0) return Math.floor(requested);
  const budgetFloats = (128 * 2 ** 20) / 4;
  const perImage = cached ? activationFloatsPerImage(ctx.net, ctx.x) : ctx.net.forwardPeakFloatsPerImage();
  return Math.max(1, Math.min(16, Math.floor(budgetFloats / (2 * perImage))));
}

/**
 * Calls body(start, n) for consecutive batches covering [0, count), inside a tidy each; reports progress
 * after each batch (ctx.step, which throws CancelledError when the job was cancelled).
 */
export function inBatches(ctx: MethodContext, count: number, batchSize: number, body: (start: number, n: number) => void): void {
  for (let start = 0; start < count; ) {
    const n = Math.min(batchSize, count - start);
    tf.tidy(() => body(start, n));
    start += n;
    ctx.step(start, count);
  }
}

/** Each row's score for the explained class, [n] from logits [n, classes]: the logit or the model's probability. */
export function classScores(ctx: MethodContext, logits: tf.Tensor, mode: 'logit' | 'probability'): Float32Array {
  return tf.tidy(() => {
    const classes = logits.shape[logits.rank - 1] as number;
    const rows = tf.reshape(logits, [-1, classes]);
    const s = mode === 'probability' ? ctx.net.probabilities(rows) : rows;
    return tf.squeeze(tf.slice(s, [0, ctx.classIndex], [-1, 1]), [1]).dataSync() as Float32Array;
  });
}

/** The class score of the unchanged image. */
export function baseScore(ctx: MethodContext, mode: 'logit' | 'probability'): number {
  return tf.tidy(() => classScores(ctx, ctx.net.run(ctx.x).logits!, mode)[0]);
}
