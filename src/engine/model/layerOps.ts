// Forward computation of one layer with plain (unfused) tfjs ops.
//
// Why not layer.apply? tf.layers Conv2D/Dense run fused ops whose gradient always computes the weight
// gradients too (ENGINE-NOTES pitfall 1: 59 s instead of 1 s on MobileNetV2), BatchNormalization with
// scale:false has no working gradient in tfjs 4.22 (pitfall 4), and guided backpropagation needs its own
// ReLU gradient. Layers not listed here fall back to the layer's own call().
import * as tf from '@tensorflow/tfjs-core';
import type { GraphNode } from './graph';

export interface OpContext {
  /** Guided backpropagation: ReLUs pass back only positive gradient at positive input. */
  guided: boolean;
  /** Deconvnet (Zeiler & Fergus 2014): ReLUs pass back ReLU(gradient) whatever their input. */
  deconv?: boolean;
  /** Skip this node's output activation (used to read logits before a final softmax). */
  skipActivation: boolean;
  /** Per-node prepared constants (folded batch-norm scale/shift, flipped convolution kernels), kept across calls. */
  prepared: Map<number, tf.Tensor[]>;
}

type L = Record<string, any>;

type GradResult = { value: tf.Tensor; gradFunc: (dy: any, saved: tf.Tensor[]) => tf.Tensor | tf.Tensor[] };

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

/** ReLU whose gradient, in guided mode, is dy·[x>0]·[dy>0] (Springenberg et al. 2014) = ReLU(dy)·[y>0]. */
const guidedRelu = customGrad(((x: tf.Tensor, save: tf.GradSaveFunc) => {
  const y = tf.relu(x);
  save([y]);
  return {
    value: y,
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.mul(tf.relu(dy), tf.step(saved[0])),
  };
  // customGrad's typing wants (...inputs, save) in one union; the call shape is (x, save).
}) as any) as (x: tf.Tensor) => tf.Tensor;

/** ReLU (and ReLU6) with the deconvnet rule: the gradient passed back is ReLU(dy), whatever the input's sign. */
const deconvRelu = customGrad(((x: tf.Tensor) => ({ value: tf.relu(x), gradFunc: (dy: tf.Tensor) => tf.relu(dy) })) as any) as (x: tf.Tensor) => tf.Tensor;
const deconvRelu6 = customGrad(((x: tf.Tensor) => ({ value: tf.clipByValue(x, 0, 6), gradFunc: (dy: tf.Tensor) => tf.relu(dy) })) as any) as (x: tf.Tensor) => tf.Tensor;

/** [0 < y < 6] for y = ReLU6(x), from float ops (wasm's comparisons and logical ops are slow loops). */
function inside06(y: tf.Tensor): tf.Tensor {
  return tf.step(tf.mul(y, tf.sub(6, y)));
}

/** ReLU6 with the guided rule: passes back where 0 < x < 6 and dy > 0. */
const guidedRelu6 = customGrad(((x: tf.Tensor, save: tf.GradSaveFunc) => {
  const y = tf.clipByValue(x, 0, 6);
  save([y]);
  return {
    value: y,
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.mul(tf.relu(dy), inside06(saved[0])),
  };
}) as any) as (x: tf.Tensor) => tf.Tensor;

/**
 * ReLU and ReLU6 for recorded gradients: dy·[y > 0] and dy·[0 < y < 6] from the output, 2–4 float ops
 * where tfjs's clipByValue gradient takes five (two comparisons, a logical and, a zeros tensor and a
 * select: 60% of a MobileNetV2 input gradient on wasm). At exactly 0 or 6 the gradient is 0 (tfjs's
 * ReLU6 passes it there; a measure-zero choice of subgradient).
 */
const fastRelu = customGrad(((x: tf.Tensor, save: tf.GradSaveFunc) => {
  const y = tf.relu(x);
  save([y]);
  return { value: y, gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.mul(dy, tf.step(saved[0])) };
}) as any) as (x: tf.Tensor) => tf.Tensor;

const fastRelu6 = customGrad(((x: tf.Tensor, save: tf.GradSaveFunc) => {
  const y = tf.clipByValue(x, 0, 6);
  save([y]);
  return { value: y, gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.mul(dy, inside06(saved[0])) };
}) as any) as (x: tf.Tensor) => tf.Tensor;

// ---------------------------------------------------------------------------------------------------
// Convolutions whose input gradient runs on the forward-convolution kernel.
//
// The gradient of a convolution with respect to its input is a transposed convolution, and that is an
// ordinary convolution of the output gradient — dilated by the stride (zeros between its entries) and
// padded by (kernel − 1 − padding) before, enough after to give back the input's size — with the kernel
// flipped in space and its in/out channels swapped. The wasm backend's own Conv2DBackpropInput is a plain
// loop (3.3 of 5 s of an InceptionV3 input gradient) and it has no DepthwiseConv2dNativeBackpropInput at
// all (the cpu proxy in backend.ts), while its forward kernels are XNNPACK's. Gradients flow to the input
// only: the kernels are constants here (the engine never trains).

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
function recording(): boolean {
  return (tf.engine() as unknown as { state: { activeTape: unknown[] | null } }).state.activeTape != null;
}

type GradKind = 'conv' | 'dilated-conv' | 'max-pool' | 'avg-pool' | 'activation';

function fastGradients(kind: GradKind, preparing = false): boolean {
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

function convKind(dilations: [number, number]): GradKind {
  return dilations[0] > 1 || dilations[1] > 1 ? 'dilated-conv' : 'conv';
}

/** Explicit [before, after] padding of one spatial axis, the way tfjs computes it for 'same'/'valid'. */
function padAlong(size: number, kernel: number, stride: number, dilation: number, padding: 'same' | 'valid'): { out: number; before: number } {
  const eff = (kernel - 1) * dilation + 1;
  if (padding === 'valid') return { out: Math.ceil((size - eff + 1) / stride), before: 0 };
  const out = Math.ceil(size / stride);
  const total = Math.max((out - 1) * stride + eff - size, 0);
  return { out, before: Math.floor(total / 2) };
}

interface TransposePlan {
  /** Zeros before and after each spatial axis of the dilated gradient. */
  pads: [[number, number], [number, number]];
  strides: [number, number];
  dilations: [number, number];
}

/** How to turn dy into the padded, dilated input of the forward kernel; null when the shapes fall outside the rule. */
function transposePlan(inShape: number[], kernelHW: [number, number], strides: [number, number], padding: 'same' | 'valid', dilations: [number, number]): TransposePlan | null {
  const pads: [number, number][] = [];
  for (let a = 0; a < 2; a++) {
    const size = inShape[1 + a];
    const eff = (kernelHW[a] - 1) * dilations[a] + 1;
    const { out, before: padBefore } = padAlong(size, kernelHW[a], strides[a], dilations[a], padding);
    const dilatedLen = (out - 1) * strides[a] + 1;
    const before = eff - 1 - padBefore;
    const after = size + padBefore - dilatedLen;
    if (out < 1 || before < 0 || after < 0) return null;
    pads.push([before, after]);
  }
  return { pads: pads as [[number, number], [number, number]], strides, dilations };
}

/** dy with (stride − 1) zeros between entries along each spatial axis, then padded as planned. */
function dilateAndPad(dy: tf.Tensor4D, plan: TransposePlan): tf.Tensor4D {
  const [sh, sw] = plan.strides;
  const [n, ho, wo, c] = dy.shape;
  let d: tf.Tensor4D = dy;
  let extraH = 0;
  let extraW = 0;
  if (sh > 1 || sw > 1) {
    // [n, ho, 1, wo, 1, c] padded to [n, ho, sh, wo, sw, c]: each entry followed by its zeros.
    const spread = tf.pad(tf.reshape(dy, [n, ho, 1, wo, 1, c]), [[0, 0], [0, 0], [0, sh - 1], [0, 0], [0, sw - 1], [0, 0]]);
    d = tf.reshape(spread, [n, ho * sh, wo * sw, c]);
    // The last entry's trailing zeros are part of the 'after' padding.
    extraH = sh - 1;
    extraW = sw - 1;
  }
  const [[tH, bH], [lW, rW]] = plan.pads;
  if (bH < extraH || rW < extraW) {
    d = tf.slice(d, [0, 0, 0, 0], [n, d.shape[1] - Math.max(0, extraH - bH), d.shape[2] - Math.max(0, extraW - rW), c]);
  }
  return tf.pad(d, [[0, 0], [tH, Math.max(0, bH - extraH)], [lW, Math.max(0, rW - extraW)], [0, 0]]);
}

/**
 * The kernel flipped in space with in/out channels swapped ([kh, kw, out, in]); depthwise kernels
 * [kh, kw, in, multiplier] act per channel and are only flipped, as [kh, kw, in·multiplier, 1]. The
 * spatial flip is a product with the anti-identity over the kh·kw taps (exact: every sum has one term
 * times 1 and zeros), 8× faster on wasm than tf.reverse, whose kernel is a scalar loop. The kernel is the
 * product's left operand: wasm caches a packed copy of a matMul's right operand for as long as that
 * tensor lives, which for the model's own kernel would be for ever.
 */
function flipKernel(kernel: tf.Tensor4D, depthwise: boolean): tf.Tensor4D {
  return tf.tidy(() => {
    const [kh, kw, cin, cout] = kernel.shape;
    const taps = kh * kw;
    // [cin·cout, taps]: each row one (in, out) pair's taps, reversed by the product with the anti-identity.
    let rows = tf.transpose(tf.reshape(kernel, [taps, cin * cout])) as tf.Tensor2D;
    if (taps > 1) {
      const anti = new Float32Array(taps * taps);
      for (let i = 0; i < taps; i++) anti[i * taps + (taps - 1 - i)] = 1;
      rows = tf.matMul(rows, tf.tensor2d(anti, [taps, taps]));
    }
    if (depthwise) return tf.reshape(tf.transpose(rows), [kh, kw, cin * cout, 1]) as tf.Tensor4D;
    return tf.reshape(tf.transpose(tf.reshape(rows, [cin, cout, taps]), [2, 1, 0]), [kh, kw, cout, cin]) as tf.Tensor4D;
  });
}

/** Flipped kernels kept in OpContext.prepared, with the kernel data each was made from (to notice setWeights). */
const flippedFrom = new WeakMap<tf.Tensor, object>();

/**
 * The node's flipped kernel `slot` (0; 1 for a separable convolution's pointwise kernel), made once per
 * network and kept with its other prepared constants: a new filter tensor each call would also make
 * XNNPACK pack its weights again each call.
 */
function flippedKernel(key: number, slot: number, kernel: tf.Tensor4D, depthwise: boolean, ctx: OpContext): tf.Tensor4D {
  const kept = ctx.prepared.get(key) ?? [];
  const cached = kept[slot] as tf.Tensor4D | undefined;
  if (cached && !cached.isDisposed && flippedFrom.get(cached) === kernel.dataId) return cached;
  cached?.dispose();
  const flipped = tf.keep(flipKernel(kernel, depthwise));
  flippedFrom.set(flipped, kernel.dataId);
  kept[slot] = flipped;
  ctx.prepared.set(key, kept);
  return flipped;
}

/** The convolution kernels of a node whose input gradient can use the forward kernel: [kernel, depthwise?] per slot. */
function convKernels(node: GraphNode): [tf.Tensor4D, boolean][] {
  const layer = node.layer as unknown as L;
  switch (node.className) {
    case 'Conv2D':
      return [[read(layer.kernel) as tf.Tensor4D, false]];
    case 'DepthwiseConv2D':
      return [[read(layer.depthwiseKernel) as tf.Tensor4D, true]];
    case 'SeparableConv2D':
      return [[read(layer.depthwiseKernel) as tf.Tensor4D, true], [read(layer.pointwiseKernel) as tf.Tensor4D, false]];
    default:
      return [];
  }
}

/**
 * Makes the flipped kernels of every convolution among `nodes` at once (the network calls this on its
 * first gradient), so that they are made once per network rather than when each layer is first
 * differentiated through.
 */
export function prepareConvGradients(nodes: GraphNode[], ctx: OpContext): void {
  if (!fastGradients('conv', true)) return;
  for (const node of nodes) {
    const layer = node.layer as unknown as L;
    const cfg: L = layer.__cnnLensConfig ?? (layer.__cnnLensConfig = layer.getConfig());
    if (cfg.dataFormat !== undefined && cfg.dataFormat !== 'channelsLast') continue;
    convKernels(node).forEach(([k, depthwise], slot) => {
      if (k && k.rank === 4) flippedKernel(node.index, slot, k, depthwise, ctx);
    });
  }
}

/** Whether a gradient is being recorded (tf.grad's forward pass). */
export function recordingGradient(): boolean {
  return recording();
}

/**
 * What follows a convolution inside its layer: bias and activation. Run as one fused kernel (XNNPACK's
 * convolution with bias and clamp) and one kept tensor instead of three; the activation's gradient is
 * applied to dy from the saved output before the transposed convolution.
 */
interface Epilogue {
  bias: tf.Tensor | null;
  activation: 'linear' | 'relu' | 'relu6';
  guided: boolean;
  deconv?: boolean;
}

/** dy through the epilogue's activation, from the convolution's output y (see fastRelu, guidedRelu). */
function epilogueGrad(dy: tf.Tensor, y: tf.Tensor, e: Epilogue): tf.Tensor {
  if (e.activation === 'linear') return dy;
  if (e.deconv) return tf.relu(dy);
  const mask = e.activation === 'relu' ? tf.step(y) : inside06(y);
  return tf.mul(e.guided ? tf.relu(dy) : dy, mask);
}

/** The same without the fast gradients: plain ops, each with tfjs's own gradient (or fused when nothing is recorded). */
function plainEpilogue(y: tf.Tensor, e: Epilogue): tf.Tensor {
  const b = e.bias ? tf.add(y, e.bias) : y;
  if (e.activation === 'linear') return b;
  if (e.deconv) return e.activation === 'relu' ? deconvRelu(b) : deconvRelu6(b);
  if (e.guided) return e.activation === 'relu' ? guidedRelu(b) : guidedRelu6(b);
  return e.activation === 'relu' ? tf.relu(b) : tf.clipByValue(b, 0, 6);
}

const NO_EPILOGUE: Epilogue = { bias: null, activation: 'linear', guided: false };

/**
 * The fused convolution kernel itself, for the forward pass inside our custom gradients. tf.fused.conv2d
 * does not fuse while a gradient is being recorded (it runs conv, add and ReLU as three kernels, so that
 * tfjs can differentiate them): inside tf.grad that made every convolution a second XNNPACK operator,
 * with its own packed copy of the kernel, beside the fused one of the plain forward passes.
 */
function fusedKernel(kernelName: 'FusedConv2D' | 'FusedDepthwiseConv2D', x: tf.Tensor4D, filter: tf.Tensor4D, strides: [number, number], pad: 'same' | 'valid', dilations: [number, number], e: Epilogue): tf.Tensor4D {
  const inputs: Record<string, tf.Tensor> = { x, filter };
  if (e.bias) inputs.bias = e.bias;
  return tf.engine().runKernel(kernelName, inputs as any, { strides, pad, dataFormat: 'NHWC', dilations, activation: e.activation } as any) as tf.Tensor4D;
}

/** conv2d (+ bias + activation) whose input gradient is a forward convolution with the flipped kernel. */
function conv2dFastGrad(key: number, slot: number, x: tf.Tensor4D, kernel: tf.Tensor4D, strides: [number, number], padding: 'same' | 'valid', dilations: [number, number], ctx: OpContext, e: Epilogue = NO_EPILOGUE): tf.Tensor4D {
  if (!recording()) return tf.fused.conv2d({ x, filter: kernel, strides, pad: padding, dilations, bias: e.bias ?? undefined, activation: e.activation });
  const plan = fastGradients(convKind(dilations)) && (strides[0] === 1 && strides[1] === 1 || dilations[0] === 1 && dilations[1] === 1)
    ? transposePlan(x.shape, [kernel.shape[0], kernel.shape[1]], strides, padding, dilations)
    : null;
  if (!plan) return plainEpilogue(tf.conv2d(x, kernel, strides, padding, 'NHWC', dilations), e) as tf.Tensor4D;
  const flipped = flippedKernel(key, slot, kernel, false, ctx);
  const op = customGrad(((xi: tf.Tensor4D, save: tf.GradSaveFunc) => {
    const y = fusedKernel('FusedConv2D', xi, kernel, strides, padding, dilations, e);
    if (e.activation !== 'linear') save([y]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor4D, saved: tf.Tensor[]) => tf.conv2d(dilateAndPad(epilogueGrad(dy, saved[0], e) as tf.Tensor4D, plan), flipped, 1, 'valid', 'NHWC', dilations),
    };
  }) as any) as (x: tf.Tensor4D) => tf.Tensor4D;
  return op(x);
}

/** depthwiseConv2d (+ bias + activation) whose input gradient is a forward depthwise convolution with the flipped kernel. */
function depthwiseFastGrad(key: number, slot: number, x: tf.Tensor4D, kernel: tf.Tensor4D, strides: [number, number], padding: 'same' | 'valid', dilations: [number, number], ctx: OpContext, e: Epilogue = NO_EPILOGUE): tf.Tensor4D {
  if (!recording()) return tf.fused.depthwiseConv2d({ x, filter: kernel, strides, pad: padding, dilations, bias: e.bias ?? undefined, activation: e.activation });
  // tfjs allows depthwise dilation only with stride 1.
  const plan = fastGradients(convKind(dilations)) ? transposePlan(x.shape, [kernel.shape[0], kernel.shape[1]], strides, padding, dilations) : null;
  if (!plan) return plainEpilogue(tf.depthwiseConv2d(x, kernel, strides, padding, 'NHWC', dilations), e) as tf.Tensor4D;
  const flipped = flippedKernel(key, slot, kernel, true, ctx);
  const [n, h, w, cin] = x.shape;
  const mult = kernel.shape[3];
  const op = customGrad(((xi: tf.Tensor4D, save: tf.GradSaveFunc) => {
    const y = fusedKernel('FusedDepthwiseConv2D', xi, kernel, strides, padding, dilations, e);
    if (e.activation !== 'linear') save([y]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor4D, saved: tf.Tensor[]) => {
        const g = tf.depthwiseConv2d(dilateAndPad(epilogueGrad(dy, saved[0], e) as tf.Tensor4D, plan), flipped, 1, 'valid', 'NHWC', dilations);
        // Output channel i·mult + k came from input channel i: sum the multiplier's copies.
        return mult === 1 ? g : tf.sum(tf.reshape(g, [n, h, w, cin, mult]), -1);
      },
    };
  }) as any) as (x: tf.Tensor4D) => tf.Tensor4D;
  return op(x);
}

/**
 * Whether a convolution's bias and ReLU/ReLU6 run inside its kernel (and a folded batch norm's ReLU with
 * it). $CNN_LENS_FUSE_EPILOGUES=off runs them as separate ops, to compare with the bench.
 */
export function fuseEpilogues(): boolean {
  return process.env.CNN_LENS_FUSE_EPILOGUES !== 'off';
}

/** The layer's bias and activation as an epilogue, or null when its activation is not one a fused kernel applies. */
function layerEpilogue(layer: L, ctx: OpContext): Epilogue | null {
  if (!fuseEpilogues()) return null;
  const name = ctx.skipActivation ? 'linear' : activationName(layer) ?? 'linear';
  if (name !== 'linear' && name !== 'relu' && name !== 'relu6') return null;
  return { bias: layer.useBias === false ? null : read(layer.bias), activation: name, guided: ctx.guided, deconv: ctx.deconv };
}

// ---------------------------------------------------------------------------------------------------
// Dense layers. tfjs's matMul gradient is dy·Wᵀ, a product with a transposed operand, which the wasm
// backend runs as a scalar loop (its XNNPACK path takes untransposed operands only): 0.5 s for VGG16's fc1.
// The same numbers come from (W·dyᵀ)ᵀ with untransposed operands (dy is small to transpose).

function matMulFastGrad(x: tf.Tensor2D, kernel: tf.Tensor2D): tf.Tensor2D {
  if (!fastGradients('conv')) return tf.matMul(x, kernel);
  const op = customGrad(((xi: tf.Tensor2D) => ({
    value: tf.matMul(xi, kernel),
    gradFunc: (dy: tf.Tensor2D) => tf.transpose(tf.matMul(kernel, tf.transpose(dy))),
  })) as any) as (x: tf.Tensor2D) => tf.Tensor2D;
  return op(x);
}

// ---------------------------------------------------------------------------------------------------
// Pooling gradients from elementwise ops. The wasm backend's MaxPoolGrad and AvgPoolGrad kernels are scalar
// loops that take 100–300× their forward pass (715 ms against 2.5 ms for VGG16's first pool): over a
// second of a VGG16 or InceptionV3 input gradient. Both are also wrong in places (see fastGradients).

/** Rows (or columns) of the input that each output position's window covers, padding excluded. */
function windowCounts(size: number, out: number, kernel: number, stride: number, padBefore: number): number[] {
  const counts: number[] = [];
  for (let o = 0; o < out; o++) {
    const start = o * stride - padBefore;
    counts.push(Math.min(start + kernel, size) - Math.max(start, 0));
  }
  return counts;
}

/**
 * avgPool whose input gradient is a transposed depthwise convolution with a kernel of ones: each output
 * gradient divided by its window's count of (unpadded) inputs, spread back over the window.
 */
function avgPoolFastGrad(x: tf.Tensor4D, size: [number, number], strides: [number, number], padding: 'same' | 'valid'): tf.Tensor4D {
  const plan = fastGradients('avg-pool') ? transposePlan(x.shape, size, strides, padding, [1, 1]) : null;
  if (!plan) return tf.avgPool(x, size, strides, padding);
  const [, h, w, c] = x.shape;
  const rows = padAlong(h, size[0], strides[0], 1, padding);
  const cols = padAlong(w, size[1], strides[1], 1, padding);
  const countH = windowCounts(h, rows.out, size[0], strides[0], rows.before);
  const countW = windowCounts(w, cols.out, size[1], strides[1], cols.before);
  const inverse = new Float32Array(rows.out * cols.out);
  for (let i = 0; i < rows.out; i++) for (let j = 0; j < cols.out; j++) inverse[i * cols.out + j] = 1 / (countH[i] * countW[j]);
  const op = customGrad(((xi: tf.Tensor4D) => ({
    value: tf.avgPool(xi, size, strides, padding),
    gradFunc: (dy: tf.Tensor4D) => {
      const scaled = tf.mul(dy, tf.tensor4d(inverse, [1, rows.out, cols.out, 1]));
      return tf.depthwiseConv2d(dilateAndPad(scaled as tf.Tensor4D, plan), tf.ones([size[0], size[1], c, 1]) as tf.Tensor4D, 1, 'valid');
    },
  })) as any) as (x: tf.Tensor4D) => tf.Tensor4D;
  return op(x);
}

/**
 * ∂/∂x of maxPool: each output's gradient goes to the first maximum of its window in row-major order
 * (tfjs's cpu kernel and TensorFlow choose the same). wasm's MaxPoolGrad starts each window's maximum at
 * the smallest positive float, so a window whose maximum is ≤ 0 — all zeros after a ReLU, or negative —
 * sends its gradient to a wrong place.
 *
 * The input, padded with −∞ to a whole number of strides, is split into its s×s phase grids
 * (P[r][t][i][j] = x[i·s + r][j·s + t], by rank-4 transposes: wasm's StridedSlice, DepthToSpace and
 * rank-6 Transpose are scalar loops). Window offset (p, q) = (a·s + r, b·s + t) reads grid (r, t) shifted
 * by (a, b); offsets are visited in row-major order and each takes the gradient of the windows whose
 * maximum it holds and that no earlier offset took. The per-offset gradients go back the same way.
 */
function maxPoolBackprop(dy: tf.Tensor4D, x: tf.Tensor4D, y: tf.Tensor4D, size: [number, number], s: number, padding: 'same' | 'valid'): tf.Tensor4D {
  const [n, h, w, c] = x.shape;
  const [, ho, wo] = y.shape;
  const [kh, kw] = size;
  const padTop = padAlong(h, kh, s, 1, padding).before;
  const padLeft = padAlong(w, kw, s, 1, padding).before;
  // Phase grids of hs × ws cover every window: rows up to (ho − 1)·s + kh − 1.
  const hs = ho - 1 + Math.ceil(kh / s);
  const ws = wo - 1 + Math.ceil(kw / s);
  const hIn = Math.min(h, hs * s - padTop);
  const wIn = Math.min(w, ws * s - padLeft);
  const xc = hIn < h || wIn < w ? tf.slice(x, [0, 0, 0, 0], [n, hIn, wIn, c]) : x;
  const xp = tf.pad(xc, [[0, 0], [padTop, hs * s - padTop - hIn], [padLeft, ws * s - padLeft - wIn], [0, 0]], -Infinity);
  // [n·hs, s, ws, s·c] → [s, n·hs, ws, s·c] → [s, n·hs·ws, s, c] → [s, s, n·hs·ws, c]: grid (r, t) is block r·s + t.
  const grids = s === 1 ? xp : tf.reshape(tf.transpose(tf.reshape(tf.transpose(tf.reshape(xp, [n * hs, s, ws, s * c]), [1, 0, 2, 3]), [s, n * hs * ws, s, c]), [0, 2, 1, 3]), [s * s * n, hs, ws, c]);
  const phase: (tf.Tensor | null)[] = new Array(s * s).fill(null);
  const zeros = tf.zerosLike(dy);
  let remaining: tf.Tensor = dy;
  for (let p = 0; p < kh; p++) {
    for (let q = 0; q < kw; q++) {
      const [a, r, b, t] = [Math.floor(p / s), p % s, Math.floor(q / s), q % s];
      const k = r * s + t;
      const xs = tf.slice(grids, [k * n, a, b, 0], [n, ho, wo, c]);
      const isMax = tf.equal(xs, y);
      const g = tf.where(isMax, remaining, zeros);
      if (p < kh - 1 || q < kw - 1) remaining = tf.where(isMax, zeros, remaining);
      const placed = a || b || hs > ho || ws > wo ? tf.pad(g, [[0, 0], [a, hs - ho - a], [b, ws - wo - b], [0, 0]]) : g;
      phase[k] = phase[k] ? tf.add(phase[k]!, placed) : placed;
    }
  }
  const blocks = phase.map((g) => g ?? tf.zeros([n, hs, ws, c]));
  const canvas =
    s === 1
      ? blocks[0]
      : tf.reshape(tf.transpose(tf.reshape(tf.transpose(tf.reshape(tf.concat(blocks, 0), [s, s, n * hs * ws, c]), [0, 2, 1, 3]), [s, n * hs, ws, s * c]), [1, 0, 2, 3]), [n, hs * s, ws * s, c]);
  const inside = tf.slice(canvas, [0, padTop, padLeft, 0], [n, hIn, wIn, c]);
  return (hIn < h || wIn < w ? tf.pad(inside, [[0, 0], [0, h - hIn], [0, w - wIn], [0, 0]]) : inside) as tf.Tensor4D;
}

function maxPoolFastGrad(x: tf.Tensor4D, size: [number, number], strides: [number, number], padding: 'same' | 'valid'): tf.Tensor4D {
  if (!fastGradients('max-pool') || strides[0] !== strides[1]) return tf.maxPool(x, size, strides, padding);
  const op = customGrad(((xi: tf.Tensor4D, save: tf.GradSaveFunc) => {
    const y = tf.maxPool(xi, size, strides, padding);
    save([xi, y]);
    return { value: y, gradFunc: (dy: tf.Tensor4D, saved: tf.Tensor[]) => maxPoolBackprop(dy, saved[0] as tf.Tensor4D, saved[1] as tf.Tensor4D, size, strides[0], padding) };
  }) as any) as (x: tf.Tensor4D) => tf.Tensor4D;
  return op(x);
}

function relu(x: tf.Tensor, ctx: OpContext): tf.Tensor {
  if (ctx.deconv) return deconvRelu(x);
  if (ctx.guided) return guidedRelu(x);
  return fastGradients('activation') ? fastRelu(x) : tf.relu(x);
}

function relu6(x: tf.Tensor, ctx: OpContext): tf.Tensor {
  if (ctx.deconv) return deconvRelu6(x);
  if (ctx.guided) return guidedRelu6(x);
  return fastGradients('activation') ? fastRelu6(x) : tf.clipByValue(x, 0, 6);
}

/** Name of a layer's activation ('relu', 'softmax', 'linear', …). */
export function activationName(layer: L): string | null {
  const a = layer.activation;
  if (!a || typeof a.getClassName !== 'function') return null;
  return String(a.getClassName()).toLowerCase();
}

function applyActivation(layer: L, x: tf.Tensor, ctx: OpContext): tf.Tensor {
  if (ctx.skipActivation) return x;
  const name = activationName(layer);
  switch (name) {
    case null:
    case 'linear':
      return x;
    case 'relu':
      return relu(x, ctx);
    case 'relu6':
      return relu6(x, ctx);
    default:
      return layer.activation.apply(x) as tf.Tensor;
  }
}

function read(v: L | null | undefined): tf.Tensor | null {
  return v ? (v.read() as tf.Tensor) : null;
}

function convPadding(cfg: L): 'same' | 'valid' {
  return cfg.padding === 'same' ? 'same' : 'valid';
}

function pair(v: number | number[] | undefined, dflt: number): [number, number] {
  if (v === undefined || v === null) return [dflt, dflt];
  if (typeof v === 'number') return [v, v];
  return [v[0], v[1] ?? v[0]];
}

function addBias(x: tf.Tensor, layer: L): tf.Tensor {
  const b = layer.useBias === false ? null : read(layer.bias);
  return b ? tf.add(x, b) : x;
}

/** Inference-mode batch norm as one scale and shift per channel (gamma = 1 when scale: false), kept per node. */
function batchNormScaleShift(node: GraphNode, ctx: OpContext): tf.Tensor[] {
  let folded = ctx.prepared.get(node.index);
  if (!folded) {
    const layer = node.layer as unknown as L;
    const cfg: L = layer.__cnnLensConfig ?? (layer.__cnnLensConfig = layer.getConfig());
    folded = tf.tidy(() => {
      const mean = read(layer.movingMean)!;
      const variance = read(layer.movingVariance)!;
      const gamma = cfg.scale === false ? tf.onesLike(mean) : read(layer.gamma)!;
      const beta = cfg.center === false ? tf.zerosLike(mean) : read(layer.beta)!;
      const scale = tf.mul(gamma, tf.rsqrt(tf.add(variance, cfg.epsilon ?? 1e-3)));
      return [scale, tf.sub(beta, tf.mul(mean, scale))];
    });
    folded.forEach((t) => tf.keep(t));
    ctx.prepared.set(node.index, folded);
  }
  return folded;
}

// ---------------------------------------------------------------------------------------------------
// A convolution followed only by a batch norm runs as one convolution with the batch norm folded into
// its weights (W·scale, bias·scale + shift): a kernel and a bias add instead of a kernel, a bias add, a
// multiply and an add forward, and fewer tensors kept for the gradient. Network.run decides per pass
// (not when the convolution's own output is tapped or replaced).

/** Whether `bn` can absorb `conv`: conv (linear, channels last) feeds only bn, and bn normalizes the last axis. */
export function foldableIntoBatchNorm(conv: GraphNode, bn: GraphNode): boolean {
  if (bn.className !== 'BatchNormalization' || bn.inputs.length !== 1) return false;
  if (conv.className !== 'Conv2D' && conv.className !== 'DepthwiseConv2D') return false;
  if (conv.outputs.length !== 1 || conv.outputs[0].shape.length !== 4 || bn.inputs[0].id !== conv.outputs[0].id) return false;
  if (conv.consumers.length !== 1 || conv.consumers[0] !== bn.index) return false;
  const c = conv.layer as unknown as L;
  const ccfg: L = c.__cnnLensConfig ?? (c.__cnnLensConfig = c.getConfig());
  if (ccfg.dataFormat !== undefined && ccfg.dataFormat !== 'channelsLast') return false;
  const act = activationName(c);
  if (act !== null && act !== 'linear') return false;
  const b = bn.layer as unknown as L;
  const bcfg: L = b.__cnnLensConfig ?? (b.__cnnLensConfig = b.getConfig());
  const axis = Array.isArray(bcfg.axis) ? bcfg.axis[0] : bcfg.axis;
  return axis === -1 || axis === 3;
}

/** Whether Network.run folds batch norms into convolutions: on wasm (where elementwise ops are the cost); $CNN_LENS_FOLD_BATCH_NORM=off stops it. */
export function foldBatchNorms(): boolean {
  if (fastGradMode !== 'auto') return fastGradMode === 'on';
  if (process.env.CNN_LENS_FOLD_BATCH_NORM === 'off') return false;
  const env = process.env.CNN_LENS_FAST_GRADIENTS;
  if (env === 'off' || env === 'on') return env === 'on';
  return tf.getBackend() === 'wasm';
}

/** Folded weights kept under key −(bn index + 1): [kernel, bias, flipped kernel], with the data they came from. */
const foldedFrom = new WeakMap<tf.Tensor, object[]>();

function foldedWeights(conv: GraphNode, bn: GraphNode, ctx: OpContext): { key: number; kernel: tf.Tensor4D; bias: tf.Tensor1D } {
  const key = -(bn.index + 1);
  const c = conv.layer as unknown as L;
  const b = bn.layer as unknown as L;
  const kernel = read(conv.className === 'Conv2D' ? c.kernel : c.depthwiseKernel) as tf.Tensor4D;
  const bias = c.useBias === false ? null : read(c.bias);
  const sources = [kernel.dataId, bias?.dataId, read(b.movingMean)?.dataId, read(b.movingVariance)?.dataId, read(b.gamma)?.dataId, read(b.beta)?.dataId].filter((d): d is object => !!d);
  const kept = ctx.prepared.get(key);
  if (kept) {
    const from = foldedFrom.get(kept[0]);
    if (from && from.length === sources.length && from.every((d, i) => d === sources[i])) return { key, kernel: kept[0] as tf.Tensor4D, bias: kept[1] as tf.Tensor1D };
    // New weights (setWeights): the folded weights and the batch norm's own constants are made again.
    kept.forEach((t) => t.dispose());
    ctx.prepared.get(bn.index)?.forEach((t) => t.dispose());
    ctx.prepared.delete(bn.index);
  }
  const [scale, shift] = batchNormScaleShift(bn, ctx);
  const made = tf.tidy(() => {
    const [kh, kw, cin, cout] = kernel.shape;
    const k = conv.className === 'Conv2D' ? tf.mul(kernel, scale) : tf.reshape(tf.mul(tf.reshape(kernel, [kh, kw, cin * cout]), scale), [kh, kw, cin, cout]);
    return [k, bias ? tf.add(tf.mul(bias, scale), shift) : tf.clone(shift)];
  });
  made.forEach((t) => tf.keep(t));
  foldedFrom.set(made[0], sources);
  ctx.prepared.set(key, made);
  return { key, kernel: made[0] as tf.Tensor4D, bias: made[1] as tf.Tensor1D };
}

/** Makes a folded pair's weights and their flipped kernel (the network's first gradient does this for every pair). */
export function prepareFoldedGradients(conv: GraphNode, bn: GraphNode, ctx: OpContext): void {
  const { key, kernel } = foldedWeights(conv, bn, ctx);
  if (fastGradients('conv', true)) flippedKernel(key, 2, kernel, conv.className === 'DepthwiseConv2D', ctx);
}

/**
 * The activation a node applies when it can join a folded convolution's kernel: a ReLU layer (plain or
 * capped at 6) or an Activation layer with relu/relu6 whose only input is bn's output; else null.
 */
export function foldableActivation(bn: GraphNode, act: GraphNode): 'relu' | 'relu6' | null {
  if (act.inputs.length !== 1 || act.inputs[0].id !== bn.outputs[0].id || bn.consumers.length !== 1 || bn.consumers[0] !== act.index) return null;
  const layer = act.layer as unknown as L;
  if (act.className === 'Activation') {
    const name = activationName(layer);
    return name === 'relu' || name === 'relu6' ? name : null;
  }
  if (act.className !== 'ReLU') return null;
  const cfg: L = layer.__cnnLensConfig ?? (layer.__cnnLensConfig = layer.getConfig());
  if ((cfg.negativeSlope ?? 0) !== 0 || (cfg.threshold ?? 0) !== 0) return null;
  if (cfg.maxValue === undefined || cfg.maxValue === null) return 'relu';
  return cfg.maxValue === 6 ? 'relu6' : null;
}

/** bn's output (or, with `activation`, the following ReLU's) computed from conv's input x as one convolution with folded weights. */
export function applyConvBatchNorm(conv: GraphNode, bn: GraphNode, x: tf.Tensor, ctx: OpContext, activation: 'linear' | 'relu' | 'relu6' = 'linear'): tf.Tensor {
  const c = conv.layer as unknown as L;
  const cfg: L = c.__cnnLensConfig ?? (c.__cnnLensConfig = c.getConfig());
  const { key, kernel, bias } = foldedWeights(conv, bn, ctx);
  const e: Epilogue = { bias, activation, guided: ctx.guided, deconv: ctx.deconv };
  if (!fuseEpilogues()) {
    const args = [pair(cfg.strides, 1), convPadding(cfg), pair(cfg.dilationRate, 1), ctx] as const;
    return plainEpilogue(conv.className === 'Conv2D' ? conv2dFastGrad(key, 2, x as tf.Tensor4D, kernel, ...args) : depthwiseFastGrad(key, 2, x as tf.Tensor4D, kernel, ...args), e);
  }
  const args = [pair(cfg.strides, 1), convPadding(cfg), pair(cfg.dilationRate, 1), ctx, e] as const;
  return conv.className === 'Conv2D' ? conv2dFastGrad(key, 2, x as tf.Tensor4D, kernel, ...args) : depthwiseFastGrad(key, 2, x as tf.Tensor4D, kernel, ...args);
}

/** Computes the node's outputs, or returns null when the layer should run its own call(). */
function applyKnown(node: GraphNode, inputs: tf.Tensor[], ctx: OpContext): tf.Tensor | null {
  const layer = node.layer as unknown as L;
  const x = inputs[0];
  const cfg: L = (layer as any).__cnnLensConfig ?? ((layer as any).__cnnLensConfig = layer.getConfig());
  const channelsLast = cfg.dataFormat === undefined || cfg.dataFormat === 'channelsLast';
  switch (node.className) {
    case 'InputLayer':
    case 'Dropout':
    case 'SpatialDropout1D':
    case 'SpatialDropout2D':
    case 'GaussianNoise':
    case 'GaussianDropout':
    case 'AlphaDropout':
    case 'ActivityRegularization':
      return x;
    case 'Conv2D': {
      if (!channelsLast || x.rank !== 4) return null;
      const args = [pair(cfg.strides, 1), convPadding(cfg), pair(cfg.dilationRate, 1), ctx] as const;
      const e = layerEpilogue(layer, ctx);
      if (e) return conv2dFastGrad(node.index, 0, x as tf.Tensor4D, read(layer.kernel) as tf.Tensor4D, ...args, e);
      return applyActivation(layer, addBias(conv2dFastGrad(node.index, 0, x as tf.Tensor4D, read(layer.kernel) as tf.Tensor4D, ...args), layer), ctx);
    }
    case 'DepthwiseConv2D': {
      if (!channelsLast || x.rank !== 4) return null;
      const args = [pair(cfg.strides, 1), convPadding(cfg), pair(cfg.dilationRate, 1), ctx] as const;
      const e = layerEpilogue(layer, ctx);
      if (e) return depthwiseFastGrad(node.index, 0, x as tf.Tensor4D, read(layer.depthwiseKernel) as tf.Tensor4D, ...args, e);
      return applyActivation(layer, addBias(depthwiseFastGrad(node.index, 0, x as tf.Tensor4D, read(layer.depthwiseKernel) as tf.Tensor4D, ...args), layer), ctx);
    }
    case 'SeparableConv2D': {
      if (!channelsLast || x.rank !== 4) return null;
      // Depthwise then a 1×1 convolution, as tf.separableConv2d computes it.
      const dw = depthwiseFastGrad(node.index, 0, x as tf.Tensor4D, read(layer.depthwiseKernel) as tf.Tensor4D, pair(cfg.strides, 1), convPadding(cfg), pair(cfg.dilationRate, 1), ctx);
      const e = layerEpilogue(layer, ctx);
      if (e) return conv2dFastGrad(node.index, 1, dw, read(layer.pointwiseKernel) as tf.Tensor4D, [1, 1], 'valid', [1, 1], ctx, e);
      return applyActivation(layer, addBias(conv2dFastGrad(node.index, 1, dw, read(layer.pointwiseKernel) as tf.Tensor4D, [1, 1], 'valid', [1, 1], ctx), layer), ctx);
    }
    case 'Dense': {
      const kernel = read(layer.kernel) as tf.Tensor2D;
      let y: tf.Tensor;
      if (x.rank === 2) y = matMulFastGrad(x as tf.Tensor2D, kernel);
      else {
        const lead = x.shape.slice(0, -1);
        y = tf.reshape(matMulFastGrad(tf.reshape(x, [-1, x.shape[x.rank - 1]]) as tf.Tensor2D, kernel), [...lead, kernel.shape[1]]);
      }
      return applyActivation(layer, addBias(y, layer), ctx);
    }
    case 'BatchNormalization': {
      const axis = Array.isArray(cfg.axis) ? cfg.axis[0] : cfg.axis;
      if (axis !== -1 && axis !== x.rank - 1) return null;
      const [scale, shift] = batchNormScaleShift(node, ctx);
      return tf.add(tf.mul(x, scale), shift);
    }
    case 'Activation':
      return applyActivation(layer, x, ctx);
    case 'ReLU': {
      if (ctx.skipActivation) return x;
      const maxValue = cfg.maxValue;
      if (maxValue === 6) return relu6(x, ctx);
      if (maxValue === undefined || maxValue === null) return relu(x, ctx);
      return tf.clipByValue(relu(x, ctx), 0, maxValue);
    }
    case 'LeakyReLU':
      return tf.leakyRelu(x, cfg.alpha ?? 0.3);
    case 'ELU':
      return tf.elu(x);
    case 'Softmax':
      return ctx.skipActivation ? x : tf.softmax(x, cfg.axis ?? -1);
    case 'Add':
      return inputs.slice(1).reduce((a, b) => tf.add(a, b), inputs[0]);
    case 'Multiply':
      return inputs.slice(1).reduce((a, b) => tf.mul(a, b), inputs[0]);
    case 'Subtract':
      return tf.sub(inputs[0], inputs[1]);
    case 'Average':
      return tf.div(inputs.slice(1).reduce((a, b) => tf.add(a, b), inputs[0]), inputs.length);
    case 'Maximum':
      return inputs.slice(1).reduce((a, b) => tf.maximum(a, b), inputs[0]);
    case 'Minimum':
      return inputs.slice(1).reduce((a, b) => tf.minimum(a, b), inputs[0]);
    case 'Concatenate': {
      const axis = cfg.axis ?? -1;
      return tf.concat(inputs, axis < 0 ? inputs[0].rank + axis : axis);
    }
    case 'Flatten':
      return tf.reshape(x, [x.shape[0], -1]);
    case 'Reshape':
      return tf.reshape(x, [x.shape[0], ...(cfg.targetShape as number[])]);
    case 'ZeroPadding2D': {
      if (!channelsLast || x.rank !== 4) return null;
      const p = cfg.padding as [[number, number], [number, number]];
      return tf.pad(x, [[0, 0], p[0], p[1], [0, 0]]);
    }
    case 'MaxPooling2D':
    case 'AveragePooling2D': {
      if (!channelsLast || x.rank !== 4) return null;
      const size = pair(cfg.poolSize, 2);
      const strides = pair(cfg.strides ?? cfg.poolSize, 2);
      const pad = convPadding(cfg);
      return node.className === 'MaxPooling2D' ? maxPoolFastGrad(x as tf.Tensor4D, size, strides, pad) : avgPoolFastGrad(x as tf.Tensor4D, size, strides, pad);
    }
    case 'GlobalAveragePooling2D':
      if (!channelsLast || x.rank !== 4) return null;
      return tf.mean(x, [1, 2], cfg.keepDims === true);
    case 'GlobalMaxPooling2D':
      if (!channelsLast || x.rank !== 4) return null;
      return tf.max(x, [1, 2], cfg.keepDims === true);
    default:
      return null;
  }
}

/** Runs one node. Layers we do not implement run their own call() (gradients still flow through it). */
export function applyNode(node: GraphNode, inputs: tf.Tensor[], ctx: OpContext): tf.Tensor[] {
  const y = applyKnown(node, inputs, ctx);
  if (y) return [y];
  const out = (node.layer as any).call(inputs.length === 1 ? inputs[0] : inputs, { training: false });
  return Array.isArray(out) ? out : [out];
}
