import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { initBackend } from '../../../src/engine/backend';
import { isKerasFile, loadKerasArtifacts } from '../../../src/engine/model/keras';
import { fixture } from '../helpers';
import { drawDigit } from './digits';

// A real Keras 3.10 .keras file (Sequential: Conv2D, MaxPooling2D, Conv2D, MaxPooling2D, Flatten, Dense,
// Dropout, Dense) trained on MNIST; inputs are 28x28x1 grayscale scaled by 1/255.
describe('keras/real Keras 3 file: keras3-mnist-subhadip', function () {
  let model: tfl.LayersModel | null = null;
  before(async function () {
    const file = fixture('keras3-mnist-subhadip', 'Subhadip_Hensh_MNIST_CNN.keras');
    if (!file) return this.skip();
    await initBackend('auto');
    assert.equal(isKerasFile(file), true);
    const art = await loadKerasArtifacts(file);
    assert.equal(art.weightSpecs!.length, 8);
    assert.deepEqual(art.weightSpecs!.find((s) => s.name === 'conv2d_1/kernel')!.shape, [5, 5, 8, 16]);
    model = await tfl.loadLayersModel(tf.io.fromMemory(art), { strict: true });
  });
  after(() => model?.dispose());

  it('keeps the layers and shapes of the Keras model', () => {
    assert.deepEqual(model!.inputs[0].shape, [null, 28, 28, 1]);
    assert.deepEqual(model!.outputs[0].shape, [null, 10]);
    assert.deepEqual(
      model!.layers.map((l) => l.name),
      ['input_layer', 'conv2d', 'max_pooling2d', 'conv2d_1', 'max_pooling2d_1', 'flatten', 'dense', 'dropout', 'dense_1'],
    );
    assert.equal(model!.countParams(), 37610);
  });

  it('reads every hand-drawn digit 0–9 correctly (argmax, with x/255 preprocessing)', async () => {
    const images = Array.from({ length: 10 }, (_, d) => Array.from(drawDigit(d)));
    const x = tf.div(tf.tensor4d(images.flat(), [10, 28, 28, 1]), 255);
    const probs = model!.predict(x) as tf.Tensor2D;
    const arg = Array.from(await tf.argMax(probs, 1).data());
    assert.deepEqual(arg, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    // A digit shifted 3 pixels right is still read the same (the network is not keyed to exact pixels).
    const one = drawDigit(1);
    const shifted = new Float32Array(28 * 28);
    for (let y = 0; y < 28; y++) for (let c = 3; c < 28; c++) shifted[y * 28 + c] = one[y * 28 + c - 3] / 255;
    const p = await (model!.predict(tf.tensor4d(shifted, [1, 28, 28, 1])) as tf.Tensor).data();
    assert.equal(p.indexOf(Math.max(...p)), 1);
  });
});
