// Where an objective reads its values: a layer's output, or — for layers ending in a ReLU — a smooth ReLU
// of the layer's pre-activation.
//
// A ReLU passes no gradient where its input is negative, and on a gray start image a whole channel often
// is: ascent on the ReLU's output would never move. Ascent on the pre-activation itself (Lucid's
// "pre_relu" objectives) moves, but for a layer that is linear in the image its mean is maximized by a flat
// colour, not a pattern. softplus(z) = log(1 + eˣ) is both: ≈ the ReLU where z is clearly positive, with a
// gradient everywhere that is largest where z is closest to firing, so patterns grow from the places that
// almost respond (Adam's step does not depend on the gradient's scale). This covers separate ReLU /
// Activation layers (read their input) and convolution or dense layers with a built-in ReLU (rerun the
// layer's linear part on its input, through the engine's own layer op with the activation skipped).
import * as tf from '@tensorflow/tfjs-core';
import type { GraphNode } from '../model/graph';
import { activationName, applyNode, type OpContext } from '../model/layerOps';
import type { Network, RunResult } from '../model/network';

export interface Reader {
  /** Nodes to tap in the forward pass. */
  taps: number[];
  /** The values, from a forward pass on model input x. */
  read(run: RunResult, x: tf.Tensor): tf.Tensor;
  /** Frees constants prepared for the re-run layer. */
  dispose(): void;
}

const RELU_LIKE = new Set(['relu', 'relu6']);

/** A node's output as it is. */
export function outputReader(node: GraphNode): Reader {
  return {
    taps: [node.index],
    read: (run) => {
      const t = run.taps.get(node.index);
      if (!t) throw new Error(`internal: no value for layer ${node.path}`);
      return t;
    },
    dispose: () => undefined,
  };
}

/** Whether the layer ends in a ReLU (its own activation, or a ReLU layer): such layers are optimized before it. */
export function endsInRelu(node: GraphNode): boolean {
  if (node.className === 'ReLU') {
    const max = (node.layer as any).getConfig?.().maxValue;
    return max === undefined || max === null || max > 0;
  }
  return RELU_LIKE.has(activationName(node.layer as any) ?? '');
}

/** softplus(z) = max(z, 0) + log(1 + e^−|z|), stable for any z and made of ops every backend has. */
export function softplus(z: tf.Tensor): tf.Tensor {
  return tf.add(tf.relu(z), tf.log1p(tf.exp(tf.neg(tf.abs(z)))));
}

/** softplus of the node's pre-activation when it ends in a ReLU (see the top of this file), else its output. */
export function smoothReluReader(net: Network, node: GraphNode): Reader {
  if (!endsInRelu(node)) return outputReader(node);
  // Every input must be readable: the model input, or output 0 of a node (what taps return).
  const refs = node.inputs;
  for (const r of refs) if (r.producer >= 0 && net.graph.nodes[r.producer].outputs[0].id !== r.id) return outputReader(node);
  const taps = [...new Set(refs.filter((r) => r.producer >= 0).map((r) => r.producer))];
  const prepared = new Map<number, tf.Tensor[]>();
  const ctx: OpContext = { guided: false, skipActivation: true, prepared };
  return {
    taps,
    read: (run, x) => {
      const inputs = refs.map((r) => (r.producer < 0 ? x : run.taps.get(r.producer)!));
      return softplus(applyNode(node, inputs, ctx)[0]);
    },
    dispose: () => {
      for (const ts of prepared.values()) ts.forEach((t) => t.dispose());
      prepared.clear();
    },
  };
}
