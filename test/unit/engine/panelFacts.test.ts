// What the engine tells the panels about an image and a layer, beyond the maps: the image as decoded (so
// the panel can say "8×8 upscaled to 64×64"), what it is doing while it works, and per-tile value ranges.
import { strict as assert } from 'node:assert';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { initBackend } from '../../../src/engine/backend';
import { handlers, type RequestContext } from '../../../src/engine/service';
import { inputNote } from '../../../src/shared/format';
import { gapModel, readPng, saveLayersModel, tmpDir, writePng } from '../helpers';

function ctx(messages: string[] = []): RequestContext {
  return { id: 1, cancelled: false, step: (_d, _t, m) => void (m && messages.push(m)), emit: () => undefined, log: () => undefined };
}

describe('engine facts for the panels: input notes, busy messages, tile ranges', function () {
  this.timeout(60000);
  const S = 64;
  let dir: string;
  let model: tfl.LayersModel;
  let modelFile: string;

  before(async () => {
    await initBackend((process.env.CNN_LENS_BACKEND as any) ?? 'auto');
    dir = tmpDir('cnn-lens-facts-');
    model = gapModel(S);
    modelFile = await saveLayersModel(model, path.join(dir, 'model'), { metadata: { labels: ['a', 'b', 'c'] } });
  });

  it('predict reports the decoded size and whether the image is gray; the panel turns that into its note', async () => {
    const tiny = writePng(path.join(dir, 'tiny.png'), 8, 8, (x, y) => [x * 30, y * 30, 200]);
    const gray = writePng(path.join(dir, 'gray.png'), 90, 160, (x, y) => [(x + y) % 256, (x + y) % 256, (x + y) % 256]);
    const messages: string[] = [];
    const r1 = await handlers.predict({ type: 'predict', model: modelFile, image: tiny }, ctx(messages));
    assert.deepEqual(r1.input, { width: 8, height: 8, channels: 3 });
    assert.equal(inputNote(r1.input!, { width: S, height: S, channels: 3 }), '8×8 upscaled to 64×64');
    assert.deepEqual(messages, ['Decoding tiny.png…', 'Predicting the classes…']);
    const r2 = await handlers.predict({ type: 'predict', model: modelFile, image: gray }, ctx());
    assert.deepEqual(r2.input, { width: 90, height: 160, channels: 1 });
    assert.equal(inputNote(r2.input!, { width: S, height: S, channels: 3 }), 'grayscale copied into 3 channels, aspect changed 9:16 → 1:1');
  });

  it('filter weights and feature maps come tile by tile with each tile\'s value range', async () => {
    const w = await handlers.filterWeights({ type: 'filterWeights', model: modelFile, layer: 'last_conv' }, ctx());
    // last_conv: 3×3 kernels, 4 inputs, 6 filters. Each filter's range, from tfjs-layers' own weights.
    const kernel = model.getLayer('last_conv').getWeights()[0].dataSync();
    assert.equal(w.tiles!.length, 6);
    for (let o = 0; o < 6; o++) {
      let lo = Infinity;
      let hi = -Infinity;
      for (let i = o; i < kernel.length; i += 6) {
        lo = Math.min(lo, kernel[i]);
        hi = Math.max(hi, kernel[i]);
      }
      assert.equal(w.tiles![o].label, `#${o}`);
      assert.ok(Math.abs(w.tiles![o].min - lo) < 1e-6 && Math.abs(w.tiles![o].max - hi) < 1e-6, `filter ${o}: [${w.tiles![o].min}, ${w.tiles![o].max}] vs [${lo}, ${hi}]`);
    }
    const img = writePng(path.join(dir, 'scene.png'), S, S, (x, y) => [x * 4, y * 4, (x * y) % 256]);
    const a = await handlers.activations({ type: 'activations', model: modelFile, layer: 'conv1', image: img }, ctx());
    assert.equal(a.tiles!.length, 4);
    // Each channel's range, from tfjs-layers' own forward pass to conv1 (the image is the model's size; pixels x/255).
    const png = readPng(img);
    const acts = tf.tidy(() => {
      const x = tf.div(tf.expandDims(tf.slice(tf.tensor3d(Float32Array.from(png.data), [S, S, 4]), [0, 0, 0], [S, S, 3]), 0), 255);
      return (tfl.model({ inputs: model.inputs, outputs: model.getLayer('conv1').output as tfl.SymbolicTensor }).predict(x) as tf.Tensor).dataSync();
    });
    for (let k = 0; k < 4; k++) {
      let lo = Infinity;
      let hi = -Infinity;
      for (let i = k; i < acts.length; i += 4) {
        lo = Math.min(lo, acts[i]);
        hi = Math.max(hi, acts[i]);
      }
      const t = a.tiles![k];
      assert.ok(Math.abs(t.min - lo) < 1e-4 && Math.abs(t.max - hi) < 1e-4 * Math.max(1, hi), `channel ${k}: [${t.min}, ${t.max}] vs [${lo}, ${hi}]`);
    }
  });
});
