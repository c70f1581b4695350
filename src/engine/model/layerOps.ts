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
  /** Skip this node's output activation (used to read logits before a final softmax). */
  skipActivation: boolean;
  /** Per-node prepared constants (folded batch-norm scale/shift), kept across calls. */
  prepared: Map<number, tf.Tensor[]>;
}

type L = Record<string, any>;

/** ReLU whose gradient, in guided mode, is dy·[x>0]·[dy>0] (Springenberg et al. 2014). */
const guidedRelu = tf.customGrad(((x: tf.Tensor, save: tf.GradSaveFunc) => {
  save([x]);
  return {
    value: tf.relu(x),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.mul(dy, tf.mul(tf.step(saved[0]), tf.step(dy))),
  };
  // customGrad's typing wants (...inputs, save) in one union; the call shape is (x, save).
}) as any) as (x: tf.Tensor) => tf.Tensor;

/** ReLU6 with the guided rule: passes back where 0 < x < 6 and dy > 0. */
const guidedRelu6 = tf.customGrad(((x: tf.Tensor, save: tf.GradSaveFunc) => {
  save([x]);
  return {
    value: tf.clipByValue(x, 0, 6),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const inside = tf.mul(tf.step(saved[0]), tf.step(tf.sub(6, saved[0])));
      return tf.mul(dy, tf.mul(inside, tf.step(dy)));
    },
  };
}) as any) as (x: tf.Tensor) => tf.Tensor;

function relu(x: tf.Tensor, ctx: OpContext): tf.Tensor {
  return ctx.guided ? guidedRelu(x) : tf.relu(x);
}

function relu6(x: tf.Tensor, ctx: OpContext): tf.Tensor {
  return ctx.guided ? guidedRelu6(x) : tf.clipByValue(x, 0, 6);
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
      const y = tf.conv2d(x as tf.Tensor4D, read(layer.kernel) as tf.Tensor4D, pair(cfg.strides, 1), convPadding(cfg), 'NHWC', pair(cfg.dilationRate, 1));
      return applyActivation(layer, addBias(y, layer), ctx);
    }
    case 'DepthwiseConv2D': {
      if (!channelsLast || x.rank !== 4) return null;
      const y = tf.depthwiseConv2d(x as tf.Tensor4D, read(layer.depthwiseKernel) as tf.Tensor4D, pair(cfg.strides, 1), convPadding(cfg), 'NHWC', pair(cfg.dilationRate, 1));
      return applyActivation(layer, addBias(y, layer), ctx);
    }
    case 'SeparableConv2D': {
      if (!channelsLast || x.rank !== 4) return null;
      const y = tf.separableConv2d(x as tf.Tensor4D, read(layer.depthwiseKernel) as tf.Tensor4D, read(layer.pointwiseKernel) as tf.Tensor4D, pair(cfg.strides, 1), convPadding(cfg), pair(cfg.dilationRate, 1), 'NHWC');
      return applyActivation(layer, addBias(y, layer), ctx);
    }
    case 'Dense': {
      const kernel = read(layer.kernel) as tf.Tensor2D;
      let y: tf.Tensor;
      if (x.rank === 2) y = tf.matMul(x as tf.Tensor2D, kernel);
      else {
        const lead = x.shape.slice(0, -1);
        y = tf.reshape(tf.matMul(tf.reshape(x, [-1, x.shape[x.rank - 1]]) as tf.Tensor2D, kernel), [...lead, kernel.shape[1]]);
      }
      return applyActivation(layer, addBias(y, layer), ctx);
    }
    case 'BatchNormalization': {
      const axis = Array.isArray(cfg.axis) ? cfg.axis[0] : cfg.axis;
      if (axis !== -1 && axis !== x.rank - 1) return null;
      let folded = ctx.prepared.get(node.index);
      if (!folded) {
        // Inference-mode batch norm folded into one scale and shift per channel (gamma = 1 when scale: false).
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
      return tf.add(tf.mul(x, folded[0]), folded[1]);
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
      return node.className === 'MaxPooling2D'
        ? tf.maxPool(x as tf.Tensor4D, size, strides, pad)
        : tf.avgPool(x as tf.Tensor4D, size, strides, pad);
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
