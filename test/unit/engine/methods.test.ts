// Every attribution method against an independent computation: central finite differences, closed
// forms, tfjs-layers' own forward pass, and known properties (completeness, the guided sign rule).
import { strict as assert } from 'node:assert';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { initBackend } from '../../../src/engine/backend';
import { explain } from '../../../src/engine/explain';
import { wrapLayersModel, type LoadedModel } from '../../../src/engine/model/loadModel';
import { inputGradients } from '../../../src/engine/methods/gradients';
import { makeRng } from '../../../src/engine/random';
import { centralDifferences, maxAbs, maxAbsDiff } from '../helpers';

const H = 8;
const W = 8;

function randomImage(seed: number, h = H, w = W, c = 3): tf.Tensor4D {
  const rng = makeRng(seed);
  const d = new Float32Array(h * w * c).map(() => rng() * 2 - 1);
  return tf.tensor4d(d, [1, h, w, c]);
}

function seeded(seed: number) {
  return tfl.initializers.randomNormal({ mean: 0, stddev: 0.5, seed });
}

/** Conv(relu) → Conv(relu) 'last_conv' → GAP → Dense(softmax): a model CAM applies to. */
function gapModel(classes = 3): tfl.LayersModel {
  const input = tfl.input({ shape: [H, W, 3] });
  const c1 = tfl.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: seeded(1), biasInitializer: seeded(2), name: 'conv1' }).apply(input) as tfl.SymbolicTensor;
  const c2 = tfl.layers.conv2d({ filters: 5, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: seeded(3), biasInitializer: seeded(4), name: 'last_conv' }).apply(c1) as tfl.SymbolicTensor;
  const gap = tfl.layers.globalAveragePooling2d({ name: 'gap' }).apply(c2) as tfl.SymbolicTensor;
  const out = tfl.layers.dense({ units: classes, activation: 'softmax', kernelInitializer: seeded(5), biasInitializer: seeded(6), name: 'logits' }).apply(gap) as tfl.SymbolicTensor;
  return tfl.model({ inputs: input, outputs: out });
}

/** A smooth model (tanh, softplus) so that finite differences are accurate everywhere. */
function smoothModel(): tfl.LayersModel {
  return tfl.sequential({
    layers: [
      tfl.layers.conv2d({ inputShape: [6, 6, 3], filters: 3, kernelSize: 3, strides: 2, padding: 'same', activation: 'tanh', kernelInitializer: seeded(11), biasInitializer: seeded(12) }),
      tfl.layers.depthwiseConv2d({ kernelSize: 3, padding: 'same', activation: 'softplus', depthwiseInitializer: seeded(13), biasInitializer: seeded(14) }),
      tfl.layers.batchNormalization({ scale: false, movingMeanInitializer: seeded(15), movingVarianceInitializer: 'ones' }),
      tfl.layers.flatten(),
      tfl.layers.dense({ units: 4, activation: 'softmax', kernelInitializer: seeded(16) }),
    ],
  });
}

function wrap(m: tfl.LayersModel, name: string): LoadedModel {
  return wrapLayersModel(m, `/nonexistent/${name}/model.json`);
}

/** The class-c logit computed by the model's own tfjs-layers forward pass (independent of our graph executor). */
function logitByLayers(model: tfl.LayersModel, x: tf.Tensor, c: number): number {
  return tf.tidy(() => {
    const probs = model.predict(x) as tf.Tensor;
    // softmax output: logit_c - logit_0 = log p_c - log p_0; we compare differences only.
    return tf.log(probs).dataSync()[c];
  });
}

describe('attribution methods', function () {
  this.timeout(120000);
  before(async () => {
    await initBackend(process.env.CNN_LENS_BACKEND as any ?? 'auto');
  });

  it('runs the graph like tfjs-layers does (probabilities match model.predict)', () => {
    const m = gapModel();
    const lm = wrap(m, 'gap');
    const x = randomImage(1);
    const ours = tf.tidy(() => lm.network!.probabilities(lm.network!.logits(x)).dataSync());
    const theirs = tf.tidy(() => (m.predict(x) as tf.Tensor).dataSync());
    assert.ok(maxAbsDiff(ours, theirs) < 1e-5, `max diff ${maxAbsDiff(ours, theirs)}`);
    const sm = smoothModel();
    const ls = wrap(sm, 'smooth');
    const xs = randomImage(2, 6, 6, 3);
    const a = tf.tidy(() => ls.network!.probabilities(ls.network!.logits(xs)).dataSync());
    const b = tf.tidy(() => (sm.predict(xs) as tf.Tensor).dataSync());
    assert.ok(maxAbsDiff(a, b) < 1e-5, `smooth model max diff ${maxAbsDiff(a, b)}`);
    lm.dispose();
    ls.dispose();
  });

  it('reads the logits before the final softmax', () => {
    const m = gapModel();
    const lm = wrap(m, 'gap');
    const x = randomImage(3);
    const logits = tf.tidy(() => lm.network!.logits(x).dataSync());
    // logit differences equal log-probability differences from tfjs-layers' own forward pass
    for (const c of [1, 2]) {
      const expected = logitByLayers(m, x, c) - logitByLayers(m, x, 0);
      assert.ok(Math.abs(logits[c] - logits[0] - expected) < 1e-4);
    }
    lm.dispose();
  });

  it('saliency equals max_c |∂logit/∂x| from central finite differences (smooth model with depthwise conv and scale-less batch norm)', () => {
    const m = smoothModel();
    const lm = wrap(m, 'smooth');
    const x = randomImage(4, 6, 6, 3);
    const cls = 2;
    const f = (d: Float32Array) => tf.tidy(() => lm.network!.logits(tf.tensor4d(d, [1, 6, 6, 3])).dataSync()[cls]);
    const fd = centralDifferences(f, x.dataSync() as Float32Array, 1e-2);
    const r = explain(lm, x, { method: 'saliency', classes: [cls] });
    const e = r.explanations[0];
    assert.deepEqual(e.shape, [6, 6]);
    const expected = new Float32Array(36);
    for (let p = 0; p < 36; p++) expected[p] = Math.max(Math.abs(fd[3 * p]), Math.abs(fd[3 * p + 1]), Math.abs(fd[3 * p + 2]));
    assert.ok(maxAbsDiff(e.map, expected) < 2e-3 * Math.max(1, maxAbs(expected)), `max diff ${maxAbsDiff(e.map, expected)}`);
    lm.dispose();
  });

  it('input gradient of a ReLU network matches finite differences', () => {
    const m = gapModel();
    const lm = wrap(m, 'gap');
    const x = randomImage(5);
    const cls = 1;
    const f = (d: Float32Array) => tf.tidy(() => lm.network!.logits(tf.tensor4d(d, [1, H, W, 3])).dataSync()[cls]);
    const fd = centralDifferences(f, x.dataSync() as Float32Array, 1e-3);
    const g = tf.tidy(() => inputGradients(lm.network!, x, [cls]).dataSync());
    // piecewise linear: exact away from kinks; allow a few entries to straddle a kink
    let bad = 0;
    for (let i = 0; i < g.length; i++) if (Math.abs(g[i] - fd[i]) > 1e-2 * Math.max(1, maxAbs(fd))) bad++;
    assert.ok(bad <= 3, `${bad} of ${g.length} entries differ`);
    lm.dispose();
  });

  it('CAM equals Σ_k w_k A_k with A from tfjs-layers and w from the dense kernel; Grad-CAM = ReLU(CAM)/(h·w)', () => {
    const m = gapModel();
    const lm = wrap(m, 'gap');
    const x = randomImage(6);
    const cls = 2;
    const A = tf.tidy(() => (tfl.model({ inputs: m.inputs, outputs: m.getLayer('last_conv').output as tfl.SymbolicTensor }).predict(x) as tf.Tensor).dataSync());
    const kernel = m.getLayer('logits').getWeights()[0].dataSync(); // [5, 3]
    const expected = new Float32Array(H * W);
    for (let p = 0; p < H * W; p++) for (let k = 0; k < 5; k++) expected[p] += A[p * 5 + k] * kernel[k * 3 + cls];
    const camR = explain(lm, x, { method: 'cam', classes: [cls] });
    assert.equal(camR.layer, 'last_conv');
    assert.equal(camR.layerIsDefault, true);
    assert.deepEqual(camR.explanations[0].shape, [H, W]);
    assert.ok(maxAbsDiff(camR.explanations[0].map, expected) < 1e-4);
    const gc = explain(lm, x, { method: 'gradcam', classes: [cls] }).explanations[0];
    const reluCam = expected.map((v) => Math.max(0, v) / (H * W));
    assert.ok(maxAbsDiff(gc.map, reluCam) < 1e-5, `max diff ${maxAbsDiff(gc.map, reluCam)}`);
    lm.dispose();
  });

  it('Grad-CAM of the top 3 classes (none asked) follows the closed form; the head after the layer runs once for the first class and once per further class', () => {
    const m = gapModel();
    const lm = wrap(m, 'gap');
    const x = randomImage(16);
    const A = tf.tidy(() => (tfl.model({ inputs: m.inputs, outputs: m.getLayer('last_conv').output as tfl.SymbolicTensor }).predict(x) as tf.Tensor).dataSync());
    const kernel = m.getLayer('logits').getWeights()[0].dataSync(); // [5, 3]
    const probs = tf.tidy(() => (m.predict(x) as tf.Tensor).dataSync());
    const order = [0, 1, 2].sort((a, b) => probs[b] - probs[a]);
    // A first call makes the network's gradient constants (kept while it lives).
    explain(lm, x, { method: 'gradcam', topK: 3 });
    const before = tf.memory().numTensors;
    let r: ReturnType<typeof explain> | null = null;
    const profile = tf.profile(() => {
      r = explain(lm, x, { method: 'gradcam', topK: 3 });
    });
    assert.deepEqual(r!.explanations.map((e) => e.class.index), order);
    for (const e of r!.explanations) {
      const expected = new Float32Array(H * W);
      for (let p = 0; p < H * W; p++) {
        let sum = 0;
        for (let k = 0; k < 5; k++) sum += A[p * 5 + k] * kernel[k * 3 + e.class.index];
        expected[p] = Math.max(0, sum) / (H * W);
      }
      assert.ok(maxAbsDiff(e.map, expected) < 1e-5, `class ${e.class.index}: max diff ${maxAbsDiff(e.map, expected)}`);
    }
    return profile.then((info) => {
      // The dense layer's forward product: once for the pass that ranks the classes and gives the first
      // class's gradient, once for each of the two other classes' gradients.
      const forwardProducts = info.kernels.filter((k) => (k.name === 'BatchMatMul' || k.name === '_FusedMatMul') && k.outputShapes[0]?.join() === '1,3');
      assert.equal(forwardProducts.length, 3, info.kernels.map((k) => `${k.name} ${JSON.stringify(k.outputShapes)}`).join('; '));
      assert.equal(tf.memory().numTensors, before);
      lm.dispose();
    });
  });

  it('Grad-CAM++ follows its closed form (A from tfjs-layers, G = w_c/(h·w) for GAP+dense)', () => {
    const m = gapModel();
    const lm = wrap(m, 'gap');
    const x = randomImage(7);
    const cls = 0;
    const K = 5;
    const A = tf.tidy(() => (tfl.model({ inputs: m.inputs, outputs: m.getLayer('last_conv').output as tfl.SymbolicTensor }).predict(x) as tf.Tensor).dataSync());
    const kernel = m.getLayer('logits').getWeights()[0].dataSync();
    const weights = new Float64Array(K);
    for (let k = 0; k < K; k++) {
      const g = kernel[k * 3 + cls] / (H * W);
      let sumA = 0;
      for (let p = 0; p < H * W; p++) sumA += A[p * K + k];
      const denom = 2 * g * g + sumA * g * g * g;
      const a = denom !== 0 ? (g * g) / denom : 0;
      weights[k] = H * W * a * Math.max(0, g);
    }
    const expected = new Float32Array(H * W);
    for (let p = 0; p < H * W; p++) {
      let s = 0;
      for (let k = 0; k < K; k++) s += weights[k] * A[p * K + k];
      expected[p] = Math.max(0, s);
    }
    const r = explain(lm, x, { method: 'gradcam++', classes: [cls] }).explanations[0];
    assert.ok(maxAbsDiff(r.map, expected) < 1e-4 * Math.max(1, maxAbs(expected)), `max diff ${maxAbsDiff(r.map, expected)}`);
    lm.dispose();
  });

  it('guided backprop obeys the sign rule: it equals the plain gradient once negative head weights are zeroed', () => {
    // One ReLU conv layer → GAP → dense: the gradient reaching ReLU j is w_jc/(h·w) at every position, so
    // guided backprop keeps exactly the channels with w_jc > 0 — the plain gradient of a model whose
    // negative weights for class c are zero (computed here by finite differences).
    const build = () => tfl.sequential({
      layers: [
        tfl.layers.conv2d({ inputShape: [H, W, 3], filters: 6, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: seeded(21), biasInitializer: seeded(22) }),
        tfl.layers.globalAveragePooling2d({}),
        tfl.layers.dense({ units: 2, kernelInitializer: seeded(23), biasInitializer: seeded(24) }),
      ],
    });
    const m = build();
    const lm = wrap(m, 'guided');
    const x = randomImage(8);
    const cls = 1;
    const gb = explain(lm, x, { method: 'guided-backprop', classes: [cls] }).explanations[0];
    assert.deepEqual(gb.shape, [H, W, 3]);
    const clipped = build();
    clipped.setWeights(m.getWeights().map((w, i) => (i === 2 ? tf.relu(w) : w.clone())));
    const f = (d: Float32Array) => tf.tidy(() => (clipped.predict(tf.tensor4d(d, [1, H, W, 3])) as tf.Tensor).dataSync()[cls]);
    const fd = centralDifferences(f, x.dataSync() as Float32Array, 1e-3);
    let bad = 0;
    for (let i = 0; i < fd.length; i++) if (Math.abs(gb.map[i] - fd[i]) > 1e-2 * Math.max(1e-3, maxAbs(fd))) bad++;
    assert.ok(bad <= 3, `${bad} entries differ`);
    // and it is not simply the vanilla gradient (the model has negative head weights)
    const vanilla = tf.tidy(() => inputGradients(lm.network!, x, [cls]).dataSync());
    assert.ok(maxAbsDiff(vanilla, gb.map) > 1e-4);
    lm.dispose();
    clipped.dispose();
  });

  it('integrated gradients are complete: Σ attributions = score(x) − score(baseline) within 1% at 256 steps', () => {
    const m = smoothModel();
    const lm = wrap(m, 'smooth');
    const x = randomImage(9, 6, 6, 3);
    const cls = 3;
    const r = explain(lm, x, { method: 'integrated-gradients', classes: [cls], preprocess: 'unit', options: { steps: 256, batchSize: 32 } }).explanations[0];
    assert.deepEqual(r.shape, [6, 6, 3]);
    const sum = r.map.reduce((a, b) => a + b, 0);
    // baseline for preset 'unit' is all zeros
    const fx = tf.tidy(() => lm.network!.logits(x).dataSync()[cls]);
    const f0 = tf.tidy(() => lm.network!.logits(tf.zeros([1, 6, 6, 3])).dataSync()[cls]);
    assert.ok(Math.abs(fx - f0) > 1e-3, 'test needs a non-trivial score difference');
    assert.ok(Math.abs(sum - (fx - f0)) <= 0.01 * Math.abs(fx - f0), `Σ=${sum} vs Δ=${fx - f0}`);
    lm.dispose();
  });

  it('SmoothGrad with zero noise is the saliency map; with noise it is seed-deterministic and differs', () => {
    const m = smoothModel();
    const lm = wrap(m, 'smooth');
    const x = randomImage(10, 6, 6, 3);
    const sal = explain(lm, x, { method: 'saliency', classes: [0] }).explanations[0].map;
    const sg0 = explain(lm, x, { method: 'smoothgrad', classes: [0], options: { noise: 0, samples: 5 } }).explanations[0].map;
    assert.ok(maxAbsDiff(sal, sg0) < 1e-5);
    const a = explain(lm, x, { method: 'smoothgrad', classes: [0], options: { samples: 6, seed: 3, batchSize: 4 } }).explanations[0].map;
    const b = explain(lm, x, { method: 'smoothgrad', classes: [0], options: { samples: 6, seed: 3, batchSize: 6 } }).explanations[0].map;
    assert.ok(maxAbsDiff(a, b) < 1e-5, 'same seed, different batching: same map');
    assert.ok(maxAbsDiff(a, sal) > 1e-5);
    lm.dispose();
  });

  it('guided Grad-CAM is guided backprop times the upsampled Grad-CAM', () => {
    const m = gapModel();
    const lm = wrap(m, 'gap');
    const x = randomImage(11);
    const gb = explain(lm, x, { method: 'guided-backprop', classes: [1] }).explanations[0].map;
    const gc = explain(lm, x, { method: 'gradcam', classes: [1] }).explanations[0].map; // same 8×8 size as the input
    const ggc = explain(lm, x, { method: 'guided-gradcam', classes: [1] }).explanations[0];
    assert.deepEqual(ggc.shape, [H, W, 3]);
    for (let p = 0; p < H * W; p++) for (let c = 0; c < 3; c++) assert.ok(Math.abs(ggc.map[p * 3 + c] - gb[p * 3 + c] * gc[p]) < 1e-5);
    lm.dispose();
  });

  it('explains top-k classes in one call and leaks no tensors over 20 calls', () => {
    const m = gapModel(4);
    const lm = wrap(m, 'gap');
    const x = randomImage(12);
    const r = explain(lm, x, { method: 'gradcam', topK: 3 });
    assert.equal(r.explanations.length, 3);
    assert.deepEqual(r.explanations.map((e) => e.class.index), r.predictions.slice(0, 3).map((p) => p.index));
    const round = () => {
      for (const method of ['gradcam', 'gradcam++', 'saliency', 'guided-gradcam', 'cam'] as const) explain(lm, x, { method, topK: 2 });
      explain(lm, x, { method: 'smoothgrad', options: { samples: 3 } });
      explain(lm, x, { method: 'integrated-gradients', options: { steps: 4 } });
    };
    // The first round makes the network's gradient constants (Grad-CAM those of the layers after its layer,
    // saliency the rest); the next 20 leave nothing.
    round();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 20; i++) round();
    assert.equal(tf.memory().numTensors, before);
    lm.dispose();
  });

  it('finds the default layer inside nested models and gives the same Grad-CAM as the flat model', () => {
    const flat = gapModel();
    // Rebuild the same network as Sequential[ Functional[conv1, last_conv], Sequential[gap, dense] ].
    const inner = tfl.input({ shape: [H, W, 3] });
    const c1 = tfl.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', activation: 'relu', name: 'conv1' }).apply(inner) as tfl.SymbolicTensor;
    const c2 = tfl.layers.conv2d({ filters: 5, kernelSize: 3, padding: 'same', activation: 'relu', name: 'last_conv' }).apply(c1) as tfl.SymbolicTensor;
    const body = tfl.model({ inputs: inner, outputs: c2, name: 'body' });
    const head = tfl.sequential({ name: 'head', layers: [tfl.layers.globalAveragePooling2d({ inputShape: [H, W, 5] }), tfl.layers.dense({ units: 3, activation: 'softmax' })] });
    const outer = tfl.sequential({ name: 'outer', layers: [tfl.sequential({ name: 'wrapper', layers: [body] }), head] });
    outer.setWeights(flat.getWeights());
    const a = wrap(flat, 'flat');
    const b = wrap(outer, 'nested');
    const x = randomImage(13);
    const ra = explain(a, x, { method: 'gradcam', classes: [1] });
    const rb = explain(b, x, { method: 'gradcam', classes: [1] });
    assert.equal(rb.layer, 'wrapper/body/last_conv');
    assert.ok(maxAbsDiff(ra.explanations[0].map, rb.explanations[0].map) < 1e-5);
    // CAM also sees through the nesting (GAP and dense live in another nested model)
    const ca = explain(a, x, { method: 'cam', classes: [1] }).explanations[0].map;
    const cb = explain(b, x, { method: 'cam', classes: [1] }).explanations[0].map;
    assert.ok(maxAbsDiff(ca, cb) < 1e-5);
    a.dispose();
    b.dispose();
  });

  it('names unknown and non-spatial layers in its errors', () => {
    const lm = wrap(gapModel(), 'gap');
    const x = randomImage(14);
    assert.throws(() => explain(lm, x, { method: 'gradcam', layer: 'nope' }), /no layer named 'nope'/);
    assert.throws(() => explain(lm, x, { method: 'gradcam', layer: 'gap' }), /layer 'gap' has output shape \[null,5\]/);
    assert.throws(() => explain(lm, x, { method: 'gradcam', classes: [7] }), /class 7 is out of range/);
    lm.dispose();
  });
});
