// ConvTranspose (group 1) as an OnnxLayer on the forward convolution kernel: the input spread by the stride,
// padded, and convolved with the kernel flipped in space and its channels swapped. wasm's own transposed
// convolution (Conv2DBackpropInput) is a scalar loop; its input gradient is the strided convolution with
// the kernel as given, which runs on XNNPACK too.
import * as tf from '@tensorflow/tfjs-core';
import type { NodeCtx, Val } from '../context';
import { convOperands } from './conv';
import { pair } from './padding';

export function convertConvTranspose(ctx: NodeCtx): Val[] {
  const { x, w, b } = convOperands(ctx, 'transposed convolutions', (shape) => shape[1]);
  const [cin, cout, kh, kw] = w.shape as [number, number, number, number];
  const c = x.sample.shape[3] as number;
  if (ctx.attrs.i('group', 1) !== 1) ctx.fail('grouped transposed convolutions are not supported (group 1 only)');
  if (cin !== c) ctx.fail(`weights [${w.shape.join(', ')}] do not fit an input of ${c} channels`);
  if (ctx.attrs.ints('output_shape')) ctx.fail('output_shape is not supported (pads and output_padding are)');
  const auto = ctx.attrs.s('auto_pad', 'NOTSET');
  if (auto !== 'NOTSET' && auto !== 'VALID') ctx.fail(`auto_pad '${auto}' is not supported for ConvTranspose (NOTSET or VALID)`);
  const s = pair(ctx, 'strides', 1);
  const d = pair(ctx, 'dilations', 1);
  const pads = auto === 'VALID' ? [0, 0, 0, 0] : ctx.attrs.ints('pads') ?? [0, 0, 0, 0];
  const outPad = ctx.attrs.ints('output_padding') ?? [0, 0];
  if (pads.length !== 4 || pads.some((p) => !Number.isSafeInteger(p) || p < 0 || p > 8192)) ctx.fail(`pads ${JSON.stringify(pads).slice(0, 60)} are not 4 whole numbers from 0 to 8192`);
  if (outPad.length !== 2 || outPad.some((p, a) => !Number.isSafeInteger(p) || p < 0 || p >= Math.max(s[a], d[a]))) ctx.fail(`output_padding ${JSON.stringify(outPad).slice(0, 40)} must be 2 whole numbers below the stride or dilation`);
  const inHW = [x.sample.shape[1] as number, x.sample.shape[2] as number];
  // Per axis: the spread input ((in − 1)·s + 1 long) framed by `before` and `after` zeros (negative: cropped).
  const frame = [0, 1].map((a) => {
    const eff = ([kh, kw][a] - 1) * d[a] + 1;
    const before = eff - 1 - pads[a];
    const after = eff - 1 - pads[a + 2] + outPad[a];
    const out = (inHW[a] - 1) * s[a] + eff - pads[a] - pads[a + 2] + outPad[a];
    if (out < 1) ctx.fail(`the output would have ${out} rows or columns (pads larger than the output)`);
    return { before, after };
  });
  // From W[cin, cout, kh, kw]: the forward kernel of the transposed convolution ([kh, kw, cin, cout], flipped
  // in space) and of the convolution it is the adjoint of ([kh, kw, cout, cin], as given: the input gradient).
  const flipped = new Float32Array(kh * kw * cin * cout);
  const direct = new Float32Array(kh * kw * cout * cin);
  for (let i = 0; i < cin; i++) {
    for (let o = 0; o < cout; o++) {
      for (let y = 0; y < kh; y++) {
        for (let z = 0; z < kw; z++) {
          const v = w.data[((i * cout + o) * kh + y) * kw + z];
          flipped[(((kh - 1 - y) * kw + (kw - 1 - z)) * cin + i) * cout + o] = v;
          direct[((y * kw + z) * cout + o) * cin + i] = v;
        }
      }
    }
  }
  const consts = [tf.tensor4d(flipped, [kh, kw, cin, cout]), tf.tensor4d(direct, [kh, kw, cout, cin]), ...(b ? [tf.tensor1d(Float32Array.from(b.data))] : [])];
  return ctx.custom(
    {
      className: 'ConvTranspose2D',
      kind: 'conv',
      consts,
      kernelIndex: 0,
      fn: ([xi], [kf, kd, bias]) => {
        const op = tf.customGrad(((v: tf.Tensor4D) => ({
          value: transposed(v, kf as tf.Tensor4D, s, d, frame),
          gradFunc: (dy: tf.Tensor4D) => adjoint(dy, kd as tf.Tensor4D, s, d, frame),
        })) as any) as (v: tf.Tensor4D) => tf.Tensor4D;
        const y = op(xi as tf.Tensor4D);
        return [bias ? tf.add(y, bias) : y];
      },
    },
    [x],
  );
}

type Frame = { before: number; after: number }[];

/** x spread by the stride, then framed (padded, or cropped where the frame is negative) and convolved. */
function transposed(x: tf.Tensor4D, kernel: tf.Tensor4D, s: [number, number], d: [number, number], frame: Frame): tf.Tensor4D {
  const [n, h, w, c] = x.shape;
  let v: tf.Tensor4D = x;
  if (s[0] > 1 || s[1] > 1) {
    const spread = tf.reshape(tf.pad(tf.reshape(x, [n, h, 1, w, 1, c]), [[0, 0], [0, 0], [0, s[0] - 1], [0, 0], [0, s[1] - 1], [0, 0]]), [n, h * s[0], w * s[1], c]);
    v = tf.slice(spread, [0, 0, 0, 0], [n, (h - 1) * s[0] + 1, (w - 1) * s[1] + 1, c]) as tf.Tensor4D;
  }
  return tf.conv2d(frameBy(v, frame), kernel, 1, 'valid', 'NHWC', d);
}

/** ∂/∂x: the output gradient framed back to the full transposed output, then the strided convolution. */
function adjoint(dy: tf.Tensor4D, kernel: tf.Tensor4D, s: [number, number], d: [number, number], frame: Frame): tf.Tensor4D {
  const eff = [0, 1].map((a) => (kernel.shape[a] - 1) * d[a] + 1);
  // The full output ((in − 1)·s + eff long, no pads, no output padding) holds dy at offset (eff − 1 − before).
  const back = frame.map((f, a) => ({ before: eff[a] - 1 - f.before, after: eff[a] - 1 - f.after }));
  return tf.conv2d(frameBy(dy, back), kernel, s, 'valid', 'NHWC', d);
}

/** Pads each spatial axis by before/after zeros, cropping where one is negative. */
function frameBy(x: tf.Tensor4D, frame: Frame): tf.Tensor4D {
  const [n, h, w, c] = x.shape;
  const crop = frame.map((f) => [Math.max(0, -f.before), Math.max(0, -f.after)]);
  let v = x;
  if (crop.some(([a, b]) => a > 0 || b > 0)) v = tf.slice(x, [0, crop[0][0], crop[1][0], 0], [n, h - crop[0][0] - crop[0][1], w - crop[1][0] - crop[1][1], c]);
  const pad = frame.map((f) => [Math.max(0, f.before), Math.max(0, f.after)]);
  return pad.some(([a, b]) => a > 0 || b > 0) ? tf.pad(v, [[0, 0], pad[0] as [number, number], pad[1] as [number, number], [0, 0]]) : v;
}
