import assert from 'node:assert/strict';
import { resizeBilinear, resizeRgba, upscaleNearest } from '../../../src/engine/image/resize';
import { maxAbsDiff, naiveResize, rng } from './helpers';

describe('image/resize', () => {
  it('2x2 -> 4x4 gives the values worked out by hand (half-pixel centres)', () => {
    // 1-D: output i samples input (i + 0.5) / 2 - 0.5 = -0.25, 0.25, 0.75, 1.25 -> clamped 0, 0.25, 0.75, 1:
    // [a, 0.75a + 0.25b, 0.25a + 0.75b, b]. Rows: [0 4] -> 0 1 3 4, [8 12] -> 8 9 11 12; rows mix the same way.
    const out = resizeBilinear(Float32Array.from([0, 4, 8, 12]), 2, 2, 1, 4, 4);
    assert.deepEqual(Array.from(out), [0, 1, 3, 4, 2, 3, 5, 6, 6, 7, 9, 10, 8, 9, 11, 12]);
  });

  it('4x4 -> 2x2 averages each 2x2 block (samples fall exactly between pixels)', () => {
    const src = Float32Array.from({ length: 16 }, (_, i) => i); // value = 4y + x
    assert.deepEqual(Array.from(resizeBilinear(src, 4, 4, 1, 2, 2)), [2.5, 4.5, 10.5, 12.5]);
  });

  it('matches an independent implementation of TensorFlow\'s half-pixel-centre rule on random sizes', () => {
    const r = rng(7);
    for (let trial = 0; trial < 40; trial++) {
      const h = 1 + Math.floor(r() * 12), w = 1 + Math.floor(r() * 12), c = 1 + Math.floor(r() * 4);
      const oh = 1 + Math.floor(r() * 20), ow = 1 + Math.floor(r() * 20);
      const src = Float32Array.from({ length: h * w * c }, () => r() * 200 - 100);
      const got = resizeBilinear(src, h, w, c, oh, ow);
      assert.equal(got.length, oh * ow * c);
      assert.ok(maxAbsDiff(got, naiveResize(src, h, w, c, oh, ow)) < 1e-4, `${h}x${w}x${c} -> ${oh}x${ow}`);
    }
  });

  it('returns a copy when the size already matches', () => {
    const src = Float32Array.from([1, 2, 3, 4, 5, 6]);
    const out = resizeBilinear(src, 1, 2, 3, 1, 2);
    assert.notEqual(out, src);
    assert.deepEqual(Array.from(out), Array.from(src));
    out[0] = 99;
    assert.equal(src[0], 1);
  });

  it('rejects data of the wrong length', () => {
    assert.throws(() => resizeBilinear(new Float32Array(5), 2, 2, 1, 3, 3), /5 values, expected 2x2x1 = 4/);
  });

  it('resizes RGBA premultiplied, so a transparent neighbour does not darken colours', () => {
    const img = { width: 2, height: 1, data: Uint8ClampedArray.from([255, 0, 0, 255, 0, 0, 0, 0]) };
    const out = resizeRgba(img, 4, 1);
    // alpha interpolates like any channel: 255, 191.25, 63.75, 0
    assert.deepEqual([3, 7, 11, 15].map((i) => out.data[i]), [255, 191, 64, 0]);
    for (const p of [0, 1, 2]) assert.deepEqual(Array.from(out.data.subarray(p * 4, p * 4 + 3)), [255, 0, 0], `pixel ${p} stays red`);
  });

  it('upscales by nearest neighbour', () => {
    const img = { width: 2, height: 1, data: Uint8ClampedArray.from([1, 2, 3, 4, 5, 6, 7, 8]) };
    const out = upscaleNearest(img, 2);
    assert.deepEqual([out.width, out.height], [4, 2]);
    assert.deepEqual(Array.from(out.data), [1, 2, 3, 4, 1, 2, 3, 4, 5, 6, 7, 8, 5, 6, 7, 8, 1, 2, 3, 4, 1, 2, 3, 4, 5, 6, 7, 8, 5, 6, 7, 8]);
  });
});
