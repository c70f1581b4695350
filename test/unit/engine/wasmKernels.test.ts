// The engine's Slice, SplitV, GatherV2, PadV2, DepthToSpace and Identity kernels for wasm (see src/engine/wasmKernels.ts): all but Identity copy inside the heap,
// against a plain loop over the indices, on every rank the engine uses and on empty, whole and one-element
// slices; and int32 data, which the shape arithmetic of ONNX graphs slices.
import { strict as assert } from 'node:assert';
import * as tf from '@tensorflow/tfjs-core';
// tfjs-layers registers tfjs-core's gradients (the engine loads it with any model).
import '@tensorflow/tfjs-layers';
import { initBackend } from '../../../src/engine/backend';
import { makeRng } from '../../../src/engine/random';

/** x[begin : begin + size] by enumerating every output index (row-major). */
function sliceByLoop(values: ArrayLike<number>, shape: number[], begin: number[], size: number[]): number[] {
  const out: number[] = [];
  const total = size.reduce((a, n) => a * n, 1);
  const idx = new Array(size.length).fill(0);
  for (let k = 0; k < total; k++) {
    let flat = 0;
    for (let a = 0; a < shape.length; a++) flat = flat * shape[a] + begin[a] + idx[a];
    out.push(values[flat]);
    for (let a = size.length - 1; a >= 0; a--) {
      if (++idx[a] < size[a]) break;
      idx[a] = 0;
    }
  }
  return out;
}

describe('wasm Slice and SplitV kernels', function () {
  this.timeout(60000);
  before(async () => {
    await initBackend((process.env.CNN_LENS_BACKEND as 'wasm' | 'cpu' | undefined) ?? 'auto');
  });

  it('a slice equals the plain loop for 300 random shapes, ranks 1–6', () => {
    const rng = makeRng(7);
    const int = (n: number) => Math.floor(rng() * n);
    for (let t = 0; t < 300; t++) {
      const rank = 1 + (t % 6);
      const shape = Array.from({ length: rank }, () => 1 + int(rank > 4 ? 4 : 7));
      const begin = shape.map((n) => int(n));
      // Sizes from 0 (an empty slice) to the rest of the axis; every fifth case a whole axis.
      const size = shape.map((n, a) => (t % 5 === 0 && a > 0 ? n - begin[a] : int(n - begin[a] + 1)));
      if (t % 5 === 0) begin.fill(0, 1);
      const dtype = t % 7 === 0 ? 'int32' : 'float32';
      const values = Array.from({ length: shape.reduce((a, n) => a * n, 1) }, (_, i) => (dtype === 'int32' ? i - 50 : rng() * 2 - 1));
      const x = tf.tensor(values, shape, dtype);
      const got = tf.slice(x, begin, size.map((n, a) => (t % 5 === 0 && a > 0 ? -1 : n)));
      const want = sliceByLoop(x.dataSync(), shape, begin, size.map((n, a) => (t % 5 === 0 && a > 0 ? shape[a] - begin[a] : n)));
      assert.deepEqual(Array.from(got.dataSync()), want, `shape ${shape} begin ${begin} size ${size}`);
      assert.equal(got.dtype, dtype);
      tf.dispose([x, got]);
    }
  });

  it('the slices of activation-sized tensors that max pooling and padding gradients take', () => {
    const rng = makeRng(8);
    const shape = [4, 30, 31, 64];
    const values = Float32Array.from({ length: 4 * 30 * 31 * 64 }, () => rng());
    const x = tf.tensor4d(values, shape as [number, number, number, number]);
    const cases: [number[], number[]][] = [
      [[0, 0, 0, 0], shape], // identity
      [[2, 0, 0, 0], [1, 30, 31, 64]], // one image: contiguous
      [[0, 1, 1, 0], [4, 28, 29, 64]], // a crop
      [[1, 0, 0, 16], [2, 30, 31, 32]], // channels: runs of 32
      [[0, 0, 0, 3], [4, 30, 31, 5]], // short runs
    ];
    for (const [begin, size] of cases) {
      const got = tf.slice(x, begin, size);
      assert.deepEqual(got.shape, size);
      assert.deepEqual(Array.from(got.dataSync()), sliceByLoop(values, shape, begin, size), `begin ${begin} size ${size}`);
      got.dispose();
    }
    x.dispose();
  });

  it('split along each axis equals the plain loop, and the pieces add up to the tensor', () => {
    const rng = makeRng(9);
    const shape = [3, 5, 6, 10];
    const values = Float32Array.from({ length: 3 * 5 * 6 * 10 }, () => rng());
    const x = tf.tensor4d(values, shape as [number, number, number, number]);
    for (let axis = 0; axis < 4; axis++) {
      const sizes = axis === 3 ? [4, 0, 6] : [1, shape[axis] - 1];
      const parts = tf.split(x, sizes, axis);
      let start = 0;
      parts.forEach((p, i) => {
        const begin = [0, 0, 0, 0];
        const size = shape.slice();
        begin[axis] = start;
        size[axis] = sizes[i];
        assert.deepEqual(p.shape, size);
        assert.deepEqual(Array.from(p.dataSync()), sliceByLoop(values, shape, begin, size), `axis ${axis} part ${i}`);
        start += sizes[i];
      });
      tf.dispose(parts);
    }
    x.dispose();
  });

  it('a clone shares its source\'s memory on wasm, outlives the source, and the memory goes with the last of them', function () {
    if (tf.getBackend() !== 'wasm') this.skip();
    const values = Float32Array.from({ length: 4096 }, (_, i) => i / 7);
    const x = tf.tensor2d(values, [64, 64]);
    const buffers = tf.memory().numDataBuffers;
    const y = tf.clone(x);
    assert.equal(tf.memory().numDataBuffers, buffers, 'no second buffer for the clone');
    x.dispose();
    assert.deepEqual(Array.from(y.dataSync()), Array.from(values));
    assert.equal(tf.memory().numDataBuffers, buffers, 'the buffer stays while the clone lives');
    y.dispose();
    assert.equal(tf.memory().numDataBuffers, buffers - 1);
  });

  it('what a gradient saves shares memory without a kernel call; the gradient is right, the copies go with it', async function () {
    if (tf.getBackend() !== 'wasm') this.skip();
    const x = tf.tensor1d([0.5, -2, 3, 7]);
    const buffers = tf.memory().numDataBuffers;
    const tensors = tf.memory().numTensors;
    let g: Float32Array | null = null;
    // Mul saves both inputs, Sum its input: tfjs ran Identity for each copy.
    const kernels = (await tf.profile(() => {
      g = tf.tidy(() => tf.grad((v: tf.Tensor) => tf.sum(tf.mul(tf.mul(v, v), v)))(x).dataSync() as Float32Array);
    })).kernels.map((k) => k.name);
    assert.ok(!kernels.includes('Identity'), kernels.join(' '));
    assert.deepEqual(Array.from(g!), [0.75, 12, 27, 147]);
    assert.equal(tf.memory().numTensors, tensors);
    assert.equal(tf.memory().numDataBuffers, buffers);
    x.dispose();
  });

  it('a gather equals a plain loop: 200 random shapes and axes, runs of consecutive indices, repeats, reversals, int32 data', () => {
    const rng = makeRng(9);
    const int = (n: number) => Math.floor(rng() * n);
    for (let t = 0; t < 200; t++) {
      const rank = 1 + (t % 4);
      const shape = Array.from({ length: rank }, () => 1 + int(6));
      const axis = int(rank);
      const dim = shape[axis];
      // Runs (k, k+1, …) broken by jumps, repeats and reversals: what the region windows gather.
      const count = int(3 * dim + 1);
      const idx: number[] = [];
      for (let i = 0; i < count; i++) idx.push(i > 0 && rng() < 0.6 ? Math.min(dim - 1, idx[i - 1] + 1) : int(dim));
      const dtype = t % 6 === 0 ? 'int32' : 'float32';
      const values = Array.from({ length: shape.reduce((a, n) => a * n, 1) }, (_, i) => (dtype === 'int32' ? i - 40 : rng() * 2 - 1));
      const x = tf.tensor(values, shape, dtype);
      const got = tf.gather(x, tf.tensor1d(idx, 'int32'), axis);
      const outer = shape.slice(0, axis).reduce((a, n) => a * n, 1);
      const inner = shape.slice(axis + 1).reduce((a, n) => a * n, 1);
      const want: number[] = [];
      for (let o = 0; o < outer; o++) for (const i of idx) for (let e = 0; e < inner; e++) want.push(values[(o * dim + i) * inner + e]);
      assert.deepEqual(got.shape, [...shape.slice(0, axis), idx.length, ...shape.slice(axis + 1)]);
      assert.deepEqual(Array.from(got.dataSync()), dtype === 'int32' ? want : Array.from(Float32Array.from(want)), `shape ${shape} axis ${axis} indices ${idx}`);
      tf.dispose([x, got]);
    }
  });

  it('a gather with an index outside the axis fails as tfjs\'s own kernel does', () => {
    const x = tf.ones([4, 3]);
    const idx = tf.tensor1d([0, 4], 'int32');
    assert.throws(() => tf.gather(x, idx).dataSync());
    tf.dispose([x, idx]);
  });

  it('a pad equals a plain loop: 200 random shapes ranks 1–6, pads of 0 to 3 on each side, any value, int32 data', () => {
    const rng = makeRng(11);
    const int = (n: number) => Math.floor(rng() * n);
    for (let t = 0; t < 200; t++) {
      const rank = 1 + (t % 6);
      const shape = Array.from({ length: rank }, () => int(rank > 4 ? 3 : 5) + (t % 17 === 0 ? 0 : 1));
      const pads = shape.map(() => [int(4), int(4)] as [number, number]);
      if (t % 3 === 0) pads[rank - 1] = [0, 0]; // runs longer than one element
      const dtype = t % 7 === 0 ? 'int32' : 'float32';
      const value = t % 5 === 0 ? -Infinity : dtype === 'int32' ? 7 : rng();
      const values = Array.from({ length: shape.reduce((a, n) => a * n, 1) }, (_, i) => (dtype === 'int32' ? i - 30 : rng() * 2 - 1));
      const x = tf.tensor(values, shape, dtype);
      const got = tf.pad(x, pads, dtype === 'int32' ? 7 : value);
      const outShape = shape.map((d, a) => d + pads[a][0] + pads[a][1]);
      const want: number[] = [];
      const idx = new Array(rank).fill(0);
      for (let k = 0; k < outShape.reduce((a, n) => a * n, 1); k++) {
        const inner = idx.map((v, a) => v - pads[a][0]);
        if (inner.every((v, a) => v >= 0 && v < shape[a])) want.push(values[inner.reduce((f, v, a) => f * shape[a] + v, 0)]);
        else want.push(dtype === 'int32' ? 7 : value);
        for (let a = rank - 1; a >= 0; a--) {
          if (++idx[a] < outShape[a]) break;
          idx[a] = 0;
        }
      }
      assert.deepEqual(got.shape, outShape);
      assert.deepEqual(Array.from(got.dataSync()), dtype === 'int32' ? want : Array.from(Float32Array.from(want)), `shape ${shape} pads ${JSON.stringify(pads)}`);
      tf.dispose([x, got]);
    }
  });

  it('depthToSpace equals a plain loop: block sizes 2 and 3, few and many channels, batches', () => {
    const rng = makeRng(10);
    for (const [n, h, w, c, s] of [[1, 3, 4, 2, 2], [2, 2, 3, 5, 3], [1, 4, 4, 40, 2], [3, 2, 2, 33, 2], [1, 1, 1, 1, 2]]) {
      const values = Float32Array.from({ length: n * h * w * c * s * s }, () => rng() * 2 - 1);
      const x = tf.tensor4d(values, [n, h, w, c * s * s]);
      const got = tf.depthToSpace(x, s);
      const want = new Float32Array(values.length);
      for (let b = 0; b < n; b++) {
        for (let y = 0; y < h * s; y++) {
          for (let xx = 0; xx < w * s; xx++) {
            for (let ch = 0; ch < c; ch++) {
              const from = ((b * h + Math.floor(y / s)) * w + Math.floor(xx / s)) * c * s * s + ((y % s) * s + (xx % s)) * c + ch;
              want[((b * h * s + y) * w * s + xx) * c + ch] = values[from];
            }
          }
        }
      }
      assert.deepEqual(got.shape, [n, h * s, w * s, c]);
      assert.deepEqual(Array.from(got.dataSync()), Array.from(want), `[${n}, ${h}, ${w}, ${c}] block ${s}`);
      tf.dispose([x, got]);
    }
  });

  it('keeps no tensors', () => {
    const x = tf.ones([2, 8, 8, 3]);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 20; i++) tf.dispose([tf.slice(x, [1, 2, 0, 0], [1, 4, 8, 3]), ...tf.split(x, 2, 1)]);
    assert.equal(tf.memory().numTensors, before);
    x.dispose();
  });
});
