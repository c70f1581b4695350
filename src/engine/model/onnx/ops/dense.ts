// Gemm and MatMul with a constant right operand on a [batch, features] input: a Keras Dense layer (the
// engine's fast gradient and the CAM head); other products as OnnxLayers.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { NodeCtx, Val } from '../context';
import { givenWeights } from '../givenWeights';
import { fromOnnx, toOnnx } from '../layout';

/**
 * Gemm's B as a Dense kernel [k, units]: alpha·B, or alpha·Bᵀ for transB (PyTorch's Linear), made in JS in
 * cache-sized blocks. The wasm transpose took 8 s on VGG's 25088×4096 classifier weights and held a second
 * copy of them in the wasm heap, which never shrinks.
 */
export function denseKernel(b: Float32Array | Float64Array, rows: number, cols: number, transB: boolean, alpha: number): Float32Array {
  if (!transB) return alpha === 1 && b instanceof Float32Array ? b : Float32Array.from(b, (v) => v * alpha);
  const out = new Float32Array(rows * cols);
  const BLOCK = 64;
  for (let r0 = 0; r0 < rows; r0 += BLOCK) {
    const r1 = Math.min(rows, r0 + BLOCK);
    for (let c0 = 0; c0 < cols; c0 += BLOCK) {
      const c1 = Math.min(cols, c0 + BLOCK);
      for (let r = r0; r < r1; r++) {
        const from = r * cols;
        for (let c = c0; c < c1; c++) out[c * rows + r] = b[from + c] * alpha;
      }
    }
  }
  return out;
}

export function convertGemm(ctx: NodeCtx): Val[] {
  const a = ctx.live(0);
  const b = ctx.konst(1, 'B');
  const c = ctx.konst(2, 'C');
  if (!b || b.shape.length !== 2) ctx.fail('B must be a 2-D constant');
  if (a.sample.rank !== 2) ctx.fail(`A must be 2-D, it is ${a.sample.rank}-D`);
  if (ctx.attrs.i('transA', 0) !== 0) ctx.fail('transA = 1 (a transposed batch) is not supported');
  const transB = ctx.attrs.i('transB', 0) === 1;
  const alpha = ctx.attrs.f('alpha', 1);
  const beta = ctx.attrs.f('beta', 1);
  const [k, units] = transB ? [b.shape[1], b.shape[0]] : b.shape;
  if (a.sample.shape[1] !== k) ctx.fail(`B of shape [${b.shape.join(', ')}] does not fit an input of ${a.sample.shape[1]} features`);
  if (c && c.data.length !== units && c.data.length !== 1) ctx.fail(`C of shape [${c.shape.join(', ')}] is not one bias per output`);
  const kernel = givenWeights(tf.tensor(denseKernel(b.data, b.shape[0], b.shape[1], transB, alpha), [k, units], 'float32'));
  const bias = c ? { biasInitializer: givenWeights(tf.tidy(() => tf.mul(tf.broadcastTo(tf.tensor1d(Float32Array.from(c.data)), [units]), beta))) } : {};
  return ctx.keras(tfl.layers.dense({ units, useBias: !!c, name: ctx.layerName(), kernelInitializer: kernel, ...bias }), [a]);
}

export function convertMatMul(ctx: NodeCtx): Val[] {
  const a = ctx.live(0);
  const b = ctx.konst(1, 'B');
  if (!b) ctx.fail('a product of two image-dependent values is not supported');
  if (a.sample.rank === 2 && b.shape.length === 2) {
    if (b.shape[0] !== a.sample.shape[1]) ctx.fail(`B of shape [${b.shape.join(', ')}] does not fit an input of ${a.sample.shape[1]} features`);
    return ctx.keras(tfl.layers.dense({ units: b.shape[1] as number, useBias: false, name: ctx.layerName(), kernelInitializer: givenWeights(tf.tensor(b.data, b.shape, 'float32')) }), [a]);
  }
  if (b.shape.length !== 2) ctx.fail('only a 2-D constant right operand is supported');
  const w = tf.tensor(b.data, b.shape, 'float32');
  return ctx.custom(
    {
      kind: 'dense',
      consts: [w],
      fn: ([x], [wi]) => {
        const o = toOnnx(x);
        const lead = o.shape.slice(0, -1);
        const y = tf.reshape(tf.matMul(tf.reshape(o, [-1, o.shape[o.rank - 1]]), wi), [...lead, wi.shape[1] as number]);
        return [fromOnnx(y)];
      },
    },
    [a],
  );
}
