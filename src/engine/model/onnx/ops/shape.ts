// Reshaping image-dependent values: Flatten, Reshape, Transpose, Squeeze, Unsqueeze, Slice, Split, Concat,
// Pad, Gather, reductions, and aliases (Identity, Dropout, Cast). Ops that depend on element order run in
// ONNX order (layout.ts), so a Flatten after NCHW features gives exactly PyTorch's order.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { Live, NodeCtx, Val } from '../context';
import { fromOnnx, internalAxis, normAxis, onnxShape, toOnnx } from '../layout';
import type { Const } from '../tensors';
import { globalPool } from './pool';

/** Whether a value's engine order equals its ONNX order (rank ≠ 4, or one of C and H·W is 1). */
function sameOrder(internal: number[]): boolean {
  return internal.length !== 4 || internal[1] * internal[2] === 1 || internal[3] === 1;
}

const prod = (a: number[]) => a.reduce((p, q) => p * q, 1);

/** A reshape of the per-image part of x (ONNX order) to `rest`; the batch stays. */
function reshapeLive(ctx: NodeCtx, x: Live, rest: number[], className: string, kind: 'reshape' = 'reshape'): Val[] {
  if (x.flat && rest.length === 1) return [x.flat];
  const outInternal = rest.length + 1 === 4 ? [1, rest[1], rest[2], rest[0]] : [1, ...rest];
  if (sameOrder(x.sample.shape) && sameOrder(outInternal)) {
    const target = outInternal.slice(1);
    if (className === 'OnnxFlatten' && rest.length === 1) return ctx.keras(tfl.layers.flatten({ name: ctx.layerName() }), [x]);
    return ctx.custom({ className, kind, fn: ([xi]) => [tf.reshape(xi, [xi.shape[0], ...target])] }, [x]);
  }
  return ctx.custom({ className, kind, fn: ([xi]) => [fromOnnx(tf.reshape(toOnnx(xi), [xi.shape[0], ...rest]))] }, [x]);
}

function ints(ctx: NodeCtx, k: number, attr: string, what: string): number[] | undefined {
  const fromAttr = ctx.attrs.ints(attr);
  if (fromAttr) return fromAttr;
  const c = ctx.konst(k, what);
  return c ? Array.from(c.data) : undefined;
}

function checkNoBatch(ctx: NodeCtx, axes: number[], rank: number, what: string): number[] {
  const out = axes.map((a) => normAxis(a, rank));
  if (out.some((a) => a < 0 || a >= rank)) ctx.fail(`${what} ${JSON.stringify(axes)} are out of range for a ${rank}-D value`);
  if (out.includes(0)) ctx.fail(`${what} include the batch axis`);
  return out;
}

export function convertShapeOp(ctx: NodeCtx): Val[] {
  switch (ctx.op) {
    case 'Identity':
    case 'Dropout':
      return [ctx.inputs[0] ?? ctx.fail('has no input')];
    case 'Cast': {
      const to = ctx.attrs.i('to', 1);
      if (to !== 1 && to !== 10 && to !== 11) ctx.fail(`casting an image-dependent value to type ${to} (not float) is not supported`);
      return [ctx.live(0)];
    }
    case 'Flatten': {
      const x = ctx.live(0);
      const s = onnxShape(x.sample.shape);
      const axis = normAxis(ctx.attrs.i('axis', 1), s.length);
      if (axis !== 1) ctx.fail(`axis ${axis}: only Flatten from axis 1 (keeping the batch) is supported`);
      return reshapeLive(ctx, x, [prod(s.slice(1))], 'OnnxFlatten');
    }
    case 'Reshape': {
      const x = ctx.live(0);
      const target = ctx.konst(1, 'shape');
      if (!target) ctx.fail('has no target shape');
      const s = onnxShape(x.sample.shape);
      const allowZero = ctx.attrs.i('allowzero', 0) === 1;
      const t = Array.from(target.data).map((v, i) => (v === 0 && !allowZero && i < s.length ? s[i] : v));
      if (t.length === 0) ctx.fail('a reshape to a scalar drops the batch');
      const per = prod(s.slice(1));
      const rest = t.slice(1);
      // Axis 0 is the batch: the exporter's batch size (1, or the size the input fixes), a copy of it (0), the batch's
      // symbolic size, or -1 with the rest fixed.
      const batch = Number.isNaN(t[0]) || t[0] === s[0] || (ctx.fixedBatch !== null && t[0] === ctx.fixedBatch) || (t[0] === -1 && rest.every((v) => v > 0));
      if (!batch) ctx.fail(`target shape [${t.join(', ')}] mixes the batch with other axes${ctx.fixedBatch ? ` (the input fixes the batch at ${ctx.fixedBatch})` : ''}`);
      if (rest.some((v) => Number.isNaN(v))) ctx.fail(`target shape depends on the batch size beyond axis 0`);
      const unknown = rest.filter((v) => v === -1).length;
      if (unknown > 1 || rest.some((v) => v < -1)) ctx.fail(`target shape [${t.join(', ')}] is invalid`);
      const known = prod(rest.filter((v) => v !== -1));
      const resolved = rest.map((v) => (v === -1 ? per / known : v));
      if (resolved.some((v) => !Number.isInteger(v)) || prod(resolved) !== per) ctx.fail(`cannot reshape [${s.join(', ')}] to [${t.join(', ')}]`);
      return reshapeLive(ctx, x, resolved, 'OnnxReshape');
    }
    case 'Transpose': {
      const x = ctx.live(0);
      const rank = x.sample.rank;
      const perm = ctx.attrs.ints('perm') ?? [...Array(rank).keys()].reverse();
      if (perm.length !== rank || [...perm].sort().some((v, i) => v !== i)) ctx.fail(`perm ${JSON.stringify(perm)} is not a permutation of ${rank} axes`);
      if (perm[0] !== 0) ctx.fail('transposing the batch axis is not supported');
      // One transpose in the engine's layout: output axis i reads input axis q[i].
      const outToOnnx = rank === 4 ? [0, 2, 3, 1] : [...Array(rank).keys()];
      const q = outToOnnx.map((o) => internalAxis(perm[o], rank));
      if (q.every((v, i) => v === i)) return [x];
      return ctx.custom({ className: 'OnnxTranspose', kind: 'reshape', fn: ([xi]) => [tf.transpose(xi, q)] }, [x]);
    }
    case 'Squeeze':
    case 'Unsqueeze': {
      const x = ctx.live(0);
      const s = onnxShape(x.sample.shape);
      const axesIn = ints(ctx, 1, 'axes', 'axes');
      let out: number[];
      if (ctx.op === 'Squeeze') {
        const axes = axesIn ? checkNoBatch(ctx, axesIn, s.length, 'axes') : s.map((d, i) => (d === 1 && i > 0 ? i : -1)).filter((i) => i > 0);
        if (axes.some((a) => s[a] !== 1)) ctx.fail(`cannot squeeze axes ${JSON.stringify(axesIn)} of [${s.join(', ')}]`);
        out = s.filter((_, i) => !axes.includes(i));
      } else {
        if (!axesIn) ctx.fail('has no axes');
        const r = s.length + axesIn.length;
        const axes = checkNoBatch(ctx, axesIn, r, 'axes');
        out = [];
        let j = 0;
        for (let i = 0; i < r; i++) out.push(axes.includes(i) ? 1 : s[j++]);
      }
      return reshapeLive(ctx, x, out.slice(1), 'Onnx' + ctx.op);
    }
    case 'Concat': {
      const lives = ctx.inputs.map((_, k) => ctx.live(k));
      const rank = lives[0].sample.rank;
      const axis = normAxis(ctx.attrs.i('axis', 1), rank);
      if (axis <= 0 || axis >= rank) ctx.fail(`axis ${axis} is the batch axis or out of range`);
      if (lives.length === 1) return [lives[0]];
      return ctx.keras(tfl.layers.concatenate({ axis: internalAxis(axis, rank), name: ctx.layerName() }), lives);
    }
    case 'Split': {
      const x = ctx.live(0);
      const rank = x.sample.rank;
      const axis = normAxis(ctx.attrs.i('axis', 0), rank);
      if (axis <= 0 || axis >= rank) ctx.fail(`axis ${axis} is the batch axis or out of range`);
      const len = onnxShape(x.sample.shape)[axis];
      const outs = (ctx.node.output ?? []).length;
      let sizes = ctx.attrs.ints('split') ?? (ctx.inputs[1] ? Array.from(ctx.konst(1, 'split')!.data) : undefined);
      if (!sizes) {
        const n = ctx.attrs.i('num_outputs', outs);
        const each = Math.ceil(len / n);
        sizes = Array.from({ length: n }, (_, i) => Math.min(each, len - i * each));
      }
      if (sizes.length !== outs || sizes.some((v) => v < 0) || prod([sizes.reduce((p, q) => p + q, 0)]) !== len) ctx.fail(`split sizes ${JSON.stringify(sizes)} do not divide ${len} into ${outs} outputs`);
      const ia = internalAxis(axis, rank);
      return ctx.custom({ className: 'OnnxSplit', kind: 'reshape', fn: ([xi]) => tf.split(xi, sizes, ia) }, [x]);
    }
    case 'Slice':
      return convertSlice(ctx);
    case 'Pad':
      return convertPad(ctx);
    case 'Gather': {
      const x = ctx.live(0);
      const idx = ctx.konst(1, 'indices');
      if (!idx) ctx.fail('has no indices');
      const s = onnxShape(x.sample.shape);
      const axis = normAxis(ctx.attrs.i('axis', 0), s.length);
      if (axis <= 0 || axis >= s.length) ctx.fail(`gathering along axis ${axis} (the batch, or out of range) is not supported`);
      const ids = Array.from(idx.data).map((v) => (v < 0 ? v + s[axis] : v));
      if (ids.some((v) => !Number.isInteger(v) || v < 0 || v >= s[axis])) ctx.fail(`indices ${JSON.stringify(Array.from(idx.data)).slice(0, 60)} are out of range for ${s[axis]}`);
      const scalar = idx.shape.length === 0;
      if (idx.shape.length > 1) ctx.fail('indices of more than one dimension are not supported');
      return ctx.custom(
        {
          className: 'OnnxGather',
          kind: 'reshape',
          fn: ([xi]) => {
            const g = tf.gather(toOnnx(xi), tf.tensor1d(ids, 'int32'), axis);
            return [fromOnnx(scalar ? tf.squeeze(g, [axis]) : g)];
          },
        },
        [x],
      );
    }
    case 'ReduceMean':
    case 'ReduceSum':
    case 'ReduceMax':
    case 'ReduceMin':
      return convertReduce(ctx);
    default:
      return ctx.fail('internal: not a shape op');
  }
}

function convertReduce(ctx: NodeCtx): Val[] {
  const x = ctx.live(0);
  const rank = x.sample.rank;
  const keep = ctx.attrs.i('keepdims', 1) === 1;
  const axesIn = ints(ctx, 1, 'axes', 'axes');
  if (!axesIn || axesIn.length === 0) {
    if (ctx.attrs.i('noop_with_empty_axes', 0) === 1) return [x];
    ctx.fail('reducing over every axis (the batch too) is not supported');
  }
  const axes = checkNoBatch(ctx, axesIn, rank, 'axes');
  if (rank === 4 && axes.length === 2 && axes.includes(2) && axes.includes(3) && (ctx.op === 'ReduceMean' || ctx.op === 'ReduceMax')) return globalPool(ctx, x, ctx.op === 'ReduceMax', keep);
  const f = { ReduceMean: tf.mean, ReduceSum: tf.sum, ReduceMax: tf.max, ReduceMin: tf.min }[ctx.op as 'ReduceMean'];
  return ctx.custom({ kind: ctx.op === 'ReduceSum' ? 'other' : 'pool', fn: ([xi]) => [fromOnnx(f(toOnnx(xi), axes, keep))] }, [x]);
}

function convertSlice(ctx: NodeCtx): Val[] {
  const x = ctx.live(0);
  const s = onnxShape(x.sample.shape);
  const rank = s.length;
  const old = ctx.opset < 10;
  const get = (k: number, attr: string): number[] | undefined => (old ? ctx.attrs.ints(attr) : ctx.inputs[k] ? Array.from((ctx.konst(k, attr) as Const).data) : undefined);
  const starts = get(1, 'starts');
  const ends = get(2, 'ends');
  if (!starts || !ends || starts.length !== ends.length) ctx.fail('needs starts and ends of the same length');
  const axes = (get(3, 'axes') ?? starts.map((_, i) => i)).map((a) => normAxis(a, rank));
  const steps = get(4, 'steps') ?? starts.map(() => 1);
  const begin = s.map(() => 0);
  const end = [...s];
  const stride = s.map(() => 1);
  axes.forEach((a, i) => {
    if (a < 0 || a >= rank) ctx.fail(`axis ${axes[i]} is out of range`);
    if (steps[i] < 1) ctx.fail('negative or zero steps are not supported');
    const clamp = (v: number) => Math.min(Math.max(v < 0 ? v + s[a] : v, 0), s[a]);
    begin[a] = clamp(starts[i]);
    end[a] = clamp(ends[i]);
    stride[a] = steps[i];
  });
  if (begin[0] !== 0 || end[0] !== s[0]) ctx.fail('slicing the batch axis is not supported');
  if (begin.some((b, a) => end[a] <= b)) ctx.fail(`the slice of [${s.join(', ')}] is empty`);
  const order = rank === 4 ? [0, 2, 3, 1] : [...Array(rank).keys()];
  const [bi, ei, si] = [begin, end, stride].map((v) => order.map((a) => v[a]));
  return ctx.custom(
    {
      className: 'OnnxSlice',
      kind: 'reshape',
      // tf.slice where every step is 1: it has a gradient, and tfjs has none for StridedSlice (saliency stopped there).
      fn: ([xi]) =>
        si.every((v) => v === 1)
          ? [tf.slice(xi, [0, ...bi.slice(1)], [-1, ...ei.slice(1).map((e, i) => e - bi[i + 1])])]
          : [tf.stridedSlice(xi, [0, ...bi.slice(1)], [xi.shape[0], ...ei.slice(1)], si)],
    },
    [x],
  );
}

function convertPad(ctx: NodeCtx): Val[] {
  const x = ctx.live(0);
  const s = onnxShape(x.sample.shape);
  const rank = s.length;
  const mode = ctx.attrs.s('mode', 'constant');
  const padsIn = ctx.opset < 11 ? ctx.attrs.ints('pads') : Array.from(ctx.konst(1, 'pads')?.data ?? []);
  const value = ctx.opset < 11 ? ctx.attrs.f('value', 0) : ctx.inputs[2] ? (ctx.konst(2, 'constant_value')!.data[0] ?? 0) : 0;
  const axesIn = ctx.opset >= 18 && ctx.inputs[3] ? Array.from(ctx.konst(3, 'axes')!.data).map((a) => normAxis(a, rank)) : [...Array(rank).keys()];
  if (!padsIn || padsIn.length !== 2 * axesIn.length) ctx.fail('pads do not give a begin and end per axis');
  const pads: [number, number][] = s.map(() => [0, 0]);
  axesIn.forEach((a, i) => (pads[a] = [padsIn[i], padsIn[i + axesIn.length]]));
  if (pads.flat().some((v) => v < 0 || !Number.isInteger(v))) ctx.fail('negative padding (cropping) is not supported');
  if (pads.flat().some((v) => v > 8192)) ctx.fail('pads over 8192 are not supported');
  if (pads[0][0] || pads[0][1]) ctx.fail('padding the batch axis is not supported');
  if (mode !== 'constant' && mode !== 'reflect') ctx.fail(`mode '${mode}' is not supported (constant and reflect are)`);
  const order = rank === 4 ? [0, 2, 3, 1] : [...Array(rank).keys()];
  const ip = order.map((a) => pads[a]);
  if (rank === 4 && mode === 'constant' && value === 0 && !pads[1][0] && !pads[1][1]) {
    return ctx.keras(tfl.layers.zeroPadding2d({ padding: [pads[2], pads[3]], name: ctx.layerName() }), [x]);
  }
  return ctx.custom({ className: 'OnnxPad', kind: 'reshape', fn: ([xi]) => [mode === 'reflect' ? tf.mirrorPad(xi, ip, 'reflect') : tf.pad(xi, ip, value)] }, [x]);
}
