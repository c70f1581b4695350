// Input × gradient, deconvnet and the SmoothGrad variants against finite differences and the ReLU rule.
import { strict as assert } from 'node:assert';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { initBackend } from '../../../src/engine/backend';
import { explain } from '../../../src/engine/explain';
import { makeRng, normalNoise } from '../../../src/engine/random';
import { centralDifferences, maxAbs, maxAbsDiff } from '../helpers';
import { randomImage, seeded, wrap } from './methodModels';

/** tanh / softplus layers: smooth, so central differences are accurate everywhere. */
function smoothModel(): tfl.LayersModel {
  return tfl.sequential({
    layers: [
      tfl.layers.conv2d({ inputShape: [5, 5, 3], filters: 3, kernelSize: 3, padding: 'same', activation: 'tanh', kernelInitializer: seeded(41), biasInitializer: seeded(42) }),
      tfl.layers.conv2d({ filters: 4, kernelSize: 3, strides: 2, padding: 'same', activation: 'softplus', kernelInitializer: seeded(43), biasInitializer: seeded(44) }),
      tfl.layers.flatten(),
      tfl.layers.dense({ units: 3, activation: 'softmax', kernelInitializer: seeded(45) }),
    ],
  });
}

describe('gradient rules (input × gradient, deconvnet, SmoothGrad square/var)', function () {
  this.timeout(120000);
  before(async () => {
    await initBackend((process.env.CNN_LENS_BACKEND as any) ?? 'auto');
  });

  it('input × gradient is x ⊙ (central differences of the logit)', () => {
    const lm = wrap(smoothModel(), 'smooth');
    const x = randomImage(1, 5, 5);
    const cls = 2;
    const f = (d: Float32Array) => tf.tidy(() => lm.network!.logits(tf.tensor4d(d, [1, 5, 5, 3])).dataSync()[cls]);
    const xd = x.dataSync() as Float32Array;
    const expected = centralDifferences(f, xd, 1e-2).map((g, i) => g * xd[i]);
    const r = explain(lm, x, { method: 'input-x-gradient', classes: [cls] }).explanations[0];
    assert.deepEqual(r.shape, [5, 5, 3]);
    assert.ok(maxAbsDiff(r.map, expected) < 2e-3 * Math.max(1, maxAbs(expected)), `max diff ${maxAbsDiff(r.map, expected)}`);
    lm.dispose();
  });

  it('deconvnet passes ReLU(gradient) back through every ReLU whatever its input: the gradient of the model without ReLUs and with negative head weights zeroed', () => {
    // conv(relu) → GAP → dense: the gradient reaching ReLU j is w_jc/(h·w) at every position; deconvnet
    // passes max(w_jc, 0)/(h·w) everywhere (also where the ReLU's input is negative), which is the plain
    // gradient of the same network with a linear conv and the negative w_jc set to 0.
    // The ReLU inside the convolution (a fused epilogue) and as a layer of its own.
    for (const separate of [false, true]) {
      const build = (relu: boolean) => tfl.sequential({
        layers: [
          tfl.layers.conv2d({ inputShape: [6, 6, 3], filters: 6, kernelSize: 3, padding: 'same', activation: relu && !separate ? 'relu' : 'linear', kernelInitializer: seeded(51), biasInitializer: seeded(52) }),
          ...(relu && separate ? [tfl.layers.reLU()] : []),
          tfl.layers.globalAveragePooling2d({}),
          tfl.layers.dense({ units: 2, kernelInitializer: seeded(53), biasInitializer: seeded(54) }),
        ],
      });
      const m = build(true);
      const lm = wrap(m, 'deconv');
      const x = randomImage(2, 6, 6);
      const cls = 0;
      const r = explain(lm, x, { method: 'deconvnet', classes: [cls] }).explanations[0];
      assert.deepEqual(r.shape, [6, 6, 3]);
      const lin = build(false);
      lin.setWeights(m.getWeights().map((w, i) => (i === 2 ? tf.relu(w) : w.clone())));
      const f = (d: Float32Array) => tf.tidy(() => (lin.predict(tf.tensor4d(d, [1, 6, 6, 3])) as tf.Tensor).dataSync()[cls]);
      const fd = centralDifferences(f, x.dataSync() as Float32Array, 1e-2);
      assert.ok(maxAbsDiff(r.map, fd) < 1e-3 * Math.max(1, maxAbs(fd)), `${separate ? 'ReLU layer' : 'fused ReLU'}: max diff ${maxAbsDiff(r.map, fd)}`);
      // and it differs from guided backprop (which also needs a positive input)
      const gb = explain(lm, x, { method: 'guided-backprop', classes: [cls] }).explanations[0].map;
      assert.ok(maxAbsDiff(gb, r.map) > 1e-3);
      lm.dispose();
      lin.dispose();
    }
  });

  it('SmoothGrad square and var are max_c of the mean square and the variance of the noisy gradients (finite differences on the same noise)', () => {
    const lm = wrap(smoothModel(), 'smooth');
    const x = randomImage(3, 5, 5);
    const cls = 1;
    const xd = x.dataSync() as Float32Array;
    const samples = 4;
    const noise = 0.2;
    let lo = Infinity;
    let hi = -Infinity;
    for (const v of xd) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
    // the engine's noise: seed 5, one block of samples·H·W·C normals, sample-major
    const eps = normalNoise(samples * xd.length, noise * (hi - lo), makeRng(5));
    const f = (d: Float32Array) => tf.tidy(() => lm.network!.logits(tf.tensor4d(d, [1, 5, 5, 3])).dataSync()[cls]);
    const grads = [...Array(samples).keys()].map((i) => centralDifferences(f, xd.map((v, j) => v + eps[i * xd.length + j]), 1e-2));
    const sq = new Float64Array(25);
    const vr = new Float64Array(25);
    for (let p = 0; p < 25; p++) {
      for (let c = 0; c < 3; c++) {
        const g = grads.map((gi) => gi[p * 3 + c]);
        const m1 = g.reduce((a, b) => a + b, 0) / samples;
        const m2 = g.reduce((a, b) => a + b * b, 0) / samples;
        sq[p] = Math.max(c ? sq[p] : -Infinity, m2);
        vr[p] = Math.max(c ? vr[p] : -Infinity, m2 - m1 * m1);
      }
    }
    const opts = { samples, noise, seed: 5, batchSize: samples };
    const rs = explain(lm, x, { method: 'smoothgrad', classes: [cls], options: { ...opts, smooth: 'square' } }).explanations[0];
    const rv = explain(lm, x, { method: 'smoothgrad', classes: [cls], options: { ...opts, smooth: 'var' } }).explanations[0];
    assert.deepEqual(rs.shape, [5, 5]);
    assert.ok(maxAbsDiff(rs.map, sq) < 5e-3 * maxAbs(sq), `square: max diff ${maxAbsDiff(rs.map, sq)} of ${maxAbs(sq)}`);
    assert.ok(maxAbsDiff(rv.map, vr) < 5e-3 * maxAbs(sq), `var: max diff ${maxAbsDiff(rv.map, vr)} of ${maxAbs(vr)}`);
    assert.ok(maxAbs(vr) > 1e-3 * maxAbs(sq), 'test needs a visible variance');
    lm.dispose();
  });

  it('leaks no tensors over 20 calls of input × gradient, deconvnet and each SmoothGrad mode', () => {
    const lm = wrap(smoothModel(), 'smooth');
    const x = randomImage(4, 5, 5);
    const run = () => {
      explain(lm, x, { method: 'input-x-gradient', topK: 2 });
      explain(lm, x, { method: 'deconvnet', topK: 2 });
      for (const smooth of ['mean', 'square', 'var'] as const) explain(lm, x, { method: 'smoothgrad', options: { samples: 3, smooth } });
    };
    run();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 20; i++) run();
    assert.equal(tf.memory().numTensors, before);
    lm.dispose();
  });
});
