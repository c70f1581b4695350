// Class activation mapping (Zhou et al. 2016). Applies when the target layer is followed by global
// average pooling and one dense layer: map = Σ_k w_k^c A_k (no ReLU). When the pooled channels are
// themselves the class scores (one filter per class, then GAP: "GAP visualization"), the map is A_c.
import * as tf from '@tensorflow/tfjs-core';
import { LensError } from '../errors';
import type { GraphNode } from '../model/graph';
import type { Network } from '../model/network';
import { defineMethod } from './types';

const PASS_THROUGH = new Set(['Dropout', 'SpatialDropout2D', 'GaussianNoise', 'GaussianDropout', 'AlphaDropout', 'Flatten', 'ActivityRegularization']);

export type CamHead = { kind: 'dense'; dense: GraphNode } | { kind: 'gap' };

function soleConsumer(net: Network, node: GraphNode): GraphNode | null {
  return node.consumers.length === 1 ? net.graph.nodes[node.consumers[0]] : null;
}

/** Recognizes layer → GAP → [dropout/flatten] → Dense(logits), or layer → GAP(logits). Null when CAM doesn't apply. */
export function findCamHead(net: Network, layer: GraphNode): CamHead | null {
  const gap = soleConsumer(net, layer);
  if (!gap || gap.className !== 'GlobalAveragePooling2D') return null;
  let cur = gap;
  const isLogits = (n: GraphNode) => n.outputs[0].id === net.logitsRef.id || n.index === net.logitsNode;
  for (;;) {
    if (isLogits(cur)) return cur === gap ? { kind: 'gap' } : null;
    const next = soleConsumer(net, cur);
    if (!next) return null;
    if (PASS_THROUGH.has(next.className) || (next.className === 'Activation' && next.outputs[0].id !== net.logitsRef.id && (next.layer as any).getConfig().activation === 'linear')) {
      cur = next;
      continue;
    }
    if (next.className === 'Dense' && isLogits(next)) return { kind: 'dense', dense: next };
    // A softmax/sigmoid Activation layer right after GAP: the GAP output is the logits.
    if (cur === gap && gap.outputs[0].id === net.logitsRef.id) return { kind: 'gap' };
    return null;
  }
}

export const cam = defineMethod('cam', {
  run: (ctx) => {
    const layer = ctx.layer!;
    const head = findCamHead(ctx.net, layer);
    if (!head) {
      throw new LensError(`cam needs layer '${layer.path}' to be followed by global average pooling and one dense layer (or to be the class scores before GAP); this model has more after it — use gradcam instead`);
    }
    const a = ctx.pass().activation;
    return tf.tidy(() => {
      const A = tf.squeeze(a, [0]); // [h, w, K]
      if (head.kind === 'gap') return tf.squeeze(tf.gather(A, [ctx.classIndex], 2), [2]);
      const kernel = (head.dense.layer as any).kernel.read() as tf.Tensor2D; // [K, classes]
      const w = tf.slice(kernel, [0, ctx.classIndex], [kernel.shape[0], 1]); // [K, 1]
      const [h, wd, K] = A.shape;
      return tf.reshape(tf.matMul(tf.reshape(A, [h * wd, K]), w), [h, wd]);
    });
  },
});
