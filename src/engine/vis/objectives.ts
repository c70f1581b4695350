// What the optimization loop maximizes. An objective names the layers it reads and turns one forward pass
// into a scalar; the loop knows nothing else about it (tf-keras-vis's "score" / Lucid's "objective").
import * as tf from '@tensorflow/tfjs-core';
import { LensError } from '../errors';
import type { GraphNode } from '../model/graph';
import type { RunResult } from '../model/network';
import { outputReader, type Reader } from './readers';

export interface Objective {
  /** Nodes whose outputs the score reads. */
  taps: number[];
  /** Whether the score reads the class logits (else only the taps' ancestors are computed). */
  logits: boolean;
  /** The value to maximize, summed over the batch, from a forward pass on model input x. */
  score(run: RunResult, x: tf.Tensor): tf.Scalar;
}

/** Rows pick their entry of the last axis with a one-hot product (gather's gradient needs a kernel wasm lacks). */
function pickPerRow(rows: tf.Tensor, indices: number[]): tf.Scalar {
  const n = rows.shape[rows.rank - 1] as number;
  // oneHot's float32 output is wrong on the wasm backend in tfjs 4.22 (int bits read as floats): cast instead.
  const onehot = tf.cast(tf.oneHot(tf.tensor1d(indices, 'int32'), n), 'float32');
  return tf.sum(tf.mul(rows, onehot));
}

function perRow(indices: number[], batch: number): number[] {
  if (indices.length === batch) return indices;
  if (indices.length === 1) return new Array(batch).fill(indices[0]);
  throw new Error(`internal: ${indices.length} targets for a batch of ${batch}`);
}

/** Mean activation of one channel of a layer (row b of the batch maximizes channels[b]). */
export function channelObjective(reader: Reader, channels: number[]): Objective {
  return {
    taps: reader.taps,
    logits: false,
    score: (run, x) => {
      const a = reader.read(run, x);
      const means = a.rank === 4 ? tf.mean(a, [1, 2]) : a.rank === 2 ? a : tf.reshape(tf.mean(tf.reshape(a, [a.shape[0], -1, a.shape[a.rank - 1] as number]), 1), [a.shape[0], -1]);
      return pickPerRow(means, perRow(channels, a.shape[0]));
    },
  };
}

/** One unit: position (y, x) of channel k in a 4-D layer's output (or unit k of a 2-D one). */
export function neuronObjective(reader: Reader, node: GraphNode, y: number, x: number, k: number): Objective {
  return {
    taps: reader.taps,
    logits: false,
    score: (run, input) => {
      const a = reader.read(run, input);
      if (a.rank === 2) return pickPerRow(a, perRow([k], a.shape[0]));
      const [b, h, w, c] = a.shape as number[];
      if (y < 0 || y >= h || x < 0 || x >= w) throw new LensError(`neuron (${y}, ${x}) is outside the ${h}×${w} output of '${node.path}' at this image size`);
      const unit = tf.reshape(tf.slice(a, [0, y, x, 0], [b, 1, 1, c]), [b, c]);
      return pickPerRow(unit, perRow([k], b));
    },
  };
}

/** A class logit (before the final softmax). */
export function classObjective(classIndices: number[]): Objective {
  return {
    taps: [],
    logits: true,
    score: (run) => {
      const logits = run.logits!;
      const rows = logits.rank === 2 ? logits : tf.reshape(logits, [logits.shape[0], -1]);
      return pickPerRow(rows, perRow(classIndices, rows.shape[0]));
    },
  };
}

/**
 * Feature inversion (Mahendran & Vedaldi 2015): minus the squared distance to target activations,
 * relative to the target's squared norm.
 */
export function matchObjective(node: GraphNode, target: tf.Tensor): Objective {
  const reader = outputReader(node);
  const targetNorm = tf.tidy(() => tf.sum(tf.square(target)).dataSync()[0]);
  const denom = Math.max(targetNorm, 1e-12);
  return {
    taps: reader.taps,
    logits: false,
    score: (run, x) => tf.neg(tf.div(tf.sum(tf.squaredDifference(reader.read(run, x), target)), denom)) as tf.Scalar,
  };
}

/** DeepDream: the mean squared activation of each layer, summed over the layers. */
export function layerNormObjective(nodes: GraphNode[]): Objective {
  return {
    taps: nodes.map((n) => n.index),
    logits: false,
    score: (run, x) => tf.addN(nodes.map((n) => tf.mean(tf.square(outputReader(n).read(run, x))))) as tf.Scalar,
  };
}
