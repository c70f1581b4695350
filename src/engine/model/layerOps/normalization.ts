// Batch normalization in inference mode, and convolutions folded into the batch norm after them.
import * as tf from '@tensorflow/tfjs-core';
import type { GraphNode } from '../graph';
import { activationName } from './activation';
import { convLayerPadding, fastGradients, fastGradModeSetting, layerConfig, pair, read, type L, type OpContext } from './common';
import { gradientKernel } from './convGradients';
import { conv2dFastGrad, depthwiseFastGrad, fuseEpilogues, plainEpilogue, type Epilogue } from './conv';

/** Inference-mode batch norm as one scale and shift per channel (gamma = 1 when scale: false), kept per node. */
export function batchNormScaleShift(node: GraphNode, ctx: OpContext): tf.Tensor[] {
  let folded = ctx.prepared.get(node.index);
  if (!folded) {
    const layer = node.layer as unknown as L;
    const cfg: L = layerConfig(layer);
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
  const ccfg: L = layerConfig(c);
  if (ccfg.dataFormat !== undefined && ccfg.dataFormat !== 'channelsLast') return false;
  const act = activationName(c);
  if (act !== null && act !== 'linear') return false;
  const b = bn.layer as unknown as L;
  const bcfg: L = layerConfig(b);
  const axis = Array.isArray(bcfg.axis) ? bcfg.axis[0] : bcfg.axis;
  return axis === -1 || axis === 3;
}

/** Whether Network.run folds batch norms into convolutions: on wasm (where elementwise ops are the cost); $CNN_LENS_FOLD_BATCH_NORM=off stops it. */
export function foldBatchNorms(): boolean {
  if (fastGradModeSetting() !== 'auto') return fastGradModeSetting() === 'on';
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
  const cfg: L = layerConfig(conv.layer as unknown as L);
  if (fastGradients('conv', true)) gradientKernel(key, 2, kernel, conv.className === 'DepthwiseConv2D', pair(cfg.strides, 1), pair(cfg.dilationRate, 1), ctx);
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
  const cfg: L = layerConfig(layer);
  if ((cfg.negativeSlope ?? 0) !== 0 || (cfg.threshold ?? 0) !== 0) return null;
  if (cfg.maxValue === undefined || cfg.maxValue === null) return 'relu';
  return cfg.maxValue === 6 ? 'relu6' : null;
}

/** bn's output (or, with `activation`, the following ReLU's) computed from conv's input x as one convolution with folded weights. */
export function applyConvBatchNorm(conv: GraphNode, bn: GraphNode, x: tf.Tensor, ctx: OpContext, activation: 'linear' | 'relu' | 'relu6' = 'linear'): tf.Tensor {
  const c = conv.layer as unknown as L;
  const cfg: L = layerConfig(c);
  const { key, kernel, bias } = foldedWeights(conv, bn, ctx);
  const e: Epilogue = { bias, activation, guided: ctx.guided, deconv: ctx.deconv };
  if (!fuseEpilogues()) {
    const args = [pair(cfg.strides, 1), convLayerPadding(cfg, ctx), pair(cfg.dilationRate, 1), ctx] as const;
    return plainEpilogue(conv.className === 'Conv2D' ? conv2dFastGrad(key, 2, x as tf.Tensor4D, kernel, ...args) : depthwiseFastGrad(key, 2, x as tf.Tensor4D, kernel, ...args), e);
  }
  const args = [pair(cfg.strides, 1), convLayerPadding(cfg, ctx), pair(cfg.dilationRate, 1), ctx, e] as const;
  return conv.className === 'Conv2D' ? conv2dFastGrad(key, 2, x as tf.Tensor4D, kernel, ...args) : depthwiseFastGrad(key, 2, x as tf.Tensor4D, kernel, ...args);
}

/** BatchNormalization over the last axis; null for other layers (or axes we leave to the layer). */
export function applyBatchNorm(node: GraphNode, x: tf.Tensor, cfg: L, ctx: OpContext): tf.Tensor | null {
  if (node.className !== 'BatchNormalization') return null;
  const axis = Array.isArray(cfg.axis) ? cfg.axis[0] : cfg.axis;
  if (axis !== -1 && axis !== x.rank - 1) return null;
  const [scale, shift] = batchNormScaleShift(node, ctx);
  return tf.add(tf.mul(x, scale), shift);
}
