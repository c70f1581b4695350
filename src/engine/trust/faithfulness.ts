// Faithfulness of attribution maps: `cnn-lens evaluate` and the panel's "Score faithfulness". Each map
// becomes a pixel order (importance.ts), the order two perturbation curves (curves.ts), and everything
// is compared with a seeded random map on the same image, class and baseline.
import type * as tf from '@tensorflow/tfjs-core';
import { DEFAULT_CURVE_STEPS, type EvaluationRecord, type FaithfulnessRecord, type MethodFaithfulness, type MethodSkipped, type PerturbationBaseline } from '../../shared/trustRecords';
import { CancelledError, errorMessage } from '../errors';
import { blackInput, explain, predict, requireNetwork, resolveClass, type JobHooks } from '../explain';
import type { PreprocessPreset } from '../image/preprocess';
import { METHODS, type MethodName } from '../methods';
import type { LoadedModel } from '../model/loadModel';
import { makeRng } from '../random';
import { baselineImage } from './baselines';
import { perturbationCurves } from './curves';
import { pixelImportance, rankPixels, type MapKind } from './importance';

export interface FaithfulnessOptions {
  steps?: number;
  baseline?: PerturbationBaseline;
  /** The preset x was made with (for the black baseline); default the model's. */
  preprocess?: PreprocessPreset;
  batchSize?: number;
}

/** A map as returned by explain(), with its kind. */
export interface KindedMap {
  map: Float32Array;
  shape: number[];
  kind: MapKind;
}

/** Deletion and insertion curves of one map (or of a pixel order) for one class. */
export function faithfulnessOf(model: LoadedModel, x: tf.Tensor, map: KindedMap | { order: Int32Array }, classIndex: number, opts: FaithfulnessOptions = {}, hooks: JobHooks = {}, stage?: string): FaithfulnessRecord {
  const net = requireNetwork(model, 'the faithfulness curves');
  const { height, width, channels } = model.inputSize;
  const steps = opts.steps ?? DEFAULT_CURVE_STEPS;
  const order = 'order' in map ? map.order : rankPixels(pixelImportance(map.map, map.shape, map.kind, height, width));
  const xData = x.dataSync() as Float32Array;
  const baseline = baselineImage(opts.baseline ?? 'black', xData, height, width, channels, () => {
    const b = blackInput(model, opts.preprocess ?? model.defaultPreprocess);
    try {
      return b.dataSync() as Float32Array;
    } finally {
      b.dispose();
    }
  });
  return perturbationCurves({ net, x: xData, baseline, height, width, channels, classIndex, order, steps, batchSize: opts.batchSize }, hooks, stage);
}

/** The seeded random pixel order the methods are compared with. */
export function randomOrder(pixels: number, seed: number): Int32Array {
  const rng = makeRng(seed);
  const importance = new Float32Array(pixels);
  for (let i = 0; i < pixels; i++) importance[i] = rng();
  return rankPixels(importance);
}

export interface EvaluateRequest extends FaithfulnessOptions {
  methods: MethodName[];
  /** Index or label; default the top-1 class. */
  class?: number | string;
  layer?: string;
  /** Seed of the random map. */
  seed?: number;
  /** How the record names the model and image. */
  names: { model: string; image: string };
}

export interface EvaluateResult {
  record: EvaluationRecord;
  /** The raw maps of the methods that ran, in order (for --raw). */
  maps: { method: MethodName; map: Float32Array; shape: number[] }[];
}

/** Sub-progress of unit `i` of `n` as one overall progress. */
function unitHooks(hooks: JobHooks, i: number, n: number, stage: string): JobHooks {
  return {
    isCancelled: hooks.isCancelled,
    onProgress: (p) => hooks.onProgress?.({ done: i * 1000 + Math.round((1000 * p.done) / Math.max(1, p.total)), total: n * 1000, stage }),
  };
}

/**
 * Every requested method's map for one class, its two curves, and the random map's. With several methods
 * one that cannot run on this model is recorded as skipped; a single method's error is thrown.
 */
export function evaluateFaithfulness(model: LoadedModel, x: tf.Tensor, req: EvaluateRequest, hooks: JobHooks = {}): EvaluateResult {
  requireNetwork(model, 'evaluate');
  const predictions = predict(model, x);
  const classIndex = req.class !== undefined ? resolveClass(model, req.class) : predictions[0].index;
  const prediction = predictions.find((p) => p.index === classIndex)!;
  const seed = req.seed ?? 0;
  const units = req.methods.length + 1;
  const methods: (MethodFaithfulness | MethodSkipped)[] = [];
  const maps: EvaluateResult['maps'] = [];
  req.methods.forEach((method, i) => {
    const t0 = performance.now();
    const stage = `${method}: map and curves`;
    const half = (part: number): JobHooks => {
      const u = unitHooks(hooks, i, units, stage);
      return { isCancelled: u.isCancelled, onProgress: (p) => u.onProgress?.({ done: part * p.total + p.done, total: 2 * p.total, stage }) };
    };
    let r;
    try {
      r = explain(model, x, { method, classes: [classIndex], layer: req.layer, preprocess: req.preprocess }, half(0));
    } catch (e) {
      // With several methods one that cannot run here (CAM without pooling, a gradient the backend lacks)
      // is recorded and the others still count.
      if (e instanceof CancelledError || req.methods.length === 1) throw e;
      methods.push({ method, skipped: errorMessage(e) });
      return;
    }
    const e = r.explanations[0];
    maps.push({ method, map: e.map, shape: e.shape });
    const curves = faithfulnessOf(model, x, { map: e.map, shape: e.shape, kind: METHODS[method].output }, classIndex, req, half(1), stage);
    methods.push({ method, layer: r.layer, ...curves, ms: Math.round(performance.now() - t0) });
  });
  const { height, width } = model.inputSize;
  const random = faithfulnessOf(model, x, { order: randomOrder(height * width, seed) }, classIndex, req, unitHooks(hooks, units - 1, units, 'random map'), 'random map');
  return {
    record: {
      model: req.names.model,
      image: req.names.image,
      class: { index: classIndex, label: prediction.label, probability: prediction.probability },
      steps: req.steps ?? DEFAULT_CURVE_STEPS,
      baseline: req.baseline ?? 'black',
      methods,
      random: { seed, ...random },
    },
    maps,
  };
}
