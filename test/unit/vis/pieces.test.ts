// The building blocks of the optimization loop, each against an independent computation: the transform's
// gradient is its adjoint (dot-product test), the Fourier parameterization is an inverse DFT (closed-form
// cosines), the model-space mapping agrees with the image preprocessing.
import { strict as assert } from 'node:assert';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-layers'; // registers the gradients of every op
import { initBackend } from '../../../src/engine/backend';
import { toModelInput } from '../../../src/engine/image/preprocess';
import { makeRng, normalNoise } from '../../../src/engine/random';
import { makeParam } from '../../../src/engine/vis/param';
import { gaussianBlur, tvPenalty } from '../../../src/engine/vis/regularizers';
import { fromModelSpace, inputSpace, toModelSpace } from '../../../src/engine/vis/space';
import { randomAffine, warp, type AffineMap } from '../../../src/engine/vis/transforms';

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

describe('feature visualization: building blocks', function () {
  this.timeout(60000);
  before(async () => {
    await initBackend(process.env.CNN_LENS_BACKEND as any ?? 'auto');
  });

  it('warp with an integer shift and reflect/wrap boundaries moves pixels exactly', () => {
    const h = 5, w = 6;
    const src = Float32Array.from({ length: h * w }, (_, i) => i);
    const x = tf.tensor4d(src, [1, h, w, 1]);
    const shift: AffineMap = { a: 1, b: 0, c: 0, d: 1, ty: 1, tx: -2 };
    const wrapped = tf.tidy(() => warp(x, shift, 'wrap').dataSync());
    const reflected = tf.tidy(() => warp(x, shift, 'reflect').dataSync());
    for (let y = 0; y < h; y++) {
      for (let c = 0; c < w; c++) {
        const sy = y + 1, sx = c - 2;
        assert.equal(wrapped[y * w + c], src[((sy + h) % h) * w + ((sx + w) % w)]);
        const ry = sy >= h ? 2 * (h - 1) - sy : sy;
        const rx = sx < 0 ? -sx : sx;
        assert.equal(reflected[y * w + c], src[ry * w + rx]);
      }
    }
    x.dispose();
  });

  it("warp's gradient is the adjoint of the warp: <W x, y> = <x, Wᵀ y> for rotation + scale + shift", () => {
    const rng = makeRng(5);
    const m = randomAffine(rng, { jitter: 3, scale: 0.2, rotate: 30, boundary: 'reflect' });
    assert.ok(Math.abs(m.b) > 1e-3, 'the draw includes a rotation');
    const shape: [number, number, number, number] = [2, 9, 7, 3];
    const n = 2 * 9 * 7 * 3;
    const x = tf.tensor4d(normalNoise(n, 1, rng), shape);
    const y = tf.tensor4d(normalNoise(n, 1, rng), shape);
    for (const boundary of ['reflect', 'wrap'] as const) {
      const wx = tf.tidy(() => warp(x, m, boundary).dataSync());
      const wty = tf.tidy(() => tf.grad((t: tf.Tensor) => tf.sum(tf.mul(warp(t as tf.Tensor4D, m, boundary), y)))(x).dataSync());
      const lhs = dot(wx, y.dataSync());
      const rhs = dot(x.dataSync(), wty);
      assert.ok(Math.abs(lhs - rhs) < 1e-3 * Math.max(1, Math.abs(lhs)), `${boundary}: ${lhs} vs ${rhs}`);
    }
    x.dispose();
    y.dispose();
  });

  it('the Fourier parameterization is an inverse real DFT: one coefficient gives the closed-form cosine', () => {
    const H = 8, W = 10, C = 1;
    const Wf = W / 2 + 1;
    const param = makeParam('fourier', { batch: 1, height: H, width: W, channels: C, rng: makeRng(1) });
    // Spectrum layout [1, 2, H, C·Wf]: real part of frequency (u, v) = (1, 2).
    const u = 1, v = 2, a = 0.3;
    const spec = new Float32Array(2 * H * C * Wf);
    spec[u * C * Wf + v] = a;
    const p = tf.tensor4d(spec, [1, 2, H, C * Wf]);
    const img = tf.tidy(() => param.render(p).dataSync());
    // Before the sigmoid: (2/(HW))·s·a·cos(2π(uy/H + vx/W))/4 with s = √(HW)/max(f, 1/max(H, W)).
    const f = Math.hypot(u / H, v / W);
    const s = Math.sqrt(H * W) / Math.max(f, 1 / Math.max(H, W));
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        const z = ((2 / (H * W)) * s * a * Math.cos(2 * Math.PI * ((u * y) / H + (v * x) / W))) / 4;
        const expected = 1 / (1 + Math.exp(-z));
        assert.ok(Math.abs(img[y * W + x] - expected) < 1e-5, `(${y}, ${x}): ${img[y * W + x]} vs ${expected}`);
      }
    }
    p.dispose();
    param.init.dispose();
    param.dispose();
  });

  it('the Fourier parameterization starts near mid-gray with decorrelated colour, deterministic per seed', () => {
    const mk = (seed: number) => {
      const param = makeParam('fourier', { batch: 1, height: 16, width: 16, channels: 3, rng: makeRng(seed) });
      const d = tf.tidy(() => param.render(param.init).dataSync() as Float32Array);
      param.init.dispose();
      param.dispose();
      return d;
    };
    const a = mk(3);
    assert.ok(a.every((v) => v > 0.4 && v < 0.6));
    assert.deepEqual(Buffer.from(a.buffer), Buffer.from(mk(3).buffer));
    assert.notDeepEqual(Buffer.from(a.buffer), Buffer.from(mk(4).buffer));
  });

  it('maps [0, 1] pixels to model space like the image preprocessing, caffe channel order included', () => {
    const img = { width: 2, height: 1, data: new Uint8ClampedArray([255, 0, 51, 255, 10, 200, 90, 255]) };
    for (const preset of ['unit', 'tf', 'caffe', 'torch'] as const) {
      const space = inputSpace(preset, 3);
      const pix = Float32Array.from([255, 0, 51, 10, 200, 90].map((v) => v / 255));
      const ours = tf.tidy(() => toModelSpace(space, tf.tensor4d(pix, [1, 1, 2, 3])).dataSync());
      const theirs = toModelInput(img, { height: 1, width: 2, channels: 3, preset });
      for (let i = 0; i < 6; i++) assert.ok(Math.abs(ours[i] - theirs[i]) < 1e-3 * Math.max(1, Math.abs(theirs[i])), `${preset}[${i}]: ${ours[i]} vs ${theirs[i]}`);
      const back = fromModelSpace(space, theirs);
      for (let i = 0; i < 6; i++) assert.ok(Math.abs(back[i] - pix[i]) < 1e-5, `${preset} back[${i}]`);
    }
  });

  it('total variation and blur follow their definitions', () => {
    // Horizontal ramp: each row steps by 0.1 between neighbours, no vertical change.
    const h = 4, w = 5;
    const ramp = Float32Array.from({ length: h * w }, (_, i) => (i % w) * 0.1);
    const x = tf.tensor4d(ramp, [1, h, w, 1]);
    const tv = tf.tidy(() => tvPenalty(x).dataSync()[0]);
    assert.ok(Math.abs(tv - (h * (w - 1) * 0.01) / (h * w)) < 1e-6);
    // Blur keeps a constant image and the mean of a symmetric one; it lowers the variation of noise.
    const c = tf.fill([1, 6, 6, 2], 0.7) as tf.Tensor4D;
    const bc = tf.tidy(() => gaussianBlur(c, 1).dataSync());
    assert.ok(bc.every((v) => Math.abs(v - 0.7) < 1e-6));
    const noise = tf.tensor4d(normalNoise(64, 1, makeRng(2)), [1, 8, 8, 1]);
    const before = tf.tidy(() => tvPenalty(noise).dataSync()[0]);
    const after = tf.tidy(() => tvPenalty(gaussianBlur(noise, 1)).dataSync()[0]);
    assert.ok(after < before / 2, `tv ${before} → ${after}`);
    tf.dispose([x, c, noise]);
  });
});
