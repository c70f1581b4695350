// ZeroPadding2D folded into the 'valid' convolution after it (network.ts foldPlan, layerOps/conv.ts): the
// forward pass against tfjs-layers' own, input and layer gradients against tfjs's gradients of the model as
// tfjs-layers runs it (tf.pad's and the convolutions' own gradient kernels), on each kind of fold: the
// first layer's column gradient, a strided depthwise convolution inside a folded batch norm (the SIMD
// gradient on wasm), and the forms that pad first inside a gradient (a wide convolution, a stride-1 depthwise).
import { strict as assert } from 'node:assert';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { initBackend } from '../../../src/engine/backend';
import { layerGradient, layerPass } from '../../../src/engine/methods/gradients';
import { Network } from '../../../src/engine/model/network';
import { maxAbs, maxAbsDiff } from '../helpers';
import { randomImage, seeded } from './methodModels';

/** Every kind of fold, with asymmetric zeros; a linear head, so that the model's output is the logits. */
function paddedModel(): tfl.LayersModel {
  const input = tfl.input({ shape: [9, 8, 3] });
  let x = tfl.layers.zeroPadding2d({ padding: [[0, 1], [0, 1]], name: 'pad_first' }).apply(input) as tfl.SymbolicTensor;
  x = tfl.layers.conv2d({ filters: 4, kernelSize: 3, strides: 2, padding: 'valid', activation: 'relu6', kernelInitializer: seeded(1), biasInitializer: seeded(2) }).apply(x) as tfl.SymbolicTensor;
  x = tfl.layers.zeroPadding2d({ padding: [[1, 1], [1, 2]], name: 'pad_dw' }).apply(x) as tfl.SymbolicTensor;
  x = tfl.layers.depthwiseConv2d({ kernelSize: 3, strides: 2, padding: 'valid', useBias: false, depthwiseInitializer: seeded(3), name: 'dw_strided' }).apply(x) as tfl.SymbolicTensor;
  x = tfl.layers.batchNormalization({ gammaInitializer: seeded(4), betaInitializer: seeded(5), movingMeanInitializer: seeded(6), movingVarianceInitializer: tfl.initializers.constant({ value: 0.7 }) }).apply(x) as tfl.SymbolicTensor;
  x = tfl.layers.reLU({ maxValue: 6 }).apply(x) as tfl.SymbolicTensor;
  x = tfl.layers.zeroPadding2d({ padding: 1, name: 'pad_wide' }).apply(x) as tfl.SymbolicTensor;
  x = tfl.layers.conv2d({ filters: 6, kernelSize: 3, padding: 'valid', activation: 'relu', kernelInitializer: seeded(7), biasInitializer: seeded(8), name: 'conv_wide' }).apply(x) as tfl.SymbolicTensor;
  x = tfl.layers.zeroPadding2d({ padding: [[2, 0], [0, 1]], name: 'pad_dw1' }).apply(x) as tfl.SymbolicTensor;
  x = tfl.layers.depthwiseConv2d({ kernelSize: 2, padding: 'valid', depthwiseInitializer: seeded(9), biasInitializer: seeded(10) }).apply(x) as tfl.SymbolicTensor;
  x = tfl.layers.globalAveragePooling2d({}).apply(x) as tfl.SymbolicTensor;
  x = tfl.layers.dense({ units: 3, kernelInitializer: seeded(11) }).apply(x) as tfl.SymbolicTensor;
  return tfl.model({ inputs: input, outputs: x });
}

/** Runs f with $CNN_LENS_FOLD_PADDING set to `mode`. */
function withFold<T>(mode: 'on' | 'off', f: () => T): T {
  const before = process.env.CNN_LENS_FOLD_PADDING;
  process.env.CNN_LENS_FOLD_PADDING = mode;
  try {
    return f();
  } finally {
    if (before === undefined) delete process.env.CNN_LENS_FOLD_PADDING;
    else process.env.CNN_LENS_FOLD_PADDING = before;
  }
}

describe('ZeroPadding2D folded into the convolution after it', function () {
  this.timeout(60000);
  let folds = true;
  before(async () => {
    await initBackend((process.env.CNN_LENS_BACKEND as 'wasm' | 'cpu' | undefined) ?? 'auto');
    folds = ['wasm', 'cpu'].includes(tf.getBackend());
  });

  it("computes what tfjs-layers computes, with no Pad kernel left (wasm and cpu)", async () => {
    const m = paddedModel();
    const net = new Network(m);
    const x = randomImage(1, 9, 8, 3, 2);
    const ours = tf.tidy(() => net.logits(x).dataSync() as Float32Array);
    const theirs = tf.tidy(() => (m.predict(x) as tf.Tensor).dataSync() as Float32Array);
    assert.ok(maxAbs(theirs) > 1e-2);
    assert.ok(maxAbsDiff(ours, theirs) < 1e-5 * Math.max(1, maxAbs(theirs)), `max diff ${maxAbsDiff(ours, theirs)}`);
    const pads = async (mode: 'on' | 'off') => (await tf.profile(() => withFold(mode, () => net.logits(x).dispose()))).kernels.filter((k) => k.name === 'PadV2').length;
    assert.equal(await pads('off'), 4);
    if (folds) assert.equal(await pads('on'), 0);
    x.dispose();
    net.dispose();
  });

  it("input gradients equal tfjs's gradient of the model as tfjs-layers runs it, plain and guided ReLUs alike", () => {
    const m = paddedModel();
    const net = new Network(m);
    const x = randomImage(2, 9, 8, 3, 2);
    const w = tf.tensor2d([0.3, -1.1, 0.7, 1.4, 0.2, -0.5], [2, 3]);
    const reference = tf.tidy(() => tf.grad((inp: tf.Tensor) => tf.sum(tf.mul(m.apply(inp) as tf.Tensor, w)))(x).dataSync() as Float32Array);
    assert.ok(maxAbs(reference) > 1e-3);
    const ours = (mode: 'on' | 'off', guided = false) =>
      withFold(mode, () => tf.tidy(() => tf.grad((inp: tf.Tensor) => tf.sum(tf.mul(net.run(inp, { guided }).logits!, w)))(x).dataSync() as Float32Array));
    // The first gradient makes the network's gradient constants (flipped kernels, folded batch norms); later
    // ones leave nothing.
    ours('on');
    const before = tf.memory().numTensors;
    const folded = ours('on');
    assert.equal(tf.memory().numTensors, before, 'tensors left by a folded gradient');
    const tol = 1e-5 * Math.max(1, maxAbs(reference));
    assert.ok(maxAbsDiff(folded, reference) < tol, `folded: max diff ${maxAbsDiff(folded, reference)}`);
    assert.ok(maxAbsDiff(ours('off'), reference) < tol, `unfolded: max diff ${maxAbsDiff(ours('off'), reference)}`);
    // Guided backpropagation has no tfjs reference: the folded and unfolded passes must agree.
    const guided = ours('on', true);
    assert.ok(maxAbs(guided) > 1e-4);
    assert.ok(maxAbsDiff(guided, ours('off', true)) < tol, `guided: max diff ${maxAbsDiff(guided, ours('off', true))}`);
    tf.dispose([x, w]);
    net.dispose();
  });

  it('taps the padding itself, and differentiates at layers before and after a fold (Grad-CAM)', () => {
    const m = paddedModel();
    const net = new Network(m);
    const x = randomImage(3, 9, 8);
    for (const name of ['pad_dw', 'pad_wide']) {
      const node = net.findLayer(name);
      const byLayers = tf.tidy(() => (tfl.model({ inputs: m.inputs, outputs: m.getLayer(name).output as tfl.SymbolicTensor }).predict(x) as tf.Tensor).dataSync() as Float32Array);
      const tapped = withFold('on', () => tf.tidy(() => net.run(x, { taps: [node.index] }).taps.get(node.index)!.dataSync() as Float32Array));
      assert.ok(maxAbsDiff(tapped, byLayers) < 1e-5, `${name}: tap max diff ${maxAbsDiff(tapped, byLayers)}`);
    }
    // The layer gradient at the strided depthwise convolution (the folds after it run in the head) and at the
    // padding before the wide convolution (a replaced padding is not folded), against tfjs's gradient of the
    // head as tfjs-layers runs it from the layer's output.
    for (const name of ['dw_strided', 'pad_wide']) {
      const node = net.findLayer(name);
      const layerOut = m.getLayer(name).output as tfl.SymbolicTensor;
      const head = tfl.model({ inputs: m.inputs, outputs: layerOut });
      const a = tf.tidy(() => head.predict(x) as tf.Tensor);
      const rest = restOfModel(m, name);
      const reference = tf.tidy(() => tf.grad((t: tf.Tensor) => tf.sum(tf.mul(rest(t), tf.oneHot([2], 3))))(a).dataSync() as Float32Array);
      a.dispose();
      for (const mode of ['on', 'off'] as const) {
        const g = withFold(mode, () =>
          tf.tidy(() => {
            const pass = layerPass(net, x, node);
            return layerGradient(net, pass, 2).dataSync() as Float32Array;
          }),
        );
        assert.ok(maxAbs(reference) > 1e-4);
        assert.ok(maxAbsDiff(g, reference) < 1e-5 * Math.max(1, maxAbs(reference)), `${name} ${mode}: max diff ${maxAbsDiff(g, reference)}`);
      }
    }
    x.dispose();
    net.dispose();
  });
});

/** The layers after `name` applied to a tensor standing for its output (a chain: each layer reads the one before). */
function restOfModel(m: tfl.LayersModel, name: string): (t: tf.Tensor) => tf.Tensor {
  const at = m.layers.findIndex((l) => l.name === name);
  const after = m.layers.slice(at + 1);
  return (t) => after.reduce((v, l) => l.apply(v) as tf.Tensor, t);
}
