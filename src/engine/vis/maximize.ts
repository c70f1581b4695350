// Activation maximization: gradient ascent on the input, from noise, so that a channel's mean activation,
// a single neuron or a class logit becomes as large as possible (Erhan et al. 2009; Simonyan et al. 2014;
// Olah et al. 2017).
import * as tf from '@tensorflow/tfjs-core';
import { LensError } from '../errors';
import { resolveClass } from '../explain';
import type { RgbaImage } from '../image/decode';
import { ancestorsOf, type GraphNode } from '../model/graph';
import { layerKind } from '../model/layerKinds';
import type { LoadedModel } from '../model/loadModel';
import type { Network } from '../model/network';
import type { PreprocessPreset } from '../image/preprocess';
import { makeRng } from '../random';
import { capSteps, channelCount, checkChannel, logitsTargets, resolveNode, runsAtAnySize, since, visNetwork } from './common';
import { channelObjective, classObjective, neuronObjective, type Objective } from './objectives';
import { evaluate, imageOf, optimize, type OptimizeSpec, type VisHooks } from './optimize';
import { type ImageParam, makeParam, type ParamKind } from './param';
import { NO_REGULARIZERS, type Regularizers } from './regularizers';
import { endsInRelu, outputReader, smoothReluReader } from './readers';
import { degenerateUnit } from './deadUnits';
import { inputSpace } from './space';
import type { TransformOptions } from './transforms';

export interface MaximizeOptions {
  /** Preprocessing the model expects (default: the model's own). */
  preprocess?: PreprocessPreset;
  /** Layer for channel and neuron objectives. */
  layer?: string;
  channel?: number;
  /** [y, x, k]: unit k at (y, x) of the layer's output grid at the size optimized. */
  neuron?: [number, number, number];
  /** Class index or label (class logit objective). */
  classIndex?: number | string;
  /** Default 256. */
  steps?: number;
  /** Default 0. */
  seed?: number;
  /**
   * Side of the optimized (square) image. Default: 128 when the network runs at any size up to the target
   * (fully convolutional to the layer, or global pooling before the classifier), capped by the model's own
   * input size; the model's input size for neurons and for models that need it.
   */
  size?: number;
  /** Default 'fourier'. */
  param?: Exclude<ParamKind, 'raw'>;
  /** Adam learning rate; default 0.05. */
  lr?: number;
  /** Random transformations each step; defaults scale with the image size. */
  transforms?: Partial<TransformOptions>;
  /** Penalties and blur; defaults depend on the parameterization. */
  regularizers?: Partial<Regularizers>;
}

export interface VisImage {
  /** The image in the model's input space (after preprocessing), HWC, at the size optimized. */
  data: Float32Array;
  shape: [number, number, number];
  /** The same image for display. */
  rgba: RgbaImage;
}

export interface MaximizeResult extends VisImage {
  /** What was maximized, e.g. "channel 5 of block_6_expand_relu". */
  target: string;
  layer: string | null;
  /** The objective on the final image without transformations (mean activation, neuron value or logit). */
  objective: number;
  /**
   * The channel or neuron is 0 on every input tried (the result, black, white, gray and noise), after
   * optimizing its pre-activation where the layer ends in a ReLU: a dead unit. The image is meaningless.
   */
  dead?: boolean;
  /** The value is the same on every input tried (not 0): it does not depend on the image. */
  flat?: boolean;
  /** One sentence for a dead or flat result (null otherwise), for the CLI, the JSON and tile captions. */
  note?: string | null;
  steps: number;
  seed: number;
  param: ParamKind;
  ms: number;
}

export const DEFAULT_MAXIMIZE_STEPS = 256;

/**
 * Default steps for a layer: a unit of the first convolution sees a few pixels and its pattern is found in
 * far fewer steps than a deep unit's (and those layers are the slowest per step: full resolution). 64 steps
 * for the first convolution block, 128 for the second, 256 deeper and for classes.
 */
export function defaultMaximizeSteps(net: Network, node: GraphNode | null): number {
  if (!node) return DEFAULT_MAXIMIZE_STEPS;
  let convs = 0;
  for (const i of ancestorsOf(net.graph, [node.index])) if (layerKind(net.graph.nodes[i].className) === 'conv') convs++;
  return convs <= 1 ? 64 : convs === 2 ? 128 : DEFAULT_MAXIMIZE_STEPS;
}
export const DEFAULT_MAXIMIZE_SIZE = 128;
/** Channels of a range optimized together. */
export const DEFAULT_RANGE_BATCH = 4;

interface Target {
  /** What is optimized (a smooth ReLU of the pre-activation for layers ending in a ReLU). */
  objectiveFor(channels?: number[]): Objective;
  /** What is reported: the value at the layer itself. */
  reportFor(channels?: number[]): Objective;
  node: GraphNode | null;
  label: string;
  targets: number[];
  neuron: boolean;
  dispose(): void;
}

function resolveTarget(model: LoadedModel, net: Network, o: MaximizeOptions): Target {
  const given = [o.channel !== undefined, o.neuron !== undefined, o.classIndex !== undefined].filter(Boolean).length;
  if (given !== 1) throw new LensError('maximize needs exactly one target: a channel, a neuron or a class');
  if (o.classIndex !== undefined) {
    const c = resolveClass(model, o.classIndex);
    const label = model.labels?.[c];
    const obj = (chs?: number[]) => classObjective(chs ?? [c]);
    return { objectiveFor: obj, reportFor: obj, node: null, label: `class ${c}${label ? ` '${label}'` : ''}`, targets: logitsTargets(net), neuron: false, dispose: () => undefined };
  }
  const node = resolveNode(net, o.layer, 'maximize');
  const rank = node.outputs[0].shape.length;
  if (rank !== 4 && rank !== 2) throw new LensError(`maximize needs a layer with a 4-D or 2-D output; '${node.path}' has shape ${JSON.stringify(node.outputs[0].shape)}`);
  const pre = smoothReluReader(net, node);
  const out = outputReader(node);
  const dispose = () => pre.dispose();
  if (o.neuron) {
    const [y, x, k] = o.neuron;
    checkChannel(node, k);
    return {
      objectiveFor: () => neuronObjective(pre, node, y, x, k), reportFor: () => neuronObjective(out, node, y, x, k),
      node, label: `neuron (${y}, ${x}, ${k}) of ${node.path}`, targets: [node.index], neuron: true, dispose,
    };
  }
  checkChannel(node, o.channel!);
  return {
    objectiveFor: (chs) => channelObjective(pre, chs ?? [o.channel!]),
    reportFor: (chs) => channelObjective(out, chs ?? [o.channel!]),
    node, label: `channel ${o.channel} of ${node.path}`, targets: [node.index], neuron: false, dispose,
  };
}

function defaultTransforms(size: number): TransformOptions {
  // Close to Lucid's standard set, scaled to the image: shifts up to 10% of the side, ±10% scale, ±10°.
  return { jitter: Math.max(1, Math.round(size / 10)), scale: 0.1, rotate: 10, boundary: 'reflect' };
}

function defaultRegularizers(param: ParamKind): Regularizers {
  // The Fourier parameterization needs no penalties (Olah et al. 2017); pixels need them to stay smooth.
  if (param === 'fourier') return { ...NO_REGULARIZERS };
  return { l2: 0.05, tv: 2, blurEvery: 4, blurSigma: 0.5 };
}

/** Size to optimize at and the size the network must see (null: the same). */
function plan(model: LoadedModel, net: Network, target: Target, o: MaximizeOptions): { h: number; w: number; modelSize: [number, number] | null } {
  const { height: H, width: W } = model.inputSize;
  const free = runsAtAnySize(net, target.targets);
  if (o.size !== undefined && (!Number.isInteger(o.size) || o.size < 8 || o.size > 2048)) throw new LensError(`size ${o.size} must be a whole number of pixels from 8 to 2048`);
  if (free) {
    if (o.size) return { h: o.size, w: o.size, modelSize: null };
    if (target.neuron) return { h: H, w: W, modelSize: null };
    const s = Math.min(DEFAULT_MAXIMIZE_SIZE, Math.max(H, W));
    return { h: s, w: s, modelSize: null };
  }
  // The network needs its own input size: optimize at the requested size and resize into the model.
  if (o.size) return { h: o.size, w: o.size, modelSize: [H, W] };
  return { h: H, w: W, modelSize: null };
}

export interface MaximizeRun {
  model: LoadedModel;
  options: MaximizeOptions;
  hooks?: VisHooks;
  /** Channels optimized one after another (maximizeRange). */
  channels?: number[];
  onTile?: (index: number, result: MaximizeResult) => void;
  /** Channels optimized together as one batch (maximizeRange). */
  batch?: number;
}

/**
 * What a maximization optimizes, at which size and for how many steps, and the optimization of one batch
 * of channels: shared by the run and its time estimate (./estimate.ts), so the estimate times the very
 * steps the run takes. The caller disposes it.
 */
export interface MaximizeSetup {
  net: Network;
  /** The layer (null for a class). */
  node: GraphNode | null;
  /** Optimization steps per batch (the default for the layer, capped by CNN_LENS_MAX_STEPS). */
  steps: number;
  seed: number;
  paramKind: Exclude<ParamKind, 'raw'>;
  /** One batch: channels `chs` as rows (undefined: the single target); its parameters are disposed by the caller. */
  batchSpec(chs: (number | undefined)[], hooks?: VisHooks, progress?: { offset: number; total: number }): { spec: OptimizeSpec; param: ImageParam };
  /** What is reported for channel `ch` (undefined: the single target), and its label. */
  report(ch: number | undefined): { objective: Objective; label: string };
  dispose(): void;
}

export function prepareMaximize(model: LoadedModel, o: MaximizeOptions): MaximizeSetup {
  const net = visNetwork(model, 'maximize');
  const target = resolveTarget(model, net, o);
  try {
    const { h, w, modelSize } = plan(model, net, target, o);
    const channels = model.inputSize.channels;
    const space = inputSpace(o.preprocess ?? model.defaultPreprocess, channels);
    const paramKind = o.param ?? 'fourier';
    const transforms = { ...defaultTransforms(Math.min(h, w)), ...o.transforms };
    const regularizers = { ...defaultRegularizers(paramKind), ...o.regularizers };
    const steps = capSteps(o.steps ?? defaultMaximizeSteps(net, target.node));
    const seed = o.seed ?? 0;
    return {
      net, node: target.node, steps, seed, paramKind,
      batchSpec(chs, hooks, progress) {
        // Each batch starts from the same noise and meets the same transformations as a single run would.
        const rng = makeRng(seed);
        const param = makeParam(paramKind, { batch: chs.length, height: h, width: w, channels, rng, sameNoise: true });
        const spec: OptimizeSpec = {
          net, space, param, start: param.init, objective: target.objectiveFor(chs[0] === undefined ? undefined : (chs as number[])), steps,
          rule: { kind: 'adam' as const, lr: o.lr ?? 0.05 }, regularizers, transforms, rng, modelSize, hooks, progress,
        };
        return { spec, param };
      },
      report: (ch) => ({
        objective: target.reportFor(ch === undefined ? undefined : [ch]),
        label: ch === undefined ? target.label : `channel ${ch} of ${target.node!.path}`,
      }),
      dispose: () => target.dispose(),
    };
  } catch (e) {
    target.dispose();
    throw e;
  }
}

function run(r: MaximizeRun): MaximizeResult[] {
  const t0All = performance.now();
  const { model, options: o } = r;
  const setup = prepareMaximize(model, o);
  const list = r.channels ?? [undefined];
  const results: MaximizeResult[] = [];
  try {
    const { steps, seed, paramKind } = setup;
    // Channels of a range run as rows of one batch (per-op overhead is shared: ~1.5× faster per image on
    // wasm); each row starts from the same noise and meets the same transformations as a single run would.
    const batchSize = r.channels ? Math.max(1, r.batch ?? DEFAULT_RANGE_BATCH) : 1;
    const groups = Math.ceil(list.length / batchSize);
    for (let g = 0; g < groups; g++) {
      const t0 = performance.now();
      const chs = list.slice(g * batchSize, (g + 1) * batchSize);
      const { spec, param } = setup.batchSpec(chs, r.hooks, { offset: g * steps, total: groups * steps });
      let p: tf.Tensor | null = null;
      try {
        p = optimize(spec).p;
        for (let b = 0; b < chs.length; b++) {
          const ch = chs[b];
          const row = tf.slice(p, b, 1);
          const { objective: report, label } = setup.report(ch);
          const value = evaluate({ ...spec, objective: report }, row);
          const degenerate = setup.node ? degenerateUnit({ ...spec, objective: report }, value, label, endsInRelu(setup.node)) : null;
          row.dispose();
          const res: MaximizeResult = {
            ...imageOf(spec.space, param, p, b),
            target: label,
            layer: setup.node?.path ?? null, objective: value, steps, seed, param: paramKind, ms: Math.round(since(t0) / chs.length),
            ...(degenerate ?? {}),
          };
          results.push(res);
          r.onTile?.(g * batchSize + b, res);
        }
      } finally {
        p?.dispose();
        param.init.dispose();
        param.dispose();
      }
    }
  } finally {
    setup.dispose();
  }
  if (results.length === 1) results[0].ms = since(t0All);
  return results;
}

/** Maximizes one target (a channel, a neuron or a class logit). */
export function maximize(model: LoadedModel, options: MaximizeOptions, hooks: VisHooks = {}): MaximizeResult {
  return run({ model, options, hooks })[0];
}

/**
 * Maximizes channels first..last (inclusive) of a layer one after another; each finished image is handed
 * to onTile at once (the extension shows them as they come; they finish `batch` at a time). Progress
 * counts steps over all batches.
 */
export function maximizeRange(
  model: LoadedModel,
  options: Omit<MaximizeOptions, 'channel' | 'neuron' | 'classIndex'> & { first: number; last: number; batch?: number },
  hooks: VisHooks = {},
  onTile?: (index: number, result: MaximizeResult) => void,
): MaximizeResult[] {
  const net = visNetwork(model, 'maximize');
  const node = resolveNode(net, options.layer, 'maximize');
  const { first, last } = options;
  if (!(Number.isInteger(first) && Number.isInteger(last)) || first > last) throw new LensError(`channel range ${first}-${last} is not a range of whole numbers from low to high`);
  checkChannel(node, first);
  checkChannel(node, last);
  if (last - first + 1 > channelCount(node)) throw new LensError(`channel range ${first}-${last} is larger than the layer`);
  const channels: number[] = [];
  for (let k = first; k <= last; k++) channels.push(k);
  return run({ model, options: { ...options, channel: first }, hooks, channels, onTile, batch: options.batch });
}
