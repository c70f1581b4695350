// Elementwise arithmetic with ONNX broadcasting: Add/Mul/Sub of two image-dependent values as Keras merge
// layers (residual connections, squeeze-and-excitation), everything else — and any constant operand,
// broadcast in the engine's layout — as OnnxLayers.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { Live, NodeCtx, Val } from '../context';
import { constTensor } from '../layout';

type Binary = (a: tf.Tensor, b: tf.Tensor) => tf.Tensor;

const BINARY: Record<string, Binary> = {
  Add: tf.add,
  Sub: tf.sub,
  Mul: tf.mul,
  Div: tf.div,
  Pow: tf.pow,
  Max: tf.maximum,
  Min: tf.minimum,
  Sum: tf.add,
  Mean: tf.add,
};

const KERAS_MERGE: Record<string, (args: { name: string }) => tfl.layers.Layer> = {
  Add: tfl.layers.add,
  Sum: tfl.layers.add,
  Mul: tfl.layers.multiply,
  Max: tfl.layers.maximum,
  Min: tfl.layers.minimum,
};

export function convertBinary(ctx: NodeCtx): Val[] {
  const present = ctx.inputs.map((v, i) => ({ v, i })).filter((e) => e.v !== null);
  if (present.length < 1) ctx.fail('has no inputs');
  const lives = present.filter((e) => e.v!.kind === 'live').map((e) => e.v as Live);
  const rank = Math.max(...present.map((e) => (e.v!.kind === 'live' ? (e.v as Live).sample.rank : (e.v as { c: { shape: number[] } }).c.shape.length)));
  for (const l of lives) if (l.sample.rank !== rank) ctx.fail(`broadcasting a ${l.sample.rank}-D value against a ${rank}-D one is not supported`);
  const f = BINARY[ctx.op];
  const n = present.length;
  const mean = ctx.op === 'Mean';
  const merge = KERAS_MERGE[ctx.op];
  if (lives.length === n && merge && (n === 2 || ctx.op === 'Add' || ctx.op === 'Sum' || ctx.op === 'Max' || ctx.op === 'Min' || ctx.op === 'Mul')) {
    if (n === 1) return [lives[0]];
    return ctx.keras(merge({ name: ctx.layerName() }), lives);
  }
  // Constants become the layer's weights, in order; `slots` says which operand each input is.
  const consts: tf.Tensor[] = [];
  const slots: ({ live: number } | { c: number })[] = [];
  for (const e of present) {
    if (e.v!.kind === 'live') slots.push({ live: lives.indexOf(e.v as Live) });
    else {
      let t: tf.Tensor;
      try {
        t = constTensor((e.v as { c: import('../tensors').Const }).c, rank);
      } catch (err) {
        return ctx.fail((err as Error).message);
      }
      slots.push({ c: consts.length });
      consts.push(t);
    }
  }
  if (lives.length === 0) ctx.fail('has no input that depends on the image');
  return ctx.custom(
    {
      kind: 'merge',
      consts,
      fn: (xs, cs) => {
        const operands = slots.map((s) => ('live' in s ? xs[s.live] : cs[s.c]));
        let y = operands.slice(1).reduce((a, b) => f(a, b), operands[0]);
        if (mean) y = tf.div(y, operands.length);
        return [y];
      },
    },
    lives,
  );
}

const UNARY: Record<string, (x: tf.Tensor) => tf.Tensor> = {
  Exp: tf.exp,
  Log: tf.log,
  Sqrt: tf.sqrt,
  Abs: tf.abs,
  Neg: tf.neg,
  Reciprocal: tf.reciprocal,
  Erf: tf.erf,
  Floor: tf.floor,
  Ceil: tf.ceil,
  Sin: tf.sin,
  Cos: tf.cos,
};

export function convertUnary(ctx: NodeCtx): Val[] {
  const f = UNARY[ctx.op];
  return ctx.custom({ kind: 'other', fn: ([x]) => [f(x)] }, [ctx.live(0)]);
}

export const BINARY_OPS = Object.keys(BINARY);
export const UNARY_OPS = Object.keys(UNARY);
