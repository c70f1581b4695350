// The engine's explanation API: predictions and attribution maps for one preprocessed image.
// Used in-process by the CLI and by the engine child process that serves the extension.
import * as tf from '@tensorflow/tfjs-core';
import { tidyRead } from './tidyRead';
import { CancelledError, fileError, LensError } from './errors';
import type { RgbaImage } from './image/decode';
import { toModelInput, type PreprocessPreset } from './image/preprocess';
import type { GraphNode } from './model/graph';
import type { LoadedModel } from './model/loadModel';
import type { Network } from './model/network';
import { runGraph } from './model/graphBatch';
import { DEFAULT_METHOD_OPTIONS, METHODS, type MethodContext, type MethodName, type MethodOptions } from './methods';
import { inputGradientAndLogits, layerPass, type LayerPass, type ScoreMode } from './methods/gradients';

export interface Prediction {
  index: number;
  label: string;
  logit: number;
  probability: number;
}

export interface Progress {
  done: number;
  total: number;
  /** What is being computed, e.g. "gradcam for 'cat'". */
  stage: string;
}

/** Progress and cancellation, checked between steps of work. */
export interface JobHooks {
  onProgress?: (p: Progress) => void;
  isCancelled?: () => boolean;
}

export interface ExplainRequest {
  method: MethodName;
  /** Classes to explain (indices or labels); default: the top-1, or the top `topK`. */
  classes?: (number | string)[];
  topK?: number;
  /** Target layer for the layer methods; default: the last layer with a spatial 4-D output. */
  layer?: string;
  /** The preset `x` was made with (for the integrated-gradients baseline); default the model's. */
  preprocess?: PreprocessPreset;
  options?: Partial<MethodOptions>;
}

export interface ClassExplanation {
  class: Prediction;
  /** The map exactly as the method defines it: unnormalized, not resized. */
  map: Float32Array;
  shape: number[];
  min: number;
  max: number;
  /** Time to compute the map; the first class's includes the forward pass and the gradient it shares with the others. */
  ms: number;
  /** Zero everywhere (e.g. a ReLU'd CAM with no positive evidence at the layer): say so, with what to try. */
  empty: boolean;
}

export interface ExplainResult {
  method: MethodName;
  /** Qualified path of the target layer (layer methods only). */
  layer: string | null;
  layerIsDefault: boolean;
  predictions: Prediction[];
  explanations: ClassExplanation[];
}

export function labelOf(model: LoadedModel, index: number): string {
  return model.labels?.[index] ?? String(index);
}

/** The image as the model's input tensor [1, H, W, C]. */
export function imageToInput(model: LoadedModel, img: RgbaImage, preset: PreprocessPreset): tf.Tensor4D {
  const { height, width, channels } = model.inputSize;
  const data = toModelInput(img, { height, width, channels: channels as 1 | 3 | 4, preset });
  return tf.tensor4d(data, [1, height, width, channels]);
}

/** The all-black image in the model's input space (the integrated-gradients baseline). */
export function blackInput(model: LoadedModel, preset: PreprocessPreset): tf.Tensor4D {
  const { height, width } = model.inputSize;
  const black: RgbaImage = { width, height, data: new Uint8ClampedArray(width * height * 4) };
  for (let i = 3; i < black.data.length; i += 4) black.data[i] = 255;
  return imageToInput(model, black, preset);
}

export function requireNetwork(model: LoadedModel, what: string): Network {
  if (!model.network) {
    throw new LensError(
      `${model.file}: ${what} needs gradients through the model's layers, but this is a TensorFlow.js graph model (a frozen inference graph without layer structure); export a layers model (Keras .h5/.keras or tfjs layers format) to explain it`,
    );
  }
  return model.network;
}

/** Logits and probabilities for a batch [N, classes]. */
function scores(model: LoadedModel, x: tf.Tensor): { logits: Float32Array; probs: Float32Array; classes: number } {
  return tidyRead(() => {
    let logits: tf.Tensor;
    let probs: tf.Tensor;
    if (model.network) {
      logits = model.network.logits(x);
      probs = model.network.probabilities(logits);
    } else {
      const out = runGraph(model.graphModel!, x, model.inputLayout, model.graphBatch ?? null);
      const rows = tf.reshape(out, [x.shape[0], -1]);
      // A graph model's output may already be probabilities; if rows sum to 1 we take them as such.
      const sums = tf.sum(rows, -1).dataSync();
      const min = tf.min(rows).dataSync()[0];
      const isProb = min >= 0 && Array.from(sums).every((s) => Math.abs(s - 1) < 1e-3);
      logits = isProb ? tf.log(tf.maximum(rows, 1e-12)) : rows;
      probs = isProb ? rows : tf.softmax(rows);
    }
    const classes = logits.shape[logits.rank - 1] as number;
    return { logits: logits.dataSync() as Float32Array, probs: probs.dataSync() as Float32Array, classes };
  });
}

/** Every class of image 0, best first. */
export function predict(model: LoadedModel, x: tf.Tensor): Prediction[] {
  const { logits, probs, classes } = scores(model, x);
  return ranked(model, logits, probs, classes);
}

/** Index of the largest value (the first one on ties, as predict() ranks them). */
function argmax(values: Float32Array): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
}

/** predict() from logits a forward pass already computed (layers models). */
function predictionsFromLogits(model: LoadedModel, logits: tf.Tensor): Prediction[] {
  const classes = logits.shape[logits.rank - 1] as number;
  const probs = tidyRead(() => model.network!.probabilities(logits).dataSync() as Float32Array);
  return ranked(model, logits.dataSync() as Float32Array, probs, classes);
}

function ranked(model: LoadedModel, logits: Float32Array, probs: Float32Array, classes: number): Prediction[] {
  const out: Prediction[] = [];
  for (let i = 0; i < classes; i++) out.push({ index: i, label: labelOf(model, i), logit: logits[i], probability: probs[i] });
  return out.sort((a, b) => b.probability - a.probability || b.logit - a.logit);
}

/** A class given as an index or a label (case-insensitive). */
export function resolveClass(model: LoadedModel, spec: number | string): number {
  if (typeof spec === 'number' || /^\d+$/.test(spec)) {
    const i = Number(spec);
    if (i < 0 || i >= model.numClasses) throw new LensError(`class ${i} is out of range: the model has ${model.numClasses} classes (0–${model.numClasses - 1})`);
    return i;
  }
  const labels = model.labels ?? [];
  const i = labels.findIndex((l) => l.toLowerCase() === spec.toLowerCase());
  if (i < 0) {
    const list = labels.length ? `known labels: ${labels.slice(0, 20).join(', ')}${labels.length > 20 ? ', …' : ''}` : 'the model has no labels; give a class index';
    throw new LensError(`no class '${spec}' (${list})`);
  }
  return i;
}

/** The target layer for a layer method: the named one, or the default. */
export function resolveLayer(net: Network, name: string | undefined): { node: GraphNode; isDefault: boolean } {
  const apply = () => (Object.keys(METHODS) as MethodName[]).filter((m) => !METHODS[m].usesLayer).join(', ');
  const problem = net.layerMapsProblem();
  if (problem) throw net.file ? fileError(net.file, `${problem}: ${apply()}`) : new LensError(`${problem}: ${apply()}`);
  if (name) return { node: net.findLayer(name), isDefault: false };
  const node = net.defaultLayer();
  if (!node) {
    const problem = `the model has no layer with a spatial output (h×w×channels) for layer methods; methods that apply: ${apply()}`;
    throw net.file ? fileError(net.file, problem) : new LensError(problem);
  }
  return { node, isDefault: true };
}

function checkLayerIsSpatial(node: GraphNode): void {
  const s = node.outputs[0].shape;
  if (s.length !== 4) throw new LensError(`layer '${node.path}' has output shape ${JSON.stringify(s)}; layer methods need a 4-D [batch, h, w, channels] layer`);
}

/**
 * Explains one image for one or more classes. `x` is the preprocessed image [1, H, W, C]; it is not
 * disposed. The forward pass at the target layer is shared by all classes.
 */
export function explain(model: LoadedModel, x: tf.Tensor, req: ExplainRequest, hooks: JobHooks = {}): ExplainResult {
  const started = performance.now();
  const method = METHODS[req.method];
  if (!method) throw new LensError(`unknown method '${req.method}'`);
  const net = requireNetwork(model, req.method);
  const options: MethodOptions = { ...DEFAULT_METHOD_OPTIONS, ...req.options };
  const target = method.usesLayer ? resolveLayer(net, req.layer) : null;
  if (target) checkLayerIsSpatial(target.node);

  let pass: LayerPass | null = null;
  let passKeys: number[] = [];
  let passGradient: { classIndex: number; score: ScoreMode } | null = null;
  // Methods built on ∂score/∂A get the first class's with the pass (the requested class, else the top one).
  const first = method.layerGradient
    ? { pick: (logits: Float32Array) => (req.classes?.length ? resolveClass(model, req.classes[0]) : argmax(logits)), score: options.score ?? 'logit' }
    : undefined;
  const layerPassOnce = (): LayerPass => {
    if (!pass) {
      const kept = tf.tidy(() => {
        const p = layerPass(net, x, target!.node, first);
        passKeys = [...p.cache.keys()];
        passGradient = p.gradient ? { classIndex: p.gradient.classIndex, score: p.gradient.score } : null;
        return { activation: p.activation, logits: p.logits, values: [...p.cache.values()], gradient: p.gradient ? [p.gradient.tensor] : [] };
      });
      const cache = new Map(passKeys.map((k, i) => [k, kept.values[i]]));
      const own = passGradient as { classIndex: number; score: ScoreMode } | null;
      const gradient = own && kept.gradient.length ? { ...own, tensor: kept.gradient[0] } : null;
      pass = { node: target!.node, activation: kept.activation, logits: kept.logits, cache, gradient };
    }
    return pass;
  };
  let precomputed: { classIndex: number; gradient: tf.Tensor } | null = null;
  let baseline: tf.Tensor | null = null;
  const explanations: ClassExplanation[] = [];
  let predictions: Prediction[];
  try {
    // Layer methods rank the classes from their own forward pass, input-gradient methods from the forward
    // pass of their first gradient (one forward pass instead of two).
    if (target) predictions = predictionsFromLogits(model, layerPassOnce().logits);
    else if (method.inputGradient) {
      const first = req.classes?.length ? resolveClass(model, req.classes[0]) : null;
      const r = inputGradientAndLogits(net, x, (logits) => first ?? argmax(logits), { guided: method.inputGradient === 'guided', deconv: method.inputGradient === 'deconv', score: options.score });
      predictions = predictionsFromLogits(model, r.logits);
      r.logits.dispose();
      precomputed = { classIndex: r.classIndex, gradient: r.gradient };
    } else predictions = predict(model, x);
    const classes = req.classes?.length ? req.classes.map((c) => resolveClass(model, c)) : predictions.slice(0, Math.max(1, req.topK ?? 1)).map((p) => p.index);
    const byIndex = new Map(predictions.map((p) => [p.index, p]));
    for (let ci = 0; ci < classes.length; ci++) {
      const classIndex = classes[ci];
      const prediction = byIndex.get(classIndex)!;
      const stage = `${method.title} for '${prediction.label}'`;
      const check = () => {
        if (hooks.isCancelled?.()) throw new CancelledError();
      };
      check();
      const ctx: MethodContext = {
        net,
        x,
        classIndex,
        layer: target?.node ?? null,
        options,
        pass: layerPassOnce,
        baseline: () => (baseline ??= blackInput(model, req.preprocess ?? model.defaultPreprocess)),
        precomputedGradient: () => {
          const p = precomputed;
          if (!p || p.classIndex !== classIndex) return null;
          precomputed = null;
          return p.gradient;
        },
        step: (done, total) => {
          hooks.onProgress?.({ done: ci * total + done, total: classes.length * total, stage });
          check();
        },
      };
      // The first class's time includes the pass it shares with the others (the forward pass, and the layer
      // or input gradient computed with it): a Grad-CAM map reported 1 ms, its own last steps.
      const t0 = ci === 0 ? started : performance.now();
      const mapTensor = method.run(ctx);
      // The cpu backend's dataSync gives its own array (which other tensors may share): copy it there. The
      // wasm backend and tfjs-node give a fresh one; copying and iterating 50 000 floats took 1–1.5 ms.
      const read = mapTensor.dataSync();
      const map = !(read instanceof Float32Array) ? Float32Array.from(read) : tf.getBackend() === 'cpu' ? read.slice() : read;
      const shape = mapTensor.shape.slice();
      mapTensor.dispose();
      let min = Infinity;
      let max = -Infinity;
      for (let i = 0; i < map.length; i++) {
        const v = map[i];
        if (v < min) min = v;
        if (v > max) max = v;
      }
      explanations.push({ class: prediction, map, shape, min, max, ms: performance.now() - t0, empty: min === 0 && max === 0 });
      hooks.onProgress?.({ done: ci + 1, total: classes.length, stage });
    }
  } finally {
    const p = pass as LayerPass | null;
    if (p) {
      p.activation.dispose();
      p.logits.dispose();
      p.gradient?.tensor.dispose();
      for (const t of p.cache.values()) if (t !== x) t.dispose();
    }
    (baseline as tf.Tensor | null)?.dispose();
    (precomputed as { gradient: tf.Tensor } | null)?.gradient.dispose();
  }
  return { method: req.method, layer: target?.node.path ?? null, layerIsDefault: target?.isDefault ?? false, predictions, explanations };
}
