// The two small CNNs the Keras loader tests save in every format, and the same networks built directly with
// the TensorFlow.js layers API (no topology JSON involved) carrying the same weights.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { batchNorm, conv2d, dense, nested, plain, Weights, type LayerDesc, type ModelDesc } from './kerasWriter';

const pool = (name: string) => plain('MaxPooling2D', name, { pool_size: [2, 2], padding: 'valid', strides: [2, 2], data_format: 'channels_last' });
const gap = (name: string) => plain('GlobalAveragePooling2D', name, { data_format: 'channels_last', keepdims: false });

/**
 * A: Sequential [Conv2D "features", BatchNormalization, MaxPooling2D, Functional "block" (conv → BN, 1x1
 * conv, Add), GlobalAveragePooling2D, Dense, Dense]. The nested Functional's weights are stored
 * trainable-first in legacy files (block_bn's moving statistics after block_proj's kernel).
 */
export function modelA(seed: number): ModelDesc {
  const w = new Weights(seed);
  const block: ModelDesc = {
    kind: 'Functional',
    name: 'block',
    inputName: 'block_input',
    inputShape: [8, 8, 6],
    layers: [
      { ...conv2d(w, 'block_conv', 6, 4, 3, { activation: 'relu' }), inputs: ['block_input'] },
      { ...batchNorm(w, 'block_bn', 4), inputs: ['block_conv'] },
      { ...conv2d(w, 'block_proj', 6, 4, 1), inputs: ['block_input'] },
      { ...plain('Add', 'block_add'), inputs: ['block_bn', 'block_proj'] },
    ],
    output: 'block_add',
  };
  return {
    kind: 'Sequential',
    name: 'cnn_a',
    inputName: 'input_1',
    inputShape: [16, 16, 3],
    layers: [
      conv2d(w, 'features', 3, 6, 3, { activation: 'relu' }),
      batchNorm(w, 'batch_normalization', 6),
      pool('max_pooling2d'),
      nested(block),
      gap('global_average_pooling2d'),
      dense(w, 'hidden', 4, 8, 'relu'),
      dense(w, 'probs', 8, 3, 'softmax'),
    ],
  };
}

/**
 * B: Functional with Rescaling(scale 2, offset -1), two top-level Conv2D, a frozen nested Sequential
 * "tower" [BatchNormalization, Conv2D] beside a 1x1 conv, Concatenate, GAP, Dense, Dropout, Dense.
 */
export function modelB(seed: number): ModelDesc {
  const w = new Weights(seed);
  const frozen = (l: LayerDesc): LayerDesc => ({ ...l, trainable: false });
  const tower: ModelDesc = {
    kind: 'Sequential',
    name: 'tower',
    inputName: 'tower_input',
    inputShape: [8, 8, 6],
    trainable: false,
    layers: [frozen(batchNorm(w, 'tower_bn', 6)), frozen(conv2d(w, 'tower_conv', 6, 5, 3, { activation: 'relu' }))],
  };
  return {
    kind: 'Functional',
    name: 'cnn_b',
    inputName: 'image',
    inputShape: [16, 16, 3],
    layers: [
      { ...plain('Rescaling', 'scale', { scale: 2, offset: -1 }), inputs: ['image'] },
      { ...conv2d(w, 'conv_a', 3, 6, 3, { activation: 'relu' }), inputs: ['scale'] },
      { ...batchNorm(w, 'bn_a', 6, { axis: [3] }), inputs: ['conv_a'] },
      { ...pool('pool'), inputs: ['bn_a'] },
      nested(tower, ['pool']),
      { ...conv2d(w, 'side', 6, 3, 1), inputs: ['pool'] },
      { ...plain('Concatenate', 'merge', { axis: -1 }), inputs: ['tower', 'side'] },
      { ...gap('gap'), inputs: ['merge'] },
      { ...dense(w, 'fc', 8, 8, 'relu'), inputs: ['gap'] },
      { ...plain('Dropout', 'drop', { rate: 0.5, noise_shape: null, seed: null }), inputs: ['fc'] },
      { ...dense(w, 'out', 8, 3, 'softmax'), inputs: ['drop'] },
    ],
    output: 'out',
  };
}

/** The same model with every layer renamed (as when an architecture is rebuilt in a new Python session). */
export function renamed(m: ModelDesc, suffix: string): ModelDesc {
  const rn = (n: string) => `${n}${suffix}`;
  return {
    ...m,
    name: rn(m.name),
    inputName: rn(m.inputName),
    output: m.output ? rn(m.output) : undefined,
    layers: m.layers.map((l) => ({ ...l, name: rn(l.name), inputs: l.inputs?.map(rn), model: l.model ? renamed(l.model, suffix) : undefined })),
  };
}

function findLayer(model: tfl.LayersModel, name: string): tfl.layers.Layer | null {
  for (const l of model.layers) {
    if (l.name === name) return l;
    if (l instanceof tfl.LayersModel) {
      const inner = findLayer(l, name);
      if (inner) return inner;
    }
  }
  return null;
}

/** Puts the description's arrays into the tfjs layers of the same names. */
export function setWeights(model: tfl.LayersModel, m: ModelDesc): void {
  for (const l of m.layers) {
    if (l.model) {
      setWeights(model, l.model);
      continue;
    }
    if (l.weights.length === 0) continue;
    const layer = findLayer(model, l.name);
    if (!layer) throw new Error(`reference model has no layer ${l.name}`);
    layer.setWeights(l.weights.map((w) => tf.tensor(w.arr.data, w.arr.shape)));
  }
}

/** Model A built with tf.sequential / tf.model. */
export function referenceA(m: ModelDesc): tfl.LayersModel {
  const bi = tfl.input({ shape: [8, 8, 6], name: 'block_input' });
  const bc = tfl.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', activation: 'relu', name: 'block_conv' }).apply(bi) as tfl.SymbolicTensor;
  const bb = tfl.layers.batchNormalization({ name: 'block_bn', epsilon: 0.001 }).apply(bc) as tfl.SymbolicTensor;
  const bp = tfl.layers.conv2d({ filters: 4, kernelSize: 1, padding: 'same', name: 'block_proj' }).apply(bi) as tfl.SymbolicTensor;
  const ba = tfl.layers.add({ name: 'block_add' }).apply([bb, bp]) as tfl.SymbolicTensor;
  const block = tfl.model({ inputs: bi, outputs: ba, name: 'block' });
  const model = tfl.sequential({
    name: 'cnn_a',
    layers: [
      tfl.layers.conv2d({ inputShape: [16, 16, 3], filters: 6, kernelSize: 3, padding: 'same', activation: 'relu', name: 'features' }),
      tfl.layers.batchNormalization({ name: 'batch_normalization', epsilon: 0.001 }),
      tfl.layers.maxPooling2d({ poolSize: 2, strides: 2, name: 'max_pooling2d' }),
      block,
      tfl.layers.globalAveragePooling2d({ name: 'global_average_pooling2d' }),
      tfl.layers.dense({ units: 8, activation: 'relu', name: 'hidden' }),
      tfl.layers.dense({ units: 3, activation: 'softmax', name: 'probs' }),
    ],
  });
  setWeights(model, m);
  return model;
}

/**
 * Model B built with tf.model, without its Rescaling layer: the caller feeds it x * 2 - 1, so Rescaling's
 * translation is checked against the formula.
 */
export function referenceB(m: ModelDesc): tfl.LayersModel {
  const image = tfl.input({ shape: [16, 16, 3], name: 'image' });
  const a = tfl.layers.conv2d({ filters: 6, kernelSize: 3, padding: 'same', activation: 'relu', name: 'conv_a' }).apply(image) as tfl.SymbolicTensor;
  const bn = tfl.layers.batchNormalization({ name: 'bn_a', epsilon: 0.001 }).apply(a) as tfl.SymbolicTensor;
  const p = tfl.layers.maxPooling2d({ poolSize: 2, strides: 2, name: 'pool' }).apply(bn) as tfl.SymbolicTensor;
  const tower = tfl.sequential({
    name: 'tower',
    layers: [tfl.layers.batchNormalization({ inputShape: [8, 8, 6], name: 'tower_bn', epsilon: 0.001 }), tfl.layers.conv2d({ filters: 5, kernelSize: 3, padding: 'same', activation: 'relu', name: 'tower_conv' })],
  });
  const t = tower.apply(p) as tfl.SymbolicTensor;
  const side = tfl.layers.conv2d({ filters: 3, kernelSize: 1, padding: 'same', name: 'side' }).apply(p) as tfl.SymbolicTensor;
  const merged = tfl.layers.concatenate({ axis: -1, name: 'merge' }).apply([t, side]) as tfl.SymbolicTensor;
  const g = tfl.layers.globalAveragePooling2d({ name: 'gap' }).apply(merged) as tfl.SymbolicTensor;
  const fc = tfl.layers.dense({ units: 8, activation: 'relu', name: 'fc' }).apply(g) as tfl.SymbolicTensor;
  const out = tfl.layers.dense({ units: 3, activation: 'softmax', name: 'out' }).apply(fc) as tfl.SymbolicTensor;
  const model = tfl.model({ inputs: image, outputs: out, name: 'cnn_b' });
  setWeights(model, m);
  return model;
}

/** A batch of two 16x16 RGB inputs in [0, 1] from a seed. */
export function sampleInput(seed: number): tf.Tensor4D {
  const w = new Weights(seed);
  return tf.tensor4d(w.uniform([2, 16, 16, 3], 0, 1).data, [2, 16, 16, 3]);
}

export async function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): Promise<number> {
  const d = tf.max(tf.abs(tf.sub(a, b)));
  const v = (await d.data())[0];
  d.dispose();
  return v;
}

/** C: one Dense layer shared by two branches (GAP and GMP of a conv), then Add and a Dense head. */
export function modelC(seed: number): ModelDesc {
  const w = new Weights(seed);
  return {
    kind: 'Functional',
    name: 'cnn_c',
    inputName: 'img',
    inputShape: [16, 16, 3],
    layers: [
      { ...conv2d(w, 'c1', 3, 6, 3, { activation: 'relu' }), inputs: ['img'] },
      { ...gap('avg'), inputs: ['c1'] },
      { ...plain('GlobalMaxPooling2D', 'mx', { data_format: 'channels_last', keepdims: false }), inputs: ['c1'] },
      { ...dense(w, 'shared', 6, 5, 'relu'), calls: [['avg'], ['mx']] },
      { ...plain('Add', 'sum'), inputs: ['shared', 'shared@1'] },
      { ...dense(w, 'head', 5, 3, 'softmax'), inputs: ['sum'] },
    ],
    output: 'head',
  };
}

export function referenceC(m: ModelDesc): tfl.LayersModel {
  const img = tfl.input({ shape: [16, 16, 3], name: 'img' });
  const c1 = tfl.layers.conv2d({ filters: 6, kernelSize: 3, padding: 'same', activation: 'relu', name: 'c1' }).apply(img) as tfl.SymbolicTensor;
  const avg = tfl.layers.globalAveragePooling2d({ name: 'avg' }).apply(c1) as tfl.SymbolicTensor;
  const mx = tfl.layers.globalMaxPooling2d({ name: 'mx' }).apply(c1) as tfl.SymbolicTensor;
  const shared = tfl.layers.dense({ units: 5, activation: 'relu', name: 'shared' });
  const sum = tfl.layers.add({ name: 'sum' }).apply([shared.apply(avg) as tfl.SymbolicTensor, shared.apply(mx) as tfl.SymbolicTensor]) as tfl.SymbolicTensor;
  const head = tfl.layers.dense({ units: 3, activation: 'softmax', name: 'head' }).apply(sum) as tfl.SymbolicTensor;
  const model = tfl.model({ inputs: img, outputs: head, name: 'cnn_c' });
  setWeights(model, m);
  return model;
}
