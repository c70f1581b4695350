// Deletion/insertion curves against a plain loop written here: our own ranking, one perturbed image at a
// time through tfjs-layers' own predict() (not the engine's Network), our own trapezoids. Point by point.
import { strict as assert } from 'node:assert';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { initBackend } from '../../../src/engine/backend';
import { wrapLayersModel, type LoadedModel } from '../../../src/engine/model/loadModel';
import { makeRng } from '../../../src/engine/random';
import { evaluateFaithfulness, faithfulnessOf, randomOrder } from '../../../src/engine/trust';
import { gaussianBlur } from '../../../src/engine/trust/baselines';
import { maxAbsDiff } from '../helpers';

const S = 6;

function seeded(seed: number) {
  return tfl.initializers.randomNormal({ mean: 0, stddev: 0.6, seed });
}

/** conv → conv 'last_conv' (4×4 after pooling) → GAP → dense softmax over 3 classes. */
function tinyCnn(): tfl.LayersModel {
  return tfl.sequential({
    layers: [
      tfl.layers.conv2d({ inputShape: [S, S, 3], filters: 4, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: seeded(1), biasInitializer: seeded(2) }),
      tfl.layers.maxPooling2d({ poolSize: 2 }),
      tfl.layers.conv2d({ filters: 5, kernelSize: 2, padding: 'same', activation: 'relu', kernelInitializer: seeded(3), biasInitializer: seeded(4), name: 'last_conv' }),
      tfl.layers.globalAveragePooling2d({}),
      tfl.layers.dense({ units: 3, activation: 'softmax', kernelInitializer: seeded(5), biasInitializer: seeded(6) }),
    ],
  });
}

function image(seed: number, n: number): Float32Array {
  const rng = makeRng(seed);
  return Float32Array.from({ length: n }, () => rng());
}

/** The protocol, written out once more: order, perturbed image per k, probability from model.predict. */
function plainCurves(model: tfl.LayersModel, x: Float32Array, base: Float32Array, importance: number[], h: number, w: number, c: number, cls: number, steps: number) {
  const pixels = h * w;
  const order: number[] = [];
  for (let i = 0; i < pixels; i++) order.push(i);
  order.sort((a, b) => (importance[b] !== importance[a] ? importance[b] - importance[a] : a - b));
  const prob = (img: Float32Array) => {
    const t = tf.tensor4d(img, [1, h, w, c]);
    const p = model.predict(t) as tf.Tensor;
    const v = p.dataSync()[cls];
    t.dispose();
    p.dispose();
    return v;
  };
  const del: number[] = [];
  const ins: number[] = [];
  for (let k = 0; k <= steps; k++) {
    const n = Math.round((k * pixels) / steps);
    const d = Float32Array.from(x);
    const e = Float32Array.from(base);
    for (let i = 0; i < n; i++) {
      for (let ch = 0; ch < c; ch++) {
        d[order[i] * c + ch] = base[order[i] * c + ch];
        e[order[i] * c + ch] = x[order[i] * c + ch];
      }
    }
    del.push(prob(d));
    ins.push(prob(e));
  }
  const auc = (v: number[]) => {
    let s = 0;
    for (let k = 0; k < steps; k++) s += 0.5 * (v[k] + v[k + 1]);
    return s / steps;
  };
  return { del, ins, delAuc: auc(del), insAuc: auc(ins) };
}

describe('trust: deletion and insertion curves', () => {
  let keras: tfl.LayersModel;
  let model: LoadedModel;
  let x: tf.Tensor4D;
  let xData: Float32Array;

  before(async () => {
    await initBackend((process.env.CNN_LENS_BACKEND as any) ?? 'auto');
    keras = tinyCnn();
    model = wrapLayersModel(keras, '/nonexistent/tiny/model.json');
    xData = image(7, S * S * 3);
    x = tf.tensor4d(xData, [1, S, S, 3]);
  });
  after(() => {
    x.dispose();
    model.dispose();
  });

  const compare = (got: { deletion: { auc: number; curve: number[] }; insertion: { auc: number; curve: number[] } }, want: ReturnType<typeof plainCurves>) => {
    assert.equal(got.deletion.curve.length, want.del.length);
    assert.ok(maxAbsDiff(got.deletion.curve, want.del) < 1e-5, `deletion ${got.deletion.curve} vs ${want.del}`);
    assert.ok(maxAbsDiff(got.insertion.curve, want.ins) < 1e-5, `insertion ${got.insertion.curve} vs ${want.ins}`);
    assert.ok(Math.abs(got.deletion.auc - want.delAuc) < 1e-6);
    assert.ok(Math.abs(got.insertion.auc - want.insAuc) < 1e-6);
  };

  it('an [H, W] map with ties, 7 steps over 36 pixels (rounding), black baseline, batches of 3', () => {
    // Values on a coarse grid so that many pixels tie: ties go by pixel index.
    const rng = makeRng(3);
    const map = Array.from({ length: S * S }, () => Math.floor(rng() * 4));
    const got = faithfulnessOf(model, x, { map: Float32Array.from(map), shape: [S, S], kind: 'input-map' }, 1, { steps: 7, batchSize: 3 });
    compare(got, plainCurves(keras, xData, new Float32Array(S * S * 3), map, S, S, 3, 1, 7));
    // The first point is the unperturbed image, the last the baseline (deletion) and the reverse.
    assert.ok(Math.abs(got.deletion.curve[0] - got.insertion.curve[7]) < 1e-6);
  });

  it('an [H, W, C] map is ranked by Σ|value| over channels; mean-colour baseline', () => {
    const m = image(11, S * S * 3).map((v) => v * 2 - 1);
    const importance = Array.from({ length: S * S }, (_, p) => Math.abs(m[p * 3]) + Math.abs(m[p * 3 + 1]) + Math.abs(m[p * 3 + 2]));
    const mean = [0, 1, 2].map((ch) => {
      let s = 0;
      for (let p = 0; p < S * S; p++) s += xData[p * 3 + ch];
      return s / (S * S);
    });
    const base = Float32Array.from({ length: S * S * 3 }, (_, i) => mean[i % 3]);
    const got = faithfulnessOf(model, x, { map: m, shape: [S, S, 3], kind: 'input-channels' }, 2, { steps: 12, baseline: 'mean' });
    compare(got, plainCurves(keras, xData, base, importance, S, S, 3, 2, 12));
  });

  it("a layer map [h, w] is resized like tf.image.resizeBilinear with half-pixel centres; blur baseline", () => {
    const layerMap = Float32Array.from([0.1, 0.9, 0.3, 0.5, 0.2, 0.8, 0.4, 0.6, 0.05]);
    const up = tf.tidy(() => tf.image.resizeBilinear(tf.tensor3d(layerMap, [3, 3, 1]), [S, S], false, true).dataSync());
    const blurred = gaussianBlur(xData, S, S, 3, 0.05 * S);
    const got = faithfulnessOf(model, x, { map: layerMap, shape: [3, 3], kind: 'layer-map' }, 0, { steps: 9, baseline: 'blur' });
    compare(got, plainCurves(keras, xData, blurred, Array.from(up), S, S, 3, 0, 9));
  });

  it('the blur baseline is a 2-D Gaussian convolution with replicated edges', () => {
    const h = 5;
    const w = 4;
    const img = image(5, h * w * 2);
    const sigma = 0.8;
    const got = gaussianBlur(img, h, w, 2, sigma);
    const r = Math.ceil(3 * sigma);
    for (let y = 0; y < h; y++) {
      for (let xx = 0; xx < w; xx++) {
        for (let ch = 0; ch < 2; ch++) {
          let s = 0;
          let z = 0;
          for (let dy = -r; dy <= r; dy++) {
            for (let dx = -r; dx <= r; dx++) {
              const wgt = Math.exp(-(dx * dx + dy * dy) / (2 * sigma * sigma));
              const yy = Math.min(h - 1, Math.max(0, y + dy));
              const xc = Math.min(w - 1, Math.max(0, xx + dx));
              s += wgt * img[(yy * w + xc) * 2 + ch];
              z += wgt;
            }
          }
          assert.ok(Math.abs(got[(y * w + xx) * 2 + ch] - s / z) < 1e-5);
        }
      }
    }
  });

  it('leaves no tensors behind', () => {
    const before = tf.memory().numTensors;
    faithfulnessOf(model, x, { order: randomOrder(S * S, 1) }, 0, { steps: 5 });
    assert.equal(tf.memory().numTensors, before);
  });

  it("the true importance of a linear model (weights × input) beats a random map on both AUCs", () => {
    // p = sigmoid(Σ w·x + b) over a 10×10×3 input: pixel p contributes Σ_c w·x exactly, and deleting it
    // (black = 0 under 'unit' preprocessing) removes exactly that contribution. The one sigmoid unit is class 1
    // (p); class 0 is 1 − p.
    const n = 10;
    const lin = tfl.sequential({ layers: [tfl.layers.flatten({ inputShape: [n, n, 3] }), tfl.layers.dense({ units: 1, activation: 'sigmoid', kernelInitializer: seeded(21), biasInitializer: 'zeros' })] });
    const linModel = wrapLayersModel(lin, '/nonexistent/linear/model.json');
    const xs = image(9, n * n * 3);
    const xt = tf.tensor4d(xs, [1, n, n, 3]);
    try {
      const w = (lin.layers[1].getWeights()[0].dataSync() as Float32Array);
      const truth = new Float32Array(n * n);
      for (let p = 0; p < n * n; p++) for (let ch = 0; ch < 3; ch++) truth[p] += w[p * 3 + ch] * xs[p * 3 + ch];
      const good = faithfulnessOf(linModel, xt, { map: truth, shape: [n, n], kind: 'input-map' }, 1, { steps: 20, preprocess: 'unit' });
      for (const seed of [0, 1, 2]) {
        const rnd = faithfulnessOf(linModel, xt, { order: randomOrder(n * n, seed) }, 1, { steps: 20, preprocess: 'unit' });
        assert.ok(good.deletion.auc < rnd.deletion.auc, `deletion ${good.deletion.auc} vs random ${rnd.deletion.auc}`);
        assert.ok(good.insertion.auc > rnd.insertion.auc, `insertion ${good.insertion.auc} vs random ${rnd.insertion.auc}`);
      }
      // No spatial layer: Grad-CAM cannot run. With several methods it is recorded as skipped and the
      // others still count; asked for alone, its error is the command's.
      const r = evaluateFaithfulness(linModel, xt, { methods: ['gradcam', 'saliency'], steps: 4, names: { model: 'm', image: 'i' } });
      assert.deepEqual(r.record.methods.map((m) => m.method), ['gradcam', 'saliency']);
      assert.match((r.record.methods[0] as { skipped: string }).skipped, /spatial/);
      assert.equal(r.maps.length, 1, JSON.stringify(r.record.methods));
      // Saliency of the logit ±w·x is max_c |w| per pixel, for either class of the one-unit output.
      const want = Array.from({ length: n * n }, (_, p) => Math.max(Math.abs(w[p * 3]), Math.abs(w[p * 3 + 1]), Math.abs(w[p * 3 + 2])));
      assert.ok(maxAbsDiff(r.maps[0].map, want) < 1e-5);
      assert.throws(() => evaluateFaithfulness(linModel, xt, { methods: ['gradcam'], steps: 4, names: { model: 'm', image: 'i' } }), /spatial/);
    } finally {
      xt.dispose();
      linModel.dispose();
    }
  });
});
