import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../../src/engine/backend';
import { explain } from '../../../src/engine/explain';
import { loadAnyModel } from '../../../src/engine/model/loadModel';
import { fixture, tmpDir } from '../helpers';
import { drawDigit } from './digits';
import { toJson, writeKerasArchive, writeLegacyH5 } from './kerasWriter';
import { maxAbsDiff, modelA, referenceA, sampleInput } from './models';

// Keras files through the engine's model loader (what the CLI, the model browser and the explain panel use).
describe('keras/loadAnyModel: Keras files in the engine', function () {
  let dir: string;
  const A = modelA(41);
  before(async () => {
    await initBackend('auto');
    dir = tmpDir('cnn-lens-keras-any-');
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('.keras, .h5 and architecture JSON + weights give the network of the tfjs-built model', async () => {
    const keras = path.join(dir, 'a.keras');
    const h5 = path.join(dir, 'a.h5');
    const arch = path.join(dir, 'a.json');
    const weights = path.join(dir, 'a-weights.h5');
    await writeKerasArchive(keras, A, 'keras3');
    await writeLegacyH5(h5, A, { full: true });
    fs.writeFileSync(arch, toJson(A, 'keras2'));
    await writeLegacyH5(weights, A, { full: false });
    const ref = referenceA(A);
    const x = sampleInput(4);
    const want = ref.predict(x) as tf.Tensor;
    for (const [file, opts, format] of [
      [keras, {}, 'Keras .keras archive'],
      [h5, {}, 'Keras HDF5 model'],
      [arch, { weightsFile: weights }, 'Keras architecture JSON + HDF5 weights'],
    ] as const) {
      const m = await loadAnyModel(file, opts);
      assert.equal(m.format, format);
      assert.deepEqual(m.inputSize, { height: 16, width: 16, channels: 3 });
      assert.equal(m.numClasses, 3);
      const net = m.network!;
      const probs = tf.tidy(() => net.probabilities(net.logits(x)));
      const diff = await maxAbsDiff(probs, want);
      assert.ok(diff < 1e-5, `${path.basename(file)}: ${diff}`);
      // The default target layer is inside the nested Functional (its last spatial output).
      assert.match(net.defaultLayer()!.path, /block/);
      m.dispose();
    }
    ref.dispose();
  });

  it('the real Keras 3 MNIST file predicts drawn digits and gives Grad-CAM maps', async function () {
    const file = fixture('keras3-mnist-subhadip', 'Subhadip_Hensh_MNIST_CNN.keras');
    if (!file) return this.skip();
    const m = await loadAnyModel(file);
    assert.deepEqual(m.inputSize, { height: 28, width: 28, channels: 1 });
    for (const digit of [0, 1, 7]) {
      const x = tf.div(tf.tensor4d(Float32Array.from(drawDigit(digit)), [1, 28, 28, 1]), 255);
      const byDefault = explain(m, x, { method: 'gradcam' });
      assert.equal(byDefault.predictions[0].index, digit);
      assert.equal(byDefault.layer, 'conv2d_1'); // the last convolution, not the pooling after it
      assert.deepEqual(byDefault.explanations[0].shape, [8, 8]);
      const r = explain(m, x, { method: 'gradcam', layer: 'conv2d_1' });
      const e = r.explanations[0];
      assert.deepEqual(e.shape, [8, 8]);
      assert.ok(e.map.every(Number.isFinite));
      assert.ok(e.max > e.min, `digit ${digit}: constant Grad-CAM map`);
      x.dispose();
    }
    m.dispose();
  });
});
