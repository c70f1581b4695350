// The default target layer of the layer methods (src/engine/model/targetLayer.ts) on the shapes ordinary
// CNNs have: the last spatial convolution / normalization / activation / merge, never the pooling, dropout,
// padding or identity layers after it.
import assert from 'node:assert/strict';
import * as tfl from '@tensorflow/tfjs-layers';
import { initBackend } from '../../../src/engine/backend';
import { wrapLayersModel } from '../../../src/engine/model/loadModel';
import { summarizeModel } from '../../../src/engine/model/summary';

function defaultOf(model: tfl.LayersModel): { layer: string | null; reason: string | null } {
  const m = wrapLayersModel(model, 'model.json');
  const s = summarizeModel(m);
  m.dispose();
  return { layer: s.defaultLayer, reason: s.defaultLayerReason };
}

describe('default target layer', () => {
  before(async () => {
    await initBackend('auto');
  });

  it('a Keras tutorial CNN (conv, conv, pool, dropout, flatten, dense): the last convolution', () => {
    // The traffic-sign CNN of issue 16: the old default was dropout_1 at 4×4.
    const model = tfl.sequential({
      layers: [
        tfl.layers.conv2d({ inputShape: [20, 20, 3], filters: 4, kernelSize: 3, activation: 'relu', name: 'conv2d' }),
        tfl.layers.maxPooling2d({ poolSize: 2, name: 'max_pooling2d' }),
        tfl.layers.conv2d({ filters: 6, kernelSize: 3, activation: 'relu', name: 'conv2d_1' }),
        tfl.layers.zeroPadding2d({ padding: 1, name: 'zero_padding2d' }),
        tfl.layers.maxPooling2d({ poolSize: 2, name: 'max_pooling2d_1' }),
        tfl.layers.dropout({ rate: 0.25, name: 'dropout_1' }),
        tfl.layers.flatten({ name: 'flatten' }),
        tfl.layers.dense({ units: 5, activation: 'softmax', name: 'dense' }),
      ],
    });
    const d = defaultOf(model);
    assert.equal(d.layer, 'conv2d_1');
    assert.match(d.reason!, /convolution, 7×7/);
    assert.match(d.reason!, /zero_padding2d, max_pooling2d_1, dropout_1 after it/);
  });

  it('VGG-style: block5_conv3, not the pooling after it', () => {
    const model = tfl.sequential({
      layers: [
        tfl.layers.conv2d({ inputShape: [16, 16, 3], filters: 4, kernelSize: 3, padding: 'same', activation: 'relu', name: 'block5_conv3' }),
        tfl.layers.maxPooling2d({ poolSize: 2, name: 'block5_pool' }),
        tfl.layers.flatten({ name: 'flatten' }),
        tfl.layers.dense({ units: 3, activation: 'softmax', name: 'predictions' }),
      ],
    });
    assert.equal(defaultOf(model).layer, 'block5_conv3');
  });

  it('a residual block: the activation after the Add; global average pooling: the layer feeding it (as CAM uses)', () => {
    const x = tfl.input({ shape: [8, 8, 3] });
    const c1 = tfl.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', name: 'conv1' }).apply(x) as tfl.SymbolicTensor;
    const r1 = tfl.layers.reLU({ name: 'relu1' }).apply(c1) as tfl.SymbolicTensor;
    const c2 = tfl.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', name: 'conv2' }).apply(r1) as tfl.SymbolicTensor;
    const bn = tfl.layers.batchNormalization({ name: 'bn2' }).apply(c2) as tfl.SymbolicTensor;
    const add = tfl.layers.add({ name: 'add' }).apply([bn, r1]) as tfl.SymbolicTensor;
    const out = tfl.layers.activation({ activation: 'relu', name: 'out_relu' }).apply(add) as tfl.SymbolicTensor;
    const drop = tfl.layers.dropout({ rate: 0.2, name: 'top_dropout' }).apply(out) as tfl.SymbolicTensor;
    const gap = tfl.layers.globalAveragePooling2d({ name: 'gap' }).apply(drop) as tfl.SymbolicTensor;
    const y = tfl.layers.dense({ units: 3, activation: 'softmax', name: 'probs' }).apply(gap) as tfl.SymbolicTensor;
    const d = defaultOf(tfl.model({ inputs: x, outputs: y }));
    assert.equal(d.layer, 'out_relu');
    assert.match(d.reason!, /activation, 8×8/);
  });

  it('a linear Activation (what augmentation layers become) is an identity and skipped; 1-wide outputs are not spatial', () => {
    const model = tfl.sequential({
      layers: [
        tfl.layers.conv2d({ inputShape: [8, 8, 1], filters: 2, kernelSize: 3, padding: 'same', name: 'features' }),
        tfl.layers.activation({ activation: 'linear', name: 'random_flip' }),
        tfl.layers.conv2d({ filters: 2, kernelSize: [1, 8], padding: 'valid', name: 'row_conv' }), // 8×1: not spatial
        tfl.layers.flatten({ name: 'flatten' }),
        tfl.layers.dense({ units: 2, name: 'logits' }),
      ],
    });
    const d = defaultOf(model);
    assert.equal(d.layer, 'features');
    assert.match(d.reason!, /random_flip after it/);
  });

  it('an MLP without spatial layers has none, and says so', () => {
    const model = tfl.sequential({ layers: [tfl.layers.flatten({ inputShape: [8, 8, 1] }), tfl.layers.dense({ units: 3, activation: 'softmax' })] });
    assert.deepEqual(defaultOf(model), { layer: null, reason: null });
  });
});
