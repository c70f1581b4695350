// Forward passes that compute only the part of each layer a changed rectangle reaches
// (src/engine/model/regionRun.ts), against tfjs-layers' own predict on the changed images: every kind of
// layer geometry the runner knows (zero padding, cropping, 'same' and 'valid' convolutions with strides,
// dilation, depthwise and separable convolutions, max pooling with −∞ padding, 'same' and 'valid' average pooling, folded batch
// norms, residual sums of different rectangles, concatenation, a squeeze-and-excitation product of a 1×1
// map), at the borders and in the middle; occlusion through the runner against a per-patch loop.
import { strict as assert } from 'node:assert';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { initBackend } from '../../../src/engine/backend';
import { explain } from '../../../src/engine/explain';
import { Network } from '../../../src/engine/model/network';
import { RegionRunner } from '../../../src/engine/model/regionRun';
import { makeRng } from '../../../src/engine/random';
import { maxAbs, maxAbsDiff } from '../helpers';
import { predictRow, randomImage, seeded, wrap } from './methodModels';

type Sym = tfl.SymbolicTensor;
const on = (layer: tfl.layers.Layer, x: Sym | Sym[]) => layer.apply(x) as Sym;
let seed = 100;
const init = (stddev = 0.4) => seeded(seed++, stddev);
const conv = (filters: number, kernelSize: number, strides: number, padding: 'same' | 'valid', extra: Record<string, unknown> = {}) =>
  tfl.layers.conv2d({ filters, kernelSize, strides, padding, kernelInitializer: init(), biasInitializer: init(0.2), ...extra });
/** A batch norm with statistics far from the identity, so that folding it shows. */
const batchNorm = () =>
  tfl.layers.batchNormalization({ gammaInitializer: init(0.5), betaInitializer: init(0.5), movingMeanInitializer: init(0.5), movingVarianceInitializer: tfl.initializers.constant({ value: 1.7 }) });

/** Zero padding, a 'valid' stride-2 convolution, batch norm + ReLU6, depthwise and 1×1 branches summed, max pooling, dilated and separable convolutions, a concatenation, a 'same' stride-2 convolution, GAP and a linear dense head. */
function mobileLike(s: number): tfl.LayersModel {
  const input = tfl.input({ shape: [s, s, 3] });
  let x = on(tfl.layers.zeroPadding2d({ padding: [[1, 2], [0, 1]] }), input);
  x = on(conv(6, 3, 2, 'valid'), x);
  x = on(tfl.layers.reLU({ maxValue: 6 }), on(batchNorm(), x));
  const a = on(tfl.layers.reLU(), on(batchNorm(), on(tfl.layers.depthwiseConv2d({ kernelSize: 3, depthMultiplier: 2, padding: 'same', depthwiseInitializer: init(), useBias: false }), x)));
  const b = on(conv(12, 1, 1, 'same'), x);
  x = on(tfl.layers.leakyReLU({ alpha: 0.2 }), on(tfl.layers.add(), [a, b]));
  // After a leaky ReLU the maps have negative values: zero padding in place of −∞ would change the maxima.
  x = on(tfl.layers.maxPooling2d({ poolSize: 3, strides: 2, padding: 'same' }), x);
  x = on(conv(8, 3, 1, 'same', { dilationRate: 2, activation: 'relu' }), x);
  const sep = on(tfl.layers.separableConv2d({ filters: 8, kernelSize: 3, padding: 'same', depthwiseInitializer: init(), pointwiseInitializer: init(), biasInitializer: init(0.2) }), x);
  const wide = on(conv(5, 5, 1, 'same', { activation: 'tanh' }), x);
  x = on(tfl.layers.concatenate(), [sep, wide]);
  x = on(conv(9, 3, 2, 'same', { activation: 'relu' }), x);
  x = on(tfl.layers.globalAveragePooling2d({}), x);
  return tfl.model({ inputs: input, outputs: on(tfl.layers.dense({ units: 4, kernelInitializer: init(), biasInitializer: init() }), x) });
}

/** Cropping, 'same' and 'valid' average pooling, a 'same' stride-2 convolution of an odd size, 'valid' max pooling, Flatten and a dense head. */
function cropPool(s: number): tfl.LayersModel {
  const input = tfl.input({ shape: [s, s, 3] });
  let x = on(conv(4, 3, 1, 'same', { activation: 'elu' }), input);
  x = on(tfl.layers.cropping2D({ cropping: [[1, 0], [2, 1]] }), x);
  // 'same' average pooling divides by the inputs inside the map (Inception's branches).
  x = on(tfl.layers.averagePooling2d({ poolSize: 3, strides: 1, padding: 'same' }), x);
  x = on(tfl.layers.averagePooling2d({ poolSize: 2, strides: 2, padding: 'valid' }), x);
  x = on(tfl.layers.averagePooling2d({ poolSize: 3, strides: 2, padding: 'same' }), x);
  x = on(conv(5, 3, 2, 'same'), x);
  x = on(tfl.layers.maxPooling2d({ poolSize: 2, strides: 1, padding: 'valid' }), x);
  x = on(tfl.layers.flatten(), x);
  return tfl.model({ inputs: input, outputs: on(tfl.layers.dense({ units: 3, kernelInitializer: init(0.2), biasInitializer: init() }), x) });
}

/** A squeeze-and-excitation block: the map times a per-channel gate computed from its global average (a 1×1 map). */
function squeezeExcite(s: number): tfl.LayersModel {
  const input = tfl.input({ shape: [s, s, 3] });
  const x = on(conv(6, 3, 1, 'same', { activation: 'relu' }), input);
  let g = on(tfl.layers.globalAveragePooling2d({}), x);
  g = on(tfl.layers.dense({ units: 6, activation: 'sigmoid', kernelInitializer: init(), biasInitializer: init() }), g);
  g = on(tfl.layers.reshape({ targetShape: [1, 1, 6] }), g);
  let y = on(tfl.layers.multiply(), [x, g]);
  y = on(conv(4, 3, 2, 'same'), y);
  y = on(tfl.layers.globalAveragePooling2d({}), y);
  return tfl.model({ inputs: input, outputs: on(tfl.layers.dense({ units: 3, kernelInitializer: init(), biasInitializer: init() }), y) });
}

/** x with, in copy p, the rectangle at (ys[p], xs[p]) of size h×w taken from fill: [n, H, W, C]. */
function patched(x: tf.Tensor4D, fill: tf.Tensor4D, ys: number[], xs: number[], h: number, w: number): tf.Tensor4D {
  const [, H, W, C] = x.shape;
  const xd = x.dataSync();
  const fd = fill.dataSync();
  const out = new Float32Array(ys.length * H * W * C);
  ys.forEach((py, p) => {
    out.set(xd, p * H * W * C);
    for (let y = py; y < py + h; y++) for (let xx = xs[p]; xx < xs[p] + w; xx++) for (let c = 0; c < C; c++) out[((p * H + y) * W + xx) * C + c] = fd[(y * W + xx) * C + c];
  });
  return tf.tensor4d(out, [ys.length, H, W, C]);
}

describe('forward passes over the region a change reaches (regionRun)', function () {
  this.timeout(120000);
  before(async () => {
    await initBackend((process.env.CNN_LENS_BACKEND as 'wasm' | 'cpu' | undefined) ?? 'auto');
  });

  for (const [name, make, s] of [
    ['mobile-like', mobileLike, 29],
    ['crop and pool', cropPool, 26],
    ['squeeze-and-excitation', squeezeExcite, 16],
  ] as const) {
    it(`${name}: the logits of images changed in rectangles (borders, corners, middle; 1 px to a third of the image) equal tfjs-layers' predict`, () => {
      const model = make(s);
      const net = new Network(model);
      const x = randomImage(1, s, s);
      const fill = randomImage(2, s, s);
      tf.tidy(() => void net.run(x)); // the network's own constants (folded batch norms), made on its first pass
      const before = tf.memory().numTensors;
      let keptAfterFirst = -1;
      const runner = RegionRunner.create(net, x)!;
      assert.ok(runner, 'the runner takes an NHWC model');
      const rng = makeRng(3);
      const int = (n: number) => Math.floor(rng() * n);
      for (const [h, w] of [[1, 1], [3, 5], [Math.ceil(s / 3), Math.ceil(s / 4)], [s, 2]]) {
        // Corners and edges first, then random places.
        const ys = [0, 0, s - h, s - h, int(s - h + 1), int(s - h + 1), int(s - h + 1)];
        const xs = [0, s - w, 0, s - w, int(s - w + 1), int(s - w + 1), 0];
        const got = tf.tidy(() => runner.logits(fill, ys, xs, h, w).dataSync());
        const batch = patched(x, fill, ys, xs, h, w);
        const want = tf.tidy(() => (model.predict(batch) as tf.Tensor).dataSync());
        batch.dispose();
        assert.equal(got.length, want.length);
        assert.ok(maxAbsDiff(got, want) < 1e-4 * Math.max(1, maxAbs(want)), `${h}×${w}: max diff ${maxAbsDiff(got, want)} of ${maxAbs(want)}`);
        // The change reached the logits (some rectangles differ; a corner a cropping removes may not).
        const k = want.length / ys.length;
        assert.ok(ys.some((_, p) => maxAbsDiff(want.slice(0, k), want.slice(p * k, p * k + k)) > 0));
        // The runner keeps its flattened baselines after the first call, and nothing after that.
        if (h === 1) keptAfterFirst = tf.memory().numTensors;
      }
      assert.equal(tf.memory().numTensors, keptAfterFirst, 'no tensors left by logits()');
      runner.dispose();
      assert.equal(tf.memory().numTensors, before, 'dispose() frees what the runner kept');
      x.dispose();
      fill.dispose();
      net.dispose();
    });
  }

  it('the share of work left: small for a small patch on a deep convolutional model, all of it for a model that flattens its input first', () => {
    const net = new Network(mobileLike(29));
    const x = randomImage(4, 29, 29);
    const runner = RegionRunner.create(net, x)!;
    const small = runner.work(3, 3, 13, 13).share;
    const large = runner.work(20, 20, 4, 4).share;
    assert.ok(small > 0 && small < large && large <= 1, `3×3: ${small}, 20×20: ${large}`);
    runner.dispose();
    net.dispose();

    const input = tfl.input({ shape: [8, 8, 3] });
    const flat = tfl.model({ inputs: input, outputs: on(tfl.layers.dense({ units: 2, kernelInitializer: init() }), on(tfl.layers.flatten(), input)) });
    const fnet = new Network(flat);
    const fx = randomImage(5, 8, 8);
    const frunner = RegionRunner.create(fnet, fx)!;
    assert.equal(frunner.work(2, 2, 3, 3).share, 1);
    frunner.dispose();
    fnet.dispose();
    x.dispose();
    fx.dispose();
  });

  it('occlusion through the runner equals a per-patch loop of predict, and leaks no tensors', () => {
    const model = mobileLike(29);
    const lm = wrap(model, 'regions');
    const x = randomImage(6, 29, 29);
    const saved = process.env.CNN_LENS_OCCLUSION_REGIONS;
    process.env.CNN_LENS_OCCLUSION_REGIONS = 'on';
    try {
      const before = tf.memory().numTensors;
      // Preset 'unit' makes black 0; patch 7, stride 4 leaves the last row and column uncovered.
      const r = explain(lm, x, { method: 'occlusion', classes: [2], preprocess: 'unit', options: { patch: 7, stride: 4, batchSize: 5 } }).explanations[0];
      assert.equal(tf.memory().numTensors, before);
      const [, H, W] = x.shape;
      const y0 = predictRow(model, x)[2];
      const sum = new Float64Array(H * W);
      const count = new Float64Array(H * W);
      const black = tf.zeros([1, H, W, 3]) as tf.Tensor4D;
      for (let py = 0; py + 7 <= H; py += 4) {
        for (let px = 0; px + 7 <= W; px += 4) {
          const occ = patched(x, black, [py], [px], 7, 7);
          const drop = y0 - predictRow(model, occ)[2];
          occ.dispose();
          for (let y = py; y < py + 7; y++) {
            for (let xx = px; xx < px + 7; xx++) {
              sum[y * W + xx] += drop;
              count[y * W + xx]++;
            }
          }
        }
      }
      black.dispose();
      const want = sum.map((v, i) => (count[i] ? v / count[i] : 0));
      assert.ok(maxAbs(want) > 0);
      assert.ok(maxAbsDiff(r.map, want) < 1e-4 * Math.max(1, maxAbs(want)), `max diff ${maxAbsDiff(r.map, want)}`);
    } finally {
      if (saved === undefined) delete process.env.CNN_LENS_OCCLUSION_REGIONS;
      else process.env.CNN_LENS_OCCLUSION_REGIONS = saved;
    }
    x.dispose();
    lm.dispose();
  });
});
