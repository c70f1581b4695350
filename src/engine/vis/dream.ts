// DeepDream (Mordvintsev, Olah & Tyka 2015): gradient ascent on the photo itself so that the L2 norm of
// chosen layers' activations grows — the network paints what it sees more strongly. Runs over octaves
// (small to large) carrying the added detail upwards, with normalized gradient steps and random shifts.
import * as tf from '@tensorflow/tfjs-core';
import { LensError } from '../errors';
import { activationName } from '../model/layerOps';
import type { RgbaImage } from '../image/decode';
import { resizeBilinear } from '../image/resize';
import type { GraphNode } from '../model/graph';
import type { LoadedModel } from '../model/loadModel';
import type { Network } from '../model/network';
import type { PreprocessPreset } from '../image/preprocess';
import { makeRng } from '../random';
import { capSteps, inputPixels, inputSize, requireSpatial, runsAtAnySize, since, visNetwork } from './common';
import type { VisImage } from './maximize';
import { layerNormObjective } from './objectives';
import { evaluate, imageOf, optimize, type OptimizeSpec, type VisHooks } from './optimize';
import { makeParam } from './param';
import { inputSpace } from './space';
import { DREAM_DEFAULT_OCTAVES, DREAM_DEFAULT_STEPS } from '../../shared/visualizeProtocol';

export interface DreamOptions {
  /** Preprocessing the model expects (default: the model's own). */
  preprocess?: PreprocessPreset;
  /** Layers whose activation norm grows; default defaultDreamLayers(). */
  layers?: string[];
  /** Default 4. */
  octaves?: number;
  /** Size ratio between octaves; default 1.4. */
  octaveScale?: number;
  /** Steps per octave; default 20. */
  steps?: number;
  /** Mean change of a pixel (0..1 scale) per step; default 0.008. */
  stepSize?: number;
  /** Default 0. */
  seed?: number;
  /**
   * Longer side of the dreamed image. Default: the image's own, at most 320 — when the network runs at any
   * size up to the layers; otherwise the model's input size.
   */
  size?: number;
  /** Largest random shift per step in pixels; default 1/8 of the shorter side of the octave. */
  jitter?: number;
  /** σ in pixels of the Gaussian blur applied to each gradient; default 1. 0 = none. */
  smooth?: number;
}

export interface DreamResult extends VisImage {
  layers: string[];
  layersAreDefault: boolean;
  /** Octave sizes [h, w], smallest first. */
  octaveSizes: [number, number][];
  /** How much the layers' L2 norm grew: ‖A(result)‖ / ‖A(image)‖ at the final size. */
  normGain: number;
  steps: number;
  seed: number;
  ms: number;
}

/** How a dream will run, said before its first step (the panel shows it: the steps may be capped). */
export interface DreamPlan {
  octaves: number;
  /** Steps per octave as run: the asked (or default) count, capped by CNN_LENS_MAX_STEPS. */
  steps: number;
  /** Steps per octave asked for (or the default) before the cap. */
  stepsAsked: number;
  layers: string[];
  layersAreDefault: boolean;
}

export interface DreamHooks extends VisHooks {
  /** Called once, before the first step. */
  onPlan?(plan: DreamPlan): void;
}

export const DREAM_DEFAULTS = { octaves: DREAM_DEFAULT_OCTAVES, octaveScale: 1.4, steps: DREAM_DEFAULT_STEPS, stepSize: 0.008, maxSide: 320, smooth: 1 };

const NONLINEAR = new Set(['ReLU', 'LeakyReLU', 'ELU', 'PReLU', 'ThresholdedReLU']);
const MERGES = new Set(['Add', 'Concatenate']);

function isFeatureNode(n: GraphNode): boolean {
  if (n.outputs[0].shape.length !== 4) return false;
  if (NONLINEAR.has(n.className)) return true;
  if (['Activation', 'Conv2D', 'DepthwiseConv2D', 'SeparableConv2D'].includes(n.className)) {
    const a = activationName(n.layer as any);
    return a !== null && a !== 'linear' && a !== 'softmax';
  }
  return false;
}

/**
 * A sensible mid-depth choice: the block output 70% of the way through the network. Block outputs are
 * where branches merge (residual Add, Inception-style Concatenate) when the network has such blocks, else
 * the layers producing nonlinear features. There the dream shows parts — eyes, fur, snouts — grown from the
 * photo's own structure; earlier layers give swirls and stripes, later ones whole-object mush. (On the
 * Teachable Machine MobileNetV2 this is block_12_add.)
 */
export function defaultDreamLayers(net: Network): GraphNode[] {
  const spatial = (n: GraphNode) => n.outputs[0].shape.length === 4 && ((n.outputs[0].shape[1] ?? 2) as number) > 1;
  let candidates = net.graph.nodes.filter((n) => MERGES.has(n.className) && spatial(n));
  if (candidates.length < 4) candidates = net.graph.nodes.filter((n) => isFeatureNode(n) && spatial(n));
  if (!candidates.length) candidates = net.graph.nodes.filter(spatial);
  if (!candidates.length) throw new LensError('the model has no layer with a 4-D [batch, h, w, channels] output to dream with');
  return [candidates[Math.min(candidates.length - 1, Math.floor(0.7 * candidates.length))]];
}

/** DeepDream on `image` (RGBA, or a model input tensor [1, h, w, C], not disposed). */
export function dream(model: LoadedModel, image: RgbaImage | tf.Tensor, options: DreamOptions = {}, hooks: DreamHooks = {}): DreamResult {
  const t0 = performance.now();
  const net = visNetwork(model, 'dream');
  const layersAreDefault = !options.layers?.length;
  const nodes = layersAreDefault ? defaultDreamLayers(net) : options.layers!.map((l) => net.findLayer(l));
  for (const n of nodes) requireSpatial(n, 'dream');
  const octaves = options.octaves ?? DREAM_DEFAULTS.octaves;
  const octaveScale = options.octaveScale ?? DREAM_DEFAULTS.octaveScale;
  if (!Number.isInteger(octaves) || octaves < 1 || octaves > 12) throw new LensError(`octaves must be a whole number from 1 to 12, got ${octaves}`);
  if (!(octaveScale >= 1 && octaveScale <= 4)) throw new LensError(`octave scale must be between 1 and 4, got ${octaveScale}`);
  const stepSize = options.stepSize ?? DREAM_DEFAULTS.stepSize;
  if (!(stepSize > 0 && stepSize <= 1)) throw new LensError(`step size must be above 0 and at most 1 (pixels are 0..1), got ${stepSize}`);
  const stepsAsked = Math.max(1, Math.round(options.steps ?? DREAM_DEFAULTS.steps));
  const steps = capSteps(stepsAsked);
  const seed = options.seed ?? 0;
  const { height: MH, width: MW, channels: C } = model.inputSize;
  const space = inputSpace(options.preprocess ?? model.defaultPreprocess, C);

  // The final size: the image's own aspect when the network runs at any size, else the model's.
  const free = runsAtAnySize(net, nodes.map((n) => n.index));
  let H = MH;
  let W = MW;
  if (free) {
    const [ih, iw] = inputSize(image);
    const side = options.size ?? Math.min(Math.max(ih, iw), DREAM_DEFAULTS.maxSide);
    if (!Number.isInteger(side) || side < 16 || side > 4096) throw new LensError(`size ${side} must be a whole number of pixels from 16 to 4096`);
    const f = side / Math.max(ih, iw);
    H = Math.max(1, Math.round(ih * f));
    W = Math.max(1, Math.round(iw * f));
  } else if (options.size !== undefined && options.size !== Math.max(MH, MW)) {
    throw new LensError(`this model needs its input size ${MH}×${MW} at the dream layers (a layer between input and them fixes the size); leave out the size`);
  }
  const octaveSizes: [number, number][] = [];
  for (let i = octaves - 1; i >= 0; i--) {
    const f = Math.pow(octaveScale, i);
    octaveSizes.push([Math.max(8, Math.round(H / f)), Math.max(8, Math.round(W / f))]);
  }
  hooks.onPlan?.({ octaves, steps, stepsAsked, layers: nodes.map((n) => n.path), layersAreDefault });
  const base = inputPixels(image, space, H, W);
  const objective = layerNormObjective(nodes);
  const rng = makeRng(seed);
  const modelSize: [number, number] | null = free ? null : [MH, MW];
  let current = base;
  let detail: Float32Array | null = null;
  let prev: [number, number] = octaveSizes[0];
  for (let o = 0; o < octaves; o++) {
    const [h, w] = octaveSizes[o];
    const baseHere = resizeBilinear(base, H, W, C, h, w);
    const start = new Float32Array(baseHere.length);
    const up = detail ? resizeBilinear(detail, prev[0], prev[1], C, h, w) : null;
    for (let i = 0; i < start.length; i++) start[i] = Math.min(1, Math.max(0, baseHere[i] + (up ? up[i] : 0)));
    const param = makeParam('raw', { batch: 1, height: h, width: w, channels: C, rng, image: start });
    try {
      const jitter = options.jitter ?? Math.max(1, Math.round(Math.min(h, w) / 8));
      const spec: OptimizeSpec = {
        net, space, param, start: param.init, objective, steps,
        rule: { kind: 'normalized', stepSize, smooth: options.smooth ?? DREAM_DEFAULTS.smooth },
        regularizers: { l2: 0, tv: 0, blurEvery: 0, blurSigma: 0.5 },
        transforms: { jitter, scale: 0, rotate: 0, boundary: 'wrap' },
        rng, modelSize, hooks, progress: { offset: o * steps, total: octaves * steps },
      };
      const r = optimize(spec);
      current = r.p.dataSync() as Float32Array;
      current = Float32Array.from(current);
      r.p.dispose();
    } finally {
      param.init.dispose();
      param.dispose();
    }
    detail = new Float32Array(current.length);
    for (let i = 0; i < current.length; i++) detail[i] = current[i] - baseHere[i];
    prev = [h, w];
  }
  // Scores of the original and the dream at the final size, outside the loop and without shifts.
  const score = (pix: Float32Array): { value: number; image: ReturnType<typeof imageOf> } => {
    const param = makeParam('raw', { batch: 1, height: H, width: W, channels: C, rng: makeRng(0), image: pix });
    try {
      return { value: evaluate({ net, space, param, objective, modelSize }, param.init), image: imageOf(space, param, param.init) };
    } finally {
      param.init.dispose();
      param.dispose();
    }
  };
  const before = score(base).value;
  const after = score(current);
  return {
    ...after.image,
    layers: nodes.map((n) => n.path), layersAreDefault, octaveSizes,
    normGain: before > 0 ? Math.sqrt(after.value / before) : Infinity,
    steps: octaves * steps, seed, ms: since(t0),
  };
}
