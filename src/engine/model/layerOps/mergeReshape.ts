// Merge layers (Add, Multiply, Subtract, Average, Maximum, Minimum, Concatenate) and reshaping layers
// (Flatten, Reshape, ZeroPadding2D).
import * as tf from '@tensorflow/tfjs-core';
import type { GraphNode } from '../graph';
import { channelsLast, type L } from './common';

/** Merge layers; null for other layers. */
export function applyMerge(node: GraphNode, inputs: tf.Tensor[], cfg: L): tf.Tensor | null {
  switch (node.className) {
    case 'Add':
      return inputs.slice(1).reduce((a, b) => tf.add(a, b), inputs[0]);
    case 'Multiply':
      return inputs.slice(1).reduce((a, b) => tf.mul(a, b), inputs[0]);
    case 'Subtract':
      return tf.sub(inputs[0], inputs[1]);
    case 'Average':
      return tf.div(inputs.slice(1).reduce((a, b) => tf.add(a, b), inputs[0]), inputs.length);
    case 'Maximum':
      return inputs.slice(1).reduce((a, b) => tf.maximum(a, b), inputs[0]);
    case 'Minimum':
      return inputs.slice(1).reduce((a, b) => tf.minimum(a, b), inputs[0]);
    case 'Concatenate': {
      const axis = cfg.axis ?? -1;
      return tf.concat(inputs, axis < 0 ? inputs[0].rank + axis : axis);
    }
    default:
      return null;
  }
}

/** Flatten, Reshape and ZeroPadding2D; null for other layers (or layouts we leave to the layer). */
export function applyReshapeLayer(node: GraphNode, x: tf.Tensor, cfg: L): tf.Tensor | null {
  switch (node.className) {
    case 'Flatten':
      return tf.reshape(x, [x.shape[0], -1]);
    case 'Reshape':
      return tf.reshape(x, [x.shape[0], ...(cfg.targetShape as number[])]);
    case 'ZeroPadding2D': {
      if (!channelsLast(cfg) || x.rank !== 4) return null;
      const p = cfg.padding as [[number, number], [number, number]];
      return tf.pad(x, [[0, 0], p[0], p[1], [0, 0]]);
    }
    default:
      return null;
  }
}
