// Convolutions (Conv2D, DepthwiseConv2D, SeparableConv2D) with their bias and ReLU as one fused kernel,
// and input gradients that run on the forward-convolution kernel.
import * as tf from '@tensorflow/tfjs-core';
import type { GraphNode } from '../graph';
import { activationName, applyActivation, deconvRelu, deconvRelu6, guidedRelu, guidedRelu6, inside06 } from './activation';
import { convKind, convPadding, customGrad, fastGradients, channelsLast, layerConfig, pair, read, recording, type L, type OpContext } from './common';
import { col2im, hasCol2Im } from '../../wasmKernels';
import { padAlong, spreadForTranspose, transposePlan } from './transposedConv';

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
export function flippedKernel(key: number, slot: number, kernel: tf.Tensor4D, depthwise: boolean, ctx: OpContext): tf.Tensor4D {
  return preparedFrom(key, slot, kernel, ctx, () => flipKernel(kernel, depthwise));
}

/**
 * The constant a convolution's input gradient uses, made before the first gradient: the column kernel for a
 * convolution of at most 4 input channels (narrowInputGradient), else the flipped kernel.
 */
export function gradientKernel(key: number, slot: number, kernel: tf.Tensor4D, depthwise: boolean, ctx: OpContext): void {
  if (!depthwise && usesColumns(kernel.shape[2])) columnKernel(key, slot, kernel, ctx);
  else flippedKernel(key, slot, kernel, depthwise, ctx);
}

/** Whether a convolution with `cin` input channels takes its input gradient as taps and col2im. */
function usesColumns(cin: number): boolean {
  return cin <= 4 && hasCol2Im() && process.env.CNN_LENS_COL2IM !== 'off';
}

/** The node's prepared constant `slot`, made from `kernel` by `make` unless kept from the same kernel data. */
function preparedFrom<T extends tf.Tensor>(key: number, slot: number, kernel: tf.Tensor, ctx: OpContext, make: () => T): T {
  const kept = ctx.prepared.get(key) ?? [];
  const cached = kept[slot] as T | undefined;
  if (cached && !cached.isDisposed && flippedFrom.get(cached) === kernel.dataId) return cached;
  cached?.dispose();
  const made = tf.keep(tf.tidy(make));
  flippedFrom.set(made, kernel.dataId);
  kept[slot] = made;
  ctx.prepared.set(key, kept);
  return made;
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
    const cfg: L = layerConfig(layer);
    if (cfg.dataFormat !== undefined && cfg.dataFormat !== 'channelsLast') continue;
    convKernels(node).forEach(([k, depthwise], slot) => {
      if (k && k.rank === 4) gradientKernel(node.index, slot, k, depthwise, ctx);
    });
  }
}


/**
 * What follows a convolution inside its layer: bias and activation. Run as one fused kernel (XNNPACK's
 * convolution with bias and clamp) and one kept tensor instead of three; the activation's gradient is
 * applied to dy from the saved output before the transposed convolution.
 */
export interface Epilogue {
  bias: tf.Tensor | null;
  activation: 'linear' | 'relu' | 'relu6';
  guided: boolean;
  deconv?: boolean;
}

/** dy through the epilogue's activation, from the convolution's output y (see fastRelu, guidedRelu). */
export function epilogueGrad(dy: tf.Tensor, y: tf.Tensor, e: Epilogue): tf.Tensor {
  if (e.activation === 'linear') return dy;
  if (e.deconv) return tf.relu(dy);
  const mask = e.activation === 'relu' ? tf.step(y) : inside06(y);
  return tf.mul(e.guided ? tf.relu(dy) : dy, mask);
}

/** The same without the fast gradients: plain ops, each with tfjs's own gradient (or fused when nothing is recorded). */
export function plainEpilogue(y: tf.Tensor, e: Epilogue): tf.Tensor {
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
export function fusedKernel(kernelName: 'FusedConv2D' | 'FusedDepthwiseConv2D', x: tf.Tensor4D, filter: tf.Tensor4D, strides: [number, number], pad: 'same' | 'valid', dilations: [number, number], e: Epilogue): tf.Tensor4D {
  const inputs: Record<string, tf.Tensor> = { x, filter };
  if (e.bias) inputs.bias = e.bias;
  return tf.engine().runKernel(kernelName, inputs as any, { strides, pad, dataFormat: 'NHWC', dilations, activation: e.activation } as any) as tf.Tensor4D;
}

/** conv2d (+ bias + activation) whose input gradient is a forward convolution with the flipped kernel. */
export function conv2dFastGrad(key: number, slot: number, x: tf.Tensor4D, kernel: tf.Tensor4D, strides: [number, number], padding: 'same' | 'valid', dilations: [number, number], ctx: OpContext, e: Epilogue = NO_EPILOGUE): tf.Tensor4D {
  if (!recording()) return tf.fused.conv2d({ x, filter: kernel, strides, pad: padding, dilations, bias: e.bias ?? undefined, activation: e.activation });
  const plan = fastGradients(convKind(dilations)) && (strides[0] === 1 && strides[1] === 1 || dilations[0] === 1 && dilations[1] === 1)
    ? transposePlan(x.shape, [kernel.shape[0], kernel.shape[1]], strides, padding, dilations)
    : null;
  if (!plan) return plainEpilogue(tf.conv2d(x, kernel, strides, padding, 'NHWC', dilations), e) as tf.Tensor4D;
  const narrow = narrowInputGradient(x.shape, kernel, strides, padding, dilations);
  const flipped = narrow ? null : flippedKernel(key, slot, kernel, false, ctx);
  const op = customGrad(((xi: tf.Tensor4D, save: tf.GradSaveFunc) => {
    const y = fusedKernel('FusedConv2D', xi, kernel, strides, padding, dilations, e);
    if (e.activation !== 'linear') save([y]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor4D, saved: tf.Tensor[]) => {
        const g = epilogueGrad(dy, saved[0], e) as tf.Tensor4D;
        if (narrow) return narrow(g, columnKernel(key, slot, kernel, ctx));
        const { spread, pad } = spreadForTranspose(g, plan);
        return tf.conv2d(spread, flipped!, 1, pad, 'NHWC', dilations);
      },
    };
  }) as any) as (x: tf.Tensor4D) => tf.Tensor4D;
  return op(x);
}

/**
 * The input gradient of a convolution with few input channels (an RGB or gray image: the first layer) as a
 * product and a scatter: each output position's gradient times the kernel gives its kh·kw·cin taps (one
 * matrix product, [positions, cout] × [cout, kh·kw·cin]), which col2im adds into the input's positions. The
 * transposed convolution had 3 output channels, which leave XNNPACK's lanes idle, and (strided) an output
 * gradient three-quarters zeros: MobileNetV2's first layer took 7 ms of a 55-ms saliency map. On wasm only
 * (col2im is a heap kernel there); $CNN_LENS_COL2IM=off keeps the transposed convolution.
 */
function narrowInputGradient(
  inShape: number[],
  kernel: tf.Tensor4D,
  strides: [number, number],
  padding: 'same' | 'valid',
  dilations: [number, number],
): ((g: tf.Tensor4D, columns: tf.Tensor2D) => tf.Tensor4D) | null {
  const [n, H, W, cin] = inShape;
  const [kh, kw, , cout] = kernel.shape;
  if (!usesColumns(cin)) return null;
  const rows = padAlong(H, kh, strides[0], dilations[0], padding);
  const cols = padAlong(W, kw, strides[1], dilations[1], padding);
  return (g, columns) => {
    const [, oh, ow] = g.shape;
    const taps = tf.matMul(tf.reshape(g, [n * oh * ow, cout]), columns);
    return col2im(tf.reshape(taps, [n, oh, ow, kh * kw * cin]) as tf.Tensor4D, { H, W, kh, kw, cin, strides, dilations, before: [rows.before, cols.before] });
  };
}

/** The kernel as [cout, kh·kw·cin] (a tap's row per output channel), made once per network like the flipped kernels. */
function columnKernel(key: number, slot: number, kernel: tf.Tensor4D, ctx: OpContext): tf.Tensor2D {
  return preparedFrom(key, slot + 3, kernel, ctx, () => {
    const [kh, kw, cin, cout] = kernel.shape;
    return tf.transpose(tf.reshape(kernel, [kh * kw * cin, cout])) as tf.Tensor2D;
  });
}

/** depthwiseConv2d (+ bias + activation) whose input gradient is a forward depthwise convolution with the flipped kernel. */
export function depthwiseFastGrad(key: number, slot: number, x: tf.Tensor4D, kernel: tf.Tensor4D, strides: [number, number], padding: 'same' | 'valid', dilations: [number, number], ctx: OpContext, e: Epilogue = NO_EPILOGUE): tf.Tensor4D {
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
        const { spread, pad } = spreadForTranspose(epilogueGrad(dy, saved[0], e) as tf.Tensor4D, plan);
        const g = tf.depthwiseConv2d(spread, flipped, 1, pad, 'NHWC', dilations);
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
export function layerEpilogue(layer: L, ctx: OpContext): Epilogue | null {
  if (!fuseEpilogues()) return null;
  const name = ctx.skipActivation ? 'linear' : activationName(layer) ?? 'linear';
  if (name !== 'linear' && name !== 'relu' && name !== 'relu6') return null;
  return { bias: layer.useBias === false ? null : read(layer.bias), activation: name, guided: ctx.guided, deconv: ctx.deconv };
}
export function addBias(x: tf.Tensor, layer: L): tf.Tensor {
  const b = layer.useBias === false ? null : read(layer.bias);
  return b ? tf.add(x, b) : x;
}

/** Conv2D, DepthwiseConv2D and SeparableConv2D layers; null for other layers (or layouts we leave to the layer). */
export function applyConvLayer(node: GraphNode, x: tf.Tensor, cfg: L, ctx: OpContext): tf.Tensor | null {
  const layer = node.layer as unknown as L;
  switch (node.className) {
    case 'Conv2D': {
      if (!channelsLast(cfg) || x.rank !== 4) return null;
      const args = [pair(cfg.strides, 1), convPadding(cfg, ctx), pair(cfg.dilationRate, 1), ctx] as const;
      const e = layerEpilogue(layer, ctx);
      if (e) return conv2dFastGrad(node.index, 0, x as tf.Tensor4D, read(layer.kernel) as tf.Tensor4D, ...args, e);
      return applyActivation(layer, addBias(conv2dFastGrad(node.index, 0, x as tf.Tensor4D, read(layer.kernel) as tf.Tensor4D, ...args), layer), ctx);
    }
    case 'DepthwiseConv2D': {
      if (!channelsLast(cfg) || x.rank !== 4) return null;
      const args = [pair(cfg.strides, 1), convPadding(cfg, ctx), pair(cfg.dilationRate, 1), ctx] as const;
      const e = layerEpilogue(layer, ctx);
      if (e) return depthwiseFastGrad(node.index, 0, x as tf.Tensor4D, read(layer.depthwiseKernel) as tf.Tensor4D, ...args, e);
      return applyActivation(layer, addBias(depthwiseFastGrad(node.index, 0, x as tf.Tensor4D, read(layer.depthwiseKernel) as tf.Tensor4D, ...args), layer), ctx);
    }
    case 'SeparableConv2D': {
      if (!channelsLast(cfg) || x.rank !== 4) return null;
      // Depthwise then a 1×1 convolution, as tf.separableConv2d computes it.
      const dw = depthwiseFastGrad(node.index, 0, x as tf.Tensor4D, read(layer.depthwiseKernel) as tf.Tensor4D, pair(cfg.strides, 1), convPadding(cfg, ctx), pair(cfg.dilationRate, 1), ctx);
      const e = layerEpilogue(layer, ctx);
      if (e) return conv2dFastGrad(node.index, 1, dw, read(layer.pointwiseKernel) as tf.Tensor4D, [1, 1], 'valid', [1, 1], ctx, e);
      return applyActivation(layer, addBias(conv2dFastGrad(node.index, 1, dw, read(layer.pointwiseKernel) as tf.Tensor4D, [1, 1], 'valid', [1, 1], ctx), layer), ctx);
    }
    default:
      return null;
  }
}
