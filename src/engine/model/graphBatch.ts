// Running a TensorFlow.js graph model on a batch of images, including graphs frozen with a fixed batch size
// (an input of [32, 224, 224, 3]: the converter keeps the batch the model was traced with). tfjs refuses any
// other batch for such an input, and the graph may bake that size into later ops too (a Reshape to [32, -1]),
// so rewriting the input's shape would not be enough. Instead the images are padded up to the fixed size with
// copies of the last image, run in groups of that size, and only the rows of the real images are kept: each
// row of an inference graph depends on its own image only, so those rows are what a batch of them would give.
import * as tf from '@tensorflow/tfjs-core';
import type * as tfc from '@tensorflow/tfjs-converter';
import { toInputLayout, type InputLayout } from './inputLayout';

/** The batch size a graph input fixes (its first dimension when that is a known size over 1), or null. */
export function fixedBatchOf(shape: readonly (number | null)[] | undefined): number | null {
  const b = shape?.[0];
  return typeof b === 'number' && Number.isSafeInteger(b) && b > 1 ? b : null;
}

/**
 * The graph's first output for images `x` ([n, H, W, C], the engine's layout), one row per image. With
 * `fixedBatch`, the graph runs on groups of exactly that many images.
 */
export function runGraph(gm: tfc.GraphModel, x: tf.Tensor, layout: InputLayout, fixedBatch: number | null): tf.Tensor {
  return tf.tidy(() => {
    const n = x.shape[0];
    if (!fixedBatch) return firstOutput(gm.predict(toInputLayout(x, layout)) as tf.Tensor | tf.Tensor[]);
    const rows: tf.Tensor[] = [];
    for (let start = 0; start < n; start += fixedBatch) {
      const take = Math.min(fixedBatch, n - start);
      let group = tf.slice(x, [start], [take]);
      if (take < fixedBatch) {
        const last = tf.slice(group, [take - 1], [1]);
        group = tf.concat([group, tf.tile(last, [fixedBatch - take, ...last.shape.slice(1).map(() => 1)])]);
      }
      const out = firstOutput(gm.predict(toInputLayout(group, layout)) as tf.Tensor | tf.Tensor[]);
      if (out.rank < 1 || out.shape[0] !== fixedBatch) throw new Error(`for a batch of ${fixedBatch} its output has shape [${out.shape.join(', ')}]`);
      rows.push(tf.slice(out, [0], [take]));
    }
    return rows.length === 1 ? rows[0] : tf.concat(rows);
  });
}

function firstOutput(out: tf.Tensor | tf.Tensor[]): tf.Tensor {
  const first = Array.isArray(out) ? out[0] : out;
  if (!first) throw new Error('it has no output');
  return first;
}
