// The CAM family's second wave against independent computations: closed forms in plain JavaScript from
// activations that tfjs-layers computes itself, and brute-force loops of plain forward passes.
import { strict as assert } from 'node:assert';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { initBackend } from '../../../src/engine/backend';
import { explain } from '../../../src/engine/explain';
import { methodApplicability } from '../../../src/engine/methods/applicability';
import { maxAbs, maxAbsDiff } from '../helpers';
import { flattenHead, gapHead, jacobiEigen, layerOutput, linearHead, predictRow, randomImage, resizeBilinearJs, skipHead, wrap } from './methodModels';

const relu = (v: number) => Math.max(0, v);
const close = (a: ArrayLike<number>, b: ArrayLike<number>, tol: number, what: string) => {
  const d = maxAbsDiff(a, b);
  assert.ok(d <= tol * Math.max(1, maxAbs(b)), `${what}: max diff ${d} (scale ${maxAbs(b)})`);
};

describe('CAM variants (XGrad-CAM, LayerCAM, HiResCAM, Eigen-CAM, Score-CAM, Ablation-CAM)', function () {
  this.timeout(120000);
  before(async () => {
    await initBackend((process.env.CNN_LENS_BACKEND as any) ?? 'auto');
  });

  it('HiResCAM equals Grad-CAM on a GAP + dense model (the gradient is the same at every position)', () => {
    const lm = wrap(gapHead(8), 'gap');
    const x = randomImage(1, 8, 8);
    for (const cls of [0, 1, 2]) {
      const g = explain(lm, x, { method: 'gradcam', classes: [cls] }).explanations[0];
      const h = explain(lm, x, { method: 'hirescam', classes: [cls] }).explanations[0];
      assert.deepEqual(h.shape, [8, 8]);
      close(h.map, g.map, 1e-6, `class ${cls}`);
    }
    lm.dispose();
  });

  // Flatten → dense head: logit_c = Σ_{p,k} A[p,k]·W[p·K + k, c] + b_c, so G[p,k] = W[p·K + k, c] exactly.
  const S = 6;
  const K = 5;
  function flattenCase(seed: number) {
    const m = flattenHead(S);
    const lm = wrap(m, 'flat');
    const x = randomImage(seed, S, S);
    const A = layerOutput(m, 'target', x);
    const W = m.getLayer('logits').getWeights()[0].dataSync();
    const G = (c: number) => Float64Array.from({ length: S * S * K }, (_, i) => W[i * 3 + c]);
    return { m, lm, x, A, G };
  }

  it('XGrad-CAM: w_k = Σ(G·A)_k / Σ A_k, map ReLU(Σ_k w_k A_k) (G and A computed outside the engine)', () => {
    const { lm, x, A, G } = flattenCase(2);
    for (const cls of [0, 2]) {
      const g = G(cls);
      const w = new Float64Array(K);
      for (let k = 0; k < K; k++) {
        let num = 0;
        let den = 0;
        for (let p = 0; p < S * S; p++) {
          num += g[p * K + k] * A[p * K + k];
          den += A[p * K + k];
        }
        w[k] = den === 0 ? 0 : num / den;
      }
      const expected = Float64Array.from({ length: S * S }, (_, p) => relu(w.reduce((s, wk, k) => s + wk * A[p * K + k], 0)));
      assert.ok(maxAbs(expected) > 0, 'test needs a non-zero map');
      close(explain(lm, x, { method: 'xgradcam', classes: [cls], layer: 'target' }).explanations[0].map, expected, 1e-5, `class ${cls}`);
    }
    lm.dispose();
  });

  it('XGrad-CAM gives a channel that never activates weight 0 (no division by zero)', () => {
    // Bias −100 on channel 0 of the target: A_0 = 0 everywhere.
    const { m, lm, x } = flattenCase(3);
    const [kernel, bias] = m.getLayer('target').getWeights();
    const b = bias.dataSync().slice();
    b[0] = -100;
    m.getLayer('target').setWeights([kernel, tf.tensor1d(b)]);
    const A = layerOutput(m, 'target', x);
    for (let p = 0; p < S * S; p++) assert.equal(A[p * K], 0);
    const r = explain(lm, x, { method: 'xgradcam', classes: [1], layer: 'target' }).explanations[0];
    assert.ok(r.map.every(Number.isFinite));
    lm.dispose();
  });

  it('LayerCAM: ReLU(Σ_k ReLU(G_k) ⊙ A_k); HiResCAM: ReLU(Σ_k G_k ⊙ A_k); --no-relu keeps the sign', () => {
    const { lm, x, A, G } = flattenCase(4);
    const cls = 1;
    const g = G(cls);
    const layercam = Float64Array.from({ length: S * S }, (_, p) => relu([...Array(K).keys()].reduce((s, k) => s + relu(g[p * K + k]) * A[p * K + k], 0)));
    const signed = Float64Array.from({ length: S * S }, (_, p) => [...Array(K).keys()].reduce((s, k) => s + g[p * K + k] * A[p * K + k], 0));
    assert.ok(signed.some((v) => v < 0) && signed.some((v) => v > 0), 'test needs both signs');
    close(explain(lm, x, { method: 'layercam', classes: [cls], layer: 'target' }).explanations[0].map, layercam, 1e-5, 'LayerCAM');
    close(explain(lm, x, { method: 'hirescam', classes: [cls], layer: 'target' }).explanations[0].map, signed.map(relu), 1e-5, 'HiResCAM');
    close(explain(lm, x, { method: 'hirescam', classes: [cls], layer: 'target', options: { relu: false } }).explanations[0].map, signed, 1e-5, 'HiResCAM without ReLU');
    lm.dispose();
  });

  /** Eigen-CAM's closed form: Jacobi on CᵀC (K×K), projection C·v, sign by correlation with Σ_k A_k, ReLU. */
  function eigenExpected(A: Float32Array, n: number, k: number): Float64Array {
    const mean = new Float64Array(k);
    for (let p = 0; p < n; p++) for (let j = 0; j < k; j++) mean[j] += A[p * k + j] / n;
    const C = Float64Array.from({ length: n * k }, (_, i) => A[i] - mean[i % k]);
    const CtC = new Float64Array(k * k);
    for (let a = 0; a < k; a++) for (let b = 0; b < k; b++) for (let p = 0; p < n; p++) CtC[a * k + b] += C[p * k + a] * C[p * k + b];
    const { values, V } = jacobiEigen(CtC, k);
    const top = values.indexOf(Math.max(...values));
    const sorted = [...values].sort((u, v) => v - u);
    assert.ok(sorted[0] > 1.05 * sorted[1], 'test needs a distinct first component');
    const proj = Float64Array.from({ length: n }, (_, p) => [...Array(k).keys()].reduce((s, j) => s + C[p * k + j] * V[j * k + top], 0));
    const sums = Float64Array.from({ length: n }, (_, p) => [...Array(k).keys()].reduce((s, j) => s + A[p * k + j], 0));
    const mp = proj.reduce((a, b) => a + b, 0) / n;
    const ms = sums.reduce((a, b) => a + b, 0) / n;
    const cov = proj.reduce((s, v, p) => s + (v - mp) * (sums[p] - ms), 0);
    return proj.map((v) => relu(cov < 0 ? -v : v));
  }

  it('Eigen-CAM is the first principal component of the activations (positions > channels and positions < channels), the same for every class', () => {
    const m = gapHead(8);
    const lm = wrap(m, 'gap');
    // several images: the sign rule has to flip the principal axis for some of them
    for (const seed of [5, 6, 7, 8, 9, 10]) {
      const x = randomImage(seed, 8, 8);
      const expected = eigenExpected(layerOutput(m, 'target', x), 64, 5);
      const r0 = explain(lm, x, { method: 'eigencam', classes: [0], layer: 'target' }).explanations[0];
      const r2 = explain(lm, x, { method: 'eigencam', classes: [2], layer: 'target' }).explanations[0];
      close(r0.map, expected, 1e-4, `Eigen-CAM 64 positions × 5 channels, image ${seed}`);
      assert.deepEqual(Array.from(r0.map), Array.from(r2.map));
    }
    lm.dispose();
    // 2×2 positions, 4 channels at 'target' of a pooled model: the engine takes the n×n Gram matrix.
    const small = linearHead(4);
    const ls = wrap(small, 'small');
    for (const seed of [11, 12, 13, 14, 15, 16]) {
      const xs = randomImage(seed, 4, 4);
      const As = layerOutput(small, 'target', xs);
      close(explain(ls, xs, { method: 'eigencam', classes: [0], layer: 'target' }).explanations[0].map, eigenExpected(As, 4, 6), 1e-4, `Eigen-CAM 4 positions × 6 channels, image ${seed}`);
    }
    ls.dispose();
  });

  /** Score-CAM by brute force: one masked image at a time through tfjs-layers' predict. */
  function scoreCamBrute(m: tfl.LayersModel, x: tf.Tensor4D, layer: string, cls: number, maxChannels: number): Float64Array {
    const [, H, W, C] = x.shape;
    const act = tf.tidy(() => tfl.model({ inputs: m.inputs, outputs: m.getLayer(layer).output as tfl.SymbolicTensor }).predict(x) as tf.Tensor);
    const [, h, w, K] = act.shape as number[];
    const A = act.dataSync();
    act.dispose();
    const xd = x.dataSync();
    const variance = (k: number) => {
      let s = 0;
      let s2 = 0;
      for (let p = 0; p < h * w; p++) {
        s += A[p * K + k];
        s2 += A[p * K + k] ** 2;
      }
      return s2 / (h * w) - (s / (h * w)) ** 2;
    };
    let ks = [...Array(K).keys()].filter((k) => variance(k) > 0);
    if (maxChannels > 0) ks = ks.sort((a, b) => variance(b) - variance(a)).slice(0, maxChannels);
    const weights = new Float64Array(K);
    for (const k of ks) {
      const up = resizeBilinearJs(Array.from({ length: h * w }, (_, p) => A[p * K + k]), h, w, H, W);
      const lo = Math.min(...up);
      const hi = Math.max(...up);
      const masked = new Float32Array(H * W * C);
      for (let p = 0; p < H * W; p++) for (let c = 0; c < C; c++) masked[p * C + c] = xd[p * C + c] * ((up[p] - lo) / (hi - lo));
      const probs = tf.tidy(() => (m.predict(tf.tensor4d(masked, [1, H, W, C])) as tf.Tensor).dataSync());
      weights[k] = probs[cls];
    }
    return Float64Array.from({ length: h * w }, (_, p) => relu([...Array(K).keys()].reduce((s, k) => s + weights[k] * A[p * K + k], 0)));
  }

  it('Score-CAM equals a brute-force loop of masked forward passes (upsampled 4×4 → 8×8), also with --max-channels', () => {
    const m = linearHead(8);
    // Score-CAM needs probabilities: the same network with a softmax output.
    const probs = tfl.model({ inputs: m.inputs, outputs: tfl.layers.softmax({ name: 'sm' }).apply(m.outputs[0]) as tfl.SymbolicTensor });
    const lm = wrap(probs, 'score');
    const x = randomImage(7, 8, 8);
    for (const cls of [0, 1]) {
      const expected = scoreCamBrute(probs, x, 'target', cls, 0);
      assert.ok(maxAbs(expected) > 0);
      close(explain(lm, x, { method: 'scorecam', classes: [cls], layer: 'target' }).explanations[0].map, expected, 1e-4, `Score-CAM class ${cls}`);
    }
    const fast = scoreCamBrute(probs, x, 'target', 0, 3);
    const r = explain(lm, x, { method: 'scorecam', classes: [0], layer: 'target', options: { maxChannels: 3, batchSize: 2 } }).explanations[0];
    close(r.map, fast, 1e-4, 'Faster Score-CAM (3 channels)');
    assert.ok(maxAbsDiff(r.map, scoreCamBrute(probs, x, 'target', 0, 0)) > 1e-4, 'keeping 3 of 6 channels changes the map');
    lm.dispose();
  });

  /** Ablation-CAM by brute force: the layers after the target applied by tfjs-layers to A with channel k zeroed. */
  function ablationBrute(m: tfl.LayersModel, x: tf.Tensor4D, tail: (a: tf.Tensor) => tf.Tensor, cls: number): Float64Array {
    const act = tf.tidy(() => tfl.model({ inputs: m.inputs, outputs: m.getLayer('target').output as tfl.SymbolicTensor }).predict(x) as tf.Tensor);
    const [, h, w, K] = act.shape as number[];
    const A = act.dataSync();
    const y = predictRow(m, x)[cls];
    const weights = new Float64Array(K);
    for (let k = 0; k < K; k++) {
      const ablated = Float32Array.from(A, (v, i) => (i % K === k ? 0 : v));
      const yk = tf.tidy(() => tail(tf.tensor4d(ablated, [1, h, w, K])).dataSync()[cls]);
      weights[k] = (y - yk) / y;
    }
    act.dispose();
    return Float64Array.from({ length: h * w }, (_, p) => relu([...Array(K).keys()].reduce((s, k) => s + weights[k] * A[p * K + k], 0)));
  }

  it('Ablation-CAM equals a brute-force loop over channels (a plain tail, batched; and a tail that concatenates an earlier layer, one channel at a time)', () => {
    const m = linearHead(8);
    const lm = wrap(m, 'linear');
    const x = randomImage(8, 8, 8);
    const tail = (a: tf.Tensor) => ['conv3', 'gap', 'logits'].reduce((t, name) => m.getLayer(name).apply(t) as tf.Tensor, a);
    for (const cls of [0, 2]) {
      close(explain(lm, x, { method: 'ablationcam', classes: [cls], layer: 'target', options: { batchSize: 4 } }).explanations[0].map, ablationBrute(m, x, tail, cls), 1e-4, `class ${cls}`);
    }
    lm.dispose();
    const r = skipHead(8);
    const lr = wrap(r, 'residual');
    const xr = randomImage(9, 8, 8);
    const c1 = tf.tidy(() => tfl.model({ inputs: r.inputs, outputs: r.getLayer('conv1').output as tfl.SymbolicTensor }).predict(xr) as tf.Tensor);
    const rtail = (a: tf.Tensor) => ['gap', 'logits'].reduce((t, name) => r.getLayer(name).apply(t) as tf.Tensor, r.getLayer('concat').apply([a, c1]) as tf.Tensor);
    close(explain(lr, xr, { method: 'ablationcam', classes: [1], layer: 'target', options: { batchSize: 4 } }).explanations[0].map, ablationBrute(r, xr, rtail, 1), 1e-4, 'skip connection');
    c1.dispose();
    lr.dispose();
  });

  it('says which methods cannot apply and why (CAM without GAP + dense; everything on a model without a spatial layer)', () => {
    const flat = wrap(flattenHead(6), 'flat');
    const a = methodApplicability(flat);
    assert.match(a.cam!, /CAM needs the target layer followed by global average pooling and one dense layer; after 'target' this model has Flatten → Dense/);
    assert.equal(a.gradcam, null);
    assert.equal(a.occlusion, null);
    flat.dispose();
    const gap = wrap(gapHead(6), 'gap');
    assert.ok(Object.values(methodApplicability(gap)).every((r) => r === null));
    gap.dispose();
    const mlp = wrap(tfl.sequential({ layers: [tfl.layers.flatten({ inputShape: [4, 4, 3] }), tfl.layers.dense({ units: 2, activation: 'softmax' })] }), 'mlp');
    const b = methodApplicability(mlp);
    assert.match(b.scorecam!, /Score-CAM works on a layer with a spatial output, and this model has none/);
    assert.equal(b.saliency, null);
    mlp.dispose();
  });

  it('marks an all-zero map as empty (Grad-CAM with no positive evidence) and keeps the signed map with relu: false', () => {
    // A class whose dense weights are all negative: every channel counts against it, so ReLU(Σ w A) = 0.
    const m = gapHead(8);
    const [kernel, bias] = m.getLayer('logits').getWeights();
    const k = kernel.dataSync().slice();
    for (let i = 0; i < 5; i++) k[i * 3] = -Math.abs(k[i * 3]) - 0.1;
    m.getLayer('logits').setWeights([tf.tensor2d(k, [5, 3]), bias]);
    const lm = wrap(m, 'negative');
    const x = randomImage(10, 8, 8);
    const e = explain(lm, x, { method: 'gradcam', classes: [0] }).explanations[0];
    assert.equal(e.empty, true);
    assert.equal(e.max, 0);
    const signed = explain(lm, x, { method: 'gradcam', classes: [0], options: { relu: false } }).explanations[0];
    assert.equal(signed.empty, false);
    assert.ok(signed.min < 0);
    assert.equal(explain(lm, x, { method: 'gradcam', classes: [1] }).explanations[0].empty, maxAbs(explain(lm, x, { method: 'gradcam', classes: [1] }).explanations[0].map) === 0);
    lm.dispose();
  });

  it('leaks no tensors over 20 calls of each new CAM', () => {
    const lm = wrap(linearHead(8), 'linear');
    const x = randomImage(11, 8, 8);
    const methods = ['xgradcam', 'layercam', 'hirescam', 'eigencam', 'scorecam', 'ablationcam'] as const;
    for (const method of methods) explain(lm, x, { method, layer: 'target' });
    const before = tf.memory().numTensors;
    for (let i = 0; i < 20; i++) for (const method of methods) explain(lm, x, { method, layer: 'target', topK: 2 });
    assert.equal(tf.memory().numTensors, before);
    lm.dispose();
  });
});
