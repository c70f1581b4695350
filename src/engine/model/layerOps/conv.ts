// Convolutions (Conv2D, DepthwiseConv2D, SeparableConv2D) with their bias and ReLU as one fused kernel,
// and input gradients that run on forward kernels (./convGradients.ts).
import * as tf from '@tensorflow/tfjs-core';
import type { GraphNode } from '../graph';
import { activationName, applyActivation, deconvRelu, deconvRelu6, guidedRelu, guidedRelu6, reluFamilyGradient } from './activation';
import { convKind, convLayerPadding, customGrad, fastGradients, channelsLast, layerConfig, pair, read, recording, type ConvPad, type L, type OpContext } from './common';
import { conv2dInputGradient, flippedKernel, usesColumns } from './convGradients';
import { spreadForTranspose, transposePlan, type TransposePlan } from './transposedConv';
import { depthwiseInputGradient, hasSimdKernels } from '../../simd/simdKernels';

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
  return reluFamilyGradient(dy, y, e.activation, e.guided);
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
export function fusedKernel(kernelName: 'FusedConv2D' | 'FusedDepthwiseConv2D', x: tf.Tensor4D, filter: tf.Tensor4D, strides: [number, number], pad: ConvPad, dilations: [number, number], e: Epilogue): tf.Tensor4D {
  const inputs: Record<string, tf.Tensor> = { x, filter };
  if (e.bias) inputs.bias = e.bias;
  return tf.engine().runKernel(kernelName, inputs as any, { strides, pad, dataFormat: 'NHWC', dilations, activation: e.activation } as any) as tf.Tensor4D;
}

/** conv2d (+ bias + activation) whose input gradient is a forward convolution with the flipped kernel. */
export function conv2dFastGrad(key: number, slot: number, x: tf.Tensor4D, kernel: tf.Tensor4D, strides: [number, number], padding: ConvPad, dilations: [number, number], ctx: OpContext, e: Epilogue = NO_EPILOGUE): tf.Tensor4D {
  if (!recording()) {
    if (typeof padding !== 'string') return fusedKernel('FusedConv2D', x, kernel, strides, padding, dilations, e);
    return tf.fused.conv2d({ x, filter: kernel, strides, pad: padding, dilations, bias: e.bias ?? undefined, activation: e.activation });
  }
  const fast = fastGradients(convKind(dilations));
  let plan: TransposePlan | null = null;
  if (typeof padding === 'string') {
    plan = fast && (strides[0] === 1 && strides[1] === 1 || dilations[0] === 1 && dilations[1] === 1) ? transposePlan(x.shape, [kernel.shape[0], kernel.shape[1]], strides, padding, dilations) : null;
    if (!plan) return plainEpilogue(tf.conv2d(x, kernel, strides, padding, 'NHWC', dilations), e) as tf.Tensor4D;
  } else if (!(fast && usesColumns(x.shape[3]))) {
    // Folded zeros: only the column form takes them into account (col2im's `before`); else they are padded
    // first, as the ZeroPadding2D layer did.
    return conv2dFastGrad(key, slot, tf.pad(x, padding), kernel, strides, 'valid', dilations, ctx, e);
  }
  const inputGradient = conv2dInputGradient(key, slot, x.shape, kernel, strides, padding, dilations, plan, ctx);
  const op = customGrad(((xi: tf.Tensor4D, save: tf.GradSaveFunc) => {
    const y = fusedKernel('FusedConv2D', xi, kernel, strides, padding, dilations, e);
    if (e.activation !== 'linear') save([y]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor4D, saved: tf.Tensor[]) => {
        return inputGradient(epilogueGrad(dy, saved[0], e) as tf.Tensor4D);
      },
    };
  }) as any) as (x: tf.Tensor4D) => tf.Tensor4D;
  return op(x);
}

/** depthwiseConv2d (+ bias + activation) whose input gradient is a forward depthwise convolution with the flipped kernel. */
export function depthwiseFastGrad(key: number, slot: number, x: tf.Tensor4D, kernel: tf.Tensor4D, strides: [number, number], padding: ConvPad, dilations: [number, number], ctx: OpContext, e: Epilogue = NO_EPILOGUE): tf.Tensor4D {
  if (!recording()) {
    if (typeof padding !== 'string') return fusedKernel('FusedDepthwiseConv2D', x, kernel, strides, padding, dilations, e);
    return tf.fused.depthwiseConv2d({ x, filter: kernel, strides, pad: padding, dilations, bias: e.bias ?? undefined, activation: e.activation });
  }
  const fast = fastGradients(convKind(dilations));
  const direct = directDepthwiseGradient(x.shape, kernel, strides, padding, dilations);
  let plan: TransposePlan | null = null;
  if (typeof padding === 'string') {
    // tfjs allows depthwise dilation only with stride 1.
    plan = fast ? transposePlan(x.shape, [kernel.shape[0], kernel.shape[1]], strides, padding, dilations) : null;
    if (!plan) return plainEpilogue(tf.depthwiseConv2d(x, kernel, strides, padding, 'NHWC', dilations), e) as tf.Tensor4D;
  } else if (!(fast && direct)) {
    // Folded zeros: only the strided SIMD form takes them into account (its `before`); else they are padded
    // first, as the ZeroPadding2D layer did.
    return depthwiseFastGrad(key, slot, tf.pad(x, padding), kernel, strides, 'valid', dilations, ctx, e);
  }
  const flipped = flippedKernel(key, slot, kernel, true, ctx);
  const [n, h, w, cin] = x.shape;
  const mult = kernel.shape[3];
  const op = customGrad(((xi: tf.Tensor4D, save: tf.GradSaveFunc) => {
    const y = fusedKernel('FusedDepthwiseConv2D', xi, kernel, strides, padding, dilations, e);
    if (e.activation !== 'linear') save([y]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor4D, saved: tf.Tensor[]) => {
        if (direct) return depthwiseInputGradient(epilogueGrad(dy, saved[0], e) as tf.Tensor4D, kernel, direct);
        const { spread, pad } = spreadForTranspose(epilogueGrad(dy, saved[0], e) as tf.Tensor4D, plan!);
        const g = tf.depthwiseConv2d(spread, flipped, 1, pad, 'NHWC', dilations);
        // Output channel i·mult + k came from input channel i: sum the multiplier's copies.
        return mult === 1 ? g : tf.sum(tf.reshape(g, [n, h, w, cin, mult]), -1);
      },
    };
  }) as any) as (x: tf.Tensor4D) => tf.Tensor4D;
  return op(x);
}

/**
 * Where a strided depthwise convolution (multiplier 1, no dilation) takes its input gradient from the SIMD
 * kernel that gathers only the outputs each input position met: its geometry; else null.
 * $CNN_LENS_SIMD_DEPTHWISE=off keeps the transposed convolution over the spread gradient.
 */
function directDepthwiseGradient(shape: number[], kernel: tf.Tensor4D, strides: [number, number], padding: ConvPad, dilations: [number, number]) {
  if (strides[0] === 1 && strides[1] === 1) return null;
  if (kernel.shape[3] !== 1 || dilations[0] !== 1 || dilations[1] !== 1 || !hasSimdKernels() || process.env.CNN_LENS_SIMD_DEPTHWISE === 'off') return null;
  const info = tf.backend_util.computeConv2DInfo(shape as [number, number, number, number], kernel.shape, strides, dilations, padding, undefined, true);
  return { H: shape[1], W: shape[2], strides, before: [info.padInfo.top, info.padInfo.left] as [number, number] };
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
      const args = [pair(cfg.strides, 1), convLayerPadding(cfg, ctx), pair(cfg.dilationRate, 1), ctx] as const;
      const e = layerEpilogue(layer, ctx);
      if (e) return conv2dFastGrad(node.index, 0, x as tf.Tensor4D, read(layer.kernel) as tf.Tensor4D, ...args, e);
      return applyActivation(layer, addBias(conv2dFastGrad(node.index, 0, x as tf.Tensor4D, read(layer.kernel) as tf.Tensor4D, ...args), layer), ctx);
    }
    case 'DepthwiseConv2D': {
      if (!channelsLast(cfg) || x.rank !== 4) return null;
      const args = [pair(cfg.strides, 1), convLayerPadding(cfg, ctx), pair(cfg.dilationRate, 1), ctx] as const;
      const e = layerEpilogue(layer, ctx);
      if (e) return depthwiseFastGrad(node.index, 0, x as tf.Tensor4D, read(layer.depthwiseKernel) as tf.Tensor4D, ...args, e);
      return applyActivation(layer, addBias(depthwiseFastGrad(node.index, 0, x as tf.Tensor4D, read(layer.depthwiseKernel) as tf.Tensor4D, ...args), layer), ctx);
    }
    case 'SeparableConv2D': {
      if (!channelsLast(cfg) || x.rank !== 4) return null;
      // Depthwise then a 1×1 convolution, as tf.separableConv2d computes it.
      const dw = depthwiseFastGrad(node.index, 0, x as tf.Tensor4D, read(layer.depthwiseKernel) as tf.Tensor4D, pair(cfg.strides, 1), convLayerPadding(cfg, ctx), pair(cfg.dilationRate, 1), ctx);
      const e = layerEpilogue(layer, ctx);
      if (e) return conv2dFastGrad(node.index, 1, dw, read(layer.pointwiseKernel) as tf.Tensor4D, [1, 1], 'valid', [1, 1], ctx, e);
      return applyActivation(layer, addBias(conv2dFastGrad(node.index, 1, dw, read(layer.pointwiseKernel) as tf.Tensor4D, [1, 1], 'valid', [1, 1], ctx), layer), ctx);
    }
    default:
      return null;
  }
}

/**
 * The zeros of `pad` when `conv` can pad them itself: a channels-last ZeroPadding2D read only by a 'valid'
 * Conv2D or DepthwiseConv2D (channels last). A MobileNetV2 pads 5 maps so (and its gradient slices them again):
 * 0.7 ms of a 15-ms forward pass and 1.3 ms of a saliency map.
 */
export function foldablePadding(pad: GraphNode, conv: GraphNode): [[number, number], [number, number]] | null {
  if (pad.className !== 'ZeroPadding2D' || (conv.className !== 'Conv2D' && conv.className !== 'DepthwiseConv2D')) return null;
  if (conv.inputs.length !== 1 || conv.inputs[0].id !== pad.outputs[0]?.id || pad.inputs.length !== 1) return null;
  const p = layerConfig(pad.layer as unknown as L);
  const c = layerConfig(conv.layer as unknown as L);
  const last = (cfg: L) => cfg.dataFormat === undefined || cfg.dataFormat === 'channelsLast';
  if (!last(p) || !last(c) || c.padding !== 'valid') return null;
  const z = p.padding as [[number, number], [number, number]];
  const ok = Array.isArray(z) && z.length === 2 && z.every((a) => Array.isArray(a) && a.length === 2 && a.every((v) => Number.isInteger(v) && v >= 0));
  return ok ? [[z[0][0], z[0][1]], [z[1][0], z[1][1]]] : null;
}

/**
 * Whether convolutions pad the zeros of a ZeroPadding2D before them themselves: on the wasm and cpu backends
 * (tfjs-node's kernels are left as the layers run them); $CNN_LENS_FOLD_PADDING=off keeps the layer.
 */
export function foldPaddings(): boolean {
  if (process.env.CNN_LENS_FOLD_PADDING === 'off') return false;
  const b = tf.getBackend();
  return b === 'wasm' || b === 'cpu';
}
