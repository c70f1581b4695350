// Kernels the engine registers for the wasm backend: proxies for the gradient kernels wasm lacks, and
// Slice / SplitV / GatherV2 that copy inside the wasm heap.
import * as tf from '@tensorflow/tfjs-core';
import { col2imInHeap, heapBulk, registerSimdKernels, type Col2ImGeometry } from './simd/simdKernels';

/** The wasm backend's view of its heap (the parts these kernels use). */
interface WasmBackend {
  readSync(dataId: tf.DataId): tf.TypedArray;
  write(values: tf.TypedArray, shape: number[], dtype: tf.DataType): tf.DataId;
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): tf.TypedArray;
}

let registered = false;

/** Registers this file's kernels for the wasm backend (once; the backend must be registered). */
export function registerWasmKernels(): void {
  if (registered) return;
  registered = true;
  registerFallbackKernels();
  registerCol2Im();
  registerSimdKernels();
  // $CNN_LENS_HEAP_SLICE=off keeps tfjs's own Slice and SplitV, $CNN_LENS_SHARED_IDENTITY=off its Identity
  // (for A/B runs of the bench).
  if (process.env.CNN_LENS_HEAP_SLICE !== 'off') {
    registerHeapCopyKernels();
    registerHeapGather();
  }
  if (process.env.CNN_LENS_SHARED_IDENTITY !== 'off') registerSharedIdentity();
}

/**
 * The wasm backend lacks some gradient kernels (e.g. DepthwiseConv2dNativeBackpropInput, needed for
 * MobileNet input gradients). Each missing kernel is registered for wasm as a proxy that copies its
 * inputs to the cpu backend, runs the cpu kernel and copies the result back (ENGINE-NOTES pitfall 3).
 */
function registerFallbackKernels(): void {
  const wanted = ['DepthwiseConv2dNativeBackpropInput', 'DepthwiseConv2dNativeBackpropFilter', 'UnsortedSegmentSum', 'MaxPoolGrad', 'AvgPoolGrad', 'ResizeBilinearGrad', 'Conv2DBackpropFilter'];
  for (const kernelName of wanted) {
    if (tf.getKernel(kernelName, 'wasm')) continue;
    const cpuKernel = tf.getKernel(kernelName, 'cpu');
    if (!cpuKernel) continue;
    tf.registerKernel({
      kernelName,
      backendName: 'wasm',
      kernelFunc: ({ inputs, attrs, backend }) => {
        const cpu = tf.findBackend('cpu') as unknown as WasmBackend & { disposeData(id: tf.DataId): void };
        const wasm = backend as unknown as WasmBackend;
        const moved: Record<string, tf.TensorInfo> = {};
        for (const [k, t] of Object.entries(inputs)) {
          if (!t) continue;
          const info = t as tf.TensorInfo;
          const values = wasm.readSync(info.dataId);
          moved[k] = { dataId: cpu.write(values, info.shape, info.dtype), shape: info.shape, dtype: info.dtype };
        }
        const out = cpuKernel.kernelFunc({ inputs: moved, attrs, backend: cpu as unknown as tf.KernelBackend }) as tf.TensorInfo | tf.TensorInfo[];
        const outs = Array.isArray(out) ? out : [out];
        const back = outs.map((o) => {
          const values = cpu.readSync(o.dataId);
          const dataId = wasm.write(values, o.shape, o.dtype);
          cpu.disposeData(o.dataId);
          return { dataId, shape: o.shape, dtype: o.dtype };
        });
        for (const m of Object.values(moved)) cpu.disposeData(m.dataId);
        return Array.isArray(out) ? back : back[0];
      },
    });
  }
}

/**
 * tfjs-backend-wasm runs Slice (and SplitV, which calls it) in JavaScript, and first copies the whole input
 * out of the wasm heap with readSync. On the threaded build the heap is a SharedArrayBuffer, whose copies
 * V8 makes element by element: an identity slice of a [1, 112, 112, 128] gradient took 23 ms and a batch
 * slice of a [4, 112, 112, 64] one 45 ms (a multiply of the same size: 0.3 ms). Over a VGG16 saliency map
 * that was 263 ms of slices (max pooling's backward pass and tfjs's own gradients of Pad and Concat). These
 * kernels copy inside the heap, one contiguous run at a time (heapCopier: the SIMD module's memory.copy, else
 * typed-array views); strings keep the original kernels.
 */
function registerHeapCopyKernels(): void {
  overrideFloatKernel('Slice', (x, attrs, backend) => {
    const { begin, size } = attrs as unknown as { begin: number | number[]; size: number | number[] };
    const [b, s] = tf.slice_util.parseSliceParams(x as tf.Tensor, begin, size);
    return heapSlice(backend, x, b, s);
  });
  overrideFloatKernel('PadV2', (x, attrs, backend) => {
    const { paddings, constantValue } = attrs as unknown as { paddings: [number, number][]; constantValue: number };
    return heapPad(backend, x, paddings, constantValue);
  });
  overrideFloatKernel('DepthToSpace', (x, attrs, backend) => heapDepthToSpace(backend, x, attrs as unknown as { blockSize: number; dataFormat: string }));
  overrideFloatKernel('SplitV', (x, attrs, backend) => {
    const { numOrSizeSplits, axis } = attrs as unknown as { numOrSizeSplits: number | number[]; axis: number | number[] };
    const ax = tf.util.parseAxisParam(axis, x.shape)[0];
    const sizes = tf.backend_util.prepareSplitSize(x as tf.Tensor, numOrSizeSplits, ax);
    const begin = new Array(x.shape.length).fill(0);
    return sizes.map((n) => {
      const size = x.shape.slice();
      size[ax] = n;
      const out = heapSlice(backend, x, begin.slice(), size);
      begin[ax] += n;
      return out;
    });
  });
}

/**
 * tfjs-backend-wasm's GatherV2 copies one element at a time (a gather of 50 000 rows of 96 floats, the
 * windows of model/regionRun.ts, took 7 ms; occlusion on MobileNetV2 spent 6.9 of 8.5 s in it). This one
 * copies each run of consecutive indices as one block inside the heap. Gathers with batch dimensions or an
 * index outside the axis keep the original kernel (and its error).
 */
function registerHeapGather(): void {
  const original = tf.getKernel('GatherV2', 'wasm');
  if (!original) return;
  tf.unregisterKernel('GatherV2', 'wasm');
  tf.registerKernel({
    kernelName: 'GatherV2',
    backendName: 'wasm',
    kernelFunc: (args) => {
      const { x, indices } = args.inputs as { x: tf.TensorInfo; indices: tf.TensorInfo };
      const { axis, batchDims } = (args.attrs ?? {}) as unknown as { axis: number; batchDims?: number };
      const backend = args.backend as unknown as WasmBackend;
      if (x.dtype === 'string' || (batchDims ?? 0) !== 0) return original.kernelFunc(args);
      const out = heapGather(backend, x, indices, tf.util.parseAxisParam(axis, x.shape)[0]);
      return out ?? original.kernelFunc(args);
    },
  });
}

/** x gathered along `axis` at `indices`, run by run inside the heap; null when an index is outside the axis. */
export function heapGather(backend: WasmBackend, x: tf.TensorInfo, indices: tf.TensorInfo, axis: number): tf.TensorInfo | null {
  const idx = backend.typedArrayFromHeap(indices);
  const dim = x.shape[axis];
  for (let i = 0; i < idx.length; i++) if (!(idx[i] >= 0 && idx[i] < dim)) return null;
  const idxCopy = Int32Array.from(idx);
  const outer = x.shape.slice(0, axis).reduce((a, n) => a * n, 1);
  const inner = x.shape.slice(axis + 1).reduce((a, n) => a * n, 1);
  const out = backend.makeOutput([...x.shape.slice(0, axis), ...indices.shape, ...x.shape.slice(axis + 1)], x.dtype);
  if (outer * idxCopy.length * inner === 0) return out;
  const copy = heapCopier(backend, x, out);
  let o = 0;
  for (let b = 0; b < outer; b++) {
    const base = b * dim * inner;
    for (let i = 0; i < idxCopy.length; ) {
      let j = i + 1;
      while (j < idxCopy.length && idxCopy[j] === idxCopy[j - 1] + 1) j++;
      const len = (j - i) * inner;
      copy.runs(o, base + idxCopy[i] * inner, len);
      o += len;
      i = j;
    }
  }
  return out;
}

/** Where col2im puts each tap (simd/simdKernels.ts). */
export type Col2ImAttrs = Col2ImGeometry;

const COL2IM = 'CnnLensCol2Im';

/** Whether col2im runs here (the wasm backend, with this file's kernels registered). */
export function hasCol2Im(): boolean {
  return tf.getBackend() === 'wasm' && tf.getKernel(COL2IM, 'wasm') !== undefined;
}

/**
 * taps [n, oh, ow, kh·kw·cin] (each output position's share of each input position its window covers) added
 * into [n, H, W, cin]: the scatter of a convolution's input gradient.
 */
export function col2im(taps: tf.Tensor4D, attrs: Col2ImAttrs): tf.Tensor4D {
  return tf.engine().runKernel(COL2IM, { x: taps }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor4D;
}

/** col2im over the heap: a few hundred thousand adds for a first layer, no op per tap. Runs of SIMD adds in simd/kernels.wat (1.2 → 0.2 ms for MobileNetV2's first layer), else this loop. */
function registerCol2Im(): void {
  if (tf.getKernel(COL2IM, 'wasm')) return;
  tf.registerKernel({
    kernelName: COL2IM,
    backendName: 'wasm',
    kernelFunc: ({ inputs, attrs, backend }) => {
      const x = inputs.x as tf.TensorInfo;
      const { H, W, kh, kw, cin, strides, dilations, before } = attrs as unknown as Col2ImAttrs;
      const [n, oh, ow] = x.shape;
      const b = backend as unknown as WasmBackend;
      const out = b.makeOutput([n, H, W, cin], 'float32');
      if (col2imInHeap(backend, x, out, attrs as unknown as Col2ImAttrs)) return out;
      const src = b.typedArrayFromHeap(x);
      const dst = b.typedArrayFromHeap(out);
      dst.fill(0);
      const tapRow = kh * kw * cin;
      for (let i = 0, s = 0; i < n; i++) {
        for (let oy = 0; oy < oh; oy++) {
          for (let ox = 0; ox < ow; ox++, s += tapRow) {
            for (let ky = 0; ky < kh; ky++) {
              const y = oy * strides[0] - before[0] + ky * dilations[0];
              if (y < 0 || y >= H) continue;
              for (let kx = 0; kx < kw; kx++) {
                const xx = ox * strides[1] - before[1] + kx * dilations[1];
                if (xx < 0 || xx >= W) continue;
                const d = ((i * H + y) * W + xx) * cin;
                const t = s + (ky * kw + kx) * cin;
                for (let c = 0; c < cin; c++) dst[d + c] += src[t + c];
              }
            }
          }
        }
      }
      return out;
    },
  });
}

/**
 * x padded with `value` (PadV2), copied inside the heap one contiguous run at a time: the axes after the last
 * padded one are whole in both, so each step of the outer axes is one run. Used where the last axis is short
 * (an image's 3 channels): wasm's own PadV2 took 1.6 ms to pad a [1, 224, 224, 3] image by one row and column,
 * this 0.16 ms; with many channels wasm's is the faster (0.17 against 0.59 ms for [1, 112, 112, 96], most of
 * it this one's fill of the output) and stays. `force` uses this one whatever the shape (tests).
 */
export function heapPad(backend: WasmBackend, x: tf.TensorInfo, paddings: [number, number][], value: number, force = false): tf.TensorInfo | null {
  const rank = x.shape.length;
  if (rank === 0 || paddings.length !== rank || paddings.some(([a, b]) => a < 0 || b < 0)) return null;
  if (!force && x.shape[rank - 1] >= 16) return null;
  const outShape = x.shape.map((d, a) => d + paddings[a][0] + paddings[a][1]);
  const out = backend.makeOutput(outShape, x.dtype);
  const total = x.shape.reduce((a, n) => a * n, 1);
  const copy = heapCopier(backend, x, out);
  copy.fill(value);
  if (total === 0) return out;
  const outStrides = new Array<number>(rank);
  for (let a = rank - 1, st = 1; a >= 0; a--) {
    outStrides[a] = st;
    st *= outShape[a];
  }
  // The last padded axis: runs are its whole input extent times the axes after it, and the steps of the axis
  // before it are one copy of `rows` runs.
  let cut = rank - 1;
  while (cut > 0 && paddings[cut][0] === 0 && paddings[cut][1] === 0) cut--;
  const run = x.shape.slice(cut).reduce((a, n) => a * n, 1);
  const rows = cut > 0 ? x.shape[cut - 1] : 1;
  const rowStride = cut > 0 ? outStrides[cut - 1] : 0;
  const outer = Math.max(cut - 1, 0);
  const index = new Array<number>(outer).fill(0);
  let base = 0;
  for (let a = 0; a < rank; a++) base += paddings[a][0] * outStrides[a];
  for (let src = 0; src < total; src += run * rows) {
    let dst = base;
    for (let a = 0; a < outer; a++) dst += index[a] * outStrides[a];
    copy.runs(dst, src, run, rows, rowStride, run);
    for (let a = outer - 1; a >= 0; a--) {
      if (++index[a] < x.shape[a]) break;
      index[a] = 0;
    }
  }
  return out;
}

/**
 * DepthToSpace (NHWC) as runs of channels copied inside the heap: wasm's own kernel is a scalar loop over every
 * element (19 ms for the [1, 29, 29, 512] phases of a sub-pixel convolution gradient, see
 * layerOps/convGradients.ts). out[n, h·s + i, w·s + j, c] = x[n, h, w, (i·s + j)·C + c].
 */
export function heapDepthToSpace(backend: WasmBackend, x: tf.TensorInfo, { blockSize: s, dataFormat }: { blockSize: number; dataFormat: string }): tf.TensorInfo | null {
  if (dataFormat !== 'NHWC') return null;
  const [n, h, w, depth] = x.shape;
  const c = depth / (s * s);
  const out = backend.makeOutput([n, h * s, w * s, c], x.dtype);
  if (n * h * w * depth === 0) return out;
  const copy = heapCopier(backend, x, out);
  // For each input row and phase row i: the w·s runs of c channels of that output row, in (xx, j) order, are
  // contiguous in both: the phase j's channels follow phase j − 1's in the input as in the output.
  for (let b = 0; b < n; b++) {
    for (let y = 0; y < h; y++) {
      for (let i = 0; i < s; i++) copy.runs(((b * h + y) * s + i) * w * s * c, (b * h + y) * w * depth + i * s * c, s * c, w, s * c, depth);
    }
  }
  return out;
}

/**
 * Identity (tf.clone, and every tensor a custom gradient saves: tfjs keeps a clone of each) shares its input's
 * memory, as wasm's own Reshape and the cpu backend's Identity do, instead of copying it: tensors are never
 * written in place. A MobileNetV2 saliency made 68 copies of activations (2.6 ms, and as many megabytes of
 * heap as the activations themselves).
 */
function registerSharedIdentity(): void {
  overrideFloatKernel('Identity', (x, _attrs, backend) => {
    (backend as unknown as { incRef(id: tf.DataId): void }).incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
  });
  shareSavedTensors();
}

/**
 * The copies tfjs keeps of what a gradient reads (a custom gradient's saved tensors, Add's and Mul's inputs…)
 * as new tensors on the same memory, made without running a kernel. tfjs makes each with the Identity kernel
 * and a tape entry of its own (so that the copy could be differentiated again, which the engine never does):
 * a MobileNetV2 saliency map made 61, each paying a kernel call's bookkeeping. Only for wasm tensors;
 * others keep tfjs's clone.
 */
function shareSavedTensors(): void {
  const engine = tf.engine() as unknown as {
    clone(x: tf.Tensor): tf.Tensor;
    state: { tensorInfo: Map<tf.DataId, { backend: unknown }> };
    makeTensorFromTensorInfo(info: tf.TensorInfo, backend: unknown): tf.Tensor;
  };
  const original = engine.clone.bind(engine);
  engine.clone = (x: tf.Tensor): tf.Tensor => {
    const wasm = tf.findBackend('wasm') as unknown as { incRef(id: tf.DataId): void } | undefined;
    if (!wasm || x.dtype === 'string' || engine.state.tensorInfo.get(x.dataId)?.backend !== wasm) return original(x);
    wasm.incRef(x.dataId);
    return engine.makeTensorFromTensorInfo({ dataId: x.dataId, shape: x.shape, dtype: x.dtype }, wasm);
  };
}

/** Replaces wasm's kernel `name` (input x) by `run`, keeping the original for strings and where `run` gives null. */
function overrideFloatKernel(name: string, run: (x: tf.TensorInfo, attrs: tf.NamedAttrMap, backend: WasmBackend) => tf.TensorInfo | tf.TensorInfo[] | null): void {
  const original = tf.getKernel(name, 'wasm');
  if (!original) return;
  tf.unregisterKernel(name, 'wasm');
  tf.registerKernel({
    kernelName: name,
    backendName: 'wasm',
    kernelFunc: (args) => {
      const x = args.inputs.x as tf.TensorInfo;
      return (x.dtype === 'string' ? null : run(x, args.attrs ?? {}, args.backend as unknown as WasmBackend)) ?? original.kernelFunc(args);
    },
  });
}

/**
 * x[begin : begin + size] copied inside the heap. The axes after the last one that is cut are whole, so each
 * step of the outer axes copies one contiguous run.
 */
export function heapSlice(backend: WasmBackend, x: tf.TensorInfo, begin: number[], size: number[]): tf.TensorInfo {
  const out = backend.makeOutput(size, x.dtype);
  const total = size.reduce((a, n) => a * n, 1);
  if (total === 0) return out;
  const copy = heapCopier(backend, x, out);
  const shape = x.shape;
  const rank = shape.length;
  const strides = new Array<number>(rank);
  for (let a = rank - 1, st = 1; a >= 0; a--) {
    strides[a] = st;
    st *= shape[a];
  }
  // The last cut axis: runs are size[cut] · stride[cut] long, and the steps of the axis before it are one copy
  // of `rows` runs.
  let cut = rank - 1;
  while (cut > 0 && size[cut] === shape[cut] && begin[cut] === 0) cut--;
  const run = rank === 0 ? 1 : size[cut] * strides[cut];
  const rows = cut > 0 ? size[cut - 1] : 1;
  const rowStride = cut > 0 ? strides[cut - 1] : 0;
  const outer = Math.max(cut - 1, 0);
  const index = new Array<number>(outer).fill(0);
  let base = 0;
  for (let a = 0; a <= cut && a < rank; a++) base += begin[a] * strides[a];
  for (let o = 0; o < total; o += run * rows) {
    let src = base;
    for (let a = 0; a < outer; a++) src += index[a] * strides[a];
    copy.runs(o, src, run, rows, run, rowStride);
    // The next outer index, last axis fastest.
    for (let a = outer - 1; a >= 0; a--) {
      if (++index[a] < size[a]) break;
      index[a] = 0;
    }
  }
  return out;
}

/** Copies from one tensor of the heap into another, in elements (indices and strides from each tensor's start). */
interface HeapCopier {
  /** `count` runs of `len` elements from x[src] to out[dst]; after each run dst and src step by their strides. */
  runs(dst: number, src: number, len: number, count?: number, dstStride?: number, srcStride?: number): void;
  /** Every element of out set to `value`. */
  fill(value: number): void;
}

/**
 * The SIMD module's memory.copy and fill (simd/simdKernels.ts heapBulk) where it runs, else copies between
 * typed-array views of the heap (taken after makeOutput: an allocation may grow the heap).
 */
function heapCopier(backend: WasmBackend, x: tf.TensorInfo, out: tf.TensorInfo): HeapCopier {
  const from = backend.typedArrayFromHeap(x);
  const to = backend.typedArrayFromHeap(out);
  const bulk = heapBulk(backend);
  const size = to.BYTES_PER_ELEMENT;
  if (bulk && from.BYTES_PER_ELEMENT === size) {
    const xAt = bulk.offset(x);
    const outAt = bulk.offset(out);
    return {
      runs: (dst, src, len, count = 1, dstStride = 0, srcStride = 0) => {
        if (len > 0 && count > 0) bulk.copyRuns(outAt + dst * size, xAt + src * size, len * size, count, dstStride * size, srcStride * size);
      },
      fill: (value) => {
        if (size !== 4) return void to.fill(value);
        // The value's bit pattern in out's dtype.
        const word = new (to.constructor as Float32ArrayConstructor | Int32ArrayConstructor)([value]);
        bulk.fill32(outAt, to.length, new Int32Array(word.buffer)[0]);
      },
    };
  }
  return {
    runs: (dst, src, len, count = 1, dstStride = 0, srcStride = 0) => {
      for (let r = 0; r < count; r++, dst += dstStride, src += srcStride) {
        if (len >= 32) to.set(from.subarray(src, src + len), dst);
        else for (let i = 0; i < len; i++) to[dst + i] = from[src + i];
      }
    },
    fill: (value) => void to.fill(value),
  };
}
