// BatchNormalization as a Keras layer (folded into the convolution before it by the engine);
// LayerNormalization, InstanceNormalization and LRN as OnnxLayers.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { NodeCtx, Val } from '../context';
import { givenWeights } from '../givenWeights';
import { constTensor, fromOnnx, normAxis, toOnnx } from '../layout';

export function convertBatchNorm(ctx: NodeCtx): Val[] {
  const x = ctx.live(0);
  const parts = [1, 2, 3, 4].map((k) => ctx.konst(k, ['scale', 'B', 'mean', 'var'][k - 1]));
  const c = x.sample.rank === 4 ? x.sample.shape[3] : x.sample.shape[1];
  if (parts.some((p) => !p || p.data.length !== c)) ctx.fail(`scale, B, mean and var must each hold ${c} values (one per channel)`);
  if (ctx.node.output && ctx.node.output.filter((o) => o).length > 1) ctx.fail('training-mode outputs (running mean/var) are not supported');
  const eps = ctx.attrs.f('epsilon', 1e-5);
  const weights = parts.map((p) => tf.tensor1d(Float32Array.from(p!.data)));
  if (x.sample.rank === 4 || x.sample.rank === 2) {
    const [gammaInitializer, betaInitializer, movingMeanInitializer, movingVarianceInitializer] = weights.map(givenWeights);
    return ctx.keras(tfl.layers.batchNormalization({ axis: -1, epsilon: eps, name: ctx.layerName(), gammaInitializer, betaInitializer, movingMeanInitializer, movingVarianceInitializer }), [x]);
  }
  // Other ranks: channels on axis 1 in ONNX order.
  const rank = x.sample.rank;
  const shape = [1, c, ...new Array(rank - 2).fill(1)];
  const [scale, shift] = tf.tidy(() => {
    const s = tf.mul(weights[0], tf.rsqrt(tf.add(weights[3], eps)));
    return [tf.reshape(s, shape), tf.reshape(tf.sub(weights[1], tf.mul(weights[2], s)), shape)];
  });
  weights.forEach((w) => w.dispose());
  return ctx.custom({ className: 'OnnxBatchNormalization', kind: 'norm', consts: [scale, shift], fn: ([xi], [s, b]) => [tf.add(tf.mul(xi, s), b)] }, [x]);
}

export function convertLayerNorm(ctx: NodeCtx): Val[] {
  const x = ctx.live(0);
  const rank = x.sample.rank;
  const axis = normAxis(ctx.attrs.i('axis', -1), rank);
  if (axis < 1 || axis >= rank) ctx.fail(`axis ${axis} is the batch axis or out of range`);
  const eps = ctx.attrs.f('epsilon', 1e-5);
  const scale = ctx.konst(1, 'Scale');
  const bias = ctx.konst(2, 'B');
  const axes = [...Array(rank - axis).keys()].map((i) => i + axis);
  const normShape = (c: import('../tensors').Const) => ({ ...c, shape: c.shape });
  const consts = [scale, bias].filter((c) => c).map((c) => tf.tidy(() => toOnnx(constTensor(normShape(c!), rank))));
  const hasScale = !!scale;
  const hasBias = !!bias;
  return ctx.custom(
    {
      className: 'OnnxLayerNormalization',
      kind: 'norm',
      consts,
      fn: ([xi], cs) => {
        const o = toOnnx(xi);
        const { mean, variance } = tf.moments(o, axes, true);
        let y = tf.div(tf.sub(o, mean), tf.sqrt(tf.add(variance, eps)));
        if (hasScale) y = tf.mul(y, cs[0]);
        if (hasBias) y = tf.add(y, cs[hasScale ? 1 : 0]);
        return [fromOnnx(y)];
      },
    },
    [x],
  );
}

export function convertInstanceNorm(ctx: NodeCtx): Val[] {
  const x = ctx.live(0);
  if (x.sample.rank !== 4) ctx.fail('only 4-D inputs are supported');
  const eps = ctx.attrs.f('epsilon', 1e-5);
  const s = ctx.konst(1, 'scale');
  const b = ctx.konst(2, 'B');
  if (!s || !b) ctx.fail('needs scale and B');
  const consts = [tf.tensor1d(Float32Array.from(s.data)), tf.tensor1d(Float32Array.from(b.data))];
  return ctx.custom(
    {
      className: 'OnnxInstanceNormalization',
      kind: 'norm',
      consts,
      fn: ([xi], [sc, bi]) => {
        const { mean, variance } = tf.moments(xi, [1, 2], true);
        return [tf.add(tf.mul(tf.div(tf.sub(xi, mean), tf.sqrt(tf.add(variance, eps))), sc), bi)];
      },
    },
    [x],
  );
}

/**
 * LRN (local response normalization across channels: AlexNet, CaffeNet, GoogLeNet and ZFNet of the ONNX model
 * zoo): y = x / (bias + alpha/size · Σ x²)^beta, the sum over the channels c − (size−1)/2 … c + (size−1)/2
 * (zeros beyond the ends). Built from pad, slices and elementwise ops, so the gradient is tfjs's own.
 */
export function convertLrn(ctx: NodeCtx): Val[] {
  const x = ctx.live(0);
  if (x.sample.rank !== 4) ctx.fail('only 4-D inputs are supported');
  const size = ctx.attrs.i('size', 0);
  // The specification allows even sizes (an uneven window); onnxruntime and Caffe, where these models come
  // from, take odd ones only.
  if (!(size >= 1 && size <= 1023 && size % 2 === 1)) ctx.fail(`size ${size} is not an odd window of 1 to 1023 channels`);
  const alpha = ctx.attrs.f('alpha', 1e-4);
  const beta = ctx.attrs.f('beta', 0.75);
  const bias = ctx.attrs.f('bias', 1);
  const half = (size - 1) / 2;
  return ctx.custom(
    {
      className: 'OnnxLRN',
      kind: 'norm',
      consts: [],
      fn: ([xi]) => {
        const c = xi.shape[3] as number;
        // Channel c of the padded squares is input channel c − half: the window is channels c … c + size − 1.
        const sq = tf.pad(tf.square(xi), [[0, 0], [0, 0], [0, 0], [half, half]]);
        let sum = tf.slice(sq, [0, 0, 0, 0], [-1, -1, -1, c]);
        for (let k = 1; k < size; k++) sum = tf.add(sum, tf.slice(sq, [0, 0, 0, k], [-1, -1, -1, c]));
        return [tf.div(xi, tf.pow(tf.add(tf.mul(sum, alpha / size), bias), beta))];
      },
    },
    [x],
  );
}
