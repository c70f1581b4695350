// Translates Keras model configs (Keras 3 and Keras 2 dialects) into the Keras-2 dialect that
// TensorFlow.js layers 4.22 accepts, and records per layer which weights it owns (a "plan" the weight
// readers follow). Layers tfjs cannot run are refused with one line naming the layer and its class;
// exact translations are made where they exist (see README-keras.md for the list).
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { LensError, fileError } from '../../errors';
import { ownWeights } from './layerWeights';
import './normalizationLayer';

export interface PlannedWeight {
  /** Full tfjs weight name: "<layer>/<short>". */
  name: string;
  short: string;
  trainable: boolean;
}

/** One layer (or nested model) of the model, as far as loading its weights is concerned. */
export interface LayerPlan {
  name: string;
  /** Class as written in the Keras file (names the layer's group in Keras 3 weight files). */
  kerasClass: string;
  /** Class after translation (the tfjs class). */
  className: string;
  /** The normalized (snake_case, Keras-2 dialect) config. */
  config: any;
  trainable: boolean;
  /** Own weights in Keras' saving order; empty for models. */
  weights: PlannedWeight[];
  /** The weight layout of this class is not known: the layer can load only when the file has no arrays for it. */
  unknownWeights: boolean;
  /** Nested model: its layers in Keras' `model.layers` order (Sequential: without the leading InputLayer). */
  children: LayerPlan[] | null;
}

export interface NormalizeOptions {
  /** Names the file in error messages. */
  file?: string;
  /** Keras version that wrote the file, when known ("2.15.0", "3.10.0"). */
  kerasVersion?: string;
}

interface Ctx {
  file?: string;
  keras3: boolean;
  /** Nesting depth of models (real models nest two or three levels). */
  depth: number;
}

const MAX_NESTING = 32;

const MODEL_CLASSES = new Set(['Sequential', 'Functional', 'Model']);

/** Layers that are the identity at inference: replaced by a linear Activation keeping the layer's name. */
const IDENTITY_AT_INFERENCE = new Set([
  'Identity', 'ActivityRegularization', 'SpatialDropout2D', 'SpatialDropout3D',
  'RandomFlip', 'RandomRotation', 'RandomZoom', 'RandomContrast', 'RandomTranslation', 'RandomBrightness',
  'RandomHeight', 'RandomWidth', 'RandomGrayscale', 'RandomHue', 'RandomSaturation', 'RandomSharpness',
  'RandomShear', 'RandomColorJitter', 'RandomColorDegeneration', 'RandomPosterization', 'RandomErasing',
  'RandomGaussianBlur', 'RandomInvert', 'RandomPerspective', 'RandomElasticTransform',
]);

/** Preprocessing layers whose state (vocabularies, bins, hashes) lives in Python and has no tfjs twin. */
const PYTHON_STATE_LAYERS = new Set(['StringLookup', 'IntegerLookup', 'TextVectorization', 'Hashing', 'HashedCrossing', 'Discretization']);

const ACTIVATIONS = new Set(['linear', 'relu', 'relu6', 'sigmoid', 'softmax', 'tanh', 'elu', 'selu', 'softplus', 'softsign', 'swish', 'mish', 'gelu', 'gelu_new', 'log_softmax', 'hard_sigmoid']);

function fail(ctx: Ctx, msg: string): never {
  throw ctx.file ? fileError(ctx.file, msg) : new LensError(msg);
}

function layerFail(ctx: Ctx, name: string, cls: string, why: string): never {
  fail(ctx, `layer '${name}' (${cls}) cannot be loaded: ${why}`);
}

function registeredClass(name: string): any {
  const map = (tf.serialization.SerializationMap.getMap() as any).classNameMap as Record<string, [any, any]>;
  return Object.prototype.hasOwnProperty.call(map, name) ? map[name][0] : null;
}

function isTfjsLayerClass(name: string): boolean {
  const c = registeredClass(name);
  return !!c && c.prototype instanceof tfl.layers.Layer;
}

function isObject(v: unknown): v is Record<string, any> {
  return !!v && typeof v === 'object' && !Array.isArray(v);
}

/** Signs of the Keras 3 dialect, for when the file does not say which Keras wrote it. */
function hasKeras3Markers(v: unknown, depth = 0): boolean {
  if (depth > 200) return false;
  if (Array.isArray(v)) return v.some((x) => hasKeras3Markers(x, depth + 1));
  if (!isObject(v)) return false;
  if (v.class_name === 'DTypePolicy' || v.class_name === '__keras_tensor__') return true;
  if (v.class_name === 'InputLayer' && isObject(v.config) && 'batch_shape' in v.config) return true;
  return Object.values(v).some((x) => hasKeras3Markers(x, depth + 1));
}

function dtypeName(v: unknown): unknown {
  let name: unknown = v;
  if (isObject(v)) name = isObject(v.config) ? v.config.name : v.name;
  if (typeof name !== 'string') return 'float32';
  // tfjs computes in float32 (mixed precision keeps float32 variables), and images reach the model as
  // float32 even when Keras declared a uint8 input; layers that need integers (Embedding) cast themselves.
  if (/float|mixed|^u?int/.test(name)) return 'float32';
  return name;
}

const VARIANCE_DISTRIBUTIONS = new Set(['normal', 'uniform', 'truncated_normal']);

/** Initializers only matter before weights are loaded; anything tfjs would not accept becomes Zeros. */
function initializer(v: unknown): unknown {
  if (v == null) return null;
  const zeros = { class_name: 'Zeros', config: {} };
  if (typeof v === 'string') return v;
  if (!isObject(v) || typeof v.class_name !== 'string' || !registeredClass(v.class_name)) return zeros;
  const config = isObject(v.config) ? { ...v.config } : {};
  if ('seed' in config && typeof config.seed !== 'number') config.seed = null;
  if (v.class_name === 'VarianceScaling' && !VARIANCE_DISTRIBUTIONS.has(config.distribution)) config.distribution = 'truncated_normal';
  return { class_name: v.class_name, config };
}

function activationName(v: unknown): string | null {
  if (v == null) return null;
  if (typeof v === 'string') return v;
  if (isObject(v)) {
    if (typeof v.config === 'string') return v.config; // Keras 3: {"class_name": "function", "config": "relu", ...}
    if (isObject(v.config) && typeof v.config.name === 'string') return v.config.name;
    if (typeof v.class_name === 'string') return v.class_name;
  }
  return String(v);
}

function activation(v: unknown, ctx: Ctx, lname: string, cls: string): string | null {
  let name = activationName(v);
  if (name == null) return null;
  if (name === 'silu') name = 'swish';
  if (name === 'hard_sigmoid' && ctx.keras3) {
    layerFail(ctx, lname, cls, "activation 'hard_sigmoid' is relu6(x + 3) / 6 in Keras 3 but 0.2 x + 0.5 in TensorFlow.js; no exact translation");
  }
  if (!ACTIVATIONS.has(name)) layerFail(ctx, lname, cls, `activation '${name}' is not available in TensorFlow.js`);
  return name;
}

/** Cleans a layer config: dtype policies, activations, initializers; drops regularizers and constraints. */
function cleanConfig(cfg: Record<string, any>, ctx: Ctx, lname: string, cls: string): Record<string, any> {
  const out: Record<string, any> = {};
  for (const [k, v] of Object.entries(cfg)) {
    if (k === 'dtype') out.dtype = dtypeName(v);
    else if (k.endsWith('_initializer')) out[k] = initializer(v);
    else if (k.endsWith('_regularizer') || k.endsWith('_constraint')) out[k] = null; // training-only
    else if (k === 'activation' || k === 'recurrent_activation') out[k] = activation(v, ctx, lname, cls);
    else if (k === 'seed' && typeof v !== 'number') out[k] = null;
    else out[k] = v;
  }
  return out;
}

interface Normalized {
  entry: Record<string, any>;
  plan: LayerPlan;
}

/** Class-specific translations; returns the tfjs class and config, or refuses the layer. */
function translateLayer(cls: string, cfg: Record<string, any>, ctx: Ctx, name: string): { cls: string; cfg: Record<string, any> } {
  const bad = (why: string): never => layerFail(ctx, name, cls, why);
  if (IDENTITY_AT_INFERENCE.has(cls)) {
    return { cls: 'Activation', cfg: { name, trainable: cfg.trainable ?? true, dtype: 'float32', activation: 'linear' } };
  }
  switch (cls) {
    case 'InputLayer': {
      const out: Record<string, any> = { ...cfg };
      if ('batch_shape' in out) {
        if (out.batch_input_shape == null) out.batch_input_shape = out.batch_shape;
        delete out.batch_shape;
      }
      if (out.batch_input_shape == null && Array.isArray(out.shape)) out.batch_input_shape = [out.batch_size ?? null, ...out.shape];
      delete out.shape;
      if (out.batch_input_shape != null) delete out.batch_size;
      if (out.ragged) bad('ragged inputs are not supported by TensorFlow.js');
      delete out.ragged;
      delete out.optional;
      if (out.batch_input_shape == null && out.input_shape == null) bad('the input layer has no shape');
      return { cls, cfg: out };
    }
    case 'LeakyReLU': {
      const out = { ...cfg };
      if ('negative_slope' in out) {
        out.alpha = out.negative_slope;
        delete out.negative_slope;
      }
      return { cls, cfg: out };
    }
    case 'ReLU': {
      const slope = Number(cfg.negative_slope ?? 0);
      const threshold = Number(cfg.threshold ?? 0);
      if (threshold !== 0) bad(`ReLU with threshold ${threshold} is not supported by TensorFlow.js`);
      if (slope !== 0) {
        if (cfg.max_value != null) bad('ReLU with both negative_slope and max_value is not supported by TensorFlow.js');
        return { cls: 'LeakyReLU', cfg: { name, trainable: cfg.trainable ?? true, dtype: cfg.dtype, alpha: slope } };
      }
      const { negative_slope: _n, threshold: _t, ...rest } = cfg;
      return { cls, cfg: rest };
    }
    case 'Activation':
      if (cfg.activation === 'leaky_relu' || activationName(cfg.activation) === 'leaky_relu') {
        return { cls: 'LeakyReLU', cfg: { name, trainable: cfg.trainable ?? true, dtype: cfg.dtype, alpha: 0.2 } };
      }
      return { cls, cfg };
    case 'Conv1D':
    case 'Conv2D':
    case 'Conv3D':
    case 'Conv2DTranspose':
    case 'Conv3DTranspose':
    case 'DepthwiseConv2D':
    case 'SeparableConv2D': {
      if (cfg.groups != null && Number(cfg.groups) !== 1) bad(`grouped convolution (groups=${cfg.groups}) is not supported by TensorFlow.js`);
      const { groups: _g, ...rest } = cfg;
      if (cls === 'Conv2DTranspose' && rest.output_padding != null) bad('output_padding is not supported by TensorFlow.js');
      return { cls, cfg: rest };
    }
    case 'Dense':
    case 'Embedding':
      if (cfg.lora_rank != null) bad('LoRA-enabled layers are not supported (merge the LoRA weights before saving)');
      if (cfg.quantization_config != null || cfg.dtype === 'int8' || (isObject(cfg.dtype) && /int8|int4|float8/.test(JSON.stringify(cfg.dtype)))) bad('quantized layers are not supported');
      return { cls, cfg: omit(cfg, ['lora_rank', 'lora_alpha', 'quantization_config']) };
    case 'BatchNormalization': {
      const out = omit(cfg, ['synchronized', 'fused', 'adjustment']);
      if (Array.isArray(out.axis)) {
        if (out.axis.length !== 1) bad(`normalizing over several axes (${JSON.stringify(out.axis)}) is not supported by TensorFlow.js`);
        out.axis = out.axis[0];
      }
      if (out.renorm) bad('batch renormalization (renorm=True) is not supported');
      if (out.virtual_batch_size != null) bad('virtual_batch_size is not supported');
      return { cls, cfg: omit(out, ['renorm', 'renorm_clipping', 'renorm_momentum', 'virtual_batch_size']) };
    }
    case 'LayerNormalization':
      if (cfg.rms_scaling) bad('rms_scaling is not supported by TensorFlow.js');
      return { cls, cfg: omit(cfg, ['rms_scaling']) };
    case 'GlobalAveragePooling1D':
    case 'GlobalAveragePooling2D':
    case 'GlobalMaxPooling1D':
    case 'GlobalMaxPooling2D':
      if (cfg.keepdims) bad('keepdims=True is not supported by TensorFlow.js');
      return { cls, cfg: omit(cfg, ['keepdims']) };
    case 'UpSampling2D':
      if (cfg.interpolation && !['nearest', 'bilinear'].includes(cfg.interpolation)) bad(`interpolation '${cfg.interpolation}' is not supported by TensorFlow.js`);
      return { cls, cfg };
    case 'Resizing':
      if (cfg.pad_to_aspect_ratio) bad('pad_to_aspect_ratio is not supported by TensorFlow.js');
      if (cfg.interpolation && !['nearest', 'bilinear'].includes(cfg.interpolation)) bad(`interpolation '${cfg.interpolation}' is not supported by TensorFlow.js`);
      return { cls, cfg: omit(cfg, ['pad_to_aspect_ratio', 'fill_mode', 'fill_value', 'antialias', 'data_format']) };
    case 'GRU':
      if (cfg.reset_after !== false) bad('GRU with reset_after=True (the Keras default) is not supported by TensorFlow.js');
      return { cls, cfg };
    case 'Normalization':
      return { cls, cfg: { name, trainable: cfg.trainable ?? true, dtype: 'float32', axis: cfg.axis === undefined ? -1 : cfg.axis, mean: cfg.mean ?? null, variance: cfg.variance ?? null, invert: !!cfg.invert } };
    default:
      return { cls, cfg };
  }
}

/** Config keys with which a layer can declare the model's input shape (read by Keras from the first layer only). */
const INPUT_SHAPE_KEYS = ['batch_input_shape', 'batch_shape', 'input_shape', 'batch_size', 'input_dim'];

/**
 * Follows Keras: only the model's input defines the input shape. Tutorial code passes `input_shape=…` to a later
 * layer too; Keras ignores it there, tfjs builds that layer for it and fails ("expected ndim=4, found ndim=3").
 * `keep` (the first layer of a Sequential, an InputLayer) keeps its shape, with the batch size made free: a
 * batch size fixed at 32 when the model was saved must not stop a batch of 1.
 */
function inputShapeOnlyWhereRead(cfg: Record<string, any>, keep: boolean): void {
  if (!keep) {
    for (const k of INPUT_SHAPE_KEYS) delete cfg[k];
    return;
  }
  for (const k of ['batch_input_shape', 'batch_shape']) {
    if (Array.isArray(cfg[k]) && cfg[k].length > 0 && cfg[k][0] != null) cfg[k] = [null, ...cfg[k].slice(1)];
  }
  if (cfg.batch_size != null) delete cfg.batch_size;
}

function omit(o: Record<string, any>, keys: string[]): Record<string, any> {
  const out = { ...o };
  for (const k of keys) delete out[k];
  return out;
}

function normalizeLayer(entry: unknown, ctx: Ctx): Normalized {
  if (!isObject(entry) || typeof entry.class_name !== 'string') fail(ctx, 'model config has a layer entry without a class_name');
  const cls: string = entry.class_name;
  const rawCfg = isObject(entry.config) ? entry.config : Array.isArray(entry.config) ? { layers: entry.config } : {};
  const name: string = typeof rawCfg.name === 'string' ? rawCfg.name : typeof entry.name === 'string' ? entry.name : cls.toLowerCase();
  const module: string | undefined = typeof entry.module === 'string' ? entry.module : undefined;
  const registered: string | undefined = typeof entry.registered_name === 'string' ? entry.registered_name : undefined;

  if (module && /^keras(\.src)?\.ops\b/.test(module)) {
    layerFail(ctx, name, cls, 'it is a Keras operation applied to tensors (keras.ops / an operator on Keras tensors), not a layer; TensorFlow.js has no equivalent — express it with built-in layers and save again');
  }
  if (MODEL_CLASSES.has(cls)) return normalizeModel(entry, ctx);
  if (Array.isArray(rawCfg.layers) && !isTfjsLayerClass(cls)) {
    layerFail(ctx, name, cls, `custom model class${registered && registered !== cls ? ` (registered as '${registered}')` : ''}: its Python code is needed; save a Functional or Sequential model instead`);
  }
  if (cls === 'Lambda') {
    layerFail(ctx, name, cls, 'Lambda layers hold Python code; replace the Lambda by built-in layers (e.g. Rescaling, Activation, Reshape) and save the model again');
  }
  if (cls === 'TFOpLambda' || cls === 'SlicingOpLambda' || cls === 'TensorFlowOpLayer') {
    layerFail(ctx, name, cls, 'it wraps a raw TensorFlow op called on Keras tensors (e.g. tf.math.add, x[:, 0]); express it with built-in layers and save again');
  }
  if (PYTHON_STATE_LAYERS.has(cls)) {
    layerFail(ctx, name, cls, 'this preprocessing layer keeps Python-side state (vocabulary, bins or hashes) that TensorFlow.js cannot run; apply it outside the model');
  }
  const translated = translateLayer(cls, rawCfg, ctx, name);
  const outCls = translated.cls;
  let cfg = translated.cfg;
  if (!isTfjsLayerClass(outCls)) {
    const custom = registered && registered !== cls ? ` (registered as '${registered}')` : module && !/^keras/.test(module) ? ` (from module '${module}')` : '';
    layerFail(ctx, name, cls, `unknown layer or class '${cls}'${custom} (not available in TensorFlow.js; custom layers need their Python code)`);
  }
  cfg = cleanConfig(cfg, ctx, name, cls);
  cfg.name = name;
  // Wrappers hold their inner layer's config.
  for (const key of ['layer', 'backward_layer']) {
    if (isObject(cfg[key])) cfg[key] = normalizeLayer(cfg[key], ctx).entry;
  }
  const own = ownWeights(outCls, cfg);
  const plan: LayerPlan = {
    name,
    kerasClass: cls,
    className: outCls,
    config: cfg,
    trainable: cfg.trainable !== false,
    weights: (own ?? []).map((w) => ({ name: `${name}/${w.short}`, short: w.short, trainable: w.trainable })),
    unknownWeights: own === null,
    children: null,
  };
  return { entry: { class_name: outCls, config: cfg }, plan };
}

/** A tensor reference [layer, node, tensor] from Keras 3's "__keras_tensor__" objects, depth first. */
function collectKerasTensors(v: unknown, out: [string, number, number][], depth = 0): void {
  if (depth > 50) return;
  if (Array.isArray(v)) {
    for (const x of v) collectKerasTensors(x, out, depth + 1);
  } else if (isObject(v)) {
    if (v.class_name === '__keras_tensor__' && isObject(v.config) && Array.isArray(v.config.keras_history)) {
      const [l, n, t] = v.config.keras_history;
      out.push([String(l), Number(n), Number(t)]);
    } else {
      for (const x of Object.values(v)) collectKerasTensors(x, out, depth + 1);
    }
  }
}

/** input_layers / output_layers: a list of [layer, node, tensor], a single one, or a dict of them. */
function tensorRefs(v: unknown, depth = 0): [string, number, number][] {
  if (depth > 50) return [];
  if (Array.isArray(v) && v.length === 3 && typeof v[0] === 'string' && typeof v[1] === 'number') return [v as [string, number, number]];
  if (Array.isArray(v)) return v.flatMap((x) => tensorRefs(x, depth + 1));
  if (isObject(v)) return Object.values(v).flatMap((x) => tensorRefs(x, depth + 1));
  return [];
}

function normalizeModel(entry: Record<string, any>, outer: Ctx): Normalized {
  const ctx: Ctx = { ...outer, depth: outer.depth + 1 };
  if (ctx.depth > MAX_NESTING) fail(ctx, `models nested more than ${MAX_NESTING} levels deep`);
  const cls: string = entry.class_name;
  const rawCfg = Array.isArray(entry.config) ? { layers: entry.config } : isObject(entry.config) ? entry.config : {};
  const name: string = typeof rawCfg.name === 'string' ? rawCfg.name : typeof entry.name === 'string' ? entry.name : cls.toLowerCase();
  const layers: unknown[] = Array.isArray(rawCfg.layers) ? rawCfg.layers : [];
  const trainable = rawCfg.trainable !== false;
  if (cls === 'Sequential') {
    const outLayers: Record<string, any>[] = [];
    const children: LayerPlan[] = [];
    layers.forEach((l, i) => {
      const n = normalizeLayer(l, ctx);
      if (!MODEL_CLASSES.has(n.entry.class_name)) inputShapeOnlyWhereRead(n.entry.config, i === 0);
      outLayers.push(n.entry);
      if (!(i === 0 && n.plan.className === 'InputLayer')) children.push(n.plan);
    });
    if (outLayers.length === 0) fail(ctx, `model '${name}' has no layers`);
    const first = outLayers[0];
    const hasInputShape = first.class_name === 'InputLayer' || MODEL_CLASSES.has(first.class_name) || first.config?.batch_input_shape != null || first.config?.input_shape != null;
    if (!hasInputShape) {
      // Keras 3 keeps the input shape of a Sequential built without an Input in "build_input_shape".
      const shape = rawCfg.build_input_shape ?? entry.build_config?.input_shape;
      if (!Array.isArray(shape)) fail(ctx, `model '${name}' does not say its input shape (build the Sequential with an Input before saving)`);
      outLayers.unshift({ class_name: 'InputLayer', config: { batch_input_shape: shape.length > 0 ? [null, ...shape.slice(1)] : shape, dtype: 'float32', sparse: false, name: `${name}_input` } });
    }
    const plan: LayerPlan = { name, kerasClass: cls, className: cls, config: { name }, trainable, weights: [], unknownWeights: false, children };
    return { entry: { class_name: 'Sequential', config: { name, layers: outLayers, ...(trainable ? {} : { trainable: false }) } }, plan };
  }

  // Functional. Keras 3 writes call nodes as {"args": [...], "kwargs": {...}} and numbers a nested
  // Sequential's calls from 0, whereas tfjs (like Keras 2) gives every model a first node of its own.
  const keras3Nodes = layers.some((l) => isObject(l) && Array.isArray(l.inbound_nodes) && l.inbound_nodes.some((n: unknown) => isObject(n)));
  const sequentials = new Set(layers.filter((l) => isObject(l) && l.class_name === 'Sequential').map((l) => (l as any).config?.name ?? (l as any).name));
  const shift = (ref: [string, number, number]): [string, number, number] => (keras3Nodes && sequentials.has(ref[0]) ? [ref[0], ref[1] + 1, ref[2]] : ref);
  const outLayers: Record<string, any>[] = [];
  const children: LayerPlan[] = [];
  for (const l of layers) {
    const n = normalizeLayer(l, ctx);
    if (!MODEL_CLASSES.has(n.entry.class_name)) inputShapeOnlyWhereRead(n.entry.config, n.entry.class_name === 'InputLayer');
    const raw = l as Record<string, any>;
    const inbound: unknown[] = Array.isArray(raw.inbound_nodes) ? raw.inbound_nodes : [];
    const nodes = inbound.map((node) => {
      if (Array.isArray(node)) {
        return node.map((ref: any) => (Array.isArray(ref) ? [ref[0], ref[1], ref[2], isObject(ref[3]) ? ref[3] : {}] : ref));
      }
      const refs: [string, number, number][] = [];
      collectKerasTensors(isObject(node) ? node.args : node, refs);
      if (refs.length === 0) layerFail(ctx, n.plan.name, n.plan.kerasClass, 'a call of this layer has no tensor inputs');
      const kwargs: Record<string, unknown> = {};
      if (isObject(node) && isObject(node.kwargs)) {
        for (const [k, v] of Object.entries(node.kwargs)) {
          if (k !== 'training' && k !== 'mask' && (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'string')) kwargs[k] = v;
        }
      }
      return refs.map((r) => [...shift(r), kwargs]);
    });
    outLayers.push({ name: n.plan.name, class_name: n.entry.class_name, config: n.entry.config, inbound_nodes: nodes });
    children.push(n.plan);
  }
  if (outLayers.length === 0) fail(ctx, `model '${name}' has no layers`);
  const inputs = tensorRefs(rawCfg.input_layers).map(shift);
  const outputs = tensorRefs(rawCfg.output_layers).map(shift);
  if (inputs.length === 0 || outputs.length === 0) fail(ctx, `model '${name}' does not list its inputs and outputs`);
  const plan: LayerPlan = { name, kerasClass: cls, className: 'Functional', config: { name }, trainable, weights: [], unknownWeights: false, children };
  const config: Record<string, any> = { name, layers: outLayers, input_layers: inputs, output_layers: outputs };
  if (!trainable) config.trainable = false;
  return { entry: { class_name: cls === 'Model' ? 'Model' : 'Functional', config }, plan };
}

export interface NormalizedTopology {
  /** The tfjs-loadable topology: {class_name, config, keras_version, backend} (or {model_config, …} as given). */
  topology: any;
  plan: LayerPlan;
  keras3: boolean;
}

/** Normalizes a Keras model config and returns the weight plan too. */
export function normalizeWithPlan(topology: unknown, opts: NormalizeOptions = {}): NormalizedTopology {
  const ctxBase: Ctx = { file: opts.file, keras3: false, depth: 0 };
  if (!isObject(topology)) fail(ctxBase, 'model config is not a JSON object');
  if (isObject(topology.model_config)) {
    const inner = normalizeWithPlan(topology.model_config, { ...opts, kerasVersion: opts.kerasVersion ?? topology.keras_version });
    return { ...inner, topology: { ...topology, model_config: inner.topology } };
  }
  if (typeof topology.class_name !== 'string') fail(ctxBase, 'model config has no class_name (not a Keras model config)');
  const version = opts.kerasVersion ?? (typeof topology.keras_version === 'string' ? topology.keras_version : undefined);
  const keras3 = version ? /^3\./.test(version) : hasKeras3Markers(topology);
  const ctx: Ctx = { file: opts.file, keras3, depth: 0 };
  const cls = topology.class_name;
  if (!MODEL_CLASSES.has(cls)) {
    const reg = typeof topology.registered_name === 'string' && topology.registered_name !== cls ? ` (registered as '${topology.registered_name}')` : '';
    if (isObject(topology.config) && Array.isArray(topology.config.layers)) fail(ctx, `model class '${cls}'${reg} is a custom (subclassed) model; its Python code is needed — save a Functional or Sequential model instead`);
    fail(ctx, `model config has class '${cls}'${reg}, not a Sequential or Functional model`);
  }
  const { entry, plan } = normalizeModel(topology, ctx);
  return {
    topology: { class_name: entry.class_name, config: entry.config, ...(version ? { keras_version: version } : {}), backend: typeof topology.backend === 'string' ? topology.backend : 'tensorflow' },
    plan,
    keras3,
  };
}
