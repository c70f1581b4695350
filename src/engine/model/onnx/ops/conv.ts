// Conv: Keras Conv2D (groups = 1) or DepthwiseConv2D (one group per channel), so that they run on the
// engine's fused kernels and gradients; other grouped convolutions as one OnnxLayer.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { Live, NodeCtx, Val } from '../context';
import type { Const } from '../tensors';
import { givenWeights } from '../givenWeights';
import { pair, windowPadding } from './padding';

/** Pads x explicitly (ZeroPadding2D, a layer of its own named '<node>_pad'). */
export function zeroPad(ctx: NodeCtx, x: Live, pads: [number, number, number, number]): Live {
  const layer = tfl.layers.zeroPadding2d({ padding: [[pads[0], pads[2]], [pads[1], pads[3]]], name: ctx.layerName('_pad') });
  return ctx.keras(layer, [x])[0];
}

/**
 * A Conv or ConvTranspose node's input, weights and bias, checked: 4-D input and weights, kernel_shape as the
 * weights', a bias of one value per output channel (`outChannels` of the weights' shape).
 */
export function convOperands(ctx: NodeCtx, what: string, outChannels: (shape: number[]) => number): { x: Live; w: Const; b: Const | null } {
  const x = ctx.live(0);
  const w = ctx.konst(1, 'weights');
  const b = ctx.konst(2, 'bias');
  if (!w) return ctx.fail('has no weights');
  if (x.sample.rank !== 4 || w.shape.length !== 4) ctx.fail(`only 2-D ${what} (4-D input and weights) are supported`);
  const m = outChannels(w.shape);
  if (b && (b.shape.length !== 1 || b.shape[0] !== m)) ctx.fail(`bias of shape [${b.shape.join(', ')}] does not fit ${m} output channels`);
  const ks = ctx.attrs.ints('kernel_shape');
  if (ks && (ks[0] !== w.shape[2] || ks[1] !== w.shape[3])) ctx.fail(`kernel_shape ${JSON.stringify(ks)} differs from the weights' ${w.shape[2]}×${w.shape[3]}`);
  return { x, w, b };
}

export function convertConv(ctx: NodeCtx): Val[] {
  const operands = convOperands(ctx, 'convolutions', (shape) => shape[0]);
  let x = operands.x;
  const { w, b } = operands;
  const [m, cg, kh, kw] = w.shape as [number, number, number, number];
  const c = x.sample.shape[3] as number;
  const group = ctx.attrs.i('group', 1);
  if (!Number.isSafeInteger(group) || group < 1 || c % group !== 0 || m % group !== 0 || cg !== c / group) ctx.fail(`weights [${w.shape.join(', ')}] with group ${group} do not fit an input of ${c} channels`);
  const strides = pair(ctx, 'strides', 1);
  const dil = pair(ctx, 'dilations', 1);
  const p = windowPadding(ctx, [x.sample.shape[1] as number, x.sample.shape[2] as number], [kh, kw], strides, dil);
  if (p.mode === null) x = zeroPad(ctx, x, p.pads);
  const padding = p.mode === 'same' ? 'same' : 'valid';
  const weights = (f: (t: tf.Tensor) => tf.Tensor) => tf.tidy(() => f(tf.tensor(w.data, w.shape, 'float32')));
  const bias = () => (b ? { biasInitializer: givenWeights(tf.tensor(b.data, b.shape, 'float32')) } : {});
  if (group === 1) {
    const kernel = givenWeights(weights((t) => tf.transpose(t, [2, 3, 1, 0])));
    return ctx.keras(tfl.layers.conv2d({ filters: m, kernelSize: [kh, kw], strides, padding, dilationRate: dil, useBias: !!b, name: ctx.layerName(), kernelInitializer: kernel, ...bias() }), [x]);
  }
  if (cg === 1) {
    const mult = m / c;
    if ((strides[0] > 1 || strides[1] > 1) && (dil[0] > 1 || dil[1] > 1)) ctx.fail('depthwise convolutions with both strides and dilations > 1 are not supported');
    const kernel = givenWeights(weights((t) => tf.transpose(tf.reshape(t, [c, mult, kh, kw]), [2, 3, 0, 1])));
    return ctx.keras(tfl.layers.depthwiseConv2d({ kernelSize: [kh, kw], depthMultiplier: mult, strides, padding, dilationRate: dil, useBias: !!b, name: ctx.layerName(), depthwiseInitializer: kernel, ...bias() }), [x]);
  }
  // Grouped: group g reads input channels g·cg … and writes output channels g·(m/group) ….
  const kernel = weights((t) => tf.transpose(t, [2, 3, 1, 0])); // [kh, kw, cg, m]
  return ctx.custom(
    {
      className: 'GroupedConv2D',
      kind: 'conv',
      consts: b ? [kernel, tf.tensor(b.data, b.shape, 'float32')] : [kernel],
      kernelIndex: 0,
      fn: ([xi], [k, bi]) => {
        const xs = tf.split(xi, group, 3);
        const ks = tf.split(k, group, 3);
        const ys = xs.map((xg, g) => tf.conv2d(xg as tf.Tensor4D, ks[g] as tf.Tensor4D, strides, padding, 'NHWC', dil));
        const y = tf.concat(ys, 3);
        return [bi ? tf.add(y, bi) : y];
      },
    },
    [x],
  );
}
