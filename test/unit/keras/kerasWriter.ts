// Writes small Keras model files the way Keras does, without Python, for the Keras loader tests:
//  - Keras 2 HDF5 (`model.save('x.h5')`): root attributes model_config / keras_version / backend, group
//    model_weights with layer_names, one group per layer with weight_names, datasets "<layer>/<weight>:0";
//    a nested model's group holds all its weights, trainable ones first (`trainable_weights + non_trainable_weights`).
//  - weights-only HDF5 (`model.save_weights('w.h5')`): the same without model_config, at the root.
//  - Keras 3 `.keras` zip (config.json, metadata.json, model.weights.h5) whose weights follow saving_lib:
//    "layers/<class in snake_case, numbered per class>/vars/<i>", nested models recursively.
//  - Keras 2.13–2.15 `.keras`: same, under "_layer_checkpoint_dependencies", where a layer with weights took
//    two numbers (it was listed twice in that container).
// Configs are written in each dialect: Keras 2 ({class_name, config}, batch_input_shape, list call nodes) and
// Keras 3 (module/registered_name wrappers, DTypePolicy objects, batch_shape, {"args","kwargs"} call nodes,
// nested Sequential calls numbered from 0).
import * as fs from 'node:fs';
import { zipSync, strToU8 } from 'fflate';
import { makeRng, normalNoise } from '../../../src/engine/random';

export type Dialect = 'keras2' | 'keras2.15' | 'keras3';

export interface Arr {
  shape: number[];
  data: Float32Array;
}

export interface WeightDesc {
  short: string;
  trainable: boolean;
  arr: Arr;
}

export interface LayerDesc {
  cls: string;
  name: string;
  /** Class-specific Keras config keys (initializers given with init()). */
  cfg: Record<string, any>;
  /** Functional models: names of the layers whose outputs feed this layer ("name@1": that layer's second call). */
  inputs?: string[];
  /** A shared layer called several times: the inputs of each call (instead of `inputs`). */
  calls?: string[][];
  /** Keras creation order. */
  weights: WeightDesc[];
  model?: ModelDesc;
  trainable?: boolean;
}

export interface ModelDesc {
  kind: 'Sequential' | 'Functional';
  name: string;
  inputName: string;
  /** Without the batch dimension. */
  inputShape: number[];
  /** A batch size fixed by the InputLayer (Keras `Input(batch_size=32)`); default none. */
  batchSize?: number;
  layers: LayerDesc[];
  /** Functional: the layer giving the output. */
  output?: string;
  trainable?: boolean;
}

const INIT = Symbol('initializer');
export function init(className: string, config: Record<string, any> = {}): any {
  return { [INIT]: true, className, config };
}

// ------------------------------------------------------------------------------------------------ layers

export class Weights {
  private rng: () => number;
  constructor(seed: number) {
    this.rng = makeRng(seed);
  }
  normal(shape: number[], std: number, mean = 0): Arr {
    const n = shape.reduce((a, b) => a * b, 1);
    const data = normalNoise(n, std, this.rng);
    for (let i = 0; i < n; i++) data[i] += mean;
    return { shape, data };
  }
  uniform(shape: number[], lo: number, hi: number): Arr {
    const n = shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    for (let i = 0; i < n; i++) data[i] = lo + (hi - lo) * this.rng();
    return { shape, data };
  }
}

const regularizers = { kernel_regularizer: null, bias_regularizer: null, activity_regularizer: null, kernel_constraint: null, bias_constraint: null };

export function conv2d(w: Weights, name: string, inCh: number, filters: number, k: number, opts: { padding?: string; activation?: string; useBias?: boolean } = {}): LayerDesc {
  const useBias = opts.useBias ?? true;
  return {
    cls: 'Conv2D',
    name,
    cfg: {
      filters, kernel_size: [k, k], strides: [1, 1], padding: opts.padding ?? 'same', data_format: 'channels_last', dilation_rate: [1, 1], groups: 1,
      activation: opts.activation ?? 'linear', use_bias: useBias,
      kernel_initializer: init('GlorotUniform', { seed: null }), bias_initializer: init('Zeros'), ...regularizers,
    },
    weights: [
      { short: 'kernel', trainable: true, arr: w.normal([k, k, inCh, filters], 0.4) },
      ...(useBias ? [{ short: 'bias', trainable: true, arr: w.normal([filters], 0.1) }] : []),
    ],
  };
}

export function batchNorm(w: Weights, name: string, ch: number, opts: { center?: boolean; scale?: boolean; axis?: number | number[] } = {}): LayerDesc {
  const center = opts.center ?? true;
  const scale = opts.scale ?? true;
  return {
    cls: 'BatchNormalization',
    name,
    cfg: {
      axis: opts.axis ?? -1, momentum: 0.99, epsilon: 0.001, center, scale,
      beta_initializer: init('Zeros'), gamma_initializer: init('Ones'), moving_mean_initializer: init('Zeros'), moving_variance_initializer: init('Ones'),
      beta_regularizer: null, gamma_regularizer: null, beta_constraint: null, gamma_constraint: null,
    },
    weights: [
      ...(scale ? [{ short: 'gamma', trainable: true, arr: w.normal([ch], 0.2, 1) }] : []),
      ...(center ? [{ short: 'beta', trainable: true, arr: w.normal([ch], 0.2) }] : []),
      { short: 'moving_mean', trainable: false, arr: w.normal([ch], 0.3) },
      { short: 'moving_variance', trainable: false, arr: w.uniform([ch], 0.5, 1.5) },
    ],
  };
}

export function dense(w: Weights, name: string, inUnits: number, units: number, activation = 'linear'): LayerDesc {
  return {
    cls: 'Dense',
    name,
    cfg: { units, activation, use_bias: true, kernel_initializer: init('GlorotUniform', { seed: null }), bias_initializer: init('Zeros'), ...regularizers },
    weights: [
      { short: 'kernel', trainable: true, arr: w.normal([inUnits, units], 0.5) },
      { short: 'bias', trainable: true, arr: w.normal([units], 0.1) },
    ],
  };
}

export function plain(cls: string, name: string, cfg: Record<string, any> = {}): LayerDesc {
  return { cls, name, cfg, weights: [] };
}

export function nested(model: ModelDesc, inputs?: string[]): LayerDesc {
  return { cls: model.kind, name: model.name, cfg: {}, weights: [], model, inputs, trainable: model.trainable };
}

// ------------------------------------------------------------------------------------------------ configs

function dtypeFor(dialect: Dialect): any {
  return dialect === 'keras3' ? { module: 'keras', class_name: 'DTypePolicy', config: { name: 'float32' }, registered_name: null } : 'float32';
}

function dialectValue(v: any, dialect: Dialect): any {
  if (v && typeof v === 'object' && v[INIT]) {
    return dialect === 'keras2' ? { class_name: v.className, config: v.config } : { module: 'keras.initializers', class_name: v.className, config: v.config, registered_name: null };
  }
  return v;
}

/** Where a layer's call node number starts: models have a first node of their own (Keras 3 Sequential does not). */
function nodeIndexOf(src: LayerDesc | undefined, dialect: Dialect): number {
  if (!src?.model) return 0;
  if (dialect === 'keras3' && src.model.kind === 'Sequential') return 0;
  return 1;
}

function inputLayerEntry(name: string, shape: number[], dialect: Dialect, batch: number | null = null): any {
  if (dialect === 'keras3') {
    return { module: 'keras.layers', class_name: 'InputLayer', config: { batch_shape: [batch, ...shape], dtype: 'float32', sparse: false, ragged: false, name }, registered_name: null };
  }
  const e = { class_name: 'InputLayer', config: { batch_input_shape: [batch, ...shape], dtype: 'float32', sparse: false, ragged: false, name } };
  return dialect === 'keras2.15' ? { module: 'keras.layers', ...e, registered_name: null } : e;
}

function layerEntry(l: LayerDesc, dialect: Dialect, parent: ModelDesc): any {
  if (l.model) return modelEntry(l.model, dialect);
  const config: Record<string, any> = { name: l.name, trainable: l.trainable ?? true, dtype: dtypeFor(dialect) };
  for (const [k, v] of Object.entries(l.cfg)) config[k] = dialectValue(v, dialect);
  if (dialect === 'keras2') return { class_name: l.cls, config };
  void parent;
  return { module: 'keras.layers', class_name: l.cls, config, registered_name: null, build_config: { input_shape: null } };
}

function kerasTensor(src: string, node: number): any {
  return { class_name: '__keras_tensor__', config: { shape: null, dtype: 'float32', keras_history: [src, node, 0] } };
}

export function modelEntry(m: ModelDesc, dialect: Dialect): any {
  const layersOut: any[] = [];
  const byName = new Map(m.layers.map((l) => [l.name, l]));
  if (m.kind === 'Sequential') {
    layersOut.push(inputLayerEntry(m.inputName, m.inputShape, dialect, m.batchSize ?? null));
    for (const l of m.layers) layersOut.push(layerEntry(l, dialect, m));
    const config: Record<string, any> = { name: m.name, layers: layersOut };
    if (m.trainable === false) config.trainable = false;
    if (dialect === 'keras2') return { class_name: 'Sequential', config };
    if (dialect === 'keras3') {
      return { module: 'keras', class_name: 'Sequential', config: { name: m.name, trainable: m.trainable ?? true, dtype: dtypeFor(dialect), layers: layersOut }, registered_name: null, build_config: { input_shape: [null, ...m.inputShape] } };
    }
    return { module: 'keras', class_name: 'Sequential', config, registered_name: null, build_config: { input_shape: [null, ...m.inputShape] } };
  }
  const input = inputLayerEntry(m.inputName, m.inputShape, dialect, m.batchSize ?? null);
  layersOut.push({ ...input, name: m.inputName, inbound_nodes: [] });
  const ref = (s: string): [string, number] => {
    const [name, call] = s.split('@');
    return [name, Number(call ?? 0) + nodeIndexOf(byName.get(name), dialect)];
  };
  for (const l of m.layers) {
    const e = layerEntry(l, dialect, m);
    const nodes = (l.calls ?? [l.inputs ?? []]).map((srcs) => {
      if (dialect === 'keras3') {
        const tensors = srcs.map((s) => kerasTensor(...ref(s)));
        return { args: [tensors.length === 1 ? tensors[0] : tensors], kwargs: {} };
      }
      return srcs.map((s) => [...ref(s), 0, {}]);
    });
    layersOut.push({ ...e, name: l.name, inbound_nodes: nodes });
  }
  const outRef = [...ref(m.output ?? m.layers[m.layers.length - 1].name), 0];
  // Keras 3 writes a single input/output as one triple in some versions, as a list of triples in others.
  const config: Record<string, any> = {
    name: m.name,
    trainable: m.trainable ?? true,
    layers: layersOut,
    input_layers: dialect === 'keras3' ? [m.inputName, 0, 0] : [[m.inputName, 0, 0]],
    output_layers: [outRef],
  };
  if (dialect === 'keras2') return { class_name: 'Functional', config };
  return { module: 'keras.src.models.functional', class_name: 'Functional', config, registered_name: 'Functional', build_config: { input_shape: null } };
}

/** model.to_json() output. */
export function toJson(m: ModelDesc, dialect: Dialect): string {
  const entry = modelEntry(m, dialect);
  return JSON.stringify(dialect === 'keras3' ? entry : { ...entry, keras_version: dialect === 'keras2' ? '2.12.0' : '2.15.0', backend: 'tensorflow' });
}

// ------------------------------------------------------------------------------------------------ HDF5

export type H5 = typeof import('h5wasm');
let h5p: Promise<H5> | null = null;
export function h5(): Promise<H5> {
  if (!h5p) {
    h5p = (async () => {
      const mod = (await import('h5wasm/node' as string)) as H5;
      const m = await mod.ready;
      m.activate_throwing_error_handler();
      return mod;
    })();
  }
  return h5p;
}

function strAttr(obj: any, name: string, value: string): void {
  // h5py stores Python bytes as fixed-length strings.
  obj.create_attribute(name, value, null, `S${Math.max(1, Buffer.byteLength(value))}`);
}

function strListAttr(obj: any, name: string, values: string[]): void {
  if (values.length === 0) {
    obj.create_attribute(name, new Float64Array(0), [0], '<d'); // np.asarray([]) is an empty float64 array
    return;
  }
  const len = Math.max(1, ...values.map((v) => Buffer.byteLength(v)));
  obj.create_attribute(name, values, [values.length], `S${len}`);
}

function dataset(g: any, name: string, a: Arr): void {
  g.create_dataset({ name, data: a.data, shape: a.shape, dtype: '<f4' });
}

interface Leaf {
  leaf: LayerDesc;
  w: WeightDesc;
  trainable: boolean;
}

/** Keras' legacy order for a layer or nested model: trainable_weights + non_trainable_weights. */
function legacyWeights(l: LayerDesc): Leaf[] {
  const all: Leaf[] = [];
  const walk = (x: LayerDesc, parentTrainable: boolean): void => {
    const tr = parentTrainable && (x.trainable ?? true);
    if (x.model) {
      for (const c of x.model.layers) walk(c, tr);
    } else {
      for (const w of x.weights) all.push({ leaf: x, w, trainable: tr && w.trainable });
    }
  };
  walk(l, true);
  return [...all.filter((e) => e.trainable), ...all.filter((e) => !e.trainable)];
}

export interface LegacyOptions {
  /** Full model (model_config + model_weights) or weights only (save_weights). */
  full: boolean;
  kerasVersion?: string;
  /** Config dialect of model_config. */
  dialect?: Dialect;
  /** How weight_names are spelled: Keras 2 ("conv2d/kernel:0") or Keras 3 legacy ("conv2d/kernel"). */
  weightNames?: 'keras2' | 'keras3';
}

/** Writes a Keras legacy HDF5 file (full model or weights only). */
export async function writeLegacyH5(file: string, m: ModelDesc, opts: LegacyOptions): Promise<void> {
  const mod = await h5();
  const f = new mod.File(file, 'w');
  try {
    const version = opts.kerasVersion ?? '2.15.0';
    let g: any = f;
    if (opts.full) {
      strAttr(f, 'backend', 'tensorflow');
      strAttr(f, 'keras_version', version);
      strAttr(f, 'model_config', JSON.stringify(modelEntry(m, opts.dialect ?? 'keras2')));
      g = f.create_group('model_weights');
    }
    const top = m.kind === 'Functional' ? [{ name: m.inputName, weights: [], cls: 'InputLayer', cfg: {} } as LayerDesc, ...m.layers] : m.layers;
    strListAttr(g, 'layer_names', top.map((l) => l.name));
    strAttr(g, 'backend', 'tensorflow');
    strAttr(g, 'keras_version', version);
    for (const l of [...top].sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const lg = g.create_group(l.name);
      const ws = legacyWeights(l);
      const suffix = (opts.weightNames ?? 'keras2') === 'keras2' ? ':0' : '';
      const names = ws.map((e) => `${e.leaf.name}/${e.w.short}${suffix}`);
      strListAttr(lg, 'weight_names', names);
      for (const e of ws) {
        const sub = lg.keys().includes(e.leaf.name) ? lg.get(e.leaf.name) : lg.create_group(e.leaf.name);
        dataset(sub, `${e.w.short}${suffix}`, e.w.arr);
      }
    }
  } finally {
    f.close();
  }
}

const SNAKE: Record<string, string> = {
  Conv2D: 'conv2d', BatchNormalization: 'batch_normalization', MaxPooling2D: 'max_pooling2d', GlobalAveragePooling2D: 'global_average_pooling2d',
  GlobalMaxPooling2D: 'global_max_pooling2d',
  Dense: 'dense', Sequential: 'sequential', Functional: 'functional', InputLayer: 'input_layer', Add: 'add', Concatenate: 'concatenate',
  Rescaling: 'rescaling', Dropout: 'dropout', Flatten: 'flatten', Normalization: 'normalization', Activation: 'activation', RandomFlip: 'random_flip',
  ReLU: 're_lu', LeakyReLU: 'leaky_re_lu',
};

function hasWeights(l: LayerDesc): boolean {
  return l.model ? l.model.layers.some(hasWeights) : l.weights.length > 0;
}

export interface DamageOptions {
  /** Layers whose arrays are left out. */
  omit?: string[];
  /** A layer whose first array is replaced by an unwritten chunked dataset declaring ~4.5 GB. */
  huge?: string;
  /**
   * '\\': group paths joined by Windows' separator, as Keras 2.13–2.15 wrote them on Windows (os.path.join):
   * each layer's group is one group at the root named "layers\\dense" (nested: "layers\\seq\\layers\\conv2d").
   */
  separator?: '/' | '\\';
  /** The name of a model's layer container, when not the style's own ("layers" / "_layer_checkpoint_dependencies"). */
  container?: string;
}

/** Writes a saving_lib weights file (.keras's model.weights.h5, or Keras 3 `.weights.h5`). */
export async function writeSavingLibH5(file: string, m: ModelDesc, style: 'keras3' | 'keras2.15', damage: DamageOptions = {}): Promise<void> {
  const mod = await h5();
  const f = new mod.File(file, 'w');
  const container = damage.container ?? (style === 'keras3' ? 'layers' : '_layer_checkpoint_dependencies');
  const windows = damage.separator === '\\';
  // The group at a path of object-graph names: nested groups, or (Windows) one group named by the joined path.
  const groupAt = (parts: string[]): any => {
    if (parts.length === 0) return f;
    if (windows) return f.create_group(parts.join('\\'));
    let g: any = f;
    for (const p of parts) g = g.keys().includes(p) ? g.get(p) : g.create_group(p);
    return g;
  };
  const writeModel = (at: string[], model: ModelDesc): void => {
    groupAt(at).create_group('vars');
    const counters = new Map<string, number>();
    const members: LayerDesc[] = model.kind === 'Functional' ? [{ cls: 'InputLayer', name: model.inputName, cfg: {}, weights: [] }, ...model.layers] : model.layers;
    for (const l of members) {
      const snake = SNAKE[l.cls];
      if (!snake) throw new Error(`test writer: no snake_case name for ${l.cls}`);
      const n = counters.get(snake) ?? 0;
      // Keras 2.13–2.15 listed a layer with weights twice in _layer_checkpoint_dependencies and counted both.
      counters.set(snake, n + (style === 'keras2.15' && hasWeights(l) ? 2 : 1));
      const lpath = [...at, container, n === 0 ? snake : `${snake}_${n}`];
      if (l.model) {
        writeModel(lpath, l.model);
      } else {
        const vars = groupAt(lpath).create_group('vars');
        if (damage.omit?.includes(l.name)) continue;
        l.weights.forEach((w, i) => {
          if (damage.huge === l.name && i === 0) {
            const d = vars.create_dataset({ name: String(i), data: new Float32Array(4), shape: [4], maxshape: [null], chunks: [1024], dtype: '<f4' });
            d.resize([1_200_000_000]);
          } else {
            dataset(vars, String(i), w.arr);
          }
        });
      }
    }
  };
  try {
    writeModel([], m);
    const opt = f.create_group('optimizer').create_group('vars');
    opt.create_dataset({ name: '0', data: new BigInt64Array([0n]), shape: [], dtype: '<q' });
  } finally {
    f.close();
  }
}

export interface ZipOptions extends DamageOptions {
  /** Replace or drop members (null drops). */
  members?: Record<string, Uint8Array | null>;
}

/** Writes a .keras archive (config.json, metadata.json, model.weights.h5). */
export async function writeKerasArchive(file: string, m: ModelDesc, dialect: 'keras3' | 'keras2.15', opts: ZipOptions = {}): Promise<void> {
  const tmp = `${file}.weights.h5`;
  await writeSavingLibH5(tmp, m, dialect === 'keras3' ? 'keras3' : 'keras2.15', opts);
  const members: Record<string, Uint8Array> = {
    'metadata.json': strToU8(JSON.stringify({ keras_version: dialect === 'keras3' ? '3.10.0' : '2.15.0', date_saved: '2026-01-11@19:30:23' })),
    'config.json': strToU8(JSON.stringify(modelEntry(m, dialect))),
    'model.weights.h5': new Uint8Array(fs.readFileSync(tmp)),
  };
  fs.rmSync(tmp);
  for (const [k, v] of Object.entries(opts.members ?? {})) {
    if (v === null) delete members[k];
    else members[k] = v;
  }
  fs.writeFileSync(file, zipSync(members, { level: 0 }));
}
