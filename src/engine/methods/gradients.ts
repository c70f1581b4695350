// The gradients every attribution method is built from.
import * as tf from '@tensorflow/tfjs-core';
import type { GraphNode } from '../model/graph';
import type { Network } from '../model/network';

/** What is explained: the class's logit (pre-softmax, the default) or its probability. */
export type ScoreMode = 'logit' | 'probability';

/**
 * Sum over the batch of each row's score for its class. Rows select their class with a one-hot
 * product, not a gather: gather's gradient needs UnsortedSegmentSum, which the wasm backend lacks
 * (ENGINE-NOTES pitfall 2).
 */
export function classScore(net: Network, logits: tf.Tensor, classIndices: number[], mode: ScoreMode): tf.Scalar {
  const scores = mode === 'probability' ? net.probabilities(logits) : logits;
  const classes = scores.shape[scores.rank - 1] as number;
  const rows = scores.rank === 2 ? scores : tf.reshape(scores, [scores.shape[0], classes]);
  // The one-hot rows are written here: wasm's OneHot kernel took 0.2 ms for 1000 classes, a tenth of a
  // Grad-CAM's gradient on MobileNetV2. A one-unit output (a sigmoid binary classifier) has the one class.
  const n = rows.shape[0] as number;
  const onehot = new Float32Array(n * classes);
  for (let r = 0; r < n; r++) {
    const c = classes === 1 ? 0 : classIndices[r % classIndices.length];
    if (c >= 0 && c < classes) onehot[r * classes + c] = 1;
  }
  return tf.sum(tf.mul(rows, tf.tensor2d(onehot, [n, classes])));
}

/**
 * ∂score/∂input for a batch: row b of `x` is explained for classIndices[b] (or classIndices[0] for all
 * rows when one class is given). Only the input gradient is computed: the graph runs unfused ops, so no
 * weight gradients are formed (ENGINE-NOTES pitfall 1).
 */
export function inputGradients(net: Network, x: tf.Tensor, classIndices: number[], opts: { guided?: boolean; deconv?: boolean; score?: ScoreMode } = {}): tf.Tensor {
  const batch = x.shape[0];
  const classes = classIndices.length === 1 ? new Array(batch).fill(classIndices[0]) : classIndices;
  if (classes.length !== batch) throw new Error(`internal: ${classes.length} classes for a batch of ${batch}`);
  const f = (input: tf.Tensor) => classScore(net, net.run(input, { guided: opts.guided, deconv: opts.deconv }).logits!, classes, opts.score ?? 'logit');
  net.prepareGradients();
  return tf.grad(f)(x);
}

const activationFloats = new WeakMap<Network, number>();

/**
 * Images per batch for the sampling methods: `requested` when positive, else as many as fit about 128 MB
 * of gradient work (forward values, gradients and temporaries: about 4× the activations), at most 8.
 * Batches only pay where per-op overhead dominates (the 64-px demo model: SmoothGrad 182 ms at 1, 130 ms
 * at 2, 148 ms at 8 images per batch); from MobileNetV2 up a batch of images costs on wasm what the images
 * cost one by one (MobileNetV2 SmoothGrad 2.0/2.1/2.5 s at 1/5/25, VGG16 31.3 s at 1 and 30.6 s at 2)
 * and only adds memory (VGG16 at 2: +330 MB peak RSS), so those run one image at a time.
 */
export function samplesPerBatch(net: Network, x: tf.Tensor, requested: number): number {
  if (requested > 0) return Math.floor(requested);
  const budgetFloats = (128 * 2 ** 20) / 4;
  return Math.max(1, Math.min(8, Math.floor(budgetFloats / (4 * activationFloatsPerImage(net, x)))));
}

/** Floats of every layer output for one image of x's size (cached per network). */
export function activationFloatsPerImage(net: Network, x: tf.Tensor): number {
  let perImage = activationFloats.get(net);
  if (perImage === undefined) {
    const pixels = (x.shape[1] ?? 1) * (x.shape[2] ?? 1);
    perImage = 0;
    for (const node of net.graph.nodes) {
      for (const r of node.outputs) {
        const dims = r.shape.slice(1);
        // Unknown spatial sizes (fully convolutional models): assume the input's size with 64 channels.
        perImage += dims.some((d) => d == null) ? pixels * 64 : dims.reduce((a: number, b) => a * (b as number), 1);
      }
    }
    activationFloats.set(net, perImage);
  }
  return perImage;
}

/**
 * ∂score/∂input for image 0 and the logits, from one forward pass: the class is chosen inside the pass,
 * from the logits it has just computed (`pick`), so that ranking the classes and differentiating share
 * the forward pass. Returns tensors the caller disposes.
 */
export function inputGradientAndLogits(net: Network, x: tf.Tensor, pick: (logits: Float32Array) => number, opts: { guided?: boolean; deconv?: boolean; score?: ScoreMode } = {}): { logits: tf.Tensor; classIndex: number; gradient: tf.Tensor } {
  let logits: tf.Tensor | null = null;
  let classIndex = -1;
  net.prepareGradients();
  const gradient = tf.grad((input: tf.Tensor) => {
    const l = net.run(input, { guided: opts.guided, deconv: opts.deconv }).logits!;
    logits = tf.keep(tf.clone(l));
    classIndex = pick(l.dataSync() as Float32Array);
    return classScore(net, l, [classIndex], opts.score ?? 'logit');
  })(x);
  return { logits: logits!, classIndex, gradient };
}

/** A forward pass that keeps a layer's activation and every value computed, to reuse across classes. */
export interface LayerPass {
  node: GraphNode;
  /** The layer's output for the image, [1, h, w, K]. */
  activation: tf.Tensor;
  logits: tf.Tensor;
  cache: Map<number, tf.Tensor>;
  /**
   * ∂score/∂A for the class the pass chose (layerPass's `first`), until layerGradient hands it over; whoever
   * holds the pass when it ends disposes it if nobody took it.
   */
  gradient?: { classIndex: number; score: ScoreMode; tensor: tf.Tensor } | null;
}

/**
 * The forward pass of a layer method: up to the layer, keeping what the part after it reads again. With
 * `first`, the part after the layer runs once, under the gradient tape: the class is chosen from the logits
 * it has just computed and ∂score/∂A comes with them (a Grad-CAM is then one forward pass and the head's
 * gradient, where it ran the head twice: twice VGG16's 120 M multiply-add classifier).
 */
export function layerPass(net: Network, x: tf.Tensor, node: GraphNode, first?: { pick: (logits: Float32Array) => number; score: ScoreMode }): LayerPass {
  const keep = net.tailInputs(node.index);
  if (!first) {
    const r = net.run(x, { taps: [node.index], keep });
    return { node, activation: r.taps.get(node.index)!, logits: r.logits!, cache: r.values! };
  }
  const r = net.run(x, { taps: [node.index], keep, logits: false });
  const activation = r.taps.get(node.index)!;
  const cache = r.values!;
  let logits: tf.Tensor | null = null;
  let classIndex = -1;
  net.prepareGradients(node.index);
  const tensor = tf.grad((a: tf.Tensor) => {
    const l = net.run(cache.get(net.graph.input.id)!, { replace: new Map([[node.index, a]]), cache }).logits!;
    logits = tf.keep(tf.clone(l));
    classIndex = first.pick(l.dataSync() as Float32Array);
    return classScore(net, l, [classIndex], first.score);
  })(activation);
  return { node, activation, logits: logits!, cache, gradient: { classIndex, score: first.score, tensor } };
}

/**
 * ∂score/∂A for the layer of `pass`: the layer's output is replaced by a tensor we differentiate
 * with respect to; everything upstream of it comes from the pass's cache, so only the part of the
 * network after the layer is run again and backpropagated. The pass's own gradient when it is for this
 * class and score (handed over once: the caller owns the tensor either way).
 */
export function layerGradient(net: Network, pass: LayerPass, classIndex: number, score: ScoreMode = 'logit'): tf.Tensor {
  const own = pass.gradient;
  if (own && own.classIndex === classIndex && own.score === score) {
    pass.gradient = null;
    // A clone belongs to the caller's scope (its tidy disposes it, as it would a gradient computed here);
    // clones share memory.
    const mine = tf.clone(own.tensor);
    own.tensor.dispose();
    return mine;
  }
  const x = pass.cache.get(net.graph.input.id)!;
  const f = (a: tf.Tensor) => {
    const r = net.run(x, { replace: new Map([[pass.node.index, a]]), cache: pass.cache });
    return classScore(net, r.logits!, [classIndex], score);
  };
  net.prepareGradients(pass.node.index);
  return tf.grad(f)(pass.activation);
}
