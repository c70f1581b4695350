// Fewer default optimization steps for units of the first convolutions (issue 17 item 10): a first-layer
// unit sees a few pixels, and those layers are the slowest per step.
import { strict as assert } from 'node:assert';
import * as tfl from '@tensorflow/tfjs-layers';
import { initBackend } from '../../../src/engine/backend';
import { wrapLayersModel } from '../../../src/engine/model/loadModel';
import { defaultMaximizeSteps, maximize } from '../../../src/engine/vis/maximize';

describe('default steps of activation maximization', () => {
  before(async () => {
    await initBackend('auto');
  });

  it('64 for the first convolution block, 128 for the second, 256 deeper and for classes', () => {
    const model = tfl.sequential({
      layers: [
        tfl.layers.conv2d({ inputShape: [12, 12, 3], filters: 2, kernelSize: 3, padding: 'same', name: 'c1' }),
        tfl.layers.reLU({ name: 'r1' }),
        tfl.layers.conv2d({ filters: 2, kernelSize: 3, padding: 'same', activation: 'relu', name: 'c2' }),
        tfl.layers.maxPooling2d({ poolSize: 2, name: 'p2' }),
        tfl.layers.conv2d({ filters: 2, kernelSize: 3, padding: 'same', activation: 'relu', name: 'c3' }),
        tfl.layers.globalAveragePooling2d({ name: 'gap' }),
        tfl.layers.dense({ units: 2, name: 'out' }),
      ],
    });
    const m = wrapLayersModel(model, 'steps.json');
    const net = m.network!;
    const steps = (name: string) => defaultMaximizeSteps(net, net.findLayer(name));
    assert.deepEqual(['c1', 'r1', 'c2', 'p2', 'c3'].map(steps), [64, 64, 128, 128, 256]);
    assert.equal(defaultMaximizeSteps(net, null), 256);
    const saved = process.env.CNN_LENS_MAX_STEPS;
    delete process.env.CNN_LENS_MAX_STEPS;
    try {
      assert.equal(maximize(m, { layer: 'r1', channel: 0, size: 12 }).steps, 64);
    } finally {
      if (saved !== undefined) process.env.CNN_LENS_MAX_STEPS = saved;
    }
    m.dispose();
  });
});
