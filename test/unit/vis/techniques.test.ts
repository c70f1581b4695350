// Activations, filters, activation maximization, feature inversion and DeepDream on tiny models built here.
// Every objective is checked with tfjs-layers' own forward pass (model.predict on a sub-model), not with
// the engine's graph executor that the optimization used.
import { strict as assert } from 'node:assert';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { initBackend } from '../../../src/engine/backend';
import { CancelledError } from '../../../src/engine/errors';
import type { RgbaImage } from '../../../src/engine/image/decode';
import { wrapLayersModel, type LoadedModel } from '../../../src/engine/model/loadModel';
import { makeRng } from '../../../src/engine/random';
import { defaultDreamLayers, dream, filterWeights, invert, layerActivations, maximize, maximizeRange } from '../../../src/engine/vis';

const S = 16;

function seeded(seed: number, stddev = 0.5) {
  return tfl.initializers.randomNormal({ mean: 0, stddev, seed });
}

/**
 * conv 'c1' (relu) → conv 'c2' (relu) → GAP → dense (softmax). Runs at any input size up to c2. Negative
 * biases make the units detectors, as in trained networks: noise excites them little, a pattern a lot,
 * and on a flat gray image c2 is silent (zero gradient after its built-in ReLU).
 */
function convModel(): tfl.LayersModel {
  const input = tfl.input({ shape: [S, S, 3] });
  const c1 = tfl.layers.conv2d({ filters: 8, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: seeded(1), biasInitializer: tfl.initializers.constant({ value: -0.5 }), name: 'c1' }).apply(input) as tfl.SymbolicTensor;
  const c2 = tfl.layers.conv2d({ filters: 8, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu', kernelInitializer: seeded(2, 0.3), biasInitializer: tfl.initializers.constant({ value: -2 }), name: 'c2' }).apply(c1) as tfl.SymbolicTensor;
  const gap = tfl.layers.globalAveragePooling2d({ name: 'gap' }).apply(c2) as tfl.SymbolicTensor;
  const out = tfl.layers.dense({ units: 3, activation: 'softmax', kernelInitializer: seeded(3), name: 'out' }).apply(gap) as tfl.SymbolicTensor;
  return tfl.model({ inputs: input, outputs: out });
}

/** conv → separate ReLU layer 'r1' → depthwise → flatten → dense: the logits need the 12×12 input. */
function flatModel(bias = 0): tfl.LayersModel {
  return tfl.sequential({
    layers: [
      tfl.layers.conv2d({ inputShape: [12, 12, 3], filters: 6, kernelSize: 3, padding: 'same', kernelInitializer: seeded(4), biasInitializer: tfl.initializers.constant({ value: bias }), name: 'fc1' }),
      tfl.layers.reLU({ name: 'r1' }),
      tfl.layers.depthwiseConv2d({ kernelSize: 3, padding: 'same', depthwiseInitializer: seeded(6), name: 'dw' }),
      tfl.layers.flatten(),
      tfl.layers.dense({ units: 2, kernelInitializer: seeded(5, 0.1), name: 'head' }),
    ],
  });
}

/** dense → reshape → conv 'fc' (relu): a 4-D layer that exists at the trained input size only. */
function reshapeModel(): tfl.LayersModel {
  return tfl.sequential({
    layers: [
      tfl.layers.flatten({ inputShape: [8, 8, 1] }),
      tfl.layers.dense({ units: 8 * 8 * 2, kernelInitializer: seeded(7, 0.2), name: 'd' }),
      tfl.layers.reshape({ targetShape: [8, 8, 2] }),
      tfl.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: seeded(8), name: 'fc' }),
    ],
  });
}

function wrap(m: tfl.LayersModel, name: string): LoadedModel {
  // No metadata beside a nonexistent file: preprocessing 'unit' (x/255), inputs in [0, 1].
  return wrapLayersModel(m, `/nonexistent/${name}/model.json`);
}

/** The output of `layer` computed by tfjs-layers itself. */
function layerOutput(m: tfl.LayersModel, layer: string, x: tf.Tensor): tf.Tensor {
  const sub = tfl.model({ inputs: m.inputs, outputs: m.getLayer(layer).output as tfl.SymbolicTensor });
  return sub.predict(x) as tf.Tensor;
}

function channelMean(m: tfl.LayersModel, layer: string, x: tf.Tensor, k: number): number {
  return tf.tidy(() => {
    const a = layerOutput(m, layer, x);
    return tf.mean(tf.slice(a, [0, 0, 0, k], [a.shape[0], a.shape[1] as number, a.shape[2] as number, 1])).dataSync()[0];
  });
}

function uniformNoise(seed: number, n: number, h: number, w: number, c = 3): tf.Tensor4D {
  const rng = makeRng(seed);
  return tf.tensor4d(Float32Array.from({ length: n * h * w * c }, () => rng()), [n, h, w, c]);
}

/** A smooth, photo-like RGBA test image. */
function smoothImage(w: number, h: number): RgbaImage {
  const data = new Uint8ClampedArray(w * h * 4);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = (y * w + x) * 4;
      data[i] = 128 + 100 * Math.sin(x / 3);
      data[i + 1] = 128 + 100 * Math.cos(y / 4);
      data[i + 2] = 128 + 60 * Math.sin((x + y) / 5);
      data[i + 3] = 255;
    }
  }
  return { width: w, height: h, data };
}

const bytes = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

describe('feature visualization on tiny models', function () {
  this.timeout(120000);
  let m: tfl.LayersModel;
  let lm: LoadedModel;
  before(async () => {
    await initBackend(process.env.CNN_LENS_BACKEND as any ?? 'auto');
    m = convModel();
    lm = wrap(m, 'conv');
  });
  after(() => lm.dispose());

  it('activations equal the layer output from tfjs-layers', () => {
    const x = uniformNoise(1, 1, S, S);
    const r = layerActivations(lm, x, 'c2');
    assert.equal(r.layer, 'c2');
    assert.deepEqual(r.shape, [S / 2, S / 2, 8]);
    const expected = tf.tidy(() => layerOutput(m, 'c2', x).dataSync());
    assert.equal(r.data.length, expected.length);
    for (let i = 0; i < expected.length; i++) assert.ok(Math.abs(r.data[i] - expected[i]) < 1e-5);
    assert.throws(() => layerActivations(lm, x, 'gap'), /4-D/);
    assert.throws(() => layerActivations(lm, x, 'nope'), /no layer named 'nope'/);
    x.dispose();
  });

  it('filters return the stored kernel; the first layer as colour tiles, deeper ones per filter', () => {
    const f1 = filterWeights(lm, 'c1');
    assert.equal(f1.kind, 'rgb');
    assert.deepEqual(f1.shape, [3, 3, 3, 8]);
    assert.deepEqual(Array.from(f1.kernel), Array.from(m.getLayer('c1').getWeights()[0].dataSync()));
    assert.equal(f1.tiles.length, 8);
    // Tile of filter 0, pixel (0, 0), red channel: 127.5 + 127.5·w/max|w| over the filter.
    const k = m.getLayer('c1').getWeights()[0].dataSync();
    let maxAbs = 0;
    for (let i = 0; i < 27; i++) maxAbs = Math.max(maxAbs, Math.abs(k[i * 8]));
    assert.equal(f1.tiles[0].data[0], Math.round(127.5 + (127.5 * k[0]) / maxAbs));
    const f2 = filterWeights(lm, 'c2');
    assert.equal(f2.kind, 'spatial');
    assert.equal(f2.tiles.length, 8);
    assert.equal(f2.tiles[0].width, 3);
    const flm = wrap(flatModel(), 'flat');
    assert.equal(filterWeights(flm, 'dw').kind, 'depthwise');
    assert.equal(filterWeights(flm, 'dw').tiles.length, 6);
    assert.throws(() => filterWeights(flm, 'head'), /Conv2D, DepthwiseConv2D/);
    flm.dispose();
  });

  it("maximize raises a channel's mean activation to ≥ 10× its value on random noise, from a start where it is silent", () => {
    const noise = uniformNoise(7, 8, S, S);
    const gray = tf.fill([1, S, S, 3], 0.5);
    for (const k of [0, 1]) {
      const onNoise = channelMean(m, 'c2', noise, k);
      assert.ok(onNoise > 0, `channel ${k} is active on noise (${onNoise})`);
      assert.equal(channelMean(m, 'c2', gray, k), 0, `channel ${k} is silent on gray`);
      // Default parameterization and transformations; a larger step for the short run.
      const r = maximize(lm, { layer: 'c2', channel: k, steps: 150, lr: 0.1, seed: 1 });
      assert.deepEqual(r.shape, [S, S, 3]);
      assert.ok(r.data.every((v) => v >= 0 && v <= 1), 'a valid image in model space (unit preset: 0..1)');
      const x = tf.tensor4d(r.data, [1, S, S, 3]);
      const after = channelMean(m, 'c2', x, k);
      x.dispose();
      assert.ok(after >= 10 * onNoise, `channel ${k}: mean activation ${after} vs ${onNoise} on noise`);
      assert.ok(Math.abs(after - r.objective) < 1e-4 * Math.max(1, after), 'the reported objective is the activation');
    }
    tf.dispose([noise, gray]);
  });

  it('maximize works with the pixel parameterization and for a neuron', () => {
    const px = maximize(lm, { layer: 'c1', channel: 5, steps: 60, seed: 2, param: 'pixel' });
    const noise = uniformNoise(8, 8, S, S);
    const onNoise = channelMean(m, 'c1', noise, 5);
    const x = tf.tensor4d(px.data, [1, S, S, 3]);
    assert.ok(channelMean(m, 'c1', x, 5) > 3 * onNoise, `${channelMean(m, 'c1', x, 5)} vs ${onNoise}`);
    // Neuron (y, x, k) of c2: its value beats the same unit's best over 8 noise images.
    const nr = maximize(lm, { layer: 'c2', neuron: [4, 3, 1], steps: 60, seed: 3 });
    const unit = (t: tf.Tensor) => tf.tidy(() => tf.max(tf.slice(layerOutput(m, 'c2', t), [0, 4, 3, 1], [t.shape[0], 1, 1, 1])).dataSync()[0]);
    const xn = tf.tensor4d(nr.data, [1, S, S, 3]);
    assert.ok(unit(xn) > 2 * unit(noise), `neuron ${unit(xn)} vs best on noise ${unit(noise)}`);
    tf.dispose([noise, x, xn]);
  });

  it('maximize: same seed gives byte-identical images, another seed a different one; tensors do not leak', () => {
    const opts = { layer: 'c2', channel: 1, steps: 12 };
    const a = maximize(lm, { ...opts, seed: 5 });
    const before = tf.memory().numTensors;
    const b = maximize(lm, { ...opts, seed: 5 });
    const c = maximize(lm, { ...opts, seed: 6 });
    assert.equal(tf.memory().numTensors, before);
    assert.ok(bytes(a.data).equals(bytes(b.data)));
    assert.ok(!bytes(a.data).equals(bytes(c.data)));
    assert.ok(Buffer.from(a.rgba.data).equals(Buffer.from(b.rgba.data)));
  });

  it('maximize reports steps and frames, and stops between steps when cancelled', () => {
    const steps: number[] = [];
    const frames: number[] = [];
    maximize(lm, { layer: 'c1', channel: 0, steps: 7 }, { onStep: (s, total) => steps.push(s * 100 + total), onFrame: (img, s) => { assert.equal(img.width, S); frames.push(s); }, frameEvery: 3 });
    assert.deepEqual(steps, [107, 207, 307, 407, 507, 607, 707]);
    assert.deepEqual(frames, [3, 6, 7]);
    const before = tf.memory().numTensors;
    let n = 0;
    assert.throws(() => maximize(lm, { layer: 'c1', channel: 0, steps: 50 }, { isCancelled: () => ++n > 4 }), CancelledError);
    assert.equal(n, 5);
    assert.equal(tf.memory().numTensors, before);
  });

  it('maximizeRange streams one tile per channel; batched rows match single runs', () => {
    const tiles: number[] = [];
    const rs = maximizeRange(lm, { layer: 'c2', first: 2, last: 4, steps: 8, seed: 9, batch: 2 }, {}, (i, r) => {
      tiles.push(i);
      assert.match(r.target, new RegExp(`channel ${2 + i} `));
    });
    assert.deepEqual(tiles, [0, 1, 2]);
    assert.equal(rs.length, 3);
    // Channel 3 ran as row 1 of a batch of two: the same result up to float rounding of batched kernels.
    const three = maximize(lm, { layer: 'c2', channel: 3, steps: 8, seed: 9 });
    let diff = 0;
    for (let i = 0; i < three.data.length; i++) diff = Math.max(diff, Math.abs(three.data[i] - rs[1].data[i]));
    assert.ok(diff < 1e-4, `max difference ${diff}`);
    assert.ok(Math.abs(three.objective - rs[1].objective) < 1e-4 * Math.max(1, three.objective));
    // Channel 4 ran alone in the last batch: byte for byte a single run.
    const four = maximize(lm, { layer: 'c2', channel: 4, steps: 8, seed: 9 });
    assert.ok(bytes(four.data).equals(bytes(rs[2].data)));
    assert.throws(() => maximizeRange(lm, { layer: 'c2', first: 6, last: 9 }), /channel 9 is out of range: layer 'c2' has 8 channels/);
  });

  it('maximize rejects bad targets with one-line errors', () => {
    assert.throws(() => maximize(lm, { layer: 'c2' }), /exactly one target/);
    assert.throws(() => maximize(lm, { layer: 'c2', channel: 8 }), /channel 8 is out of range/);
    assert.throws(() => maximize(lm, { classIndex: 7 }), /class 7 is out of range/);
    assert.throws(() => maximize(lm, { layer: 'c2', neuron: [40, 0, 0], steps: 2 }), /outside the 8×8 output/);
  });

  it('invert brings the activations within 0.3 relative L2 distance of the target image', () => {
    const img = smoothImage(S, S);
    const r = invert(lm, img, { layer: 'c1', steps: 150, seed: 1 });
    const target = tf.tensor4d(Float32Array.from({ length: S * S * 3 }, (_, i) => img.data[Math.floor(i / 3) * 4 + (i % 3)] / 255), [1, S, S, 3]);
    const result = tf.tensor4d(r.data, [1, S, S, 3]);
    const rel = tf.tidy(() => {
      const a = layerOutput(m, 'c1', result);
      const t = layerOutput(m, 'c1', target);
      return tf.div(tf.norm(tf.sub(a, t)), tf.norm(t)).dataSync()[0];
    });
    // The same measure from noise, to know the optimization did the work.
    const noise = uniformNoise(3, 1, S, S);
    const relNoise = tf.tidy(() => tf.div(tf.norm(tf.sub(layerOutput(m, 'c1', noise), layerOutput(m, 'c1', target))), tf.norm(layerOutput(m, 'c1', target))).dataSync()[0]);
    assert.ok(rel < 0.3, `relative distance ${rel} (noise: ${relNoise})`);
    assert.ok(Math.abs(rel - r.relativeDistance) < 1e-3, `reported ${r.relativeDistance}, measured ${rel}`);
    assert.ok(relNoise > 0.3);
    const before = tf.memory().numTensors;
    const again = invert(lm, img, { layer: 'c1', steps: 150, seed: 1 });
    assert.equal(tf.memory().numTensors, before);
    assert.ok(bytes(again.data).equals(bytes(r.data)));
    tf.dispose([target, result, noise]);
  });

  it("dream grows the chosen layer's L2 norm ≥ 3× over octaves; same seed, same bytes; no leaks", () => {
    const img = smoothImage(S, S);
    const run = () => dream(lm, img, { layers: ['c2'], octaves: 2, octaveScale: 1.4, steps: 20, stepSize: 0.03, seed: 2, size: S });
    const r = run();
    assert.deepEqual(r.shape, [S, S, 3]);
    assert.deepEqual(r.octaveSizes, [[11, 11], [S, S]]);
    const x0 = tf.tensor4d(Float32Array.from({ length: S * S * 3 }, (_, i) => img.data[Math.floor(i / 3) * 4 + (i % 3)] / 255), [1, S, S, 3]);
    const x1 = tf.tensor4d(r.data, [1, S, S, 3]);
    const norm = (t: tf.Tensor) => tf.tidy(() => tf.norm(layerOutput(m, 'c2', t)).dataSync()[0]);
    const gain = norm(x1) / norm(x0);
    assert.ok(gain >= 3, `L2 norm gain ${gain}`);
    assert.ok(Math.abs(gain - r.normGain) < 1e-3 * gain, `reported ${r.normGain}, measured ${gain}`);
    const before = tf.memory().numTensors;
    const again = run();
    assert.equal(tf.memory().numTensors, before);
    assert.ok(bytes(again.data).equals(bytes(r.data)));
    tf.dispose([x0, x1]);
  });

  it('dream says how it runs before its first step: the steps per octave after CNN_LENS_MAX_STEPS, the default layer resolved', () => {
    const img = smoothImage(S, S);
    const saved = process.env.CNN_LENS_MAX_STEPS;
    process.env.CNN_LENS_MAX_STEPS = '3';
    try {
      const events: string[] = [];
      let plan: { octaves: number; steps: number; stepsAsked: number; layers: string[]; layersAreDefault: boolean } | undefined;
      let stepCalls = 0;
      let lastTotal = 0;
      const r = dream(lm, img, { octaves: 2, steps: 20, size: S }, {
        onPlan: (p) => {
          events.push('plan');
          plan = p;
        },
        onStep: (_step, total) => {
          events.push('step');
          stepCalls++;
          lastTotal = total;
        },
      });
      assert.ok(plan, 'no plan reported');
      assert.equal(events[0], 'plan', 'the plan comes before the first step');
      assert.equal(events.filter((e) => e === 'plan').length, 1);
      // Counted here: the steps that actually ran, per octave.
      assert.equal(stepCalls, 2 * 3);
      assert.deepEqual({ octaves: plan.octaves, steps: plan.steps, stepsAsked: plan.stepsAsked }, { octaves: 2, steps: stepCalls / 2, stepsAsked: 20 });
      assert.equal(lastTotal, plan.octaves * plan.steps);
      assert.deepEqual(plan.layers, defaultDreamLayers(lm.network!).map((n) => n.path));
      assert.equal(plan.layersAreDefault, true);
      assert.deepEqual(plan.layers, r.layers);
      delete process.env.CNN_LENS_MAX_STEPS;
      let uncapped: { steps: number; stepsAsked: number } | undefined;
      dream(lm, img, { layers: ['c1'], octaves: 1, steps: 4, size: S }, { onPlan: (p) => (uncapped = p) });
      assert.deepEqual(uncapped && { steps: uncapped.steps, stepsAsked: uncapped.stepsAsked }, { steps: 4, stepsAsked: 4 });
    } finally {
      if (saved === undefined) delete process.env.CNN_LENS_MAX_STEPS;
      else process.env.CNN_LENS_MAX_STEPS = saved;
    }
  });

  it('class logits; models tied to their input size: maximize at another size through a resize, dream at the model size', () => {
    const fm = flatModel();
    const flm = wrap(fm, 'flat');
    const r = maximize(flm, { classIndex: 1, steps: 60, size: 24 });
    assert.deepEqual(r.shape, [24, 24, 3], '--raw is at the size optimized');
    const small = tf.tidy(() => tf.image.resizeBilinear(tf.tensor4d(r.data, [1, 24, 24, 3]), [12, 12], false, true));
    const logits = tf.tidy(() => (fm.predict(small) as tf.Tensor).dataSync());
    assert.ok(logits[1] - logits[0] > 1, `logits ${Array.from(logits)}`);
    // r1 comes before the Flatten: it runs at any size, so dreaming keeps the image's own size.
    const img = smoothImage(20, 15);
    assert.deepEqual(dream(flm, img, { layers: ['r1'], octaves: 2, steps: 3 }).shape, [15, 20, 3]);
    const rm = wrap(reshapeModel(), 'reshape');
    const gray: RgbaImage = smoothImage(10, 10);
    const d = dream(rm, gray, { octaves: 3, steps: 12, stepSize: 0.05 });
    assert.deepEqual(d.shape, [8, 8, 1]);
    assert.deepEqual(d.layers, ['fc']);
    assert.ok(d.normGain > 1.3, `gain ${d.normGain}`);
    assert.throws(() => dream(rm, gray, { size: 30 }), /needs its input size 8×8/);
    tf.dispose([small]);
    flm.dispose();
    rm.dispose();
  });

  it('layers ending in a ReLU are optimized before it: a channel that is dead on gray wakes up', () => {
    const fm = flatModel(-1);
    const flm = wrap(fm, 'flat');
    const gray = tf.fill([1, 12, 12, 3], 0.5);
    const noise = uniformNoise(11, 8, 12, 12);
    for (const k of [2, 4]) {
      assert.equal(channelMean(fm, 'r1', gray, k), 0, `channel ${k} is silent everywhere on gray (bias −1)`);
      const mr = maximize(flm, { layer: 'r1', channel: k, steps: 60, lr: 0.1, transforms: { jitter: 0, scale: 0, rotate: 0 } });
      const x = tf.tensor4d(mr.data, [1, 12, 12, 3]);
      const after = channelMean(fm, 'r1', x, k);
      const onNoise = channelMean(fm, 'r1', noise, k);
      x.dispose();
      assert.ok(after > 2 * onNoise && after > 0, `channel ${k}: ${after} vs ${onNoise} on noise`);
    }
    assert.ok(defaultDreamLayers(flm.network!).length >= 1);
    tf.dispose([gray, noise]);
    flm.dispose();
  });
});
