// Activations: Relu, Clip as ReLU/ReLU6, LeakyRelu, Elu, Sigmoid and Softmax as Keras layers (the
// engine's ReLU gradients, guided backpropagation, logits before a final softmax); the rest as OnnxLayers.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { Live, NodeCtx, Val } from '../context';
import { constTensor, fromOnnx, normAxis, toOnnx } from '../layout';

function unary(ctx: NodeCtx, f: (x: tf.Tensor) => tf.Tensor, kind: 'activation' | 'other' = 'activation'): Val[] {
  return ctx.custom({ kind, fn: ([x]) => [f(x)], region: { kind: 'pointwise' } }, [ctx.live(0)]);
}

/** x for x > 0, alpha·(eˣ − 1) otherwise, from ops that all have gradients: relu(x) + alpha·(e^min(x,0) − 1).
 * (tf.where(tf.greater(x, 0), …) computes the same forward, but tfjs back-propagates into the comparison and
 * finds no gradient for Greater: saliency through a SELU network failed.) */
function eluLike(x: tf.Tensor, alpha: number): tf.Tensor {
  return tf.add(tf.relu(x), tf.mul(alpha, tf.sub(tf.exp(tf.minimum(x, 0)), 1)));
}

function clipBounds(ctx: NodeCtx): [number, number] {
  if (ctx.opset < 11) return [ctx.attrs.f('min', -3.4028234663852886e38), ctx.attrs.f('max', 3.4028234663852886e38)];
  const bound = (k: number, d: number) => {
    const c = ctx.konst(k, k === 1 ? 'min' : 'max');
    if (!c) return d;
    if (c.data.length !== 1) ctx.fail('min and max must be scalars');
    return c.data[0];
  };
  return [bound(1, -Infinity), bound(2, Infinity)];
}

export function convertActivation(ctx: NodeCtx): Val[] {
  const a = ctx.attrs;
  switch (ctx.op) {
    case 'Relu':
      return ctx.keras(tfl.layers.reLU({ name: ctx.layerName() }), [ctx.live(0)]);
    case 'Clip': {
      const [lo, hi] = clipBounds(ctx);
      if (lo === 0 && (hi === 6 || hi >= 3.4e38)) return ctx.keras(tfl.layers.reLU({ name: ctx.layerName(), maxValue: hi === 6 ? 6 : undefined }), [ctx.live(0)]);
      return unary(ctx, (x) => tf.clipByValue(x, Math.max(lo, -3.4e38), Math.min(hi, 3.4e38)));
    }
    case 'LeakyRelu':
      return ctx.keras(tfl.layers.leakyReLU({ alpha: a.f('alpha', 0.01), name: ctx.layerName() }), [ctx.live(0)]);
    case 'Elu': {
      const alpha = a.f('alpha', 1);
      if (alpha === 1) return ctx.keras(tfl.layers.elu({ name: ctx.layerName() }), [ctx.live(0)]);
      return unary(ctx, (x) => eluLike(x, alpha));
    }
    case 'Selu': {
      const alpha = a.f('alpha', 1.6732632423543772);
      const gamma = a.f('gamma', 1.0507009873554805);
      return unary(ctx, (x) => tf.mul(gamma, eluLike(x, alpha)));
    }
    case 'Sigmoid':
      return ctx.keras(tfl.layers.activation({ activation: 'sigmoid', name: ctx.layerName() }), [ctx.live(0)]);
    case 'Tanh':
      return unary(ctx, tf.tanh);
    case 'HardSigmoid': {
      const alpha = a.f('alpha', 0.2);
      const beta = a.f('beta', 0.5);
      return unary(ctx, (x) => tf.clipByValue(tf.add(tf.mul(x, alpha), beta), 0, 1));
    }
    case 'HardSwish':
      return unary(ctx, (x) => tf.mul(x, tf.div(tf.clipByValue(tf.add(x, 3), 0, 6), 6)));
    case 'Softplus':
      return unary(ctx, tf.softplus);
    case 'Mish':
      return unary(ctx, (x) => tf.mul(x, tf.tanh(tf.softplus(x))));
    case 'Gelu':
      if (a.s('approximate', 'none') === 'tanh') return unary(ctx, (x) => tf.mul(tf.mul(0.5, x), tf.add(1, tf.tanh(tf.mul(Math.sqrt(2 / Math.PI), tf.add(x, tf.mul(0.044715, tf.pow(x, 3))))))));
      return unary(ctx, (x) => tf.mul(tf.mul(0.5, x), tf.add(1, tf.erf(tf.div(x, Math.SQRT2)))));
    case 'PRelu': {
      const x = ctx.live(0);
      const slope = ctx.konst(1, 'slope');
      if (!slope) ctx.fail('has no slope');
      const s = constTensor(slope, x.sample.rank);
      return ctx.custom({ className: 'OnnxPRelu', kind: 'activation', consts: [s], fn: ([xi], [si]) => [tf.add(tf.relu(xi), tf.mul(si, tf.neg(tf.relu(tf.neg(xi)))))] }, [x]);
    }
    case 'Softmax':
    case 'LogSoftmax':
      return convertSoftmax(ctx);
    default:
      return ctx.fail('internal: not an activation');
  }
}

function convertSoftmax(ctx: NodeCtx): Val[] {
  const x: Live = ctx.live(0);
  const rank = x.sample.rank;
  const log = ctx.op === 'LogSoftmax';
  const axis = normAxis(ctx.attrs.i('axis', ctx.opset < 13 ? 1 : -1), rank);
  if (axis < 1 || axis >= rank) ctx.fail(`axis ${axis} is the batch axis or out of range`);
  if (!log && rank !== 4 && axis === rank - 1) return ctx.keras(tfl.layers.softmax({ axis: -1, name: ctx.layerName() }), [x]);
  // Before opset 13 softmax treats the axes from `axis` on as one (the input "coerced to 2-D").
  const coerce = ctx.opset < 13;
  return ctx.custom(
    {
      kind: 'activation',
      fn: ([xi]) => {
        const o = toOnnx(xi);
        let y: tf.Tensor;
        if (coerce) {
          const flat = tf.reshape(o, [o.shape.slice(0, axis).reduce((p, q) => p * q, 1), -1]);
          y = tf.reshape(log ? tf.logSoftmax(flat) : tf.softmax(flat), o.shape);
        } else {
          const perm = [...Array(rank).keys()].filter((i) => i !== axis).concat([axis]);
          const inv = perm.map((_, i) => perm.indexOf(i));
          const moved = tf.transpose(o, perm);
          y = tf.transpose(log ? tf.logSoftmax(moved) : tf.softmax(moved), inv);
        }
        return [fromOnnx(y)];
      },
    },
    [x],
  );
}
