import assert from 'node:assert/strict';
import { fromModelInput, presetRange, PREPROCESS_PRESETS, toModelInput, type PreprocessPreset } from '../../../src/engine/image/preprocess';
import type { RgbaImage } from '../../../src/engine/image/decode';
import { maxAbsDiff, naiveResize, rng } from './helpers';

function image(w: number, h: number, px: number[][]): RgbaImage {
  return { width: w, height: h, data: Uint8ClampedArray.from(px.flat()) };
}

function close(a: ArrayLike<number>, b: number[], tol = 1e-5, what = ''): void {
  assert.ok(maxAbsDiff(a, b) <= tol, `${what} got [${Array.from(a).map((v) => v.toFixed(5))}], expected [${b.map((v) => v.toFixed(5))}]`);
}

describe('image/preprocess', () => {
  const img = image(2, 1, [[255, 128, 0, 255], [10, 20, 30, 255]]);
  const spec = (preset: PreprocessPreset, channels: 1 | 3 | 4 = 3) => ({ height: 1, width: 2, channels, preset });

  it('applies each preset to known pixels (values worked out by hand)', () => {
    close(toModelInput(img, spec('raw')), [255, 128, 0, 10, 20, 30], 0, 'raw');
    close(toModelInput(img, spec('unit')), [1, 128 / 255, 0, 10 / 255, 20 / 255, 30 / 255], 1e-6, 'unit');
    close(toModelInput(img, spec('tf')), [1, 128 / 127.5 - 1, -1, 10 / 127.5 - 1, 20 / 127.5 - 1, 30 / 127.5 - 1], 1e-6, 'tf');
    // caffe: BGR order, minus B 103.939, G 116.779, R 123.68
    close(toModelInput(img, spec('caffe')), [0 - 103.939, 128 - 116.779, 255 - 123.68, 30 - 103.939, 20 - 116.779, 10 - 123.68], 1e-4, 'caffe');
    const t = (v: number, k: number) => (v / 255 - [0.485, 0.456, 0.406][k]) / [0.229, 0.224, 0.225][k];
    close(toModelInput(img, spec('torch')), [t(255, 0), t(128, 1), t(0, 2), t(10, 0), t(20, 1), t(30, 2)], 1e-5, 'torch');
  });

  it('makes gray with BT.601 luma, and uses the mean constants for 1-channel caffe and torch', () => {
    const y0 = 0.299 * 255 + 0.587 * 128 + 0.114 * 0;
    const y1 = 0.299 * 10 + 0.587 * 20 + 0.114 * 30;
    close(toModelInput(img, spec('raw', 1)), [y0, y1], 1e-4, 'gray raw');
    close(toModelInput(img, spec('caffe', 1)), [y0 - 114.799, y1 - 114.799], 1e-3, 'gray caffe');
    close(toModelInput(img, spec('torch', 1)), [(y0 / 255 - 0.449) / 0.226, (y1 / 255 - 0.449) / 0.226], 1e-5, 'gray torch');
  });

  it('composites transparency over white for 1 and 3 channels, keeps alpha for 4', () => {
    const t = image(3, 1, [[0, 0, 0, 0], [0, 0, 0, 128], [200, 100, 50, 255]]);
    close(toModelInput(t, { height: 1, width: 3, channels: 3, preset: 'raw' }), [255, 255, 255, 127, 127, 127, 200, 100, 50], 1e-4);
    close(toModelInput(t, { height: 1, width: 3, channels: 1, preset: 'unit' }), [1, 127 / 255, (0.299 * 200 + 0.587 * 100 + 0.114 * 50) / 255], 1e-5);
    close(toModelInput(t, { height: 1, width: 3, channels: 4, preset: 'raw' }), [0, 0, 0, 0, 0, 0, 0, 128, 200, 100, 50, 255], 0);
  });

  it('resizes like composite -> independent bilinear resize -> preset', () => {
    const r = rng(3);
    const w = 13, h = 9;
    const px = Array.from({ length: w * h }, () => [0, 0, 0, 0].map(() => Math.floor(r() * 256)));
    const src = image(w, h, px);
    for (const channels of [1, 3, 4] as const) {
      const flat: number[] = [];
      for (const [R, G, B, A] of px) {
        const a = A / 255;
        const c = [R * a + 255 * (1 - a), G * a + 255 * (1 - a), B * a + 255 * (1 - a)];
        if (channels === 4) flat.push(R, G, B, A);
        else if (channels === 3) flat.push(...c);
        else flat.push(0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2]);
      }
      const expected = Array.from(naiveResize(flat, h, w, channels, 5, 7), (v) => v / 127.5 - 1);
      const got = toModelInput(src, { height: 5, width: 7, channels, preset: 'tf' });
      assert.equal(got.length, 5 * 7 * channels);
      close(got, expected, 1e-5, `${channels} channels`);
    }
  });

  it('fromModelInput inverts every preset exactly on opaque images', () => {
    const r = rng(11);
    const w = 5, h = 4;
    const px = Array.from({ length: w * h }, () => [Math.floor(r() * 256), Math.floor(r() * 256), Math.floor(r() * 256), 255]);
    const gray = px.map(([v]) => [v, v, v, 255]);
    for (const preset of PREPROCESS_PRESETS) {
      for (const channels of [3, 4] as const) {
        const back = fromModelInput(toModelInput(image(w, h, px), { height: h, width: w, channels, preset }), h, w, channels, preset);
        assert.deepEqual(Array.from(back.data), px.flat(), `${preset}, ${channels} channels`);
      }
      // gray in, gray out (luma of r=g=b is the value itself, up to float rounding)
      const back1 = fromModelInput(toModelInput(image(w, h, gray), { height: h, width: w, channels: 1, preset }), h, w, 1, preset);
      assert.deepEqual(Array.from(back1.data), gray.flat(), `${preset}, 1 channel`);
    }
  });

  it('clamps out-of-range values when showing optimized inputs', () => {
    const out = fromModelInput(Float32Array.from([-5, 0, 5]), 1, 1, 3, 'tf');
    assert.deepEqual(Array.from(out.data), [0, 128, 255, 255]);
  });

  it('presetRange is where black and white pixels land in model space', () => {
    for (const preset of PREPROCESS_PRESETS) {
      for (const channels of [1, 3, 4] as const) {
        const black = toModelInput(image(1, 1, [[0, 0, 0, 255]]), { height: 1, width: 1, channels, preset });
        const white = toModelInput(image(1, 1, [[255, 255, 255, 255]]), { height: 1, width: 1, channels, preset });
        const range = presetRange(preset, channels);
        // the alpha channel of a 4-channel model is 255 for both images
        const expectMin = Array.from(black);
        if (channels === 4) expectMin[3] = range.min[3];
        close(range.min, expectMin, 1e-4, `${preset} ${channels} min`);
        close(range.max, Array.from(white), 1e-4, `${preset} ${channels} max`);
      }
    }
    assert.deepEqual(presetRange('tf', 3), { min: [-1, -1, -1], max: [1, 1, 1] });
  });

  it('rejects bad specs', () => {
    assert.throws(() => toModelInput(img, { height: 0, width: 2, channels: 3, preset: 'raw' }), /not a positive size/);
    assert.throws(() => toModelInput(img, { height: 1, width: 2, channels: 2 as 3, preset: 'raw' }), /2 channels/);
    assert.throws(() => toModelInput(img, { height: 1, width: 2, channels: 3, preset: 'imagenet' as 'raw' }), /unknown preprocessing "imagenet"/);
  });
});
