// The geometry of occlusion's region runner (./regionRun.ts): how each step's output positions depend on its
// input positions (a window of taps with a stride, dilation and padding; per position; or everything), and
// the rectangles of changed positions that follow from a patch, layer by layer.
import type { ValueRef } from './graph';
import { layerConfig, pair, type L } from './layerOps/common';
import type { Step } from './network';

/** Where a step reads its window: kernel taps, stride, dilation and the padding before, per axis [rows, columns]. */
export interface Window {
  k: [number, number];
  s: [number, number];
  d: [number, number];
  before: [number, number];
  padValue: number;
  /** The layer only moves positions (zero padding, cropping): its output is the window itself. */
  moveOnly: boolean;
  /**
   * 'same' average pooling: it divides by the inputs inside the map, the window's 'valid' pooling by all
   * k·k taps (padding as zeros), so each output is scaled by taps / inputs inside.
   */
  insideMean?: { inH: number; inW: number };
}

/**
 * What a layer that is not a Keras layer (an ONNX operator's OnnxLayer) says about its geometry: it works
 * per position (elementwise activations), or it pads the map by `before` rows and columns of `value`.
 */
export type LayerRegionRule = { kind: 'pointwise' } | { kind: 'pad'; before: [number, number]; value: number };

/** How a step's output positions depend on its input positions. */
export type Geometry = { kind: 'pointwise' } | { kind: 'window'; w: Window } | { kind: 'global' };

/** For each patch of a batch, a rectangle of one common size [h, w] at (oy[p], ox[p]). */
export interface Rect {
  oy: Int32Array;
  ox: Int32Array;
  h: number;
  w: number;
}

const POINTWISE = new Set([
  'InputLayer', 'Dropout', 'SpatialDropout2D', 'GaussianNoise', 'GaussianDropout', 'AlphaDropout', 'ActivityRegularization',
  'Activation', 'ReLU', 'LeakyReLU', 'ELU', 'ThresholdedReLU', 'Rescaling',
  'Add', 'Multiply', 'Subtract', 'Average', 'Maximum', 'Minimum',
]);

/** Output size and the padding before it along one axis, as tfjs computes 'same' and 'valid' padding. */
function padBefore(inSize: number, outSize: number, k: number, s: number, d: number, padding: string): number {
  if (padding !== 'same') return 0;
  const span = (k - 1) * d + 1;
  return Math.floor(Math.max((outSize - 1) * s + span - inSize, 0) / 2);
}

export function spatial(shape: (number | null)[]): shape is [null, number, number, number] {
  return shape.length === 4 && shape.slice(1).every((d) => typeof d === 'number' && d > 0);
}

/** The geometry of one step, from its layer's config ('global' for anything not known here). */
export function stepGeometry(step: Step): Geometry {
  const node = step.chain?.conv ?? step.conv ?? step.node;
  const out = step.node.outputs;
  if (out.length !== 1 || !spatial(out[0].shape) || step.reads.length === 0) return { kind: 'global' };
  const cfg: L = layerConfig(node.layer as unknown as L);
  if (cfg.dataFormat !== undefined && cfg.dataFormat !== 'channelsLast') return { kind: 'global' };
  const [, oh, ow] = out[0].shape as number[];
  const ins = step.reads.map((r) => r.shape);
  const window = (k: [number, number], s: [number, number], d: [number, number], padding: string, padValue = 0, mean = false): Geometry => {
    const shape = ins[0];
    if (ins.length !== 1 || !spatial(shape)) return { kind: 'global' };
    const before: [number, number] = [padBefore(shape[1], oh, k[0], s[0], d[0], padding), padBefore(shape[2], ow, k[1], s[1], d[1], padding)];
    const insideMean = mean && padding === 'same' ? { inH: shape[1], inW: shape[2] } : undefined;
    return { kind: 'window', w: { k, s, d, before, padValue, moveOnly: false, insideMean } };
  };
  // Per-position layers read maps of the output's size, or 1×1 maps they broadcast.
  const pointwise = (): Geometry =>
    ins.every((s) => spatial(s) && ((s[1] === oh && s[2] === ow) || (s[1] === 1 && s[2] === 1))) ? { kind: 'pointwise' } : { kind: 'global' };
  switch (node.className) {
    case 'Conv2D':
    case 'DepthwiseConv2D':
    case 'SeparableConv2D':
      return window(pair(cfg.kernelSize, 1), pair(cfg.strides, 1), pair(cfg.dilationRate, 1), cfg.padding);
    case 'MaxPooling2D':
      return window(pair(cfg.poolSize, 2), pair(cfg.strides ?? cfg.poolSize, 2), [1, 1], cfg.padding, -Infinity);
    case 'AveragePooling2D':
      return window(pair(cfg.poolSize, 2), pair(cfg.strides ?? cfg.poolSize, 2), [1, 1], cfg.padding, 0, true);
    case 'ZeroPadding2D':
    case 'Cropping2D': {
      if (ins.length !== 1 || !spatial(ins[0])) return { kind: 'global' };
      const p = (node.className === 'ZeroPadding2D' ? cfg.padding : cfg.cropping) as [[number, number], [number, number]];
      const sign = node.className === 'ZeroPadding2D' ? 1 : -1;
      return { kind: 'window', w: { k: [1, 1], s: [1, 1], d: [1, 1], before: [sign * p[0][0], sign * p[1][0]], padValue: 0, moveOnly: true } };
    }
    case 'BatchNormalization': {
      const axis = Array.isArray(cfg.axis) ? cfg.axis[0] : cfg.axis;
      return axis === -1 || axis === 3 ? pointwise() : { kind: 'global' };
    }
    case 'Softmax':
      return cfg.axis === -1 || cfg.axis === 3 ? pointwise() : { kind: 'global' };
    case 'Concatenate':
      return (cfg.axis ?? -1) === -1 || cfg.axis === 3 ? pointwise() : { kind: 'global' };
    default: {
      if (POINTWISE.has(node.className)) return pointwise();
      const rule = (node.layer as unknown as { region?: LayerRegionRule }).region;
      if (rule?.kind === 'pointwise' && ins.length === 1) return pointwise();
      if (rule?.kind === 'pad' && ins.length === 1 && spatial(ins[0])) return { kind: 'window', w: { k: [1, 1], s: [1, 1], d: [1, 1], before: rule.before, padValue: rule.value, moveOnly: true } };
      return { kind: 'global' };
    }
  }
}

/**
 * The output rectangle of a window step along one axis for input rectangles [a, a + len) (one start per
 * patch): every output position whose window meets the input rectangle, clamped to the map, one common
 * size for all patches (the largest; a rectangle is moved inside the map rather than cut). null: the whole axis.
 */
function windowAxis(starts: Int32Array, len: number, k: number, s: number, d: number, before: number, outSize: number): { o: Int32Array; size: number } | null {
  const span = (k - 1) * d + 1;
  const lo = new Int32Array(starts.length);
  let size = 0;
  for (let p = 0; p < starts.length; p++) {
    const first = Math.max(0, Math.ceil((starts[p] + before - span + 1) / s));
    const last = Math.min(outSize - 1, Math.floor((starts[p] + len - 1 + before) / s));
    lo[p] = first;
    size = Math.max(size, last - first + 1);
  }
  if (size >= outSize) return null;
  for (let p = 0; p < lo.length; p++) lo[p] = Math.min(lo[p], outSize - size);
  return { o: lo, size: Math.max(size, 1) };
}

/** The smallest common-size rectangles holding each patch's rectangles of `rects` (all along one axis). */
function unionAxis(rects: { o: Int32Array; size: number }[], outSize: number): { o: Int32Array; size: number } | null {
  const n = rects[0].o.length;
  const lo = new Int32Array(n);
  let size = 0;
  for (let p = 0; p < n; p++) {
    let a = Infinity;
    let b = -Infinity;
    for (const r of rects) {
      a = Math.min(a, r.o[p]);
      b = Math.max(b, r.o[p] + r.size);
    }
    lo[p] = a;
    size = Math.max(size, b - a);
  }
  if (size >= outSize) return null;
  for (let p = 0; p < n; p++) lo[p] = Math.min(lo[p], outSize - size);
  return { o: lo, size };
}

/** The whole map as a rectangle for n patches. */
export function wholeRect(n: number, h: number, w: number): Rect {
  return { oy: new Int32Array(n), ox: new Int32Array(n), h, w };
}

export function sameRect(a: Rect, b: Rect): boolean {
  if (a.h !== b.h || a.w !== b.w) return false;
  for (let p = 0; p < a.oy.length; p++) if (a.oy[p] !== b.oy[p] || a.ox[p] !== b.ox[p]) return false;
  return true;
}

/** A step's output rectangles from its changed inputs' rectangles (null: the whole value). */
export function outputRect(step: Step, g: Geometry, reads: (readonly [ValueRef, Rect | null])[], n: number): Rect | null {
  const out = step.node.outputs[0].shape;
  if (g.kind === 'global' || reads.some(([, r]) => r === null)) return null;
  const [, oh, ow] = out as number[];
  if (g.kind === 'window') {
    const r = reads[0][1]!;
    const rows = windowAxis(r.oy, r.h, g.w.k[0], g.w.s[0], g.w.d[0], g.w.before[0], oh);
    const cols = windowAxis(r.ox, r.w, g.w.k[1], g.w.s[1], g.w.d[1], g.w.before[1], ow);
    return rows || cols ? { oy: rows?.o ?? new Int32Array(n), ox: cols?.o ?? new Int32Array(n), h: rows?.size ?? oh, w: cols?.size ?? ow } : null;
  }
  // Per-position layers: the union of the inputs' rectangles (inputs of 1×1 maps broadcast and bring none).
  const maps = reads.filter(([ref]) => ref.shape[1] === oh && ref.shape[2] === ow).map(([, r]) => r!);
  if (maps.length === 0) return null;
  const rows = unionAxis(maps.map((r) => ({ o: r.oy, size: r.h })), oh);
  const cols = unionAxis(maps.map((r) => ({ o: r.ox, size: r.w })), ow);
  return rows || cols ? { oy: rows?.o ?? new Int32Array(n), ox: cols?.o ?? new Int32Array(n), h: rows?.size ?? oh, w: cols?.size ?? ow } : null;
}
