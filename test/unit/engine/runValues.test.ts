// A plain forward pass frees each layer output after its last reader (src/engine/model/runValues.ts):
// the logits do not change, a value read twice (a residual branch) lives until its second reader, taps and
// layers that return their input stay valid, and the peak the perturbation methods size their batches by
// equals the one counted by hand; a layer pass keeps only what a gradient at the layer reads again.
import { strict as assert } from 'node:assert';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { initBackend } from '../../../src/engine/backend';
import { layerGradient, layerPass } from '../../../src/engine/methods/gradients';
import { Network } from '../../../src/engine/model/network';
import { makeRng } from '../../../src/engine/random';

/** input [8, 8, 3] → conv c1 → conv c2 → add(c1, c2) → dropout → GAP → dense(5): c1 is read twice. */
function residualModel(): tfl.LayersModel {
  const init = (seed: number) => tfl.initializers.randomNormal({ mean: 0, stddev: 0.4, seed });
  const input = tfl.input({ shape: [8, 8, 3] });
  const c1 = tfl.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: init(1), name: 'c1' }).apply(input) as tfl.SymbolicTensor;
  const c2 = tfl.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: init(2), name: 'c2' }).apply(c1) as tfl.SymbolicTensor;
  const sum = tfl.layers.add({ name: 'sum' }).apply([c1, c2]) as tfl.SymbolicTensor;
  const drop = tfl.layers.dropout({ rate: 0.5, name: 'drop' }).apply(sum) as tfl.SymbolicTensor;
  const gap = tfl.layers.globalAveragePooling2d({ name: 'gap' }).apply(drop) as tfl.SymbolicTensor;
  // No bias: a dense layer's product before its bias is a temporary inside the layer (the caller's tidy frees it).
  const out = tfl.layers.dense({ units: 5, kernelInitializer: init(3), useBias: false, name: 'out' }).apply(gap) as tfl.SymbolicTensor;
  return tfl.model({ inputs: input, outputs: out });
}

function randomBatch(n: number): tf.Tensor4D {
  const rng = makeRng(3);
  return tf.tensor4d(Float32Array.from({ length: n * 8 * 8 * 3 }, () => rng() * 2 - 1), [n, 8, 8, 3]);
}

describe('forward passes free each value after its last reader', function () {
  this.timeout(60000);
  before(async () => {
    await initBackend((process.env.CNN_LENS_BACKEND as 'wasm' | 'cpu' | undefined) ?? 'auto');
  });

  it('gives the logits of the model itself and keeps only the logits alive', () => {
    const model = residualModel();
    const net = new Network(model);
    const x = randomBatch(2);
    tf.tidy(() => {
      net.run(x); // a first pass makes any per-network constants
    });
    const want = tf.tidy(() => (model.predict(x) as tf.Tensor).dataSync());
    tf.tidy(() => {
      const before = tf.memory().numTensors;
      const r = net.run(x);
      assert.equal(tf.memory().numTensors - before, 1, 'only the logits outlive the pass');
      assert.deepEqual(Array.from(r.logits!.dataSync()), Array.from(want));
    });
    // keepValues holds every output: c1, c2, sum, dropout (its input itself), gap, logits.
    tf.tidy(() => {
      const before = tf.memory().numTensors;
      const r = net.run(x, { keepValues: true });
      assert.ok(tf.memory().numTensors - before >= 5, `${tf.memory().numTensors - before} tensors`);
      assert.ok(r.values!.size >= 6);
    });
    x.dispose();
    net.dispose();
  });

  it('taps stay valid, including a tap on a layer that returns its input (dropout) and on a value read twice', () => {
    const net = new Network(residualModel());
    const x = randomBatch(1);
    const index = (name: string) => net.graph.nodes.find((n) => n.path === name)!.index;
    const [c1, drop, sum] = [index('c1'), index('drop'), index('sum')];
    tf.tidy(() => {
      const r = net.run(x, { taps: [c1, drop] });
      const kept = net.run(x, { taps: [c1, drop, sum], keepValues: true });
      assert.deepEqual(Array.from(r.taps.get(c1)!.dataSync()), Array.from(kept.taps.get(c1)!.dataSync()));
      // The dropout's output is the sum's tensor itself: it must survive the sum being freed.
      assert.deepEqual(Array.from(r.taps.get(drop)!.dataSync()), Array.from(kept.taps.get(sum)!.dataSync()));
      assert.ok(!r.taps.get(drop)!.isDisposed && !r.logits!.isDisposed);
    });
    assert.ok(!x.isDisposed, "the caller's input is never freed");
    x.dispose();
    net.dispose();
  });

  it('a layer pass keeps only what the layers after the layer read; the gradient there re-runs no convolution and equals its closed form', async () => {
    const model = residualModel();
    const net = new Network(model);
    const x = randomBatch(1);
    const node = (name: string) => net.graph.nodes.find((n) => n.path === name)!;
    const c2 = node('c2');
    const pass = layerPass(net, x, c2);
    // The sum after c2 reads c1: the residual branch stays, with the input and c2 itself; c1's own input does not.
    assert.deepEqual([...pass.cache.keys()].sort(), [net.graph.input.id, node('c1').outputs[0].id, c2.outputs[0].id].sort());
    const profile = await tf.profile(() => tf.tidy(() => void layerGradient(net, pass, 2).dataSync()));
    const convs = profile.kernels.filter((k) => /conv/i.test(k.name)).map((k) => k.name);
    assert.deepEqual(convs, [], 'no convolution runs again');
    // logit_2 = Σ_ch W[ch, 2] · mean over positions of (c1 + c2): ∂/∂c2[y, x, ch] = W[ch, 2] / 64 everywhere.
    const W = (model.getLayer('out').getWeights()[0] as tf.Tensor).arraySync() as number[][];
    const g = tf.tidy(() => layerGradient(net, pass, 2).dataSync());
    for (let p = 0; p < 64; p++) for (let ch = 0; ch < 4; ch++) assert.ok(Math.abs(g[p * 4 + ch] - W[ch][2] / 64) < 1e-6, `position ${p} channel ${ch}`);
    tf.dispose([pass.activation, pass.logits, ...[...pass.cache.values()].filter((t) => t !== x)]);
    // At the sum, nothing before it is kept, and nothing before it runs again.
    const sum = node('sum');
    const atSum = layerPass(net, x, sum);
    assert.deepEqual([...atSum.cache.keys()].sort(), [net.graph.input.id, sum.outputs[0].id].sort());
    const again = await tf.profile(() => tf.tidy(() => void layerGradient(net, atSum, 1).dataSync()));
    assert.deepEqual(again.kernels.filter((k) => /conv/i.test(k.name)).map((k) => k.name), []);
    tf.dispose([atSum.activation, atSum.logits, ...[...atSum.cache.values()].filter((t) => t !== x)]);
    x.dispose();
    net.dispose();
  });

  it('the peak per image counted by hand: the input (the caller holds it) and c1, c2 and their sum at once', () => {
    const net = new Network(residualModel());
    // 8·8·3 input + 3 maps of 8·8·4 while the Add runs; then the GAP (4) and the logits (5) are smaller.
    assert.equal(net.forwardPeakFloatsPerImage(), 8 * 8 * 3 + 3 * 8 * 8 * 4);
    net.dispose();
  });
});
