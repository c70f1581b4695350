// The benchmarked operations. Attribution methods go through explain() exactly as the CLI and the
// extension call it (so each includes the forward pass that ranks the classes); the feature-visualization
// steps are one input-gradient step of their objective through Network.run with taps.
import * as tf from '@tensorflow/tfjs-core';
import { explain } from '../src/engine/explain';
import type { GraphNode } from '../src/engine/model/graph';
import type { LoadedModel } from '../src/engine/model/loadModel';
import type { Network } from '../src/engine/model/network';
import type { MethodName, MethodOptions } from '../src/engine/methods';

export const OP_NAMES = ['forward', 'gradcam', 'gradcam++', 'saliency', 'guided-backprop', 'smoothgrad', 'integrated-gradients', 'deepdream-step', 'actmax-step'] as const;
export type OpName = (typeof OP_NAMES)[number];

export const OP_TITLES: Record<OpName, string> = {
  forward: 'forward',
  gradcam: 'Grad-CAM',
  'gradcam++': 'Grad-CAM++',
  saliency: 'saliency',
  'guided-backprop': 'guided backprop',
  smoothgrad: 'SmoothGrad (25)',
  'integrated-gradients': 'integrated gradients (64)',
  'deepdream-step': 'DeepDream step',
  'actmax-step': 'activation-max step',
};

/** The sampling methods: one run is many gradients, so they get fewer repetitions. */
export const HEAVY_OPS: ReadonlySet<OpName> = new Set(['smoothgrad', 'integrated-gradients']);

export interface OpSetup {
  /** Runs the operation once, to completion (results read back to JS). */
  run: () => void;
  /** What exactly is timed, when it is not obvious from the name. */
  note?: string;
}

/** A deterministic test image in the model's input space: smooth colour ramps plus seeded noise, in [-1, 1]. */
export function benchInput(model: LoadedModel): tf.Tensor4D {
  const { height: H, width: W, channels: C } = model.inputSize;
  const d = new Float32Array(H * W * C);
  let s = 12345;
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      for (let c = 0; c < C; c++) {
        s = (Math.imul(s, 1103515245) + 12345) >>> 0;
        const ramp = c === 0 ? x / W : c === 1 ? y / H : (x + y) / (W + H);
        d[(y * W + x) * C + c] = Math.max(-1, Math.min(1, 2 * ramp - 1 + 0.2 * ((s >>> 8) / 16777216 - 0.5)));
      }
    }
  }
  return tf.tensor4d(d, [1, H, W, C]);
}

/** 4-D nodes with a spatial extent larger than 1×1, in graph order. */
function spatialNodes(net: Network): GraphNode[] {
  return net.graph.nodes.filter((n) => {
    const s = n.outputs[0]?.shape;
    return s && s.length === 4 && (s[1] ?? 2) * (s[2] ?? 2) > 1 && n.className !== 'InputLayer';
  });
}

/** The layer a DeepDream step maximizes: the spatial layer 60% of the way through the network. */
export function dreamLayer(net: Network): GraphNode {
  const nodes = spatialNodes(net);
  return nodes[Math.min(nodes.length - 1, Math.floor(nodes.length * 0.6))];
}

/** One gradient-ascent step on x: x + lr·g/mean|g| (what DeepDream and activation maximization do per step). */
function ascend(x: tf.Tensor, objective: (input: tf.Tensor) => tf.Scalar, lr = 0.01): tf.Tensor {
  return tf.tidy(() => {
    const g = tf.grad(objective)(x);
    return tf.add(x, tf.mul(tf.div(g, tf.add(tf.mean(tf.abs(g)), 1e-8)), lr));
  });
}

export function setupOp(op: OpName, model: LoadedModel, x: tf.Tensor, classIndex: number, options: Partial<MethodOptions> = {}): OpSetup {
  const net = model.network!;
  const method = (m: MethodName): OpSetup => ({ run: () => void explain(model, x, { method: m, classes: [classIndex], options }) });
  switch (op) {
    case 'forward':
      return {
        run: () => {
          const logits = net.logits(x);
          logits.dataSync();
          logits.dispose();
        },
      };
    case 'gradcam':
    case 'gradcam++':
    case 'saliency':
    case 'guided-backprop':
      return method(op);
    case 'smoothgrad':
      return method('smoothgrad');
    case 'integrated-gradients':
      return method('integrated-gradients');
    case 'deepdream-step': {
      const layer = dreamLayer(net);
      return {
        note: `one ascent step of mean(A²) at ${layer.path}`,
        run: () => {
          const y = ascend(x, (inp) => tf.mean(tf.square(net.run(inp, { taps: [layer.index], logits: false }).taps.get(layer.index)!)) as tf.Scalar);
          y.dataSync();
          y.dispose();
        },
      };
    }
    case 'actmax-step': {
      const layer = net.defaultLayer()!;
      return {
        note: `one ascent step of channel 0's mean at ${layer.path}`,
        run: () => {
          const y = ascend(x, (inp) => {
            const a = net.run(inp, { taps: [layer.index], logits: false }).taps.get(layer.index)!;
            return tf.mean(tf.slice(a, [0, 0, 0, 0], [-1, -1, -1, 1])) as tf.Scalar;
          });
          y.dataSync();
          y.dispose();
        },
      };
    }
  }
}
