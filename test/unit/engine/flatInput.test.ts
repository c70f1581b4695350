// Models fed a flattened square grayscale image ([batch, s²]: an MNIST MLP given x.view(-1, 784)): the image is
// read row by row. Expectations from a plain loop over the weights (tfjs layers) and from onnxruntime (ONNX).
import * as assert from 'node:assert/strict';
import * as tfl from '@tensorflow/tfjs-layers';
import { initBackend } from '../../../src/engine/backend';
import { explain, predict } from '../../../src/engine/explain';
import { loadAnyModel } from '../../../src/engine/model/loadModel';
import { summarizeModel } from '../../../src/engine/model/summary';
import { runOrt } from '../onnx/ortCompare';
import { weights, writeModel } from '../onnx/onnxWriter';
import { randomImage, seeded, wrap } from './methodModels';

describe('a flattened square grayscale input [batch, s²]', () => {
  before(async () => {
    await initBackend((process.env.CNN_LENS_BACKEND as any) ?? 'auto');
  });

  it('tfjs layers Dense on [null, 64]: an 8×8 image, its pixels in row order; saliency is max |W[:, c]| per pixel', () => {
    const m = tfl.sequential({ layers: [tfl.layers.dense({ inputShape: [64], units: 3, activation: 'softmax', kernelInitializer: seeded(7), biasInitializer: seeded(8, 0.2), name: 'out' })] });
    const W = m.getLayer('out').getWeights()[0].dataSync(); // [64, 3]
    const b = m.getLayer('out').getWeights()[1].dataSync();
    const model = wrap(m, 'mlp');
    const x = randomImage(3, 8, 8, 1);
    try {
      assert.deepEqual(model.inputSize, { height: 8, width: 8, channels: 1 });
      assert.match(summarizeModel(model).inputLayout, /flattened/);
      const px = x.dataSync(); // [1, 8, 8, 1]: index h·8 + w
      const z = [0, 1, 2].map((c) => {
        let s = b[c];
        for (let i = 0; i < 64; i++) s += W[i * 3 + c] * px[i];
        return s;
      });
      const got = new Map(predict(model, x).map((r) => [r.index, r.logit]));
      for (let c = 0; c < 3; c++) assert.ok(Math.abs(got.get(c)! - z[c]) < 1e-4, `logit ${c}: ${got.get(c)} vs ${z[c]}`);
      const r = explain(model, x, { method: 'saliency', classes: [1] }).explanations[0];
      assert.deepEqual(r.shape, [8, 8]);
      for (let i = 0; i < 64; i++) assert.ok(Math.abs(r.map[i] - Math.abs(W[i * 3 + 1])) < 1e-5, `pixel ${i}`);
      assert.throws(() => explain(model, x, { method: 'gradcam', classes: [1] }), /^LensError: \/nonexistent\/mlp\/model\.json: the model has no layer with a spatial output/);
      assert.throws(() => explain(model, x, { method: 'gradcam', classes: [1], layer: 'nope' }), /^LensError: \/nonexistent\/mlp\/model\.json: no layer named 'nope'/);
    } finally {
      x.dispose();
      model.dispose();
    }
  });

  it('ONNX Gemm on [N, 784] (a PyTorch MLP): logits equal onnxruntime on the image flattened row by row', async () => {
    const file = writeModel({
      input: { name: 'x', dims: ['N', 784] },
      outputs: [{ name: 'logits', dims: ['N', 10] }],
      nodes: [
        { op: 'Gemm', inputs: ['x', 'w1', 'b1'], outputs: ['h'], attrs: { transB: 1 } },
        { op: 'Relu', inputs: ['h'], outputs: ['r'] },
        { op: 'Gemm', inputs: ['r', 'w2', 'b2'], outputs: ['logits'], attrs: { transB: 1 } },
      ],
      initializers: [weights('w1', [16, 784], 41, 0.1), weights('b1', [16], 42), weights('w2', [10, 16], 43), weights('b2', [10], 44)],
    });
    const x = randomImage(11, 28, 28, 1);
    const model = await loadAnyModel(file);
    try {
      assert.deepEqual(model.inputSize, { height: 28, width: 28, channels: 1 });
      const theirs = await runOrt(file, x.dataSync() as Float32Array, [1, 784]);
      const ours = new Map(predict(model, x).map((r) => [r.index, r.logit]));
      let worst = 0;
      for (let c = 0; c < 10; c++) worst = Math.max(worst, Math.abs(ours.get(c)! - theirs[c]));
      assert.ok(worst < 1e-4, `max logit difference ${worst}`);
    } finally {
      x.dispose();
      model.dispose();
    }
  });
});
