// What every op family shares: the op context, gradient-recording checks, the fast-gradient switch and
// small readers of layer configs.
import * as tf from '@tensorflow/tfjs-core';

export interface OpContext {
  /** Guided backpropagation: ReLUs pass back only positive gradient at positive input. */
  guided: boolean;
  /** Deconvnet (Zeiler & Fergus 2014): ReLUs pass back ReLU(gradient) whatever their input. */
  deconv?: boolean;
  /** Skip this node's output activation (used to read logits before a final softmax). */
  skipActivation: boolean;
  /** Per-node prepared constants (folded batch-norm scale/shift, flipped convolution kernels), kept across calls. */
  prepared: Map<number, tf.Tensor[]>;
  /**
   * The input is a window cut from the layer's input with its padding already in place (model/regionRun.ts):
   * convolutions and pools run with 'valid' padding.
   */
  windowed?: boolean;
  /**
   * Set by the network for the one step of a 'valid' convolution whose ZeroPadding2D it folded in: the
   * rows [top, bottom] and columns [left, right] of zeros, which the convolution then pads itself.
   */
  foldedPad?: [[number, number], [number, number]];
}

/** A convolution's padding: tfjs's 'same' and 'valid', or explicit zeros per axis (NHWC) from a folded ZeroPadding2D. */
export type ConvPad = 'same' | 'valid' | [[0, 0], [number, number], [number, number], [0, 0]];

export type L = Record<string, any>;

export type GradResult = { value: tf.Tensor; gradFunc: (dy: any, saved: tf.Tensor[]) => tf.Tensor | tf.Tensor[] };

/**
 * tf.customGrad whose gradient function runs inside a tidy. tfjs calls a custom gradient outside any
 * tidy (its own op gradients run inside one), so every temporary of it — dilated and padded output
 * gradients, masks — would live until the whole tf.grad is done: 0.5–0.8 GB of wasm memory on VGG16 or
 * InceptionV3, which wasm never gives back.
 */
export function customGrad(f: (...args: any[]) => GradResult): (...args: tf.Tensor[]) => tf.Tensor {
  return tf.customGrad(((...args: any[]) => {
    const r = f(...args);
    return { value: r.value, gradFunc: (dy: any, saved: tf.Tensor[]) => tf.tidy(() => r.gradFunc(dy, saved)) };
  }) as any) as (...args: tf.Tensor[]) => tf.Tensor;
}

/** Whether convolution and pooling input gradients use the fast forms here. On by default on wasm. */
let fastGradMode: 'auto' | 'on' | 'off' = 'auto';

/**
 * 'on'/'off' force the input gradients of convolutions (on the forward kernel) and pooling (elementwise
 * ops) below; 'auto' uses them where they pay: on wasm, and for dilated convolutions, which tfjs cannot
 * differentiate. $CNN_LENS_FAST_GRADIENTS=on|off overrides 'auto'.
 */
export function setFastGradients(mode: 'auto' | 'on' | 'off'): void {
  fastGradMode = mode;
}

/** Whether a gradient is being recorded (tf.grad's forward pass); outside one the plain op is cheaper. */
export function recording(): boolean {
  return (tf.engine() as unknown as { state: { activeTape: unknown[] | null } }).state.activeTape != null;
}

export type GradKind = 'conv' | 'dilated-conv' | 'max-pool' | 'avg-pool' | 'activation';

export function fastGradients(kind: GradKind, preparing = false): boolean {
  if (!preparing && !recording()) return false;
  if (fastGradMode !== 'auto') return fastGradMode === 'on';
  const env = process.env.CNN_LENS_FAST_GRADIENTS;
  if (env === 'off' || env === 'on') return env === 'on';
  switch (kind) {
    case 'dilated-conv':
      // tfjs has no gradient at all for dilated convolutions: ours is the only one there.
      return true;
    case 'avg-pool':
      // tfjs's AvgPoolGrad divides by the whole window at 'same' borders, where the forward pass divides by
      // the inputs inside the image: ours is the derivative of the forward pass, on every backend.
      return true;
    case 'max-pool':
      // wasm's MaxPoolGrad misroutes the gradient of windows whose maximum is <= 0.
      return tf.getBackend() === 'wasm';
    case 'conv':
    case 'activation':
      return tf.getBackend() === 'wasm';
  }
}

export function convKind(dilations: [number, number]): GradKind {
  return dilations[0] > 1 || dilations[1] > 1 ? 'dilated-conv' : 'conv';
}

/** Whether a gradient is being recorded (tf.grad's forward pass). */
export function recordingGradient(): boolean {
  return recording();
}

export function read(v: L | null | undefined): tf.Tensor | null {
  return v ? (v.read() as tf.Tensor) : null;
}

export function convPadding(cfg: L, ctx?: OpContext): 'same' | 'valid' {
  return cfg.padding === 'same' && !ctx?.windowed ? 'same' : 'valid';
}

/** A convolution layer's padding, with the zeros of a ZeroPadding2D the network folded into it (OpContext.foldedPad). */
export function convLayerPadding(cfg: L, ctx: OpContext): ConvPad {
  const p = ctx.foldedPad;
  return p && !ctx.windowed && cfg.padding !== 'same' ? [[0, 0], p[0], p[1], [0, 0]] : convPadding(cfg, ctx);
}

export function pair(v: number | number[] | undefined, dflt: number): [number, number] {
  if (v === undefined || v === null) return [dflt, dflt];
  if (typeof v === 'number') return [v, v];
  return [v[0], v[1] ?? v[0]];
}

/** The layer's config, read once and kept on the layer (getConfig builds a new object each call). */
export function layerConfig(layer: L): L {
  return layer.__cnnLensConfig ?? (layer.__cnnLensConfig = layer.getConfig());
}

/** The forced fast-gradient mode ('auto' unless setFastGradients forced it); batch-norm folding follows it too. */
export function fastGradModeSetting(): 'auto' | 'on' | 'off' {
  return fastGradMode;
}

/** Whether a layer works on channels-last data (every tfjs layer without a dataFormat, or 'channelsLast'). */
export function channelsLast(cfg: L): boolean {
  return cfg.dataFormat === undefined || cfg.dataFormat === 'channelsLast';
}
