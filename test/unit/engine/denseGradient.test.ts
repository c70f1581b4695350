// A dense layer's input gradient for sparse output gradients (src/engine/model/layerOps/dense.ts): dy·Wᵀ from
// the columns dy selects, against a plain double loop written here and against tfjs's own matMul gradient.
import { strict as assert } from 'node:assert';
import * as tf from '@tensorflow/tfjs-core';
// tfjs-layers registers tfjs-core's gradients (the engine loads it with any model).
import '@tensorflow/tfjs-layers';
import { initBackend } from '../../../src/engine/backend';
import { matMulFastGrad, sparseRowsGradient } from '../../../src/engine/model/layerOps/dense';
import { makeRng } from '../../../src/engine/random';

/** dy·Wᵀ by its definition: out[r, k] = Σ_j dy[r, j] · W[k, j]. */
function byLoop(dy: Float32Array, rows: number, n: number, w: Float32Array, k: number): Float32Array {
  const out = new Float32Array(rows * k);
  for (let r = 0; r < rows; r++) for (let i = 0; i < k; i++) for (let j = 0; j < n; j++) out[r * k + i] += dy[r * n + j] * w[i * n + j];
  return out;
}

describe('dense input gradient from the columns a sparse dy selects', function () {
  this.timeout(60000);
  before(async () => {
    await initBackend((process.env.CNN_LENS_BACKEND as 'wasm' | 'cpu' | undefined) ?? 'auto');
  });

  it('one-hot rows, rows with several nonzeros, a zero row and an all-zero dy equal the double loop; a dense dy is left to the product', () => {
    const rng = makeRng(21);
    const [k, n] = [37, 50];
    const w = Float32Array.from({ length: k * n }, () => rng() * 2 - 1);
    const before = tf.memory().numTensors;
    const kernel = tf.tensor2d(w, [k, n]);
    const cases: [string, number, (r: number, j: number) => number][] = [
      ['one-hot, 1 row', 1, (_r, j) => (j === 17 ? 1 : 0)],
      ['one-hot, 3 rows', 3, (r, j) => (j === [0, 49, 17][r] ? 1 : 0)],
      ['two nonzeros a row, one zero row', 3, (r, j) => (r === 1 ? 0 : j === 3 + r ? 0.5 : j === 40 - r ? -2 : 0)],
      ['all zeros', 2, () => 0],
    ];
    for (const [label, rows, f] of cases) {
      const dyv = Float32Array.from({ length: rows * n }, (_, i) => f(Math.floor(i / n), i % n));
      const dy = tf.tensor2d(dyv, [rows, n]);
      const got = sparseRowsGradient(dy, kernel);
      assert.ok(got, `${label}: not taken`);
      assert.deepEqual(got.shape, [rows, k]);
      const want = byLoop(dyv, rows, n, w, k);
      const g = got.dataSync();
      const bad = want.findIndex((v, i) => Math.abs(g[i] - v) > 1e-6);
      assert.equal(bad, -1, `${label}: [${bad}] ${g[bad]} vs ${want[bad]}`);
      tf.dispose([dy, got]);
    }
    const dense = tf.randomNormal([2, n]) as tf.Tensor2D;
    assert.equal(sparseRowsGradient(dense, kernel), null);
    dense.dispose();
    kernel.dispose();
    assert.equal(tf.memory().numTensors, before);
  });

  it("through tf.grad, a class score's gradient equals tfjs's own matMul gradient", () => {
    const rng = makeRng(22);
    const x = tf.tensor2d(Float32Array.from({ length: 2 * 64 }, () => rng() * 2 - 1), [2, 64]);
    const kernel = tf.tensor2d(Float32Array.from({ length: 64 * 10 }, () => rng() * 2 - 1), [64, 10]);
    const oneHot = tf.tensor2d([0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1], [2, 10]);
    const ours = tf.grad((xi: tf.Tensor) => tf.sum(tf.mul(matMulFastGrad(xi as tf.Tensor2D, kernel), oneHot)))(x);
    const theirs = tf.grad((xi: tf.Tensor) => tf.sum(tf.mul(tf.matMul(xi as tf.Tensor2D, kernel), oneHot)))(x);
    const [a, b] = [ours.dataSync(), theirs.dataSync()];
    const bad = a.findIndex((v, i) => Math.abs(v - b[i]) > 1e-6);
    assert.equal(bad, -1, `[${bad}] ${a[bad]} vs ${b[bad]}`);
    tf.dispose([x, kernel, oneHot, ours, theirs]);
  });
});
