// Checks the values in one layer's config (a Keras/tfjs model topology) before TensorFlow.js builds the layer.
// tfjs-layers trusts them: a size out of range reaches the wasm kernels, a huge filter count allocates its
// weights before anything compares them with the file, and a class of the wrong kind is instantiated where an
// initializer belongs. Here each is one line naming the layer and the key.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { fileError } from '../errors';
import { MAX_INPUT_SIDE } from './inputLayout';

/** Config keys holding sizes, counts or steps (a number or a list of them), and the smallest value each allows. */
const INTEGER_KEYS: Record<string, number> = {
  units: 1, filters: 1, kernel_size: 1, strides: 1, dilation_rate: 1, pool_size: 1, size: 1, depth_multiplier: 1,
  cropping: 0, padding: 0, n: 1, dims: 1, target_shape: -1, batch_input_shape: 1, batch_shape: 1, input_shape: 1,
  height: 1, width: 1, input_dim: 1, output_dim: 1,
};
/** Largest size a layer may ask for: the wasm kernels index with 32-bit integers. */
const MAX_INT = 2 ** 31 - 1;
/**
 * Keys that are a window, step or border on an image side: none can usefully exceed the largest input side.
 * Found by fuzzing: a pool_size of 2000000 in a Keras 3 archive made building the model run for minutes.
 */
const SPATIAL_KEYS = new Set(['kernel_size', 'strides', 'dilation_rate', 'pool_size', 'size', 'cropping', 'padding', 'height', 'width']);

/**
 * Numbers in a layer's config that tfjs passes to its kernels as sizes must be whole numbers in range. Found by
 * fuzzing: a stride of 2^32 + 1 passed tfjs-layers' checks, wrapped to 1 inside the wasm convolution, which then
 * wrote past its output ("memory access out of bounds") and left the backend broken for every later request.
 */
function checkLayerNumbers(file: string, cfg: Record<string, unknown>, name: string): void {
  for (const [key, min] of Object.entries(INTEGER_KEYS)) {
    const v = cfg[key];
    if (v === undefined || v === null || (key === 'padding' && typeof v === 'string')) continue; // absent keys, 'same'/'valid' padding
    // Found by fuzzing: a batch_input_shape given as a string reached tfjs ("shape.some is not a function").
    const values: unknown[] = [];
    const flatten = (x: unknown, depth: number) => (Array.isArray(x) && depth < 3 ? x.forEach((y) => flatten(y, depth + 1)) : values.push(x));
    flatten(v, 0);
    const shapeKey = key.endsWith('shape');
    // Found by fuzzing: a shape given as one number reached tfjs ("shape.some is not a function").
    if (shapeKey && !Array.isArray(v)) throw fileError(file, `layer '${name}' has an invalid ${key} ${JSON.stringify(v).slice(0, 60)} (expected a list of whole numbers)`);
    const max = SPATIAL_KEYS.has(key) ? MAX_INPUT_SIDE : MAX_INT;
    for (const x of values) {
      if (x === null && shapeKey) continue; // an unknown (batch) size
      if (typeof x === 'number' && x > max) throw fileError(file, `layer '${name}' has ${key} ${JSON.stringify(v).slice(0, 60)}: ${SPATIAL_KEYS.has(key) ? `over ${max}, the largest image side` : `too large to allocate (at most ${max})`}`);
      if (typeof x !== 'number' || !Number.isInteger(x) || x < min || (key === 'target_shape' && x === 0)) {
        throw fileError(file, `layer '${name}' has an invalid ${key} ${JSON.stringify(v).slice(0, 60)} (expected whole numbers from ${min} to ${max})`);
      }
    }
  }
}

/** Keys that declare the model's input shape (batch first). */
const INPUT_SHAPE_KEYS = ['batch_input_shape', 'batch_shape'];
/** Most values one input image may hold: an RGBA image at the largest side. */
const MAX_INPUT_VALUES = MAX_INPUT_SIDE * MAX_INPUT_SIDE * 4;

/**
 * An input shape must be one image's worth: each size at most the largest image side, and all of them together at
 * most an RGBA image of that side. Found by fuzzing: an input of [null, 8, 8, 10^9] made tfjs allocate a 54-billion
 * value kernel for the first convolution ("Invalid typed array length: 54000000000").
 */
function checkInputShape(file: string, cfg: Record<string, unknown>, name: string): void {
  for (const key of INPUT_SHAPE_KEYS) {
    const v = cfg[key];
    if (!Array.isArray(v)) continue;
    const sizes = v.slice(1).filter((d): d is number => typeof d === 'number');
    const shown = JSON.stringify(v).slice(0, 60);
    if (sizes.some((d) => d > MAX_INPUT_SIDE)) throw fileError(file, `layer '${name}' has ${key} ${shown}: a size over ${MAX_INPUT_SIDE}, the largest image side`);
    const values = sizes.reduce((a, d) => a * d, 1);
    if (values > MAX_INPUT_VALUES) throw fileError(file, `layer '${name}' has ${key} ${shown}: ${values} values per image, over the ${MAX_INPUT_VALUES} of a ${MAX_INPUT_SIDE}×${MAX_INPUT_SIDE} RGBA image`);
  }
}

/**
 * Config keys tfjs-layers reads without a default: a layer without them fails inside tfjs (found by fuzzing: a
 * layer renamed to Reshape without a target_shape, "Cannot read properties of undefined (reading 'length')").
 */
const REQUIRED_KEYS: Record<string, string[]> = {
  Dense: ['units'],
  Conv1D: ['filters', 'kernel_size'],
  Conv2D: ['filters', 'kernel_size'],
  Conv3D: ['filters', 'kernel_size'],
  Conv2DTranspose: ['filters', 'kernel_size'],
  SeparableConv2D: ['filters', 'kernel_size'],
  DepthwiseConv2D: ['kernel_size'],
  Reshape: ['target_shape'],
  Permute: ['dims'],
  RepeatVector: ['n'],
  Embedding: ['input_dim', 'output_dim'],
};

/**
 * Config keys that are real numbers tfjs computes with, per layer class: `lists` where Keras also takes a list
 * (per-channel statistics), `nullable` where null means "none". tfjs turns a list into a tensor by flattening
 * it, and flattening drops anything that is not a number: found by fuzzing, a Rescaling offset of
 * [{"key": "location", …}] became a 1-element tensor with no values, which the wasm backend refused with
 * "Invalid typed array length: 4" inside the first prediction. A string or an object where a rate or epsilon
 * belongs is not refused by tfjs at all: it computes NaN.
 */
const REAL_KEYS: Record<string, { keys: string[]; lists?: boolean; nullable?: boolean }> = {
  Rescaling: { keys: ['scale', 'offset'], lists: true },
  Normalization: { keys: ['mean', 'variance'], lists: true, nullable: true },
  LeakyReLU: { keys: ['alpha', 'negative_slope'] },
  ELU: { keys: ['alpha'] },
  ThresholdedReLU: { keys: ['theta'] },
  ReLU: { keys: ['max_value', 'negative_slope', 'threshold'], nullable: true },
  Dropout: { keys: ['rate'] },
  SpatialDropout1D: { keys: ['rate'] },
  SpatialDropout2D: { keys: ['rate'] },
  GaussianDropout: { keys: ['rate'] },
  AlphaDropout: { keys: ['rate'] },
  GaussianNoise: { keys: ['stddev'] },
  BatchNormalization: { keys: ['epsilon', 'momentum'] },
  LayerNormalization: { keys: ['epsilon'] },
};

/** Whether `v` is a finite number, or (when `lists`) a list, or list of lists, of them with one length per level. */
function isRealValue(v: unknown, lists: boolean, depth = 0): boolean {
  if (typeof v === 'number') return Number.isFinite(v);
  if (!lists || !Array.isArray(v) || v.length === 0 || depth > 4) return false;
  if (!v.every((x) => isRealValue(x, lists, depth + 1))) return false;
  const lengths = new Set(v.map((x) => (Array.isArray(x) ? x.length : -1)));
  return lengths.size === 1;
}

function checkRealValues(file: string, cls: string, cfg: Record<string, unknown>, name: string): void {
  const spec = Object.prototype.hasOwnProperty.call(REAL_KEYS, cls) ? REAL_KEYS[cls] : undefined;
  if (!spec) return;
  for (const key of spec.keys) {
    const v = cfg[key];
    if (v === undefined || (v === null && spec.nullable)) continue;
    if (!isRealValue(v, !!spec.lists)) {
      const shown = JSON.stringify(v)?.slice(0, 60) ?? String(v);
      throw fileError(file, `layer '${name}' (${cls}) has an invalid ${key} ${shown} (expected a finite number${spec.lists ? ' or a list of them' : ''})`);
    }
  }
}

const num = (v: unknown, d: number) => (typeof v === 'number' ? v : d);
const prod = (v: unknown) => (Array.isArray(v) ? v.reduce((a: number, b) => a * num(b, 1), 1) : num(v, 1));

/**
 * The fewest weight values a layer with this config has, whatever its input: a kernel holds at least
 * kernel area × filters (× depth_multiplier) values, a Dense or recurrent layer at least `units`, an Embedding
 * input_dim × output_dim.
 */
function leastWeightValues(cfg: Record<string, unknown>): { values: number; from: string } | null {
  if (typeof cfg.filters === 'number' || typeof cfg.depth_multiplier === 'number') {
    const values = prod(cfg.kernel_size) * num(cfg.filters, 1) * num(cfg.depth_multiplier, 1);
    const parts = ['kernel_size', 'filters', 'depth_multiplier'].filter((k) => cfg[k] !== undefined).map((k) => `${k} ${JSON.stringify(cfg[k])}`);
    return { values, from: parts.join(', ') };
  }
  if (typeof cfg.units === 'number') return { values: cfg.units, from: `units ${cfg.units}` };
  if (typeof cfg.input_dim === 'number' && typeof cfg.output_dim === 'number') return { values: cfg.input_dim * cfg.output_dim, from: `input_dim ${cfg.input_dim}, output_dim ${cfg.output_dim}` };
  return null;
}

/** The base class of tfjs-layers' initializers, regularizers and constraints (the kinds a config key names). */
const KIND_BASES: [suffix: string, what: string, base: () => unknown][] = [
  ['_initializer', 'an initializer', () => Object.getPrototypeOf(tfl.initializers.zeros().constructor)],
  ['_regularizer', 'a regularizer', () => Object.getPrototypeOf(tfl.regularizers.l1().constructor)],
  ['_constraint', 'a constraint', () => Object.getPrototypeOf(tfl.constraints.nonNeg().constructor)],
];

/**
 * A config key ending in _initializer / _regularizer / _constraint that names a class tfjs knows as something
 * else. Found by fuzzing: a kernel_initializer of class 'linear' (an activation), 'Model' or "Reshape" reached
 * tfjs, which built that class and failed ("initialValue.cast is not a function", "reading 'length'"). Names
 * tfjs does not register as classes ('zeros', 'glorot_uniform': its own aliases) are left to tfjs.
 */
function checkClassKinds(file: string, cfg: Record<string, unknown>, name: string): void {
  const registry = tf.serialization.SerializationMap.getMap().classNameMap;
  for (const [key, v] of Object.entries(cfg)) {
    const kind = KIND_BASES.find(([suffix]) => key.endsWith(suffix));
    if (!kind || !v || Array.isArray(v)) continue;
    // The object form {class_name, config}, or a bare name (found by fuzzing: a bias_initializer "Reshape").
    const cls = typeof v === 'string' ? v : typeof v === 'object' ? (v as Record<string, unknown>).class_name : undefined;
    if (typeof cls !== 'string' || !Object.prototype.hasOwnProperty.call(registry, cls)) continue;
    const ctor = registry[cls][0] as { prototype: unknown };
    const base = kind[2]() as { prototype: object };
    if (!(ctor.prototype instanceof (base as unknown as new () => unknown))) {
      throw fileError(file, `layer '${name}' has ${key} of class '${cls}', which is not ${kind[1]}`);
    }
  }
}

/**
 * Checks one (non-container) layer's config. `weightValues`, when known, is the number of weight values the
 * file holds: a layer whose config needs more cannot be loaded from it, and tfjs would allocate those weights
 * before finding out (found by fuzzing: filters 10^9 gave "Invalid typed array length: 27000000000").
 */
export function checkLayerConfig(file: string, layer: any, name: string, weightValues?: number): void {
  const cfg = layer?.config;
  if (!cfg || typeof cfg !== 'object' || Array.isArray(cfg)) return;
  const cls = String(layer.class_name);
  const required = Object.prototype.hasOwnProperty.call(REQUIRED_KEYS, cls) ? REQUIRED_KEYS[cls] : [];
  for (const key of required) if (cfg[key] === undefined || cfg[key] === null) throw fileError(file, `layer '${name}' (${cls}) has no ${key} in its config`);
  checkLayerNumbers(file, cfg, name);
  checkRealValues(file, cls, cfg, name);
  checkInputShape(file, cfg, name);
  checkClassKinds(file, cfg, name);
  if (weightValues === undefined) return;
  const least = leastWeightValues(cfg);
  if (least && least.values > weightValues) {
    throw fileError(file, `layer '${name}' has ${least.from}: its weights would hold at least ${least.values} values, but the file's weights hold ${weightValues} in all`);
  }
}
