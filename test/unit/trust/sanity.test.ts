// The cascading randomization test on the trained demo model: Grad-CAM's map stops resembling the
// original, a map that ignores the model (the image's edge map) stays identical; the weights come back.
import { strict as assert } from 'node:assert';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../../src/engine/backend';
import { explain, imageToInput } from '../../../src/engine/explain';
import { readImageFile } from '../../../src/engine/image/decode';
import { loadAnyModel, type LoadedModel } from '../../../src/engine/model/loadModel';
import { cascadingRandomization, sanityCheck, weightedLayers } from '../../../src/engine/trust';
import { CancelledError } from '../../../src/engine/errors';

const DEMO = path.resolve('media/demo/model.json');
const IMAGE = path.resolve('media/samples/cross-and-arrow.png');

/** |Sobel| of the image's mean channel: a "map" computed from the pixels alone. */
function edgeMap(x: Float32Array, h: number, w: number, c: number): Float32Array {
  const g = (yy: number, xx: number) => {
    const y = Math.min(h - 1, Math.max(0, yy));
    const X = Math.min(w - 1, Math.max(0, xx));
    let s = 0;
    for (let k = 0; k < c; k++) s += x[(y * w + X) * c + k];
    return s / c;
  };
  const out = new Float32Array(h * w);
  for (let y = 0; y < h; y++) {
    for (let X = 0; X < w; X++) {
      const gx = g(y - 1, X + 1) + 2 * g(y, X + 1) + g(y + 1, X + 1) - g(y - 1, X - 1) - 2 * g(y, X - 1) - g(y + 1, X - 1);
      const gy = g(y + 1, X - 1) + 2 * g(y + 1, X) + g(y + 1, X + 1) - g(y - 1, X - 1) - 2 * g(y - 1, X) - g(y - 1, X + 1);
      out[y * w + X] = Math.hypot(gx, gy);
    }
  }
  return out;
}

describe('trust: the randomization sanity check', () => {
  let model: LoadedModel;
  let x: tf.Tensor4D;

  before(async () => {
    await initBackend((process.env.CNN_LENS_BACKEND as any) ?? 'auto');
    model = await loadAnyModel(DEMO);
    x = imageToInput(model, await readImageFile(IMAGE), model.defaultPreprocess);
  });
  after(() => {
    x.dispose();
    model.dispose();
  });

  const logits = () => tf.tidy(() => Array.from(model.network!.logits(x).dataSync()));

  it("drives Grad-CAM's Spearman below 0.5 by the last stage and restores the weights", () => {
    const before = logits();
    // The network keeps gradient constants (flipped kernels) made on its first gradient: warm it up.
    explain(model, x, { method: 'gradcam' });
    const tensors = tf.memory().numTensors;
    const seen: string[] = [];
    const r = sanityCheck(model, x, { method: 'gradcam', names: { model: 'demo', image: 'img' }, onStage: (s) => seen.push(s.layer) });
    const layers = weightedLayers(model.network!).map((n) => n.path);
    assert.deepEqual(r.record.stages.map((s) => s.layer), layers);
    assert.deepEqual(seen, layers);
    assert.equal(layers[0], 'predictions', 'the output layer is randomized first');
    assert.equal(r.maps.length, layers.length + 1);
    const last = r.record.stages[r.record.stages.length - 1];
    assert.ok(last.spearman < 0.5, `last stage Spearman ${last.spearman}`);
    assert.deepEqual(logits(), before, 'weights restored');
    assert.equal(tf.memory().numTensors, tensors, 'no tensors left behind');
  });

  it('an edge map that ignores the model stays at Spearman 1 and SSIM 1 at every stage', () => {
    const { height, width, channels } = model.inputSize;
    const xd = x.dataSync() as Float32Array;
    const r = cascadingRandomization(model.network!, model.inputSize, () => ({ map: edgeMap(xd, height, width, channels), shape: [height, width], kind: 'input-map' }));
    assert.ok(r.stages.length >= 3);
    for (const s of r.stages) {
      assert.equal(s.spearman, 1, s.layer);
      assert.ok(Math.abs(s.ssim - 1) < 1e-9, `${s.layer}: SSIM ${s.ssim}`);
    }
  });

  it('a cancel between stages stops with CancelledError and the weights are restored', () => {
    const before = logits();
    let stages = 0;
    assert.throws(
      () =>
        sanityCheck(model, x, { method: 'gradcam', names: { model: 'demo', image: 'img' }, onStage: () => stages++ }, { isCancelled: () => stages >= 2 }),
      CancelledError,
    );
    assert.equal(stages, 2);
    assert.deepEqual(logits(), before);
  });

  it('the same seed gives the same stages', () => {
    const a = sanityCheck(model, x, { method: 'gradcam', seed: 3, names: { model: 'demo', image: 'img' } }).record.stages;
    const b = sanityCheck(model, x, { method: 'gradcam', seed: 3, names: { model: 'demo', image: 'img' } }).record.stages;
    assert.deepEqual(a, b);
  });
});
