// The engine's own SIMD kernels (src/engine/simd/kernels.wat): the committed bytes are the .wat compiled; the
// ReLU/ReLU6 gradient mask against a plain loop written here, on both memories the module is built for
// (shared: the threaded wasm build; plain: the single-threaded one), at every length modulo 4 and at
// unaligned offsets, with values exactly at the clipping points; and as a tfjs kernel on the wasm backend
// against the float ops it replaces.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import * as tf from '@tensorflow/tfjs-core';
// tfjs-layers registers tfjs-core's gradients (the engine loads it with any model).
import '@tensorflow/tfjs-layers';
import { initBackend } from '../../../src/engine/backend';
import { inside06 } from '../../../src/engine/model/layerOps/activation';
import { makeRng } from '../../../src/engine/random';
import { maxAbsDiff } from '../helpers';
import { PLAIN_MEMORY_MODULE, SHARED_MEMORY_MODULE } from '../../../src/engine/simd/kernelsWasm.generated';
import { depthwiseInputGradient, flipConvKernel, hasSimdKernels, maskGradient, maxAbsLastAxis, spatialMean } from '../../../src/engine/simd/simdKernels';

type Mask = (dy: number, y: number, out: number, n: number, lo: number, hi: number, guided: number) => void;
type DepthwiseGrad = (dy: number, w: number, dst: number, n: number, oh: number, ow: number, H: number, W: number, C: number, kh: number, kw: number, sh: number, sw: number, ph: number, pw: number) => void;
type AbsMax = (src: number, dst: number, rows: number, cols: number) => void;
type Col2Im = (src: number, dst: number, n: number, oh: number, ow: number, H: number, W: number, kh: number, kw: number, cin: number, sh: number, sw: number, dh: number, dw: number, bh: number, bw: number) => void;

/** The scatter, one tap at a time: tap (ky, kx, c) of output (oy, ox) lands on row oy·sh − bh + ky·dh, column ox·sw − bw + kx·dw. */
function col2imByLoop(taps: Float32Array, n: number, oh: number, ow: number, H: number, W: number, kh: number, kw: number, cin: number, s: number[], d: number[], b: number[]): Float32Array {
  const out = new Float32Array(n * H * W * cin);
  for (let i = 0; i < n; i++)
    for (let oy = 0; oy < oh; oy++)
      for (let ox = 0; ox < ow; ox++)
        for (let ky = 0; ky < kh; ky++)
          for (let kx = 0; kx < kw; kx++)
            for (let c = 0; c < cin; c++) {
              const y = oy * s[0] - b[0] + ky * d[0];
              const x = ox * s[1] - b[1] + kx * d[1];
              if (y < 0 || y >= H || x < 0 || x >= W) continue;
              out[((i * H + y) * W + x) * cin + c] += taps[((((i * oh + oy) * ow + ox) * kh + ky) * kw + kx) * cin + c];
            }
  return out;
}

/** The module on a fresh memory of `pages` 64-KB pages (shared or not), with a float view of it. */
function instantiate<T>(bytes: string, shared: boolean, pages: number): { exports: T; memory: WebAssembly.Memory } {
  const memory = new WebAssembly.Memory({ initial: pages, maximum: 65536, shared } as WebAssembly.MemoryDescriptor);
  const exports = new WebAssembly.Instance(new WebAssembly.Module(Buffer.from(bytes, 'base64')), { env: { memory } }).exports as unknown as T;
  return { exports, memory };
}

/** body(x, shape) for a tensor of each shape, seeded values uniform in [−span/2, span/2); x is disposed after. */
function onRandomTensors(seed: number, shapes: number[][], span: number, body: (x: tf.Tensor, shape: number[]) => void): void {
  const rng = makeRng(seed);
  for (const shape of shapes) {
    const x = tf.tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng() * span - span / 2), shape);
    body(x, shape);
    x.dispose();
  }
}

/** The rule, one element at a time. */
function maskByLoop(dy: Float32Array, y: Float32Array, lo: number, hi: number, guided: boolean): Float32Array {
  const out = new Float32Array(dy.length);
  for (let i = 0; i < dy.length; i++) {
    const inside = y[i] > lo && !(y[i] >= hi);
    out[i] = inside ? (guided ? Math.max(dy[i], 0) : dy[i]) : 0;
  }
  return out;
}

/** A depthwise convolution's input gradient by scattering: output (oy, ox) read input (oy·sh − ph + ky, ox·sw − pw + kx) with tap (ky, kx). */
function depthwiseGradByLoop(dy: Float32Array, w: Float32Array, n: number, oh: number, ow: number, H: number, W: number, C: number, kh: number, kw: number, s: number[], p: number[]): Float32Array {
  const out = new Float32Array(n * H * W * C);
  for (let i = 0; i < n; i++)
    for (let oy = 0; oy < oh; oy++)
      for (let ox = 0; ox < ow; ox++)
        for (let ky = 0; ky < kh; ky++)
          for (let kx = 0; kx < kw; kx++) {
            const y = oy * s[0] - p[0] + ky;
            const x = ox * s[1] - p[1] + kx;
            if (y < 0 || y >= H || x < 0 || x >= W) continue;
            for (let c = 0; c < C; c++) out[((i * H + y) * W + x) * C + c] += dy[((i * oh + oy) * ow + ox) * C + c] * w[(ky * kw + kx) * C + c];
          }
  return out;
}

/** Values that hit 0 and 6 exactly, just inside and outside them, and spread over both sides. */
function activations(n: number, rng: () => number): Float32Array {
  const special = [0, 6, -0, 1e-7, 6 - 1e-6, 6 + 1e-6, -1e-7, 3];
  return Float32Array.from({ length: n }, (_, i) => (i % 3 === 0 ? special[Math.floor(rng() * special.length)] : rng() * 10 - 2));
}

describe('SIMD kernels (src/engine/simd)', function () {
  this.timeout(60000);

  it('the committed module is kernels.wat compiled (node scripts/build-simd.mjs --check)', () => {
    const r = spawnSync(process.execPath, ['scripts/build-simd.mjs', '--check'], { encoding: 'utf8' });
    assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
  });

  for (const [name, bytes, shared] of [['shared', SHARED_MEMORY_MODULE, true], ['plain', PLAIN_MEMORY_MODULE, false]] as const) {
    it(`mask on a ${name} memory equals the plain loop: lengths 0–41 and 1000, unaligned offsets, ReLU and ReLU6, guided or not`, () => {
      const { exports: { mask }, memory } = instantiate<{ mask: Mask }>(bytes, shared, 4);
      const rng = makeRng(11);
      for (const n of [...Array.from({ length: 42 }, (_, i) => i), 1000]) {
        for (const [lo, hi] of [[0, 6], [0, NaN]]) {
          for (const guided of [false, true]) {
            const dy = Float32Array.from({ length: n }, () => rng() * 2 - 1);
            const y = activations(n, rng);
            // Three arrays at offsets that are multiples of 4 bytes but not of 16.
            const [pdy, py, pout] = [4, 4 + 4 * (n + 3), 4 + 8 * (n + 3) + 4];
            const heap = new Float32Array(memory.buffer);
            heap.set(dy, pdy / 4);
            heap.set(y, py / 4);
            heap.fill(123, pout / 4, pout / 4 + n + 4);
            mask(pdy, py, pout, n, lo, hi, guided ? 1 : 0);
            const got = new Float32Array(memory.buffer).slice(pout / 4, pout / 4 + n + 1);
            assert.deepEqual(Array.from(got.subarray(0, n)), Array.from(maskByLoop(dy, y, lo, hi, guided)), `n ${n} hi ${hi} guided ${guided}`);
            assert.equal(got[n], 123, `n ${n}: wrote past the end`);
          }
        }
      }
    });
  }

  for (const [name, bytes, shared] of [['shared', SHARED_MEMORY_MODULE, true], ['plain', PLAIN_MEMORY_MODULE, false]] as const) {
    it(`copy_runs and fill32 on a ${name} memory equal plain loops: run lengths 0–9 bytes and 1000 floats, strides, overlapping nothing, NaN and −∞ bit patterns`, () => {
      const { exports: k, memory } = instantiate<{ copy_runs: (dst: number, src: number, bytes: number, count: number, ds: number, ss: number) => void; fill32: (dst: number, n: number, bits: number) => void }>(bytes, shared, 4);
      const rng = makeRng(21);
      const heap = new Uint8Array(memory.buffer);
      const src = 64;
      const dst = 120000;
      for (const [len, count, ds, ss] of [[0, 3, 5, 7], [1, 1, 0, 0], [3, 5, 7, 4], [9, 4, 9, 13], [4000, 3, 4004, 4400], [16, 0, 16, 16]]) {
        for (let i = 0; i < 60000; i++) heap[src + i] = Math.floor(rng() * 256);
        heap.fill(0xab, dst - 8, dst + 20000);
        k.copy_runs(dst, src, len, count, ds, ss);
        const want = new Uint8Array(20008).fill(0xab);
        for (let r = 0; r < count; r++) for (let i = 0; i < len; i++) want[8 + r * ds + i] = heap[src + r * ss + i];
        assert.deepEqual(Array.from(heap.subarray(dst - 8, dst + 20000)), Array.from(want), `len ${len} count ${count} strides ${ds} ${ss}`);
      }
      const words = new Int32Array(memory.buffer);
      const bitsOf = (v: number) => new Int32Array(Float32Array.of(v).buffer)[0];
      for (const n of [...Array.from({ length: 10 }, (_, i) => i), 1001]) {
        for (const bits of [0, bitsOf(-Infinity), bitsOf(NaN), bitsOf(1.5), 7, -1]) {
          // An offset that is a multiple of 4 bytes but not of 16.
          const at = 1000 + (n % 3);
          words.fill(0x55, at - 2, at + n + 2);
          k.fill32(at * 4, n, bits);
          const got = Array.from(words.subarray(at - 2, at + n + 2));
          assert.deepEqual(got, [0x55, 0x55, ...new Array(n).fill(bits), 0x55, 0x55], `n ${n} bits ${bits}`);
        }
      }
    });
  }

  for (const [name, bytes, shared] of [['shared', SHARED_MEMORY_MODULE, true], ['plain', PLAIN_MEMORY_MODULE, false]] as const) {
    it(`mean_rows on a ${name} memory equals a plain loop in doubles: 1–3 images, 1–7 rows, 0–9 and 1281 columns, an unaligned output`, () => {
      const { exports: k, memory } = instantiate<{ mean_rows: (src: number, dst: number, n: number, rows: number, cols: number, scale: number) => void }>(bytes, shared, 4);
      const rng = makeRng(23);
      for (const n of [1, 3]) {
        for (const rows of [1, 2, 7]) {
          for (const cols of [...Array.from({ length: 10 }, (_, i) => i), 1281]) {
            const src = Float32Array.from({ length: n * rows * cols }, () => rng() * 4 - 2);
            const heap = new Float32Array(memory.buffer);
            const [ps, pd] = [16, 16 + 4 * (n * rows * cols + 1)];
            heap.set(src, ps / 4);
            heap.fill(77, pd / 4, pd / 4 + n * cols + 1);
            k.mean_rows(ps, pd, n, rows, cols, 1 / rows);
            const got = new Float32Array(memory.buffer).slice(pd / 4, pd / 4 + n * cols + 1);
            for (let i = 0; i < n; i++) {
              for (let c = 0; c < cols; c++) {
                let sum = 0;
                for (let r = 0; r < rows; r++) sum += src[(i * rows + r) * cols + c];
                const want = sum / rows;
                assert.ok(Math.abs(got[i * cols + c] - want) <= 1e-6 * Math.max(1, Math.abs(want)), `n ${n} rows ${rows} cols ${cols} [${i}, ${c}]: ${got[i * cols + c]} vs ${want}`);
              }
            }
            assert.equal(got[n * cols], 77, `n ${n} rows ${rows} cols ${cols}: wrote past the end`);
          }
        }
      }
    });
  }

  for (const [name, bytes, shared] of [['shared', SHARED_MEMORY_MODULE, true], ['plain', PLAIN_MEMORY_MODULE, false]] as const) {
    it(`flip_kernel on a ${name} memory equals a plain loop: 1–9 taps, channel counts on and off the 8-wide blocks`, () => {
      const { exports: k, memory } = instantiate<{ flip_kernel: (src: number, dst: number, taps: number, cin: number, cout: number) => void }>(bytes, shared, 8);
      const rng = makeRng(25);
      for (const [taps, cin, cout] of [[1, 1, 1], [9, 3, 32], [9, 17, 9], [4, 8, 8], [1, 64, 24], [2, 1, 13], [9, 13, 1]]) {
        const n = taps * cin * cout;
        const src = Float32Array.from({ length: n }, () => rng() * 2 - 1);
        const heap = new Float32Array(memory.buffer);
        const [ps, pd] = [16, 16 + 4 * (n + 3)];
        heap.set(src, ps / 4);
        heap.fill(55, pd / 4, pd / 4 + n + 1);
        k.flip_kernel(ps, pd, taps, cin, cout);
        const got = new Float32Array(memory.buffer).slice(pd / 4, pd / 4 + n + 1);
        const want = new Float32Array(n);
        for (let t = 0; t < taps; t++) for (let i = 0; i < cin; i++) for (let o = 0; o < cout; o++) want[((taps - 1 - t) * cout + o) * cin + i] = src[(t * cin + i) * cout + o];
        assert.deepEqual(Array.from(got.subarray(0, n)), Array.from(want), `taps ${taps} cin ${cin} cout ${cout}`);
        assert.equal(got[n], 55, `taps ${taps} cin ${cin} cout ${cout}: wrote past the end`);
      }
    });
  }

  for (const [name, bytes, shared] of [['shared', SHARED_MEMORY_MODULE, true], ['plain', PLAIN_MEMORY_MODULE, false]] as const) {
    it(`col2im on a ${name} memory equals the plain scatter: strides, dilations, borders, 1–6 channels, a batch of 2`, () => {
      const { exports: { col2im }, memory } = instantiate<{ col2im: Col2Im }>(bytes, shared, 16);
      const rng = makeRng(13);
      const int = (k: number) => Math.floor(rng() * k);
      for (let t = 0; t < 120; t++) {
        const n = 1 + (t % 2);
        const [kh, kw] = [1 + int(4), 1 + int(4)];
        const s = [1 + int(3), 1 + int(3)];
        const d = t % 3 === 0 ? [1 + int(3), 1 + int(3)] : [1, 1];
        const [H, W] = [3 + int(12), 3 + int(12)];
        const b = [int(kh + 1), int(kw + 1)];
        const oh = 1 + int(Math.ceil(H / s[0]) + 1);
        const ow = 1 + int(Math.ceil(W / s[1]) + 1);
        const cin = 1 + int(6);
        const taps = Float32Array.from({ length: n * oh * ow * kh * kw * cin }, () => rng() * 2 - 1);
        const src = 4;
        const dst = src + 4 * taps.length + 4;
        const size = n * H * W * cin;
        const heap = new Float32Array(memory.buffer);
        heap.set(taps, src / 4);
        heap.fill(99, dst / 4, dst / 4 + size + 2);
        col2im(src, dst, n, oh, ow, H, W, kh, kw, cin, s[0], s[1], d[0], d[1], b[0], b[1]);
        const got = new Float32Array(memory.buffer).slice(dst / 4, dst / 4 + size + 1);
        const want = col2imByLoop(taps, n, oh, ow, H, W, kh, kw, cin, s, d, b);
        const label = `n ${n} k ${kh}×${kw} s ${s} d ${d} H×W ${H}×${W} before ${b} out ${oh}×${ow} cin ${cin}`;
        const i = want.findIndex((v, k) => !(Math.abs(got[k] - v) <= 1e-5));
        assert.equal(i, -1, `${label}: [${i}] ${got[i]} vs ${want[i]}`);
        assert.equal(got[size], 99, `${label}: wrote past the end`);
      }
    });
  }

  for (const [name, bytes, shared] of [['shared', SHARED_MEMORY_MODULE, true], ['plain', PLAIN_MEMORY_MODULE, false]] as const) {
    it(`abs_max on a ${name} memory equals Math.max of Math.abs over each row: 1–9 columns, negative zeros, a NaN`, () => {
      const { exports: { abs_max }, memory } = instantiate<{ abs_max: AbsMax }>(bytes, shared, 4);
      const rng = makeRng(14);
      for (let cols = 1; cols <= 9; cols++) {
        const rows = 37;
        const x = Float32Array.from({ length: rows * cols }, (_, i) => (i % 11 === 0 ? -0 : rng() * 8 - 4));
        x[5 % x.length] = NaN;
        const heap = new Float32Array(memory.buffer);
        const [src, dst] = [4, 8 + 4 * x.length];
        heap.set(x, src / 4);
        heap.fill(7, dst / 4, dst / 4 + rows + 1);
        abs_max(src, dst, rows, cols);
        const got = new Float32Array(memory.buffer).slice(dst / 4, dst / 4 + rows + 1);
        for (let r = 0; r < rows; r++) {
          const want = Math.max(...Array.from(x.subarray(r * cols, (r + 1) * cols), Math.abs));
          assert.ok(Object.is(got[r], want) || (got[r] === 0 && want === 0), `cols ${cols} row ${r}: ${got[r]} vs ${want}`);
        }
        assert.equal(got[rows], 7, `cols ${cols}: wrote past the end`);
      }
    });
  }

  for (const [name, bytes, shared] of [['shared', SHARED_MEMORY_MODULE, true], ['plain', PLAIN_MEMORY_MODULE, false]] as const) {
    it(`depthwise_input_gradient on a ${name} memory equals the plain scatter: strides 1–3, kernels 1–4, padding, 1–9 channels, a batch of 2`, () => {
      const { exports: { depthwise_input_gradient: run }, memory } = instantiate<{ depthwise_input_gradient: DepthwiseGrad }>(bytes, shared, 16);
      const rng = makeRng(16);
      const int = (k: number) => Math.floor(rng() * k);
      for (let t = 0; t < 150; t++) {
        const n = 1 + (t % 2);
        const [kh, kw] = [1 + int(4), 1 + int(4)];
        const s = [1 + int(3), 1 + int(3)];
        const p = [int(kh), int(kw)];
        const [H, W] = [2 + int(11), 2 + int(11)];
        const oh = 1 + int(Math.ceil(H / s[0]) + 1);
        const ow = 1 + int(Math.ceil(W / s[1]) + 1);
        const C = 1 + int(9);
        const dy = Float32Array.from({ length: n * oh * ow * C }, () => rng() * 2 - 1);
        const w = Float32Array.from({ length: kh * kw * C }, () => rng() * 2 - 1);
        const [pdy, pw, pdst] = [4, 8 + 4 * dy.length, 12 + 4 * (dy.length + w.length)];
        const size = n * H * W * C;
        const heap = new Float32Array(memory.buffer);
        heap.set(dy, pdy / 4);
        heap.set(w, pw / 4);
        heap.fill(99, pdst / 4, pdst / 4 + size + 1);
        run(pdy, pw, pdst, n, oh, ow, H, W, C, kh, kw, s[0], s[1], p[0], p[1]);
        const got = new Float32Array(memory.buffer).slice(pdst / 4, pdst / 4 + size + 1);
        const want = depthwiseGradByLoop(dy, w, n, oh, ow, H, W, C, kh, kw, s, p);
        const label = `n ${n} k ${kh}×${kw} s ${s} before ${p} H×W ${H}×${W} out ${oh}×${ow} C ${C}`;
        const bad = want.findIndex((v, i) => !(Math.abs(got[i] - v) <= 1e-5));
        assert.equal(bad, -1, `${label}: [${bad}] ${got[bad]} vs ${want[bad]}`);
        assert.equal(got[size], 99, `${label}: wrote past the end`);
      }
    });
  }

  describe('as a tfjs kernel on the wasm backend', () => {
    before(async function () {
      await initBackend((process.env.CNN_LENS_BACKEND as 'wasm' | 'cpu' | undefined) ?? 'auto');
      if (!hasSimdKernels()) {
        console.log(`      (skipped: the SIMD kernels run on the wasm backend only; this run uses ${tf.getBackend()})`);
        this.skip();
      }
    });

    it('equals the float ops it replaces: dy·[0 < y < 6], dy·[y > 0] and the guided ReLU(dy) forms; no tensor left', () => {
      const rng = makeRng(12);
      const before = tf.memory().numTensors;
      for (const shape of [[1, 7, 5, 3], [2, 13, 11, 17], [1, 56, 56, 24]]) {
        const n = shape.reduce((a, b) => a * b, 1);
        const y = tf.tensor(activations(n, rng), shape);
        const dy = tf.tensor(Float32Array.from({ length: n }, () => rng() * 2 - 1), shape);
        for (const guided of [false, true]) {
          const cases = tf.tidy(() => {
            const g = guided ? tf.relu(dy) : dy;
            return [[6, tf.mul(g, inside06(y))], [NaN, tf.mul(g, tf.step(y))]] as [number, tf.Tensor][];
          });
          for (const [hi, want] of cases) {
            const got = maskGradient(dy, y, 0, hi, guided);
            assert.deepEqual(got.shape, shape);
            // −0 and +0 differ between a product and a masked copy: compare values.
            const [a, b] = [got.dataSync(), want.dataSync()];
            const i = a.findIndex((v, k) => v !== b[k]);
            assert.equal(i, -1, `shape ${shape} hi ${hi} guided ${guided}: [${i}] ${a[i]} vs ${b[i]} (y ${y.dataSync()[i]})`);
            tf.dispose([got, want]);
          }
        }
        tf.dispose([y, dy]);
      }
      assert.equal(tf.memory().numTensors, before);
    });

    it("flipConvKernel equals tf.reverse over both spatial axes and a transpose of the channels", () => {
      const before = tf.memory().numTensors;
      onRandomTensors(26, [[3, 3, 16, 24], [1, 1, 40, 7], [7, 7, 3, 64], [3, 1, 5, 5]], 2, (w, shape) => {
        const got = flipConvKernel(w as tf.Tensor4D);
        const want = tf.tidy(() => tf.transpose(tf.reverse(w, [0, 1]), [0, 1, 3, 2]));
        assert.deepEqual(got.shape, want.shape);
        assert.deepEqual(Array.from(got.dataSync()), Array.from(want.dataSync()), `[${shape}]`);
        tf.dispose([got, want]);
      });
      assert.equal(tf.memory().numTensors, before);
    });

    it("spatialMean equals tfjs's mean over positions: GAP-sized maps, a batch, one position", () => {
      const before = tf.memory().numTensors;
      onRandomTensors(24, [[1, 7, 7, 1280], [3, 5, 4, 9], [1, 1, 1, 6], [2, 8, 8, 3]], 4, (x, shape) => {
        const got = spatialMean(x as tf.Tensor4D);
        const want = tf.mean(x, [1, 2]);
        assert.deepEqual(got.shape, [shape[0], shape[3]]);
        const d = maxAbsDiff(got.dataSync() as Float32Array, want.dataSync() as Float32Array);
        assert.ok(d < 1e-6, `[${shape}]: max diff ${d}`);
        tf.dispose([got, want]);
      });
      assert.equal(tf.memory().numTensors, before);
    });

    it("maxAbsLastAxis equals tfjs's max of abs over the last axis", () => {
      onRandomTensors(15, [[224, 224, 3], [5, 7, 1], [3, 2, 9]], 2, (x, shape) => {
        const got = maxAbsLastAxis(x);
        const want = tf.tidy(() => tf.max(tf.abs(x), -1));
        assert.deepEqual(got.shape, want.shape);
        const [a, b] = [got.dataSync(), want.dataSync()];
        const bad = a.findIndex((v, i) => v !== b[i]);
        assert.equal(bad, -1, `shape ${shape}: [${bad}] ${a[bad]} vs ${b[bad]}`);
        tf.dispose([got, want]);
      });
    });

    it("depthwiseInputGradient equals tfjs's gradient of depthwiseConv2d: stride 2 'same' and 'valid', odd and even sizes, stride (1, 2)", () => {
      const rng = makeRng(17);
      for (const [H, W, C, k, strides, pad] of [[13, 12, 8, 3, [2, 2], 'same'], [12, 13, 5, 3, [2, 2], 'valid'], [9, 10, 4, 2, [1, 2], 'same'], [15, 15, 6, 5, [2, 2], 'same']] as const) {
        const x = tf.tensor4d(Float32Array.from({ length: 2 * H * W * C }, () => rng() * 2 - 1), [2, H, W, C]);
        const kernel = tf.tensor4d(Float32Array.from({ length: k * k * C }, () => rng() * 2 - 1), [k, k, C, 1]);
        const y = tf.depthwiseConv2d(x, kernel, strides as [number, number], pad);
        const dy = tf.tensor4d(Float32Array.from({ length: y.size }, () => rng() * 2 - 1), y.shape);
        const want = tf.grad((xi: tf.Tensor) => tf.sum(tf.mul(tf.depthwiseConv2d(xi as tf.Tensor4D, kernel, strides as [number, number], pad), dy)))(x);
        const info = tf.backend_util.computeConv2DInfo([2, H, W, C], [k, k, C, 1], strides as [number, number], 1, pad, undefined, true);
        const got = depthwiseInputGradient(dy, kernel, { H, W, strides: strides as [number, number], before: [info.padInfo.top, info.padInfo.left] });
        assert.deepEqual(got.shape, want.shape);
        const [a, b] = [got.dataSync(), want.dataSync()];
        const bad = a.findIndex((v, i) => !(Math.abs(v - b[i]) <= 1e-5));
        assert.equal(bad, -1, `${H}×${W}×${C} k ${k} strides ${strides} ${pad}: [${bad}] ${a[bad]} vs ${b[bad]}`);
        tf.dispose([x, kernel, y, dy, want, got]);
      }
    });

    it('refuses tensors of two shapes, naming both', () => {
      const [a, b] = [tf.zeros([2, 3]), tf.zeros([3, 2])];
      assert.throws(() => maskGradient(a, b, 0, 6, false), /\[2,3\].*\[3,2\]/);
      tf.dispose([a, b]);
    });
  });
});
