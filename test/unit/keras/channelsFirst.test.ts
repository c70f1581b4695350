// Keras channels_first models (data_format "channels_first" in Conv2D and pooling, input [C, H, W]), as the
// Keras → TensorFlow.js converter writes them. Compared with a channels-last twin built from the same weights
// (the Dense rows permuted from C·H·W to H·W·C order): an independent computation without any transpose.
import { strict as assert } from 'node:assert';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { initBackend } from '../../../src/engine/backend';
import { explain, predict } from '../../../src/engine/explain';
import { methodApplicability } from '../../../src/engine/methods/applicability';
import { loadAnyModel, loadModel } from '../../../src/engine/model/loadModel';
import { summarizeModel } from '../../../src/engine/model/summary';
import { makeRng } from '../../../src/engine/random';
import * as path from 'node:path';
import { maxAbsDiff, saveLayersModel, tmpDir } from '../helpers';
import { conv2d, dense, plain, Weights, writeKerasArchive, writeLegacyH5, type ModelDesc } from './kerasWriter';

const [C, H, W, F, K] = [3, 8, 6, 4, 3];

function seeded(n: number, seed: number): Float32Array {
  const rng = makeRng(seed);
  return Float32Array.from({ length: n }, () => rng() * 2 - 1);
}

/** conv 3×3 same (ReLU) → max pool 2 → flatten → dense softmax, in the given data format, with the given weights. */
function build(format: 'channelsFirst' | 'channelsLast', kernel: Float32Array, bias: Float32Array, dense: Float32Array, denseBias: Float32Array): tfl.LayersModel {
  const m = tfl.sequential({
    name: format === 'channelsFirst' ? 'cf' : 'cl',
    layers: [
      tfl.layers.conv2d({ inputShape: format === 'channelsFirst' ? [C, H, W] : [H, W, C], filters: F, kernelSize: 3, padding: 'same', dataFormat: format, activation: 'relu', name: 'conv' }),
      tfl.layers.maxPooling2d({ poolSize: 2, dataFormat: format, name: 'pool' }),
      tfl.layers.flatten({ name: 'flat' }),
      tfl.layers.dense({ units: K, activation: 'softmax', name: 'out' }),
    ],
  });
  m.setWeights([tf.tensor4d(kernel, [3, 3, C, F]), tf.tensor1d(bias), tf.tensor2d(dense, [F * (H / 2) * (W / 2), K]), tf.tensor1d(denseBias)]);
  return m;
}

describe('Keras channels_first models', function () {
  this.timeout(60000);
  before(async () => {
    await initBackend((process.env.CNN_LENS_BACKEND as any) ?? 'auto');
  });

  it('load as NCHW, predict and give the saliency map of the channels-last twin; layer methods are refused in one line', async () => {
    const kernel = seeded(9 * C * F, 1);
    const bias = seeded(F, 2);
    const n = F * (H / 2) * (W / 2);
    const denseCf = seeded(n * K, 3);
    const denseBias = seeded(K, 4);
    // Row (c, h, w) of the channels-first Flatten is row (h, w, c) of the channels-last one.
    const denseCl = new Float32Array(n * K);
    for (let c = 0; c < F; c++) {
      for (let h = 0; h < H / 2; h++) {
        for (let w = 0; w < W / 2; w++) {
          const from = (c * (H / 2) + h) * (W / 2) + w;
          const to = (h * (W / 2) + w) * F + c;
          for (let k = 0; k < K; k++) denseCl[to * K + k] = denseCf[from * K + k];
        }
      }
    }
    const cf = await loadModel(await saveLayersModel(build('channelsFirst', kernel, bias, denseCf, denseBias), tmpDir()));
    const cl = await loadModel(await saveLayersModel(build('channelsLast', kernel, bias, denseCl, denseBias), tmpDir()));
    const x = tf.tensor4d(seeded(H * W * C, 5).map((v) => (v + 1) / 2), [1, H, W, C]);
    try {
      assert.equal(cf.inputLayout, 'NCHW');
      assert.deepEqual(cf.inputSize, { height: H, width: W, channels: C });
      const pf = predict(cf, x);
      const pl = predict(cl, x);
      assert.deepEqual(pf.map((p) => p.index), pl.map((p) => p.index));
      for (let i = 0; i < K; i++) assert.ok(Math.abs(pf[i].probability - pl[i].probability) < 1e-5, `class ${pf[i].index}`);
      const sf = explain(cf, x, { method: 'saliency', classes: [0] });
      const sl = explain(cl, x, { method: 'saliency', classes: [0] });
      assert.deepEqual(sf.explanations[0].shape, sl.explanations[0].shape);
      assert.ok(Math.max(...sl.explanations[0].map) > 0, 'the saliency map is not empty');
      assert.ok(maxAbsDiff(sf.explanations[0].map, sl.explanations[0].map) < 1e-4);
      // Grad-CAM would read [F, H, W] as [h, w, channels]: refused, naming the layer and what applies.
      assert.throws(() => explain(cf, x, { method: 'gradcam' }), (e: Error) => {
        assert.equal(e.name, 'LensError');
        assert.ok(!e.message.includes('\n'));
        assert.match(e.message, /layer 'conv' keeps its feature maps channels first .*: .*saliency/);
        return true;
      });
      assert.throws(() => explain(cf, x, { method: 'gradcam', layer: 'conv' }), /channels first/);
      assert.match(methodApplicability(cf).gradcam ?? '', /channels first/);
      assert.equal(methodApplicability(cf).saliency, null);
      assert.equal(summarizeModel(cf).defaultLayer, null);
    } finally {
      x.dispose();
      cf.dispose();
      cl.dispose();
    }
  });
  it('the same model saved by Keras as .h5 (2.15) and .keras (3): NCHW input, probabilities of a plain loop over the channels-first layout', async () => {
    const w = new Weights(11);
    const conv = conv2d(w, 'conv', C, F, 3, { activation: 'relu' });
    conv.cfg.data_format = 'channels_first';
    const out = dense(w, 'out', F * (H / 2) * (W / 2), K, 'softmax');
    const desc: ModelDesc = {
      kind: 'Sequential',
      name: 'cf_keras',
      inputName: 'image',
      inputShape: [C, H, W],
      layers: [conv, plain('MaxPooling2D', 'pool', { pool_size: [2, 2], strides: [2, 2], padding: 'valid', data_format: 'channels_first' }), plain('Flatten', 'flat', { data_format: 'channels_first' }), out],
    };
    const [kernel, bias] = conv.weights.map((x) => x.arr.data);
    const [dk, db] = out.weights.map((x) => x.arr.data);
    const img = seeded(H * W * C, 12).map((v) => (v + 1) / 2); // [H, W, C], what the engine is given
    // conv (same, ReLU) on the [C, H, W] image, 2×2 max pool, flatten in (c, h, w) order, dense, softmax.
    const at = (c: number, y: number, x: number) => (y < 0 || y >= H || x < 0 || x >= W ? 0 : img[(y * W + x) * C + c]);
    const feat = (f: number, y: number, x: number) => {
      let v = bias[f];
      for (let dy = 0; dy < 3; dy++) for (let dx = 0; dx < 3; dx++) for (let c = 0; c < C; c++) v += at(c, y + dy - 1, x + dx - 1) * kernel[((dy * 3 + dx) * C + c) * F + f];
      return Math.max(0, v);
    };
    const flat: number[] = [];
    for (let f = 0; f < F; f++) for (let y = 0; y < H / 2; y++) for (let x = 0; x < W / 2; x++) flat.push(Math.max(feat(f, 2 * y, 2 * x), feat(f, 2 * y, 2 * x + 1), feat(f, 2 * y + 1, 2 * x), feat(f, 2 * y + 1, 2 * x + 1)));
    const logits = Array.from({ length: K }, (_, k) => flat.reduce((a, v, i) => a + v * dk[i * K + k], db[k]));
    const e = logits.map((z) => Math.exp(z - Math.max(...logits)));
    const want = e.map((v) => v / e.reduce((a, b) => a + b, 0));
    const dir = tmpDir();
    const files = [path.join(dir, 'cf.h5'), path.join(dir, 'cf.keras')];
    await writeLegacyH5(files[0], desc, { full: true, kerasVersion: '2.15.0', dialect: 'keras2' });
    await writeKerasArchive(files[1], desc, 'keras3');
    const x = tf.tensor4d(img, [1, H, W, C]);
    for (const file of files) {
      const m = await loadAnyModel(file);
      try {
        assert.equal(m.inputLayout, 'NCHW', file);
        assert.deepEqual(m.inputSize, { height: H, width: W, channels: C });
        const p = predict(m, x);
        for (const { index, probability } of p) assert.ok(Math.abs(probability - want[index]) < 1e-5, `${path.basename(file)} class ${index}: ${probability} vs ${want[index]}`);
        assert.throws(() => explain(m, x, { method: 'gradcam' }), /channels first/);
      } finally {
        m.dispose();
      }
    }
    x.dispose();
  });
});
