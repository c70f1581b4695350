// Ablation-CAM (Desai & Ramaswamy 2020): no gradients. Channel k's weight is the relative drop of the class
// score when the channel is set to 0, w_k = (y_c − y_c^(k)) / y_c; map ReLU(Σ_k w_k A_k). Only the layers
// after the target run again (everything before comes from the shared forward pass), many channels per batch.
import * as tf from '@tensorflow/tfjs-core';
import { LensError } from '../errors';
import type { GraphNode } from '../model/graph';
import type { Network } from '../model/network';
import { combineCam } from './gradCam';
import { classScores, forwardBatchSize, inBatches } from './perturbation';
import { defineMethod } from './types';

/**
 * Whether the layers after `node` can run a batch of replaced activations against the image's other
 * values (batch 1): true when nothing after it reads a value that does not come from it.
 */
function tailTakesBatches(net: Network, node: GraphNode): boolean {
  const fromTarget = new Set<number>([node.outputs[0].id]);
  for (const n of net.graph.nodes) {
    if (n.index <= node.index) continue;
    const reads = n.inputs.filter((r) => fromTarget.has(r.id)).length;
    if (reads === 0) continue;
    if (reads < n.inputs.length) return false;
    for (const r of n.outputs) fromTarget.add(r.id);
  }
  return true;
}

export const ablationCam = defineMethod('ablationcam', {
  run: (ctx) => {
    const pass = ctx.pass();
    const mode = ctx.options.score;
    const y = classScores(ctx, pass.logits, mode)[0];
    if (y === 0) throw new LensError(`ablationcam divides by the class ${mode}, which is exactly 0 for this image; use --score ${mode === 'logit' ? 'probability' : 'logit'} or another method`);
    const K = pass.activation.shape[3] as number;
    const weights = new Float32Array(K);
    const batchSize = tailTakesBatches(ctx.net, pass.node) ? forwardBatchSize(ctx, undefined, true) : 1;
    inBatches(ctx, K, batchSize, (start, n) => {
      const keep = tf.sub(1, tf.oneHot(tf.range(start, start + n, 1, 'int32'), K)); // [n, K]
      const ablated = tf.mul(pass.activation, tf.reshape(keep, [n, 1, 1, K]));
      const x = pass.cache.get(ctx.net.graph.input.id)!;
      const r = ctx.net.run(x, { replace: new Map([[pass.node.index, ablated]]), cache: pass.cache });
      const yk = classScores(ctx, r.logits!, mode);
      for (let i = 0; i < n; i++) weights[start + i] = (y - yk[i]) / y;
    });
    return tf.tidy(() => combineCam(ctx, tf.squeeze(pass.activation, [0]) as tf.Tensor3D, tf.tensor1d(weights)));
  },
});
