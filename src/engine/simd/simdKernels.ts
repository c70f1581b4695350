// SIMD kernels of our own for the wasm backend: kernels.wat, instantiated on tfjs-backend-wasm's own memory so
// that they read and write its tensors in place. Registered as tfjs kernels for 'wasm' only; callers ask
// hasSimdKernels() and otherwise compose tfjs ops. $CNN_LENS_SIMD=off leaves them out (A/B runs of the bench).
import * as tf from '@tensorflow/tfjs-core';
import { PLAIN_MEMORY_MODULE, SHARED_MEMORY_MODULE } from './kernelsWasm.generated';

interface Exports {
  mask(dy: number, y: number, out: number, n: number, lo: number, hi: number, guided: number): void;
  col2im(src: number, dst: number, n: number, oh: number, ow: number, H: number, W: number, kh: number, kw: number, cin: number, sh: number, sw: number, dh: number, dw: number, bh: number, bw: number): void;
  abs_max(src: number, dst: number, rows: number, cols: number): void;
  depthwise_input_gradient(dy: number, w: number, dst: number, n: number, oh: number, ow: number, H: number, W: number, C: number, kh: number, kw: number, sh: number, sw: number, ph: number, pw: number): void;
  copy_runs(dst: number, src: number, bytes: number, count: number, dstStride: number, srcStride: number): void;
  fill32(dst: number, n: number, bits: number): void;
  mean_rows(src: number, dst: number, n: number, rows: number, cols: number, scale: number): void;
  flip_kernel(src: number, dst: number, taps: number, cin: number, cout: number): void;
}

/** The parts of tfjs-backend-wasm's backend these kernels use. */
interface WasmBackendInternals {
  wasm: { wasmMemory?: WebAssembly.Memory; asm?: { memory?: WebAssembly.Memory } };
  dataIdMap: { get(id: tf.DataId): { memoryOffset: number } | undefined };
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
}

const instances = new WeakMap<WebAssembly.Memory, Exports | null>();

/** The module instantiated on the backend's memory (shared in the threaded build), or null when that fails. */
function kernelsFor(backend: WasmBackendInternals): Exports | null {
  const memory = backend.wasm.wasmMemory ?? backend.wasm.asm?.memory;
  if (!(memory instanceof WebAssembly.Memory)) return null;
  if (instances.has(memory)) return instances.get(memory) ?? null;
  let exports: Exports | null;
  try {
    const shared = typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer;
    const bytes = Buffer.from(shared ? SHARED_MEMORY_MODULE : PLAIN_MEMORY_MODULE, 'base64');
    exports = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } }).exports as unknown as Exports;
  } catch {
    exports = null;
  }
  instances.set(memory, exports);
  return exports;
}

const MASK = 'CnnLensMaskGrad';
const ABS_MAX = 'CnnLensAbsMax';
const DEPTHWISE_INPUT_GRADIENT = 'CnnLensDepthwiseInputGradient';
const SPATIAL_MEAN = 'CnnLensSpatialMean';
const FLIP_KERNEL = 'CnnLensFlipKernel';
let registered = false;

/** What a kernel body gets: the module, the byte offset of a tensor in the heap, and the backend's output maker. */
interface Heap {
  k: Exports;
  offset(t: tf.TensorInfo): number;
  makeOutput(shape: number[]): tf.TensorInfo;
}

function heapOf(backend: unknown): Heap | null {
  const b = backend as WasmBackendInternals;
  const k = kernelsFor(b);
  if (!k) return null;
  return { k, offset: (t) => b.dataIdMap.get(t.dataId)!.memoryOffset, makeOutput: (shape) => b.makeOutput(shape, 'float32') };
}

/** One of the module's functions as a wasm kernel. Offsets are read after makeOutput (an allocation may grow the heap). */
function registerSimd(kernelName: string, run: (heap: Heap, inputs: tf.NamedTensorInfoMap, attrs: tf.NamedAttrMap) => tf.TensorInfo): void {
  tf.registerKernel({
    kernelName,
    backendName: 'wasm',
    kernelFunc: ({ inputs, attrs, backend }) => {
      const heap = heapOf(backend);
      if (!heap) throw new Error(`${kernelName}: the SIMD module did not instantiate on the wasm backend's memory`);
      return run(heap, inputs, attrs ?? {});
    },
  });
}

/** Registers the kernels for the wasm backend (once; the backend must be registered). */
export function registerSimdKernels(): void {
  if (registered || process.env.CNN_LENS_SIMD === 'off') return;
  registered = true;
  registerSimd(MASK, ({ k, offset, makeOutput }, inputs, attrs) => {
    const { dy, y } = inputs as { dy: tf.TensorInfo; y: tf.TensorInfo };
    const { lo, hi, guided } = attrs as unknown as MaskAttrs;
    const out = makeOutput(dy.shape);
    k.mask(offset(dy), offset(y), offset(out), tf.util.sizeFromShape(dy.shape), lo, hi, guided ? 1 : 0);
    return out;
  });
  registerSimd(ABS_MAX, ({ k, offset, makeOutput }, inputs) => {
    const x = inputs.x as tf.TensorInfo;
    const cols = x.shape[x.shape.length - 1];
    const out = makeOutput(x.shape.slice(0, -1));
    k.abs_max(offset(x), offset(out), tf.util.sizeFromShape(x.shape) / cols, cols);
    return out;
  });
  registerSimd(SPATIAL_MEAN, ({ k, offset, makeOutput }, inputs) => {
    const x = inputs.x as tf.TensorInfo;
    const [n, h, w, c] = x.shape;
    const out = makeOutput([n, c]);
    if (n * c > 0) k.mean_rows(offset(x), offset(out), n, h * w, c, 1 / (h * w));
    return out;
  });
  registerSimd(FLIP_KERNEL, ({ k, offset, makeOutput }, inputs) => {
    const w = inputs.w as tf.TensorInfo;
    const [kh, kw, cin, cout] = w.shape;
    const out = makeOutput([kh, kw, cout, cin]);
    if (kh * kw * cin * cout > 0) k.flip_kernel(offset(w), offset(out), kh * kw, cin, cout);
    return out;
  });
  registerSimd(DEPTHWISE_INPUT_GRADIENT, ({ k, offset, makeOutput }, inputs, attrs) => {
    const { dy, w } = inputs as { dy: tf.TensorInfo; w: tf.TensorInfo };
    const { H, W, strides, before } = attrs as unknown as DepthwiseGradientAttrs;
    const [n, oh, ow, C] = dy.shape;
    const out = makeOutput([n, H, W, C]);
    k.depthwise_input_gradient(offset(dy), offset(w), offset(out), n, oh, ow, H, W, C, w.shape[0], w.shape[1], strides[0], strides[1], before[0], before[1]);
    return out;
  });
}

interface DepthwiseGradientAttrs {
  H: number;
  W: number;
  strides: [number, number];
  /** The forward convolution's padding above and left of the input. */
  before: [number, number];
}

/**
 * The input gradient [n, H, W, C] of a depthwise convolution with multiplier 1 and no dilation, kernel
 * [kh, kw, C, 1], from dy [n, oh, ow, C]: each input position gathers the outputs its taps reached. For
 * strided convolutions, where the transposed convolution ran over dy spread with zeros (MobileNetV2's
 * 112 × 112 × 96 one: a pad and 1.1 ms of XNNPACK on a map 3/4 zeros; this: 0.3 ms on one thread). Call
 * only where hasSimdKernels().
 */
export function depthwiseInputGradient(dy: tf.Tensor4D, kernel: tf.Tensor4D, attrs: DepthwiseGradientAttrs): tf.Tensor4D {
  const [kh, kw, C, mult] = kernel.shape;
  if (mult !== 1 || dy.shape[3] !== C || dy.dtype !== 'float32' || kernel.dtype !== 'float32' || kh * kw === 0) {
    throw new Error(`${DEPTHWISE_INPUT_GRADIENT}: dy [${dy.shape}] and kernel [${kernel.shape}] must be float32 with one multiplier and the same channels`);
  }
  return tf.engine().runKernel(DEPTHWISE_INPUT_GRADIENT, { dy, w: kernel }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor4D;
}

/** Whether the SIMD kernels run here: the wasm backend, registered, and the module instantiates on its memory. */
export function hasSimdKernels(): boolean {
  if (!registered || tf.getBackend() !== 'wasm') return false;
  return kernelsFor(tf.backend() as unknown as WasmBackendInternals) !== null;
}

/**
 * max over the last axis of |x| (saliency's map from an input gradient): one pass on wasm, where tfjs's Max
 * over an image's 3 channels took 0.6 ms for 224 × 224; tf.max(tf.abs(x), -1) elsewhere.
 */
export function maxAbsLastAxis(x: tf.Tensor): tf.Tensor {
  if (hasSimdKernels() && x.dtype === 'float32' && x.rank >= 1 && x.shape[x.rank - 1] > 0) return tf.engine().runKernel(ABS_MAX, { x }, {}) as tf.Tensor;
  return tf.tidy(() => tf.max(tf.abs(x), -1));
}

/**
 * The mean of each channel over an image's positions, [n, c] from [n, h, w, c] (tf.mean(x, [1, 2])): one
 * pass of SIMD adds on wasm, tfjs's Mean elsewhere (and for other dtypes). No gradient: call it outside a
 * recorded pass or inside a custom gradient's forward function.
 */
export function spatialMean(x: tf.Tensor4D): tf.Tensor2D {
  if (hasSimdKernels() && x.dtype === 'float32' && x.shape[1] * x.shape[2] > 0) return tf.engine().runKernel(SPATIAL_MEAN, { x }, {}) as tf.Tensor2D;
  return tf.mean(x, [1, 2]) as tf.Tensor2D;
}

/**
 * A convolution kernel [kh, kw, cin, cout] flipped in space with its channels swapped, [kh, kw, cout, cin]
 * (out[kh − 1 − y, kw − 1 − x, o, i] = w[y, x, i, o]): the kernel of a convolution's input gradient, in one
 * pass on wasm. Call only where hasSimdKernels(); float32 kernels.
 */
export function flipConvKernel(w: tf.Tensor4D): tf.Tensor4D {
  if (w.dtype !== 'float32') throw new Error(`${FLIP_KERNEL}: the kernel must be float32, not ${w.dtype}`);
  return tf.engine().runKernel(FLIP_KERNEL, { w }, {}) as tf.Tensor4D;
}

interface MaskAttrs {
  lo: number;
  hi: number;
  guided: boolean;
}

/**
 * dy where lo < y < hi, else 0, in one pass (guided: max(dy, 0) there). hi = NaN excludes nothing above.
 * dy and y: float32 tensors of one shape. Call only where hasSimdKernels().
 */
export function maskGradient(dy: tf.Tensor, y: tf.Tensor, lo: number, hi: number, guided: boolean): tf.Tensor {
  if (dy.dtype !== 'float32' || y.dtype !== 'float32' || !tf.util.arraysEqual(dy.shape, y.shape)) {
    throw new Error(`${MASK}: dy ${dy.dtype} [${dy.shape}] and y ${y.dtype} [${y.shape}] must be float32 of one shape`);
  }
  return tf.engine().runKernel(MASK, { dy, y }, { lo, hi, guided } as unknown as tf.NamedAttrMap) as tf.Tensor;
}

/**
 * memory.copy and a 32-bit fill over the backend's heap (byte addresses), for the heap kernels of
 * wasmKernels.ts: on the threaded build the heap is a SharedArrayBuffer, and V8's TypedArray.set copies from one
 * view of it to another at about a third of memory.copy's speed. null where the module does not run.
 */
export function heapBulk(backend: unknown): { offset(t: tf.TensorInfo): number; copyRuns: Exports['copy_runs']; fill32: Exports['fill32'] } | null {
  const heap = registered ? heapOf(backend) : null;
  if (!heap) return null;
  return { offset: heap.offset, copyRuns: heap.k.copy_runs, fill32: heap.k.fill32 };
}

/** Where col2im puts each tap: the input's size, the kernel, its strides and dilations and the padding before. */
export interface Col2ImGeometry {
  H: number;
  W: number;
  kh: number;
  kw: number;
  cin: number;
  strides: [number, number];
  dilations: [number, number];
  before: [number, number];
}

/**
 * taps [n, oh, ow, kh·kw·cin] added into out [n, H, W, cin] (zeroed here) by the SIMD module; false (nothing
 * written) when the module is not available on this backend. For wasmKernels.ts's col2im kernel.
 */
export function col2imInHeap(backend: unknown, taps: tf.TensorInfo, out: tf.TensorInfo, g: Col2ImGeometry): boolean {
  const heap = registered ? heapOf(backend) : null;
  if (!heap) return false;
  const [n, oh, ow] = taps.shape;
  heap.k.col2im(heap.offset(taps), heap.offset(out), n, oh, ow, g.H, g.W, g.kh, g.kw, g.cin, g.strides[0], g.strides[1], g.dilations[0], g.dilations[1], g.before[0], g.before[1]);
  return true;
}
