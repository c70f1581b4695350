// A binary classifier with one sigmoid unit (Keras tutorials' cats-vs-dogs head; tf2onnx exports of them):
// shown as two classes, class 1 with p and class 0 with 1 − p, explained by the unit's logit z and by −z.
// Expectations come from a plain loop over the weights (Keras) and from onnxruntime (ONNX).
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { initBackend } from '../../../src/engine/backend';
import { predict } from '../../../src/engine/explain';
import { inputGradients } from '../../../src/engine/methods/gradients';
import { loadAnyModel } from '../../../src/engine/model/loadModel';
import { summarizeModel } from '../../../src/engine/model/summary';
import { runOrt, seededInput } from '../onnx/ortCompare';
import { weights, writeModel } from '../onnx/onnxWriter';
import { randomImage, seeded, wrap } from './methodModels';

const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));

describe('one sigmoid unit: a binary classifier shown as two classes', () => {
  before(async () => {
    await initBackend((process.env.CNN_LENS_BACKEND as any) ?? 'auto');
  });

  it('Keras Flatten → Dense(1, sigmoid): probabilities [1 − p, p] and gradients ∓w, from a plain loop over the weights', () => {
    const m = tfl.sequential({
      layers: [
        tfl.layers.flatten({ inputShape: [4, 4, 3], name: 'flat' }),
        tfl.layers.dense({ units: 1, activation: 'sigmoid', kernelInitializer: seeded(3), biasInitializer: seeded(4, 0.3), name: 'out' }),
      ],
    });
    const w = m.getLayer('out').getWeights()[0].dataSync();
    const b = m.getLayer('out').getWeights()[1].dataSync()[0];
    const model = wrap(m, 'binary');
    const x = randomImage(5, 4, 4);
    try {
      assert.equal(model.numClasses, 2);
      assert.match(summarizeModel(model).outputActivation, /one sigmoid unit/);
      const xs = x.dataSync();
      let z = b;
      for (let i = 0; i < xs.length; i++) z += w[i] * xs[i];
      const p = sigmoid(z);
      const byIndex = new Map(predict(model, x).map((r) => [r.index, r]));
      assert.ok(Math.abs(byIndex.get(1)!.probability - p) < 1e-5, `P(class 1) ${byIndex.get(1)!.probability} vs ${p}`);
      assert.ok(Math.abs(byIndex.get(0)!.probability - (1 - p)) < 1e-5, `P(class 0) ${byIndex.get(0)!.probability} vs ${1 - p}`);
      assert.ok(Math.abs(byIndex.get(1)!.logit - z) < 1e-4 && Math.abs(byIndex.get(0)!.logit + z) < 1e-4, 'logits z and −z');
      for (const [cls, sign] of [[1, 1], [0, -1]] as const) {
        const g = tf.tidy(() => inputGradients(model.network!, x, [cls]).dataSync());
        let worst = 0;
        for (let i = 0; i < w.length; i++) worst = Math.max(worst, Math.abs(g[i] - sign * w[i]));
        assert.ok(worst < 1e-5, `class ${cls}: gradient deviates from ${sign > 0 ? '' : '−'}w by ${worst}`);
      }
    } finally {
      x.dispose();
      model.dispose();
    }
  });

  it('ONNX Conv → GAP → Gemm(1) → Sigmoid (as tf2onnx writes a Keras binary head): [1 − p, p] with p from onnxruntime', async () => {
    const file = writeModel({
      input: { name: 'image', dims: ['N', 3, 6, 6] },
      outputs: [{ name: 'p', dims: ['N', 1] }],
      nodes: [
        { op: 'Conv', name: 'c1', inputs: ['image', 'c1.w', 'c1.b'], outputs: ['a'], attrs: { kernel_shape: [3, 3], pads: [1, 1, 1, 1] } },
        { op: 'Relu', inputs: ['a'], outputs: ['r'] },
        { op: 'GlobalAveragePool', inputs: ['r'], outputs: ['g'] },
        { op: 'Flatten', inputs: ['g'], outputs: ['f'] },
        { op: 'Gemm', inputs: ['f', 'fc.w', 'fc.b'], outputs: ['z'], attrs: { transB: 1 } },
        { op: 'Sigmoid', inputs: ['z'], outputs: ['p'] },
      ],
      initializers: [weights('c1.w', [4, 3, 3, 3], 31), weights('c1.b', [4], 32), weights('fc.w', [1, 4], 33, 2), weights('fc.b', [1], 34)],
    });
    const dims = [1, 3, 6, 6];
    const { onnx, nhwc } = seededInput(dims, 9);
    const [p] = await runOrt(file, onnx, dims);
    const model = await loadAnyModel(file);
    try {
      assert.equal(model.numClasses, 2);
      const byIndex = new Map(predict(model, nhwc).map((r) => [r.index, r.probability]));
      assert.ok(p > 0.01 && p < 0.99, `p = ${p} is not saturated`);
      assert.ok(Math.abs(byIndex.get(1)! - p) < 1e-5 && Math.abs(byIndex.get(0)! - (1 - p)) < 1e-5, `[${byIndex.get(0)}, ${byIndex.get(1)}] vs [${1 - p}, ${p}]`);
    } finally {
      nhwc.dispose();
      model.dispose();
    }
  });
});
