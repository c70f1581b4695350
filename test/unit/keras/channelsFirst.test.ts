// Keras channels_first models (data_format "channels_first" in Conv2D and pooling, input [C, H, W]), as the
// Keras → TensorFlow.js converter writes them. Compared with a channels-last twin built from the same weights
// (the Dense rows permuted from C·H·W to H·W·C order): an independent computation without any transpose.
import { strict as assert } from 'node:assert';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { initBackend } from '../../../src/engine/backend';
import { explain, predict } from '../../../src/engine/explain';
import { methodApplicability } from '../../../src/engine/methods/applicability';
import { loadModel } from '../../../src/engine/model/loadModel';
import { summarizeModel } from '../../../src/engine/model/summary';
import { makeRng } from '../../../src/engine/random';
import { maxAbsDiff, saveLayersModel, tmpDir } from '../helpers';

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
});
