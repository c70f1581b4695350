// MaxPool, AveragePool (count_include_pad, ceil_mode), GlobalAveragePool, GlobalMaxPool and the
// spatial ReduceMean/ReduceMax that exporters write for them.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { Live, NodeCtx, Val } from '../context';
import { zeroPad } from './conv';
import { pair, windowPadding } from './padding';

function padWith(ctx: NodeCtx, x: Live, pads: [number, number, number, number], value: number): Live {
  const fn = ([xi]: tf.Tensor[]) => [tf.pad(xi, [[0, 0], [pads[0], pads[2]], [pads[1], pads[3]], [0, 0]], value)];
  return ctx.custom({ className: 'OnnxPad', kind: 'reshape', fn, region: { kind: 'pad', before: [pads[0], pads[1]], value } }, [x], '_pad')[0];
}

export function convertPool(ctx: NodeCtx): Val[] {
  let x = ctx.live(0);
  if (x.sample.rank !== 4) ctx.fail('only 2-D pooling (4-D input) is supported');
  const k = pair(ctx, 'kernel_shape', 0);
  if (!ctx.attrs.has('kernel_shape') || k[0] < 1 || k[1] < 1) ctx.fail('has no 2-D kernel_shape');
  const s = pair(ctx, 'strides', 1);
  const d = pair(ctx, 'dilations', 1);
  if (d[0] !== 1 || d[1] !== 1) ctx.fail('dilated pooling is not supported');
  if (ctx.node.output && ctx.node.output.length > 1 && ctx.node.output[1]) ctx.fail('the Indices output of MaxPool is not supported');
  const inHW: [number, number] = [x.sample.shape[1] as number, x.sample.shape[2] as number];
  const ceil = ctx.attrs.i('ceil_mode', 0) === 1;
  const p = windowPadding(ctx, inHW, k, s, d, ceil);
  const max = ctx.op === 'MaxPool';
  if (max) {
    // Padding never wins a maximum: -∞ (tfjs's 'same' pooling ignores it the same way).
    if (p.mode === null) x = padWith(ctx, x, p.pads, -Infinity);
    const layer = tfl.layers.maxPooling2d({ poolSize: k, strides: s, padding: p.mode === 'same' ? 'same' : 'valid', name: ctx.layerName() });
    return ctx.keras(layer, [x]);
  }
  const countPad = ctx.attrs.i('count_include_pad', 0) === 1;
  const explicit = windowPadding(ctx, inHW, k, s, d, false).pads;
  const ceilExtra = p.pads.some((v, i) => v !== explicit[i]);
  if (p.mode === 'valid' || (p.mode === 'same' && !countPad)) {
    const layer = tfl.layers.averagePooling2d({ poolSize: k, strides: s, padding: p.mode, name: ctx.layerName() });
    return ctx.keras(layer, [x]);
  }
  if (countPad && !ceilExtra) {
    x = zeroPad(ctx, x, p.pads);
    return ctx.keras(tfl.layers.averagePooling2d({ poolSize: k, strides: s, padding: 'valid', name: ctx.layerName() }), [x]);
  }
  // General case: window sums divided by the count of the positions ONNX counts (the input, and its
  // explicit padding when count_include_pad; never ceil_mode's extra positions).
  const [h, w] = inHW;
  const counted = tf.tidy(() => {
    const inner = tf.ones([1, h, w, 1]);
    const pads = countPad ? explicit : [0, 0, 0, 0];
    const withPad = tf.pad(inner, [[0, 0], [pads[0], pads[2]], [pads[1], pads[3]], [0, 0]], 1);
    const rest = p.pads.map((v, i) => v - pads[i]);
    const full = tf.pad(withPad, [[0, 0], [rest[0], rest[2]], [rest[1], rest[3]], [0, 0]], 0);
    return tf.avgPool(full as tf.Tensor4D, k, s, 'valid');
  });
  return ctx.custom(
    {
      className: 'OnnxAveragePool',
      kind: 'pool',
      consts: [counted],
      fn: ([xi], [frac]) => {
        const padded = tf.pad(xi, [[0, 0], [p.pads[0], p.pads[2]], [p.pads[1], p.pads[3]], [0, 0]]);
        return [tf.div(tf.avgPool(padded as tf.Tensor4D, k, s, 'valid'), frac)];
      },
    },
    [x],
  );
}

/**
 * A Keras global pooling layer ([N, C]: what the CAM head and the layer kinds know), then, when ONNX keeps
 * the dimensions, a Keras Reshape to [N, 1, 1, C]; a Flatten after it reuses the [N, C] value.
 */
export function globalPool(ctx: NodeCtx, x: Live, max: boolean, keepDims: boolean): Val[] {
  const layer = max ? tfl.layers.globalMaxPooling2d({ name: ctx.layerName() }) : tfl.layers.globalAveragePooling2d({ name: ctx.layerName() });
  const [pooled] = ctx.keras(layer, [x]);
  if (!keepDims) return [pooled];
  const c = x.sample.shape[3] as number;
  const [kept] = ctx.keras(tfl.layers.reshape({ targetShape: [1, 1, c], name: ctx.layerName('_keepdims') }), [pooled]);
  return [{ ...kept, flat: pooled }];
}

export function convertGlobalPool(ctx: NodeCtx): Val[] {
  const x = ctx.live(0);
  if (x.sample.rank !== 4) ctx.fail('only 4-D inputs are supported');
  return globalPool(ctx, x, ctx.op === 'GlobalMaxPool', true);
}
