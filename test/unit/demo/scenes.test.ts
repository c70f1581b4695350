import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../../src/engine/backend';
import { SHAPE_CLASSES, mulberry32, randomScene, randomSceneSpec, renderScene, renderSceneWithBoxes, resizeImage, shapeSdf, toUnitRgb, type RgbaImage, type SceneSpec } from '../../../src/demo/scenes';

function pixel(image: RgbaImage, x: number, y: number): number[] {
  const i = (y * image.width + x) * 4;
  return Array.from(image.data.slice(i, i + 4));
}

/** A scene with one object on a flat grey background, no clutter, no grain. */
function plainScene(shape: (typeof SHAPE_CLASSES)[number], cx: number, cy: number, radius: number, rotation = 0): SceneSpec {
  return {
    background: { color0: [128, 128, 128], color1: [128, 128, 128], gradientAngle: 0, pattern: 'plain', patternAmplitude: 0, patternFrequency: 1, patternAngle: 0, grain: 0 },
    clutter: [],
    objects: [{ shape, cx, cy, radius, rotation, color: [250, 20, 10], shade: 0, shadeAngle: 0 }],
    noiseSeed: 1,
  };
}

describe('demo scenes: seeded PRNG', () => {
  it('mulberry32 repeats for a seed, differs between seeds, and is roughly uniform in [0, 1)', () => {
    const a = mulberry32(42);
    const b = mulberry32(42);
    const c = mulberry32(43);
    const xs = Array.from({ length: 20000 }, () => a());
    const ys = Array.from({ length: 20000 }, () => b());
    assert.deepEqual(xs, ys);
    assert.notDeepEqual(xs.slice(0, 10), Array.from({ length: 10 }, () => c()));
    assert.ok(xs.every((x) => x >= 0 && x < 1));
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
    assert.ok(Math.abs(mean - 0.5) < 0.01, `mean ${mean}`);
    // Each tenth of [0,1) gets about a tenth of the draws (binomial sd ≈ 42 of 2000).
    const bins = new Array(10).fill(0);
    for (const x of xs) bins[Math.floor(x * 10)]++;
    for (const n of bins) assert.ok(Math.abs(n - 2000) < 200, `bins ${bins}`);
  });
});

describe('demo scenes: generator', () => {
  it('is deterministic for a seed and different for another seed', () => {
    const s1 = randomScene(mulberry32(7), { objects: 2 });
    const s2 = randomScene(mulberry32(7), { objects: 2 });
    const s3 = randomScene(mulberry32(8), { objects: 2 });
    assert.deepEqual(s1.spec, s2.spec);
    assert.deepEqual(s1.objects, s2.objects);
    assert.deepEqual(Buffer.from(s1.image.data), Buffer.from(s2.image.data));
    assert.notDeepEqual(Buffer.from(s1.image.data), Buffer.from(s3.image.data));
  });

  it('renders opaque RGBA at the requested size', () => {
    const s = randomScene(mulberry32(3), { objects: 1, size: 96 });
    assert.equal(s.image.width, 96);
    assert.equal(s.image.height, 96);
    assert.equal(s.image.data.length, 96 * 96 * 4);
    for (let i = 3; i < s.image.data.length; i += 4) assert.equal(s.image.data[i], 255);
  });

  it('draws every class and uses only known labels; two-object scenes have two different, separate objects', () => {
    const rng = mulberry32(11);
    const seen = new Set<string>();
    for (let k = 0; k < 200; k++) {
      const s = randomScene(rng, { objects: 2, size: 64 });
      assert.equal(s.objects.length, 2);
      assert.notEqual(s.objects[0].label, s.objects[1].label);
      for (const o of s.objects) {
        seen.add(o.label);
        assert.equal(SHAPE_CLASSES[o.classIndex], o.label);
      }
      // The objects' bounding circles are disjoint, and each box lies within its object's bounding square.
      const [p, q] = s.spec.objects;
      assert.ok(Math.hypot(p.cx - q.cx, p.cy - q.cy) > p.radius + q.radius, 'objects overlap');
      s.spec.objects.forEach((o, k) => {
        const b = s.objects[k].box;
        const lo = (c: number) => (c - o.radius) * 64 - 1;
        const hi = (c: number) => (c + o.radius) * 64 + 1;
        assert.ok(b.x >= lo(o.cx) && b.x + b.width <= hi(o.cx) && b.y >= lo(o.cy) && b.y + b.height <= hi(o.cy), `box ${JSON.stringify(b)} outside ${JSON.stringify(o)}`);
      });
    }
    assert.deepEqual([...seen].sort(), [...SHAPE_CLASSES].sort());
  });

  it('gives a box that matches the drawn circle (closed form: diameter 2 · 0.92 · radius · size) and anti-aliases its edge', () => {
    const size = 100;
    const r = renderSceneWithBoxes(plainScene('circle', 0.5, 0.4, 0.253), size);
    const want = 2 * 0.92 * 0.253 * size; // 46.6 px: the edge falls inside pixels, not on their borders
    const box = r.objects[0].box;
    assert.ok(Math.abs(box.width - want) <= 2, `width ${box.width} vs ${want}`);
    assert.ok(Math.abs(box.height - want) <= 2, `height ${box.height} vs ${want}`);
    assert.ok(Math.abs(box.x + box.width / 2 - 50) <= 1 && Math.abs(box.y + box.height / 2 - 40) <= 1, JSON.stringify(box));
    // Inside: the object colour; outside: the background; at the edge: a blend (anti-aliasing).
    assert.deepEqual(pixel(r.image, 50, 40), [250, 20, 10, 255]);
    assert.deepEqual(pixel(r.image, 5, 5), [128, 128, 128, 255]);
    let blended = 0;
    for (let x = 0; x < size; x++) {
      const red = pixel(r.image, x, 40)[0];
      if (red > 130 && red < 248) blended++;
    }
    assert.ok(blended >= 2 && blended <= 4, `edge pixels on a row: ${blended}`); // one or two per side
  });

  it('covers about the area of each shape (pixel coverage vs. a fine point count of its signed distance)', () => {
    for (const shape of SHAPE_CLASSES) {
      const size = 128;
      const img = renderScene(plainScene(shape, 0.5, 0.5, 0.3, 0.4), size);
      let covered = 0;
      for (let i = 0; i < size * size; i++) covered += (img.data[i * 4 + 1] - 128) / (20 - 128); // green channel: 128 → 20
      // Independent estimate: sample the local frame on a fine grid (area in local units × scale²).
      let inside = 0;
      const n = 400;
      for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) if (shapeSdf(shape, -1.1 + (2.2 * (i + 0.5)) / n, -1.1 + (2.2 * (j + 0.5)) / n) < 0) inside++;
      const area = (inside / (n * n)) * 2.2 * 2.2 * (0.3 * size) ** 2;
      assert.ok(Math.abs(covered - area) / area < 0.02, `${shape}: ${covered.toFixed(0)} px vs ${area.toFixed(0)}`);
    }
  });

  it('keeps shapes inside the unit circle of their local frame', () => {
    for (const shape of SHAPE_CLASSES) {
      for (let k = 0; k < 360; k++) {
        const a = (2 * Math.PI * k) / 360;
        assert.ok(shapeSdf(shape, 1.01 * Math.cos(a), 1.01 * Math.sin(a)) > 0, `${shape} reaches past radius 1 at ${k}°`);
      }
    }
  });

  it('renders one spec at two sizes consistently (box scales with the size)', () => {
    const spec = randomSceneSpec(mulberry32(5), { objects: 2, classes: ['star', 'ring'] });
    const small = renderSceneWithBoxes(spec, 64).objects;
    const big = renderSceneWithBoxes(spec, 128).objects;
    for (let k = 0; k < 2; k++) {
      assert.equal(small[k].label, big[k].label);
      assert.ok(Math.abs(2 * small[k].box.x - big[k].box.x) <= 2);
      assert.ok(Math.abs(2 * small[k].box.width - big[k].box.width) <= 3);
    }
  });

  it('rejects bad options with a one-line message', () => {
    assert.throws(() => randomScene(mulberry32(1), { objects: 3 as 1 }), /objects must be 1 or 2/);
    assert.throws(() => randomScene(mulberry32(1), { objects: 2, classes: ['star'] }), /2 object\(s\) but 1 classes/);
    assert.throws(() => renderScene(randomSceneSpec(mulberry32(1), { objects: 1 }), 0), /size must be an integer/);
  });
});

describe('demo scenes: image helpers', () => {
  before(async () => {
    await initBackend('auto');
  });

  it('toUnitRgb divides by 255 and drops alpha', () => {
    const img: RgbaImage = { width: 2, height: 1, data: new Uint8ClampedArray([255, 0, 51, 255, 102, 204, 0, 7]) };
    assert.deepEqual(Array.from(toUnitRgb(img)).map((v) => Math.round(v * 255)), [255, 0, 51, 102, 204, 0]);
  });

  it('bilinear resize agrees with tf.image.resizeBilinear', () => {
    const img = randomScene(mulberry32(9), { objects: 1, size: 100 }).image;
    const ours = resizeImage(img, 64, 48);
    const theirs = tf.tidy(() => {
      const t = tf.tensor3d(Float32Array.from(img.data), [100, 100, 4]);
      return tf.image.resizeBilinear(t, [48, 64]).dataSync();
    });
    let maxDiff = 0;
    for (let i = 0; i < ours.data.length; i++) maxDiff = Math.max(maxDiff, Math.abs(ours.data[i] - theirs[i]));
    assert.ok(maxDiff <= 1, `max difference ${maxDiff}`); // rounding to bytes only
  });

  it('box resize averages: a 2×2 checker becomes its mean grey', () => {
    const data = new Uint8ClampedArray(4 * 4 * 4);
    for (let y = 0; y < 4; y++) for (let x = 0; x < 4; x++) data.fill((x + y) % 2 ? 200 : 0, (y * 4 + x) * 4, (y * 4 + x) * 4 + 3);
    for (let i = 3; i < data.length; i += 4) data[i] = 255;
    const out = resizeImage({ width: 4, height: 4, data }, 2, 2, 'box');
    assert.deepEqual(Array.from(out.data), [100, 100, 100, 255, 100, 100, 100, 255, 100, 100, 100, 255, 100, 100, 100, 255]);
  });
});
