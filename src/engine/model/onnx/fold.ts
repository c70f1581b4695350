// Constant folding at load time: the shape arithmetic exporters write (Shape → Gather → Unsqueeze →
// Concat → Reshape, ConstantOfShape, Cast, …) and any other op whose inputs are all constants, computed
// here on plain arrays. The batch size of a Shape is NaN: it survives gathering and concatenation, and
// Reshape reads it as "the batch" (ops/shape.ts).
import type { Attrs } from './context';
import { elementCount, type Const } from './tensors';
import { normAxis } from './layout';

const c = (shape: number[], data: ArrayLike<number>, int: boolean): Const => ({ shape, data: int ? Float64Array.from(data) : Float32Array.from(data), int });

function strides(shape: number[]): number[] {
  const s = new Array(shape.length).fill(1);
  for (let i = shape.length - 2; i >= 0; i--) s[i] = s[i + 1] * shape[i + 1];
  return s;
}

/** Elementwise op with numpy broadcasting. */
function broadcast(a: Const, b: Const, f: (x: number, y: number) => number, int: boolean): Const {
  const rank = Math.max(a.shape.length, b.shape.length);
  const pa = [...new Array(rank - a.shape.length).fill(1), ...a.shape];
  const pb = [...new Array(rank - b.shape.length).fill(1), ...b.shape];
  const out = pa.map((d, i) => {
    if (d !== pb[i] && d !== 1 && pb[i] !== 1) throw new Error(`shapes [${a.shape}] and [${b.shape}] do not broadcast`);
    return d === 1 ? pb[i] : d;
  });
  const n = elementCount(out);
  const sa = strides(pa);
  const sb = strides(pb);
  const so = strides(out);
  const data = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let ia = 0;
    let ib = 0;
    for (let k = 0; k < rank; k++) {
      const idx = Math.floor(i / so[k]) % out[k];
      if (pa[k] !== 1) ia += idx * sa[k];
      if (pb[k] !== 1) ib += idx * sb[k];
    }
    data[i] = f(a.data[ia], b.data[ib]);
  }
  return c(out, data, int);
}

const ARITH: Record<string, (x: number, y: number) => number> = {
  Add: (x, y) => x + y,
  Sub: (x, y) => x - y,
  Mul: (x, y) => x * y,
  Div: (x, y) => x / y,
  Pow: (x, y) => x ** y,
  Max: Math.max,
  Min: Math.min,
  Equal: (x, y) => (x === y ? 1 : 0),
  Less: (x, y) => (x < y ? 1 : 0),
  Greater: (x, y) => (x > y ? 1 : 0),
};

const UNARY: Record<string, (x: number) => number> = {
  Neg: (x) => -x,
  Sqrt: Math.sqrt,
  Floor: Math.floor,
  Ceil: Math.ceil,
  Abs: Math.abs,
  Exp: Math.exp,
  Reciprocal: (x) => 1 / x,
  Not: (x) => (x ? 0 : 1),
};

function axesOf(attrs: Attrs, ins: (Const | null)[], k: number): number[] | undefined {
  return attrs.ints('axes') ?? (ins[k] ? Array.from(ins[k]!.data) : undefined);
}

function transpose(x: Const, perm: number[]): Const {
  const out = perm.map((p) => x.shape[p]);
  const si = strides(x.shape);
  const so = strides(out);
  const n = elementCount(out);
  const data = x.int ? new Float64Array(n) : new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let src = 0;
    for (let k = 0; k < out.length; k++) src += (Math.floor(i / so[k]) % out[k]) * si[perm[k]];
    data[i] = x.data[src];
  }
  return { shape: out, data, int: x.int };
}

/**
 * The outputs of `op` on constant inputs, or null when it is not an op folded here. Throws a plain Error
 * with the problem (convert.ts names the node).
 */
export function foldConstant(op: string, ins: (Const | null)[], attrs: Attrs, opset: number): Const[] | null {
  const x = ins[0];
  // Own keys only: an op type such as '__proto__' found Object's prototype (fuzzing: "f is not a function").
  const arith = Object.prototype.hasOwnProperty.call(ARITH, op) ? ARITH[op] : undefined;
  const unary = Object.prototype.hasOwnProperty.call(UNARY, op) ? UNARY[op] : undefined;
  if (arith && x && ins[1]) {
    const int = x.int && ins[1].int;
    const f = op === 'Div' && int ? (p: number, q: number) => Math.trunc(p / q) : arith;
    return [broadcast(x, ins[1], f, int || op === 'Equal' || op === 'Less' || op === 'Greater')];
  }
  if (unary && x) return [c(x.shape, Array.from(x.data, unary), x.int)];
  switch (op) {
    case 'Identity':
    case 'Dropout':
      return x ? [x] : null;
    case 'Cast': {
      const to = attrs.i('to', 1);
      const int = to !== 1 && to !== 10 && to !== 11;
      return x ? [c(x.shape, int ? Array.from(x.data, Math.trunc) : x.data, int)] : null;
    }
    case 'Shape': {
      if (!x) return null;
      let dims = x.shape;
      const start = attrs.i('start', 0);
      const end = attrs.has('end') ? attrs.i('end', dims.length) : dims.length;
      dims = dims.slice(normAxis(start, dims.length), normAxis(end, dims.length));
      return [c([dims.length], dims, true)];
    }
    case 'Size':
      return x ? [c([], [elementCount(x.shape)], true)] : null;
    case 'Gather': {
      const idx = ins[1];
      if (!x || !idx) return null;
      const axis = normAxis(attrs.i('axis', 0), x.shape.length);
      const outer = elementCount(x.shape.slice(0, axis));
      const len = x.shape[axis];
      const inner = elementCount(x.shape.slice(axis + 1));
      const data: number[] = [];
      for (let o = 0; o < outer; o++) {
        for (const raw of idx.data) {
          const j = raw < 0 ? raw + len : raw;
          if (!(j >= 0 && j < len)) throw new Error(`index ${raw} is out of range for ${len}`);
          for (let i = 0; i < inner; i++) data.push(x.data[(o * len + j) * inner + i]);
        }
      }
      return [c([...x.shape.slice(0, axis), ...idx.shape, ...x.shape.slice(axis + 1)], data, x.int)];
    }
    case 'Unsqueeze': {
      if (!x) return null;
      const axes = axesOf(attrs, ins, 1);
      if (!axes) throw new Error('has no axes');
      const r = x.shape.length + axes.length;
      const norm = axes.map((a) => normAxis(a, r));
      const shape: number[] = [];
      let j = 0;
      for (let i = 0; i < r; i++) shape.push(norm.includes(i) ? 1 : x.shape[j++]);
      return [{ ...x, shape }];
    }
    case 'Squeeze': {
      if (!x) return null;
      const axes = axesOf(attrs, ins, 1)?.map((a) => normAxis(a, x.shape.length));
      return [{ ...x, shape: x.shape.filter((d, i) => (axes ? !axes.includes(i) : d !== 1)) }];
    }
    case 'Concat': {
      const parts = ins.filter((p): p is Const => !!p);
      if (parts.length === 0) return null;
      const rank = parts[0].shape.length;
      const axis = normAxis(attrs.i('axis', 0), rank);
      const outer = elementCount(parts[0].shape.slice(0, axis));
      const data: number[] = [];
      for (let o = 0; o < outer; o++) {
        for (const p of parts) {
          const chunk = elementCount(p.shape.slice(axis));
          for (let i = 0; i < chunk; i++) data.push(p.data[o * chunk + i]);
        }
      }
      const shape = [...parts[0].shape];
      shape[axis] = parts.reduce((s, p) => s + p.shape[axis], 0);
      return [c(shape, data, parts.every((p) => p.int))];
    }
    case 'Reshape': {
      const t = ins[1];
      if (!x || !t) return null;
      const target = Array.from(t.data).map((v, i) => (v === 0 && !attrs.i('allowzero', 0) ? x.shape[i] : v));
      const n = elementCount(x.shape);
      const known = elementCount(target.filter((v) => v !== -1));
      const shape = target.map((v) => (v === -1 ? n / known : v));
      if (elementCount(shape) !== n || shape.some((v) => !Number.isInteger(v) || v < 0)) throw new Error(`cannot reshape [${x.shape}] to [${target}]`);
      return [{ ...x, shape }];
    }
    case 'Flatten': {
      if (!x) return null;
      const axis = normAxis(attrs.i('axis', 1), x.shape.length);
      return [{ ...x, shape: [elementCount(x.shape.slice(0, axis)), elementCount(x.shape.slice(axis))] }];
    }
    case 'Transpose': {
      if (!x) return null;
      const perm = attrs.ints('perm') ?? [...x.shape.keys()].reverse();
      return [transpose(x, perm)];
    }
    case 'ConstantOfShape': {
      if (!x) return null;
      const shape = Array.from(x.data);
      if (shape.some((d) => !Number.isSafeInteger(d) || d < 0)) throw new Error(`shape [${shape}] depends on the batch size or is invalid`);
      if (elementCount(shape) > 1e8) throw new Error(`shape [${shape}] is too large`);
      const t = attrs.t('value');
      const v = t ? Number((t.float_data ?? t.int64_data ?? t.int32_data ?? [0])[0] ?? 0) : 0;
      const int = !!t && t.data_type !== 1;
      return [c(shape, new Array(elementCount(shape)).fill(v), int)];
    }
    case 'Range': {
      const [s, l, d] = ins;
      if (!s || !l || !d) return null;
      const out: number[] = [];
      for (let v = s.data[0]; d.data[0] > 0 ? v < l.data[0] : v > l.data[0]; v += d.data[0]) if (out.push(v) > 1e7) throw new Error('range too long');
      return [c([out.length], out, s.int)];
    }
    case 'Slice': {
      if (!x) return null;
      const get = (k: number, a: string) => (opset < 10 ? attrs.ints(a) : ins[k] ? Array.from(ins[k]!.data) : undefined);
      const starts = get(1, 'starts') ?? [];
      const ends = get(2, 'ends') ?? [];
      const axes = get(3, 'axes') ?? starts.map((_, i) => i);
      const steps = get(4, 'steps') ?? starts.map(() => 1);
      if (x.shape.length !== 1) {
        if (axes.length !== 1 || steps[0] !== 1) throw new Error('only 1-D constant slices are folded');
      }
      const a = normAxis(axes[0] ?? 0, x.shape.length);
      const len = x.shape[a];
      const clamp = (v: number) => Math.min(Math.max(v < 0 ? v + len : v, 0), len);
      const b = clamp(starts[0] ?? 0);
      const e = clamp(ends[0] ?? len);
      const step = steps[0] ?? 1;
      if (step < 1) throw new Error('negative steps are not folded');
      const outer = elementCount(x.shape.slice(0, a));
      const inner = elementCount(x.shape.slice(a + 1));
      const data: number[] = [];
      let count = 0;
      for (let o = 0; o < outer; o++) {
        count = 0;
        for (let j = b; j < e; j += step, count++) for (let i = 0; i < inner; i++) data.push(x.data[(o * len + j) * inner + i]);
      }
      const shape = [...x.shape];
      shape[a] = count;
      return [c(shape, data, x.int)];
    }
    case 'Expand': {
      const t = ins[1];
      if (!x || !t) return null;
      const ones: Const = { shape: Array.from(t.data), data: new Float64Array(elementCount(Array.from(t.data))).fill(0), int: x.int };
      return [broadcast(x, ones, (p) => p, x.int)];
    }
    case 'Where': {
      const [cond, a, b] = ins;
      if (!cond || !a || !b) return null;
      const picked = broadcast(broadcast(cond, a, (p, q) => (p ? q : NaN), a.int), b, (p, q) => (Number.isNaN(p) ? q : p), a.int && b.int);
      return [picked];
    }
    default:
      return null;
  }
}
