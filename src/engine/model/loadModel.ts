// Loads a model file from disk: TensorFlow.js layers and graph models (model.json + weight shards).
// Nothing is ever fetched: weight paths must stay inside the model's folder.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import * as tfc from '@tensorflow/tfjs-converter';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileError, LensError } from '../errors';
import type { PreprocessPreset } from '../image/preprocess';
import { Network } from './network';
import { checkFiniteWeights, validateTopology } from './topology';
import { architectureFileOf, isKerasFile, loadKerasArtifacts, normalizeWithPlan } from './keras';
import { matchWeightNames } from './keras/weightNames';
import { otherFormatProblem, standInProblem } from './otherFormats';
import { ownInputScaling } from './inputScaling';
import { imageInputLayout, type InputLayout } from './inputLayout';
import { fixedBatchOf, runGraph } from './graphBatch';
import { checkGraphInputs, checkGraphWeights, validateGraphTopology } from './graphTopology';
import { assumedLabels } from './imagenetLabels';
import { isOnnxPath, loadOnnxModel } from './onnx';

export type ModelKind = 'layers' | 'graph';

export interface LoadOptions {
  /** Weights file for an architecture-only JSON (Keras `to_json()` + `save_weights`). */
  weightsFile?: string;
  /** Labels: a .txt with one label a line, or a JSON array / Teachable Machine metadata.json. */
  labelsFile?: string;
  /** [height, width] for a model whose input size is symbolic (ONNX); 224×224 otherwise. */
  inputSize?: [number, number];
}

export interface LoadedModel {
  file: string;
  kind: ModelKind;
  /** Human-readable format, e.g. "TensorFlow.js layers model". */
  format: string;
  /** Set for layers models: the flat executable graph every method uses. */
  network: Network | null;
  /** Set for graph models (prediction only). */
  graphModel: tfc.GraphModel | null;
  /** A graph model whose input fixes the batch size: it runs on groups of that many images (./graphBatch.ts). */
  graphBatch?: number | null;
  /** [H, W, C] of the image input. */
  inputSize: { height: number; width: number; channels: number };
  /** How the model's input tensor holds the image (./inputLayout.ts); the engine's images are NHWC. */
  inputLayout: InputLayout;
  /** The layout the file itself declares, when the front end converted it (ONNX NCHW → the engine's NHWC graph). */
  fileLayout?: InputLayout;
  numClasses: number;
  labels: string[] | null;
  /** Where the labels came from, for `info`. */
  labelsSource: string | null;
  defaultPreprocess: PreprocessPreset;
  /** Why that default (e.g. "Teachable Machine metadata"). */
  preprocessReason: string;
  weightBytes: number;
  metadata: Record<string, unknown> | null;
  dispose(): void;
}

/** Largest weight payload we accept (a guard against absurd manifests, not a real model limit). */
const MAX_WEIGHT_BYTES = 4 * 1024 ** 3;
const MAX_JSON_BYTES = 256 * 1024 ** 2;
const DTYPE_BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1, uint8: 1, uint16: 2, float16: 2, string: 0, complex64: 8 };

function readJsonFile(file: string, what: string): any {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch {
    throw fileError(file, 'no such file');
  }
  if (stat.isDirectory()) throw fileError(file, 'is a folder, not a model file (point at its model.json)');
  // A FIFO or device would block the read forever (or never end: /dev/zero).
  if (!stat.isFile()) throw fileError(file, 'is not a regular file');
  if (stat.size > MAX_JSON_BYTES) throw fileError(file, `${what} is ${Math.round(stat.size / 1e6)} MB, too large`);
  const text = fs.readFileSync(file, 'utf8');
  try {
    return JSON.parse(text);
  } catch (e) {
    throw fileError(file, `not valid JSON (${(e as Error).message.split('\n')[0]})`);
  }
}

/** Resolves a weight path from a manifest, refusing anything that leaves the model's folder. */
export function resolveInside(dir: string, rel: unknown, modelFile: string): string {
  if (typeof rel !== 'string' || rel.length === 0) throw fileError(modelFile, 'weightsManifest has a path that is not a string');
  if (/^[a-z][a-z0-9+.-]*:/i.test(rel)) throw fileError(modelFile, `weight path '${rel}' is a URL; CNN Lens never downloads (put the file beside ${path.basename(modelFile)})`);
  // tfjs writes paths URL-encoded: check the decoded path too ('%2e%2e/w.bin' is '../w.bin').
  let decoded: string;
  try {
    decoded = decodeURIComponent(rel);
  } catch {
    throw fileError(modelFile, `weight path '${rel}' is not a valid URL-encoded path`);
  }
  for (const p of [rel, decoded]) {
    if (path.isAbsolute(p) || /^[\\/]/.test(p) || p.split(/[\\/]/).includes('..') || p.includes('\0')) throw fileError(modelFile, `weight path '${rel}' leaves the model's folder`);
  }
  const full = path.resolve(dir, decoded);
  const realDir = fs.realpathSync(dir);
  let real: string;
  try {
    real = fs.realpathSync(full);
  } catch {
    throw fileError(modelFile, `weight file '${rel}' is missing`);
  }
  if (real !== realDir && !real.startsWith(realDir + path.sep)) throw fileError(modelFile, `weight path '${rel}' leads outside the model's folder (a link)`);
  if (!fs.statSync(real).isFile()) throw fileError(modelFile, `weight path '${rel}' is not a regular file`);
  return real;
}

/** The most any one dimension of a weight may be (an embedding of 16 M rows); more is a damaged manifest. */
const MAX_WEIGHT_DIM = 2 ** 24;

function checkShape(modelFile: string, name: string, shape: unknown): number {
  if (!Array.isArray(shape) || shape.some((d) => !Number.isInteger(d) || d < 0)) throw fileError(modelFile, `weight '${name}' has an invalid shape ${JSON.stringify(shape)}`);
  // A zero elsewhere in the shape makes the size 0, so the byte count passes: a kernel of [1, 0, 3, 2³¹ − 1]
  // then reached wasm as a convolution with 2³¹ − 1 output channels ("memory access out of bounds").
  const big = (shape as number[]).find((d) => d > MAX_WEIGHT_DIM);
  if (big !== undefined) throw fileError(modelFile, `weight '${name}' has a dimension of ${big} in its shape ${JSON.stringify(shape)}, over the ${MAX_WEIGHT_DIM} any layer uses: the weights manifest is damaged`);
  return (shape as number[]).reduce((a, b) => a * b, 1);
}

/** Reads the weight shards named by a tfjs weightsManifest, checking sizes before allocating. */
function readWeights(modelFile: string, manifest: unknown): { specs: tf.io.WeightsManifestEntry[]; data: ArrayBuffer } {
  if (!Array.isArray(manifest)) throw fileError(modelFile, 'weightsManifest is missing or not a list');
  const dir = path.dirname(modelFile);
  const specs: tf.io.WeightsManifestEntry[] = [];
  const files: string[] = [];
  let expected = 0;
  for (const group of manifest) {
    if (!group || !Array.isArray(group.paths) || !Array.isArray(group.weights)) throw fileError(modelFile, 'weightsManifest group without paths or weights');
    for (const p of group.paths) files.push(resolveInside(dir, p, modelFile));
    for (const w of group.weights) {
      const n = checkShape(modelFile, w?.name, w?.shape);
      const dtype = w.quantization ? w.quantization.dtype : w.dtype;
      // Own keys only: a dtype of 'constructor' found Object's prototype (fuzzing: a RangeError later).
      const bytes = typeof dtype === 'string' && Object.prototype.hasOwnProperty.call(DTYPE_BYTES, dtype) ? DTYPE_BYTES[dtype] : undefined;
      if (bytes === undefined || bytes === 0) throw fileError(modelFile, `weight '${w.name}' has unsupported dtype '${dtype}'`);
      expected += n * bytes;
      if (expected > MAX_WEIGHT_BYTES) throw fileError(modelFile, `weights would need ${(expected / 1e9).toFixed(1)} GB, over the 4 GB limit`);
      specs.push(w);
    }
  }
  let total = 0;
  const sizes = files.map((f) => fs.statSync(f).size);
  files.forEach((f, i) => {
    // An empty shard is left to the size check below: a manifest may list one that holds no weights.
    const standIn = sizes[i] > 0 && sizes[i] < 4096 ? standInProblem(f) : null;
    if (standIn) throw fileError(modelFile, `weight file '${path.basename(f)}' ${standIn}`);
  });
  for (const s of sizes) total += s;
  if (total < expected) throw fileError(modelFile, `weight files hold ${total} bytes but the manifest needs ${expected} (truncated or missing shard)`);
  const data = new Uint8Array(total);
  let off = 0;
  for (const f of files) {
    const b = fs.readFileSync(f);
    data.set(b, off);
    off += b.length;
  }
  return { specs, data: data.buffer };
}

interface LabelInfo {
  labels: string[] | null;
  source: string | null;
}

function readLabels(file: string): string[] {
  const st = fs.statSync(file);
  if (!st.isFile()) throw fileError(file, 'labels file is not a regular file');
  if (st.size > 64 * 1024 ** 2) throw fileError(file, `labels file is ${Math.round(st.size / 1e6)} MB, too large`);
  const text = fs.readFileSync(file, 'utf8');
  if (file.endsWith('.json')) {
    let j: any;
    try {
      j = JSON.parse(text);
    } catch {
      throw fileError(file, 'labels file is not valid JSON');
    }
    const arr = Array.isArray(j) ? j : Array.isArray(j?.labels) ? j.labels : null;
    if (!arr || arr.some((x: unknown) => typeof x !== 'string' && typeof x !== 'number')) throw fileError(file, 'expected a JSON list of labels or an object with "labels"');
    return arr.map(String);
  }
  return text.split(/\r?\n/).map((s) => s.trim()).filter((s) => s.length > 0);
}

/**
 * A file found beside the model (labels.txt, metadata.json), when it is a regular file inside the model's
 * folder; null otherwise. A link out of the folder, a FIFO or a device is ignored, as an absent file would be:
 * these optional files are never read from elsewhere (a FIFO or /dev/zero would block or never end).
 */
function besideModel(modelFile: string, name: string): string | null {
  const p = path.join(path.dirname(modelFile), name);
  try {
    const realDir = fs.realpathSync(path.dirname(modelFile));
    const real = fs.realpathSync(p);
    if (!real.startsWith(realDir + path.sep) || !fs.statSync(real).isFile()) return null;
    return real;
  } catch {
    return null;
  }
}

function findLabels(modelFile: string, opts: LoadOptions, metadata: any): LabelInfo {
  if (opts.labelsFile) {
    if (!fs.existsSync(opts.labelsFile)) throw fileError(opts.labelsFile, 'no such labels file');
    return { labels: readLabels(opts.labelsFile), source: opts.labelsFile };
  }
  if (metadata && Array.isArray(metadata.labels)) return { labels: metadata.labels.map(String), source: 'metadata.json' };
  const txt = besideModel(modelFile, 'labels.txt');
  if (txt) return { labels: readLabels(txt), source: 'labels.txt' };
  return { labels: null, source: null };
}

function readMetadata(modelFile: string): any {
  const p = besideModel(modelFile, 'metadata.json');
  if (!p) return null;
  try {
    return JSON.parse(fs.readFileSync(p, 'utf8'));
  } catch {
    return null; // a broken metadata.json is not fatal: labels fall back to indices
  }
}

function defaultPreprocess(metadata: any, network: Network | null): { preset: PreprocessPreset; reason: string } {
  const known = ['raw', 'unit', 'tf', 'caffe', 'torch'];
  if (metadata && typeof metadata.preprocess === 'string' && known.includes(metadata.preprocess)) {
    return { preset: metadata.preprocess as PreprocessPreset, reason: 'metadata.json "preprocess"' };
  }
  // What the model itself says comes before guesses.
  const own = network ? ownInputScaling(network) : null;
  if (own) return { preset: own.preset, reason: own.reason };
  if (metadata && (metadata.tmVersion || String(metadata.packageName ?? '').includes('teachablemachine'))) {
    return { preset: 'tf', reason: 'Teachable Machine model (x/127.5 − 1)' };
  }
  return { preset: 'unit', reason: 'default (x/255)' };
}

/** What a format says about itself (ONNX metadata_props, PyTorch's conventions), used when nothing beside the file says more. */
export interface FormatDefaults {
  labels?: { labels: string[]; source: string } | null;
  preprocess?: { preset: PreprocessPreset; reason: string };
  /** The input layout as the file declares it (see LoadedModel.fileLayout). */
  fileLayout?: InputLayout;
}

function finish(base: Omit<LoadedModel, 'labels' | 'labelsSource' | 'defaultPreprocess' | 'preprocessReason' | 'metadata'>, modelFile: string, opts: LoadOptions, formatDefaults: FormatDefaults = {}): LoadedModel {
  const metadata = readMetadata(modelFile);
  let lab = findLabels(modelFile, opts, metadata);
  if (lab.labels && lab.labels.length !== base.numClasses) {
    if (opts.labelsFile) throw fileError(opts.labelsFile, `has ${lab.labels.length} labels but the model has ${base.numClasses} classes`);
    lab.labels = null; // labels found beside the model that don't fit are ignored, indices are shown instead
    lab.source = null;
  }
  if (!lab.labels && formatDefaults.labels && formatDefaults.labels.labels.length === base.numClasses) lab = { ...formatDefaults.labels };
  if (!lab.labels) lab = assumedLabels(base.numClasses) ?? lab;
  let pre = defaultPreprocess(metadata, base.network);
  if (pre.reason.startsWith('default') && formatDefaults.preprocess) pre = formatDefaults.preprocess;
  return { ...base, fileLayout: formatDefaults.fileLayout, labels: lab.labels, labelsSource: lab.source, defaultPreprocess: pre.preset, preprocessReason: pre.reason, metadata };
}

/** Turns tfjs-layers' own load errors into one line that says what is wrong with the file. */
function describeLoadError(file: string, e: unknown): LensError {
  // The graph builder's own errors know no file name: every load error names the file.
  if (e instanceof LensError) return e.message.includes(path.basename(file)) ? e : fileError(file, e.message);
  return withCause(describeForeignLoadError(file, e), e);
}

function describeForeignLoadError(file: string, e: unknown): LensError {
  const msg = (e as Error)?.message?.split('\n')[0] ?? String(e);
  const unknownClass = /Unknown (?:layer|class|constraint|initializer|regularizer|activation)[^:]*: ?(\w+)/.exec(msg);
  if (unknownClass) return fileError(file, `unknown layer or class '${unknownClass[1]}' (not supported by TensorFlow.js layers)`);
  // A backstop: the layer configs are checked before building (layerConfig.ts), but not every size tfjs computes.
  if (/Invalid typed array length|Array buffer allocation failed|out of memory/i.test(msg)) {
    const n = /length: (\d+)/.exec(msg)?.[1];
    return fileError(file, `a layer's weights or outputs would be too large to allocate${n ? ` (${n} values)` : ''}`);
  }
  if (/Provided weight data has no target variable|weights? (?:count|names?) mismatch|Shape mismatch/i.test(msg)) return fileError(file, `the weights do not fit the layers: ${msg}`);
  return fileError(file, `cannot build the model: ${msg}`);
}

/** How long tfjs may take to build a model before we call the file broken (it never settles on some bad graphs). */
const BUILD_TIMEOUT_MS = 5 * 60 * 1000;

/** Builds a layers model from artifacts, with one-line errors and a time limit. */
export async function buildLayersModel(file: string, artifacts: tf.io.ModelArtifacts): Promise<tfl.LayersModel> {
  const weightValues = artifacts.weightSpecs?.reduce((a, w) => a + w.shape.reduce((p, d) => p * d, 1), 0);
  validateTopology(file, artifacts.modelTopology, weightValues);
  if (artifacts.weightSpecs && artifacts.weightData instanceof ArrayBuffer) {
    const bad = checkFiniteWeights(file, artifacts.weightSpecs, artifacts.weightData);
    if (bad) throw bad;
  }
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(fileError(file, `building the model did not finish in ${BUILD_TIMEOUT_MS / 1000} s (a malformed layer graph?)`)), BUILD_TIMEOUT_MS);
  });
  try {
    return await Promise.race([tfl.loadLayersModel(tf.io.fromMemory(artifacts), { strict: true }), timeout]);
  } catch (e) {
    throw describeLoadError(file, e);
  } finally {
    clearTimeout(timer);
  }
}

async function loadLayers(file: string, json: any, opts: LoadOptions): Promise<LoadedModel> {
  validateTopology(file, json.modelTopology);
  // A model.json converted from Keras 3 carries its dialect (batch_shape, …), which tfjs 4.22 rejects.
  const { topology, plan } = normalizeWithPlan(json.modelTopology, { file });
  const { specs, data } = readWeights(file, json.weightsManifest);
  // Keras 3 exports name weights by their path in the model, with the model's own name in front.
  const weightSpecs = matchWeightNames(specs, plan, file);
  const model = await buildLayersModel(file, { modelTopology: topology, weightSpecs, weightData: data });
  return wrapLayersModel(model, file, opts, data.byteLength, 'TensorFlow.js layers model');
}

/**
 * Keeps the original error as `cause`: a WebAssembly.RuntimeError there (a wasm kernel trapped) means the wasm
 * backend's heap may be corrupt, which the engine process can check to start afresh.
 */
function withCause(err: LensError, cause: unknown): LensError {
  (err as Error & { cause?: unknown }).cause = cause;
  return err;
}

/**
 * Disposes what a failed load built, keeping the load's own error. Found by fuzzing: after a wasm kernel trap
 * ("memory access out of bounds") disposing throws too, and that second error hid the first.
 */
function disposeQuietly(x: { dispose(): void }): void {
  try {
    x.dispose();
  } catch {
    // the backend failed already; the error being thrown says why
  }
}

/**
 * Most memory the activations of one image may take (all layer outputs of a forward pass, which gradient
 * methods keep). A model whose input and layer sizes ask for more is refused at load time, before anything
 * runs: tfjs would otherwise allocate until the wasm heap (4 GB at most) or the machine runs out, and the wasm
 * backend fails with "memory access out of bounds", leaving its module unusable for the engine's next
 * request. Real classifiers need far less (VGG16 at 224×224: about 60 MB). $CNN_LENS_MAX_ACTIVATION_MB changes it.
 */
export function maxActivationBytes(): number {
  const mb = Number(process.env.CNN_LENS_MAX_ACTIVATION_MB);
  return (Number.isFinite(mb) && mb > 0 ? mb : 2048) * 2 ** 20;
}

/** Refuses a network whose layer outputs for one image would need more than maxActivationBytes(). */
function checkActivationMemory(network: Network, file: string): void {
  const limit = maxActivationBytes();
  let total = 0;
  let largest = { bytes: 0, path: '' };
  for (const node of network.graph.nodes) {
    for (const out of node.outputs) {
      // Found by fuzzing: a pool_size of 2000 on a 4×4 input gave a negative size, and running it trapped in the wasm kernel.
      if (out.shape.some((d) => d !== null && d <= 0)) throw fileError(file, `layer '${node.path}' (${node.className}) has an empty output [${out.shape.map((d) => d ?? 'batch').join(', ')}]: its window, stride or crop is larger than its input`);
      const bytes = out.shape.reduce<number>((a, d) => a * (d ?? 1), 4);
      total += bytes;
      if (bytes > largest.bytes) largest = { bytes, path: node.path };
    }
  }
  if (total > limit) {
    const gb = (b: number) => `${(b / 2 ** 30).toFixed(b >= 10 * 2 ** 30 ? 0 : 1)} GB`;
    throw fileError(file, `running it needs about ${gb(total)} for the layer outputs of one image (largest: '${largest.path}', ${gb(largest.bytes)}), over the ${gb(limit)} limit`);
  }
}

/**
 * Runs the network once on a black image. tfjs-layers checks many layer settings only when a layer runs, so a
 * broken config would otherwise fail inside the first prediction with tfjs's own words (found by fuzzing:
 * "Error in conv2D: Dilated rates should be larger than 0."); here it fails at load time, naming the file.
 */
function checkLayersRun(network: Network, size: LoadedModel['inputSize'], file: string): void {
  try {
    tf.tidy(() => {
      const y = network.logits(tf.zeros([1, size.height, size.width, size.channels]));
      if (y.shape[0] !== 1 || y.size < 1) throw new Error(`its output has shape [${y.shape.join(', ')}]`);
    });
  } catch (e) {
    throw withCause(fileError(file, `the model cannot run: ${(e as Error).message.split('\n')[0]}`), e);
  }
}

/**
 * Wraps a built tfjs layers model (from model.json, a Keras file, or built in code) as a LoadedModel.
 * `file` names it in messages and is where metadata.json / labels.txt are looked for.
 */
export function wrapLayersModel(model: tfl.LayersModel, file: string, opts: LoadOptions = {}, weightBytes = 0, format = 'TensorFlow.js layers model', formatDefaults: FormatDefaults = {}): LoadedModel {
  let network: Network;
  try {
    network = new Network(model);
  } catch (e) {
    disposeQuietly(model);
    throw describeLoadError(file, e);
  }
  let inputSize: LoadedModel['inputSize'];
  let inputLayout: InputLayout;
  try {
    const input = imageInputLayout(network.inputShape, file);
    inputLayout = input.layout;
    inputSize = { height: input.height, width: input.width, channels: input.channels };
    network.inputLayout = inputLayout;
    network.file = file;
    checkActivationMemory(network, file);
    checkLayersRun(network, inputSize, file);
  } catch (e) {
    disposeQuietly(network);
    throw e;
  }
  const outShape = network.graph.outputs[0].shape;
  const numClasses = network.binarySigmoid ? 2 : ((outShape[outShape.length - 1] as number) ?? 1);
  return finish({ file, kind: 'layers', format, network, graphModel: null, inputSize, inputLayout, numClasses, weightBytes, dispose: () => network.dispose() }, file, opts, formatDefaults);
}

/**
 * Runs a graph model once on a black image and returns its class count. tfjs checks a graph's ops, shapes and
 * weights only when it executes, so a broken graph would otherwise fail later, inside a prediction, with tfjs's
 * own words (found by fuzzing: "Error in matMul: inner shapes (1) and (2) …"); here it fails at load time,
 * naming the file.
 */
function checkGraphRuns(gm: tfc.GraphModel, size: LoadedModel['inputSize'], layout: InputLayout, fixedBatch: number | null, file: string): number {
  let out: tf.Tensor | undefined;
  const x = tf.zeros([1, size.height, size.width, size.channels]);
  try {
    out = runGraph(gm, x, layout, fixedBatch);
    // predict() reads every value after the batch dimension as a class score.
    if (out.rank < 2 || out.shape[0] !== 1 || out.size < 1) throw new Error(`its output has shape [${out.shape.join(', ')}], not [1, classes]`);
    return out.size;
  } catch (e) {
    throw withCause(fileError(file, `the graph model cannot run: ${(e as Error).message.split('\n')[0]}`), e);
  } finally {
    x.dispose();
    out?.dispose();
  }
}

async function loadGraph(file: string, json: any, opts: LoadOptions): Promise<LoadedModel> {
  validateGraphTopology(file, json.modelTopology);
  const { specs, data } = readWeights(file, json.weightsManifest);
  checkGraphWeights(file, json.modelTopology, specs);
  let gm: tfc.GraphModel;
  try {
    // versions is informational (tfjs-converter only shows it); a file without it is read as version n/a.
    const topology = { ...json.modelTopology, versions: json.modelTopology.versions ?? {} };
    gm = await tfc.loadGraphModel(tf.io.fromMemory({ modelTopology: topology, weightSpecs: specs, weightData: data, format: 'graph-model' }));
  } catch (e) {
    throw fileError(file, `cannot load the graph model: ${(e as Error).message.split('\n')[0]}`);
  }
  try {
    checkGraphInputs(gm, file);
  } catch (e) {
    disposeQuietly(gm);
    throw e;
  }
  const inShape = gm.inputs[0]?.shape;
  let inputSize: LoadedModel['inputSize'];
  let inputLayout: InputLayout;
  let numClasses: number;
  let graphBatch: number | null;
  try {
    // Graph models: -1 marks an unknown size (the batch). Converted PyTorch models take NCHW images.
    const input = imageInputLayout(inShape as number[] | undefined, file);
    inputLayout = input.layout;
    inputSize = { height: input.height, width: input.width, channels: input.channels };
    const outName = gm.outputNodes[0]?.split(':')[0];
    const outOp = (json.modelTopology.node as { name?: string; op?: string }[]).find((n) => n?.name === outName)?.op;
    if (outOp === 'ArgMax' || outOp === 'ArgMin') {
      throw fileError(file, `the graph's output '${outName}' is an ${outOp} (the predicted class index, not the class scores); convert the model with the scores (the Softmax or logits before it) as its output`);
    }
    graphBatch = fixedBatchOf(inShape);
    numClasses = checkGraphRuns(gm, inputSize, inputLayout, graphBatch, file);
  } catch (e) {
    disposeQuietly(gm);
    throw e;
  }
  return finish({ file, kind: 'graph', format: graphBatch ? `TensorFlow.js graph model (input batch fixed at ${graphBatch}: images run padded to groups of ${graphBatch})` : 'TensorFlow.js graph model', network: null, graphModel: gm, graphBatch, inputSize, inputLayout, numClasses, weightBytes: data.byteLength, dispose: () => gm.dispose() }, file, opts);
}

/** Loads any supported model file. Errors are one line naming the file. */
export async function loadModel(file: string, opts: LoadOptions = {}): Promise<LoadedModel> {
  const abs = path.resolve(file);
  const json = readJsonFile(abs, 'model file');
  if (json === null || typeof json !== 'object') throw fileError(file, 'not a TensorFlow.js model.json (expected an object)');
  const topo = json.modelTopology;
  if (!topo || typeof topo !== 'object') throw fileError(file, 'not a TensorFlow.js model.json: no "modelTopology"');
  const isGraph = json.format === 'graph-model' || Array.isArray(topo.node);
  return isGraph ? loadGraph(abs, json, opts) : loadLayers(abs, json, opts);
}

/** Keras files (.h5, .keras, or an architecture .json with a weights file). */
export function isKerasPath(file: string, opts: LoadOptions = {}): boolean {
  const ext = path.extname(file).toLowerCase();
  return ext === '.h5' || ext === '.hdf5' || ext === '.keras' || (ext === '.json' && !!opts.weightsFile);
}

/** Loads a model of any supported format, chosen by the file. */
export async function loadAnyModel(file: string, opts: LoadOptions = {}): Promise<LoadedModel> {
  const isFile = fs.existsSync(file) && fs.statSync(file).isFile();
  // A Git LFS pointer or a saved web page in place of the model, in any format.
  const standIn = isFile ? standInProblem(file) : null;
  if (standIn) throw fileError(file, standIn);
  if (isOnnxPath(file)) return loadOnnxModel(path.resolve(file), opts);
  // PyTorch, TensorFlow Lite, SavedModel…: say what the file is and what opens it.
  const other = isFile ? otherFormatProblem(file) : null;
  if (other) throw fileError(file, other);
  // isKerasFile also catches a Keras architecture .json given without --weights (its error says so).
  if (isKerasPath(file, opts) || isKerasFile(file)) {
    const artifacts = await loadKerasArtifacts(file, { weightsFile: opts.weightsFile });
    const model = await buildLayersModel(file, artifacts);
    const ext = path.extname(file).toLowerCase();
    const arch = architectureFileOf(artifacts);
    const format = ext === '.keras'
      ? 'Keras .keras archive'
      : ext === '.json'
        ? 'Keras architecture JSON + HDF5 weights'
        : arch
          ? `Keras HDF5 weights, with the architecture from ${path.basename(arch)} beside it`
          : 'Keras HDF5 model';
    return wrapLayersModel(model, file, opts, (artifacts.weightData as ArrayBuffer).byteLength, format);
  }
  return loadModel(file, opts);
}
