// The input gradients of convolutions, computed by forward kernels, and the constants they use.
//
// The gradient of a convolution with respect to its input is a transposed convolution, and that is an
// ordinary convolution of the output gradient — dilated by the stride (zeros between its entries) and
// padded by (kernel − 1 − padding) before, enough after to give back the input's size — with the kernel
// flipped in space and its in/out channels swapped. The wasm backend's own Conv2DBackpropInput is a plain
// loop (3.3 of 5 s of an InceptionV3 input gradient) and it has no DepthwiseConv2dNativeBackpropInput at
// all (the cpu proxy in backend.ts), while its forward kernels are XNNPACK's. Gradients flow to the input
// only: the kernels are constants here (the engine never trains).

import * as tf from '@tensorflow/tfjs-core';
import type { GraphNode } from '../graph';
import { col2im, hasCol2Im } from '../../wasmKernels';
import { flipConvKernel, hasSimdKernels } from '../../simd/simdKernels';
import { fastGradients, layerConfig, pair, read, type ConvPad, type L, type OpContext } from './common';
import { padAlong, spreadForTranspose, type TransposePlan } from './transposedConv';

/**
 * The kernel flipped in space with in/out channels swapped ([kh, kw, out, in]); depthwise kernels
 * [kh, kw, in, multiplier] act per channel and are only flipped, as [kh, kw, in·multiplier, 1]. The
 * spatial flip is a product with the anti-identity over the kh·kw taps (exact: every sum has one term
 * times 1 and zeros), 8× faster on wasm than tf.reverse, whose kernel is a scalar loop. The kernel is the
 * product's left operand: wasm caches a packed copy of a matMul's right operand for as long as that
 * tensor lives, which for the model's own kernel would be for ever.
 */
function flipKernel(kernel: tf.Tensor4D, depthwise: boolean): tf.Tensor4D {
  // On wasm one pass of the SIMD module (tfjs's Transpose took 435 ms for ResNet-50's kernels). A depthwise
  // kernel [kh, kw, c, m] is a regular one with one input channel per tap row: [kh, kw, 1, c·m] → [kh, kw, c·m, 1].
  if (hasSimdKernels() && kernel.dtype === 'float32') {
    const [kh, kw, cin, cout] = kernel.shape;
    return depthwise ? tf.tidy(() => flipConvKernel(tf.reshape(kernel, [kh, kw, 1, cin * cout]) as tf.Tensor4D)) : flipConvKernel(kernel);
  }
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
 * The constant a convolution's input gradient uses (conv2dInputGradient), made before the first gradient:
 * the column kernel for at most 4 input channels, the sub-pixel kernel for a strided k×k convolution, else
 * the flipped kernel.
 */
export function gradientKernel(key: number, slot: number, kernel: tf.Tensor4D, depthwise: boolean, strides: [number, number], dilations: [number, number], ctx: OpContext): void {
  if (depthwise) flippedKernel(key, slot, kernel, true, ctx);
  else if (usesColumns(kernel.shape[2])) columnKernel(key, slot, kernel, ctx);
  else if (usesSubPixel(kernel, strides, dilations)) subPixelKernel(key, slot, kernel, strides[0], ctx);
  else flippedKernel(key, slot, kernel, false, ctx);
}

/** Whether a convolution with `cin` input channels takes its input gradient as taps and col2im. */
export function usesColumns(cin: number): boolean {
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
    // A separable convolution's pointwise kernel (slot 1) has stride 1.
    convKernels(node).forEach(([k, depthwise], slot) => {
      if (k && k.rank === 4) gradientKernel(node.index, slot, k, depthwise, slot === 0 ? pair(cfg.strides, 1) : [1, 1], slot === 0 ? pair(cfg.dilationRate, 1) : [1, 1], ctx);
    });
  }
}

/**
 * The input gradient of conv2d(x, kernel) as a function of the output gradient g (after the epilogue's
 * activation), the cheapest form for the layer:
 * - at most 4 input channels (the first layer): taps and col2im (narrowInputGradient);
 * - a strided 1×1 convolution (a ResNet shortcut): the product at the output's positions, spread;
 * - a strided k×k convolution: the sub-pixel form, one convolution of g for all stride² phases;
 * - else the transposed convolution: g spread by the stride, convolved with the flipped kernel.
 */
export function conv2dInputGradient(
  key: number,
  slot: number,
  inShape: number[],
  kernel: tf.Tensor4D,
  strides: [number, number],
  padding: ConvPad,
  dilations: [number, number],
  plan: TransposePlan | null,
  ctx: OpContext,
): (g: tf.Tensor4D) => tf.Tensor4D {
  const narrow = narrowInputGradient(inShape, kernel, strides, padding, dilations);
  if (narrow) {
    const columns = columnKernel(key, slot, kernel, ctx);
    return (g) => narrow(g, columns);
  }
  // Explicit (folded) zeros reach here only with the column form (conv.ts pads them first otherwise).
  if (typeof padding !== 'string' || !plan) throw new Error('internal: a convolution gradient without a plan or with explicit padding outside the column form');
  if (usesSubPixel(kernel, strides, dilations)) {
    const sub = subPixelKernel(key, slot, kernel, strides[0], ctx);
    const pad = [padAlong(inShape[1], kernel.shape[0], strides[0], 1, padding).before, padAlong(inShape[2], kernel.shape[1], strides[1], 1, padding).before] as const;
    return (g) => subPixelGradient(g, sub, strides[0], [kernel.shape[0], kernel.shape[1]], pad, inShape);
  }
  const flipped = flippedKernel(key, slot, kernel, false, ctx);
  if (kernel.shape[0] === 1 && kernel.shape[1] === 1 && (strides[0] > 1 || strides[1] > 1)) return (g) => spreadPointwise(tf.conv2d(g, flipped, 1, 'valid'), strides, inShape);
  return (g) => {
    const { spread, pad } = spreadForTranspose(g, plan);
    return tf.conv2d(spread, flipped, 1, pad, 'NHWC', dilations);
  };
}

/** Whether a convolution's input gradient takes the sub-pixel form: a k×k kernel (k > 1), one stride ≥ 2 on both axes, no dilation. */
function usesSubPixel(kernel: tf.Tensor4D, strides: [number, number], dilations: [number, number]): boolean {
  const [kh, kw] = kernel.shape;
  return strides[0] === strides[1] && strides[0] > 1 && dilations[0] === 1 && dilations[1] === 1 && (kh > 1 || kw > 1) && process.env.CNN_LENS_SUBPIXEL !== 'off';
}

/**
 * The sub-pixel kernel of a stride-s convolution: [mh, mw, cout, s·s·cin] with m = ⌈k/s⌉. Input row y, with
 * y + padTop = q·s + r, receives g[q − m]·w[r + m·s] for m = 0, 1, …: for each phase r a convolution of g
 * itself (not spread) with every s-th tap of the kernel, reversed. The phases sit side by side in the output
 * channels, (ry·s + rx)·cin + c, so that depthToSpace interleaves them; taps past the kernel are zeros.
 */
function subPixelKernel(key: number, slot: number, kernel: tf.Tensor4D, s: number, ctx: OpContext): tf.Tensor4D {
  return preparedFrom(key, slot + 6, kernel, ctx, () => {
    const [kh, kw, cin, cout] = kernel.shape;
    const mh = Math.ceil(kh / s);
    const mw = Math.ceil(kw / s);
    const w = kernel.dataSync();
    const out = new Float32Array(mh * mw * cout * s * s * cin);
    const outCh = s * s * cin;
    for (let ta = 0; ta < mh; ta++) {
      for (let tb = 0; tb < mw; tb++) {
        for (let ry = 0; ry < s; ry++) {
          const ky = ry + (mh - 1 - ta) * s;
          if (ky >= kh) continue;
          for (let rx = 0; rx < s; rx++) {
            const kx = rx + (mw - 1 - tb) * s;
            if (kx >= kw) continue;
            for (let ci = 0; ci < cin; ci++) {
              for (let co = 0; co < cout; co++) out[((ta * mw + tb) * cout + co) * outCh + (ry * s + rx) * cin + ci] = w[((ky * kw + kx) * cin + ci) * cout + co];
            }
          }
        }
      }
    }
    return tf.tensor4d(out, [mh, mw, cout, outCh]);
  });
}

/**
 * The sub-pixel input gradient: one convolution of g (padded by m − 1 on each side) gives every phase of
 * every input position, depthToSpace puts each phase at its rows and columns, and the input's window of that
 * starts at the padding before. A stride-2 3×3 gradient does 16 products per output gradient entry where the
 * transposed convolution over the spread gradient did 36: ResNet-50's three strided 3×3 layers took 13–16 ms
 * each of a 340-ms saliency map.
 */
function subPixelGradient(g: tf.Tensor4D, sub: tf.Tensor4D, s: number, [kh, kw]: [number, number], [padTop, padLeft]: readonly [number, number], inShape: number[]): tf.Tensor4D {
  const [n, H, W, cin] = inShape;
  const mh = Math.ceil(kh / s);
  const mw = Math.ceil(kw / s);
  const phases = tf.conv2d(g, sub, 1, [[0, 0], [mh - 1, mh - 1], [mw - 1, mw - 1], [0, 0]]);
  const whole = tf.depthToSpace(phases, s);
  const [, zh, zw] = whole.shape;
  // Rows past the input's last row are the gradient of padding: dropped. Rows no window reads (the last rows
  // of a 'valid' convolution whose stride passes over them) get no gradient: zeros.
  const h = Math.min(H, zh - padTop);
  const w = Math.min(W, zw - padLeft);
  const cut = tf.slice(whole, [0, padTop, padLeft, 0], [n, h, w, cin]);
  return h === H && w === W ? cut : tf.pad(cut, [[0, 0], [0, H - h], [0, W - w], [0, 0]]);
}

/**
 * The input gradient of a strided 1×1 convolution: the product with the kernel at the output's positions
 * (a 1×1 convolution of dy itself), then spread to the input's size, each value at the input position it
 * came from and zeros between. The transposed convolution ran on dy spread first, (stride² − 1)/stride² of
 * it zeros: ResNet-50's three downsampling shortcuts took 11 ms each of a 400-ms saliency map.
 */
function spreadPointwise(g: tf.Tensor4D, strides: [number, number], inShape: number[]): tf.Tensor4D {
  const [n, oh, ow, c] = g.shape;
  const [sh, sw] = strides;
  const spread = tf.reshape(tf.pad(tf.reshape(g, [n, oh, 1, ow, 1, c]), [[0, 0], [0, 0], [0, sh - 1], [0, 0], [0, sw - 1], [0, 0]]), [n, oh * sh, ow * sw, c]) as tf.Tensor4D;
  const [H, W] = [inShape[1], inShape[2]];
  // oh = ⌈H / sh⌉ for 'same' and 'valid' alike: the spread is at least the input's size.
  return oh * sh === H && ow * sw === W ? spread : tf.slice(spread, [0, 0, 0, 0], [n, H, W, c]);
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
  padding: ConvPad,
  dilations: [number, number],
): ((g: tf.Tensor4D, columns: tf.Tensor2D) => tf.Tensor4D) | null {
  const [n, H, W, cin] = inShape;
  const [kh, kw, , cout] = kernel.shape;
  if (!usesColumns(cin)) return null;
  const rows = typeof padding === 'string' ? padAlong(H, kh, strides[0], dilations[0], padding) : { before: padding[1][0] };
  const cols = typeof padding === 'string' ? padAlong(W, kw, strides[1], dilations[1], padding) : { before: padding[2][0] };
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
