// Occlusion and RISE against plain loops written here (one forward pass per patch through tfjs-layers'
// predict) and against what their estimators converge to; progress, cancel and tensor leaks.
import { strict as assert } from 'node:assert';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { initBackend } from '../../../src/engine/backend';
import { CancelledError } from '../../../src/engine/errors';
import { explain } from '../../../src/engine/explain';
import { maxAbs, maxAbsDiff } from '../helpers';
import { linearHead, predictRow, randomImage, wrap } from './methodModels';

describe('perturbation methods (occlusion, RISE)', function () {
  this.timeout(120000);
  before(async () => {
    await initBackend((process.env.CNN_LENS_BACKEND as any) ?? 'auto');
  });

  /** Occlusion by a plain loop: each patch position through predict, the black value filled in by hand. */
  function occlusionLoop(m: tfl.LayersModel, x: tf.Tensor4D, cls: number, P: number, S: number, black: number): Float64Array {
    const [, H, W, C] = x.shape;
    const xd = x.dataSync();
    const y0 = predictRow(m, x)[cls];
    const sum = new Float64Array(H * W);
    const n = new Float64Array(H * W);
    for (let py = 0; py + P <= H; py += S) {
      for (let px = 0; px + P <= W; px += S) {
        const occ = Float32Array.from(xd);
        for (let y = py; y < py + P; y++) for (let xx = px; xx < px + P; xx++) for (let c = 0; c < C; c++) occ[(y * W + xx) * C + c] = black;
        const drop = y0 - predictRow(m, tf.tensor4d(occ, [1, H, W, C]))[cls];
        for (let y = py; y < py + P; y++) {
          for (let xx = px; xx < px + P; xx++) {
            sum[y * W + xx] += drop;
            n[y * W + xx]++;
          }
        }
      }
    }
    return sum.map((s, i) => (n[i] ? s / n[i] : 0));
  }

  it('occlusion equals a per-patch loop; pixels no patch covers are 0; the default patch is ⌈min(H, W)/8⌉ with stride ⌈P/2⌉', () => {
    const m = linearHead(12);
    const lm = wrap(m, 'occ');
    const x = randomImage(1, 12, 12);
    // Preset 'tf' makes black −1 (x/127.5 − 1), so the filled value is not 0.
    const r = explain(lm, x, { method: 'occlusion', classes: [1], preprocess: 'tf', options: { patch: 4, stride: 3, batchSize: 5 } }).explanations[0];
    assert.deepEqual(r.shape, [12, 12]);
    const expected = occlusionLoop(m, x, 1, 4, 3, -1);
    assert.ok(maxAbsDiff(r.map, expected) < 1e-4 * Math.max(1, maxAbs(expected)), `max diff ${maxAbsDiff(r.map, expected)}`);
    // starts 0, 3, 6: rows and columns 10 and 11 are covered by no patch
    for (let i = 0; i < 12; i++) {
      for (const j of [10, 11]) {
        assert.equal(r.map[j * 12 + i], 0);
        assert.equal(r.map[i * 12 + j], 0);
      }
    }
    assert.ok(maxAbs(expected) > 0);
    const d = explain(lm, x, { method: 'occlusion', classes: [0], preprocess: 'unit' }).explanations[0];
    const expectedDefault = occlusionLoop(m, x, 0, 2, 1, 0);
    assert.ok(maxAbsDiff(d.map, expectedDefault) < 1e-4 * Math.max(1, maxAbs(expectedDefault)));
    assert.throws(() => explain(lm, x, { method: 'occlusion', options: { patch: 13 } }), /occlusion: the patch \(13 px\) is larger than the model's input \(12×12\)/);
    lm.dispose();
  });

  it('RISE converges: on a model that ignores its input the map tends to the class probability, and maps with different seeds draw together as masks grow', () => {
    // Zero kernels everywhere: the output is softmax(bias of the last layer) whatever the input.
    const m = linearHead(8);
    m.setWeights(m.getWeights().map((w, i, all) => (i === all.length - 1 ? w.clone() : tf.zerosLike(w))));
    const sm = tfl.model({ inputs: m.inputs, outputs: tfl.layers.softmax({ name: 'sm' }).apply(m.outputs[0]) as tfl.SymbolicTensor });
    const lc = wrap(sm, 'constant');
    const x = randomImage(2, 8, 8);
    const p = predictRow(sm, x)[1];
    const r = explain(lc, x, { method: 'rise', classes: [1], options: { samples: 4000, grid: 4 } }).explanations[0];
    assert.deepEqual(r.shape, [8, 8]);
    const mean = r.map.reduce((a, b) => a + b, 0) / r.map.length;
    assert.ok(Math.abs(mean - p) < 0.02 * p, `mean ${mean} vs p ${p}`);
    assert.ok(maxAbsDiff(r.map, new Float32Array(64).fill(p)) < 0.1 * p, `max diff ${maxAbsDiff(r.map, new Float32Array(64).fill(p))}`);
    lc.dispose();

    const real = linearHead(8);
    const lr = wrap(tfl.model({ inputs: real.inputs, outputs: tfl.layers.softmax({ name: 'sm' }).apply(real.outputs[0]) as tfl.SymbolicTensor }), 'real');
    const spread = (samples: number) => {
      const maps = [1, 2, 3, 4].map((seed) => explain(lr, x, { method: 'rise', classes: [0], options: { samples, seed, grid: 4 } }).explanations[0].map);
      let s = 0;
      for (let a = 0; a < maps.length; a++) for (let b = a + 1; b < maps.length; b++) s += Math.sqrt(maps[a].reduce((acc, v, i) => acc + (v - maps[b][i]) ** 2, 0));
      return s;
    };
    const small = spread(100);
    const large = spread(1600);
    // Monte-Carlo error shrinks as 1/√N: 16× the masks, about 4× closer.
    assert.ok(large < small / 2.5, `spread at 100 masks ${small}, at 1600 ${large}`);
    // seeded: the same seed and batching-independent
    const a = explain(lr, x, { method: 'rise', classes: [0], options: { samples: 50, seed: 7, batchSize: 3 } }).explanations[0].map;
    const b = explain(lr, x, { method: 'rise', classes: [0], options: { samples: 50, seed: 7, batchSize: 16 } }).explanations[0].map;
    assert.ok(maxAbsDiff(a, b) < 1e-6);
    lr.dispose();
  });

  it('reports progress per batch, stops when cancelled, and leaks no tensors over 20 calls (occlusion, RISE) or on cancel', () => {
    const lm = wrap(linearHead(8), 'leak');
    const x = randomImage(3, 8, 8);
    const seen: number[] = [];
    explain(lm, x, { method: 'occlusion', options: { patch: 2, stride: 2, batchSize: 4 } }, { onProgress: (p) => seen.push(p.done) });
    assert.deepEqual(seen.slice(0, 4), [4, 8, 12, 16]); // 16 positions in batches of 4, then the class done
    const before = tf.memory().numTensors;
    for (let i = 0; i < 20; i++) {
      explain(lm, x, { method: 'occlusion', topK: 2 });
      explain(lm, x, { method: 'rise', options: { samples: 20 } });
    }
    let calls = 0;
    for (const method of ['rise', 'occlusion', 'scorecam', 'ablationcam'] as const) {
      assert.throws(() => explain(lm, x, { method, layer: 'target', options: { samples: 64, batchSize: 2 } }, { onProgress: () => calls++, isCancelled: () => calls >= 2 }), CancelledError);
      calls = 0;
    }
    assert.equal(tf.memory().numTensors, before);
    lm.dispose();
  });
});
