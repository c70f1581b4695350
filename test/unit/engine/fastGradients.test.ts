// The engine's own input gradients (layerOps) against independent computations: convolutions (forward
// kernel over the dilated, padded output gradient) against tfjs's gradient kernels and central finite
// differences; pooling against gradients worked out from the definition; ReLU/ReLU6 (plain and guided)
// against tfjs's own. Also the sampling methods' batch size.
import { strict as assert } from 'node:assert';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { initBackend } from '../../../src/engine/backend';
import { customGrad, setFastGradients } from '../../../src/engine/model/layerOps';
import { explain } from '../../../src/engine/explain';
import { inputGradients, layerGradient, layerPass, samplesPerBatch } from '../../../src/engine/methods/gradients';
import { wrapLayersModel } from '../../../src/engine/model/loadModel';
import { Network } from '../../../src/engine/model/network';
import { makeRng } from '../../../src/engine/random';
import { centralDifferences, maxAbs, maxAbsDiff } from '../helpers';

function seeded(seed: number) {
  return tfl.initializers.randomNormal({ mean: 0, stddev: 0.5, seed });
}

function randomInput(seed: number, shape: [number, number, number, number]): tf.Tensor4D {
  const rng = makeRng(seed);
  return tf.tensor4d(new Float32Array(shape.reduce((a, b) => a * b)).map(() => rng() * 2 - 1), shape);
}

/** ∂(Σ w·y)/∂x through our graph executor, with the fast gradients on or off. */
function inputGradient(net: Network, x: tf.Tensor, weights: tf.Tensor, mode: 'on' | 'off' | 'auto'): Float32Array {
  setFastGradients(mode);
  try {
    return tf.tidy(() => tf.grad((inp: tf.Tensor) => tf.sum(tf.mul(net.run(inp, { logits: true }).logits!, weights)))(x).dataSync() as Float32Array);
  } finally {
    setFastGradients('auto');
  }
}

/** ∂(Σ w·y)/∂x by central differences (exact up to rounding here: every layer tested is linear in x). */
function finiteDifferences(net: Network, x: tf.Tensor4D, w: tf.Tensor): Float32Array {
  const f = (d: Float32Array) => tf.tidy(() => tf.sum(tf.mul(net.logits(tf.tensor4d(d, x.shape)), w)).dataSync()[0]);
  return centralDifferences(f, x.dataSync() as Float32Array, 1e-2);
}

type LayerSpec = { kind: 'conv' | 'depthwise' | 'separable'; kernel: [number, number]; strides: number; padding: 'same' | 'valid'; dilation?: number; multiplier?: number; filters?: number };

function oneLayerModel(spec: LayerSpec, inShape: [number, number, number], seed: number): tfl.LayersModel {
  const common = { kernelSize: spec.kernel, strides: spec.strides, padding: spec.padding, dilationRate: spec.dilation ?? 1, useBias: true, biasInitializer: seeded(seed + 1) };
  const layer =
    spec.kind === 'conv'
      ? tfl.layers.conv2d({ ...common, inputShape: inShape, filters: spec.filters ?? 4, kernelInitializer: seeded(seed) })
      : spec.kind === 'depthwise'
        ? tfl.layers.depthwiseConv2d({ ...common, inputShape: inShape, depthMultiplier: spec.multiplier ?? 1, depthwiseInitializer: seeded(seed) })
        : tfl.layers.separableConv2d({ ...common, inputShape: inShape, filters: spec.filters ?? 4, depthMultiplier: spec.multiplier ?? 1, depthwiseInitializer: seeded(seed), pointwiseInitializer: seeded(seed + 2) });
  return tfl.sequential({ layers: [layer] });
}

const CASES: { spec: LayerSpec; input: [number, number, number] }[] = [
  { spec: { kind: 'conv', kernel: [3, 3], strides: 1, padding: 'same' }, input: [7, 6, 3] },
  { spec: { kind: 'conv', kernel: [3, 3], strides: 1, padding: 'valid' }, input: [7, 6, 3] },
  { spec: { kind: 'conv', kernel: [3, 3], strides: 2, padding: 'same' }, input: [8, 8, 3] },
  { spec: { kind: 'conv', kernel: [3, 3], strides: 2, padding: 'same' }, input: [7, 9, 2] },
  { spec: { kind: 'conv', kernel: [3, 3], strides: 2, padding: 'valid' }, input: [8, 7, 3] },
  { spec: { kind: 'conv', kernel: [5, 5], strides: 3, padding: 'same' }, input: [10, 11, 2] },
  { spec: { kind: 'conv', kernel: [1, 7], strides: 1, padding: 'same' }, input: [6, 9, 3] },
  { spec: { kind: 'conv', kernel: [7, 1], strides: 1, padding: 'valid' }, input: [9, 5, 3] },
  { spec: { kind: 'conv', kernel: [1, 1], strides: 2, padding: 'valid' }, input: [7, 7, 5], },
  { spec: { kind: 'conv', kernel: [2, 2], strides: 2, padding: 'same' }, input: [6, 5, 3] },
  // Wider inputs (the layers after the first), whose flipped kernels have more output channels.
  { spec: { kind: 'conv', kernel: [1, 1], strides: 2, padding: 'valid' }, input: [7, 7, 2] },
  { spec: { kind: 'conv', kernel: [2, 2], strides: 3, padding: 'valid' }, input: [10, 8, 4] },
  { spec: { kind: 'conv', kernel: [3, 3], strides: 1, padding: 'same' }, input: [7, 6, 6] },
  { spec: { kind: 'conv', kernel: [3, 3], strides: 2, padding: 'same' }, input: [8, 8, 6] },
  { spec: { kind: 'conv', kernel: [3, 3], strides: 2, padding: 'valid' }, input: [8, 7, 5] },
  { spec: { kind: 'conv', kernel: [5, 5], strides: 3, padding: 'same' }, input: [10, 11, 6] },
  { spec: { kind: 'conv', kernel: [1, 7], strides: 1, padding: 'same' }, input: [6, 9, 8] },
  // Strided k×k convolutions of more than 4 channels take the sub-pixel form: padding before of 1 and 2,
  // an even kernel, a kernel smaller than its stride (phases without taps).
  { spec: { kind: 'conv', kernel: [3, 3], strides: 2, padding: 'same' }, input: [9, 9, 6] },
  { spec: { kind: 'conv', kernel: [4, 4], strides: 2, padding: 'same' }, input: [8, 10, 5] },
  { spec: { kind: 'conv', kernel: [3, 3], strides: 2, padding: 'valid' }, input: [9, 8, 7] },
  { spec: { kind: 'conv', kernel: [2, 2], strides: 3, padding: 'same' }, input: [10, 8, 6] },
  // Strided 1×1 convolutions (ResNet shortcuts): the product at the output's positions, spread.
  { spec: { kind: 'conv', kernel: [1, 1], strides: 2, padding: 'same' }, input: [9, 7, 6] },
  { spec: { kind: 'conv', kernel: [1, 1], strides: 3, padding: 'valid' }, input: [10, 8, 5] },
  { spec: { kind: 'conv', kernel: [1, 1], strides: 2, padding: 'valid' }, input: [8, 8, 8] },
  { spec: { kind: 'conv', kernel: [3, 3], strides: 1, padding: 'same', dilation: 2 }, input: [9, 8, 3] },
  { spec: { kind: 'conv', kernel: [3, 3], strides: 1, padding: 'valid', dilation: 2 }, input: [9, 8, 2] },
  { spec: { kind: 'depthwise', kernel: [3, 3], strides: 1, padding: 'same' }, input: [7, 6, 4] },
  { spec: { kind: 'depthwise', kernel: [3, 3], strides: 2, padding: 'same' }, input: [8, 8, 3] },
  { spec: { kind: 'depthwise', kernel: [3, 3], strides: 2, padding: 'valid' }, input: [9, 8, 3] },
  { spec: { kind: 'depthwise', kernel: [5, 5], strides: 1, padding: 'valid', multiplier: 2 }, input: [8, 7, 3] },
  { spec: { kind: 'depthwise', kernel: [3, 3], strides: 2, padding: 'same', multiplier: 3 }, input: [7, 7, 2] },
  { spec: { kind: 'depthwise', kernel: [3, 3], strides: 1, padding: 'same', dilation: 2 }, input: [8, 8, 3] },
  { spec: { kind: 'separable', kernel: [3, 3], strides: 1, padding: 'same', multiplier: 2 }, input: [6, 6, 3] },
  { spec: { kind: 'separable', kernel: [3, 3], strides: 2, padding: 'valid' }, input: [9, 8, 3] },
];

function describeCase(c: (typeof CASES)[number]): string {
  const s = c.spec;
  return `${s.kind} ${s.kernel.join('×')} stride ${s.strides} ${s.padding}${s.dilation ? ` dilation ${s.dilation}` : ''}${s.multiplier ? ` ×${s.multiplier}` : ''} on ${c.input.join('×')}`;
}

describe('convolution input gradients on the forward kernel', function () {
  this.timeout(120000);
  before(async () => {
    await initBackend((process.env.CNN_LENS_BACKEND as any) ?? 'auto');
  });

  for (const [i, c] of CASES.entries()) {
    // tfjs has no gradient for dilated convolutions: there the reference is central differences.
    const dilated = (c.spec.dilation ?? 1) > 1;
    it(`${describeCase(c)}: equals ${dilated ? 'central finite differences' : "tfjs's gradient kernel"}`, () => {
      const net = new Network(oneLayerModel(c.spec, c.input, 100 + i));
      const x = randomInput(i, [dilated ? 1 : 2, ...c.input]);
      const outShape = net.graph.outputs[0].shape.slice(1) as number[];
      const w = randomInput(50 + i, [x.shape[0], ...(outShape as [number, number, number])]);
      const fast = inputGradient(net, x, w, 'on');
      const reference = dilated ? finiteDifferences(net, x, w) : inputGradient(net, x, w, 'off');
      assert.equal(fast.length, reference.length);
      assert.ok(maxAbs(reference) > 1e-3, 'the case needs a non-trivial gradient');
      const tolerance = (dilated ? 2e-3 : 1e-4) * Math.max(1, maxAbs(reference));
      assert.ok(maxAbsDiff(fast, reference) < tolerance, `max diff ${maxAbsDiff(fast, reference)}`);
      x.dispose();
      w.dispose();
      net.dispose();
    });
  }

  it('strided depthwise gradient matches central finite differences (the reference kernel itself is checked too)', () => {
    const c = CASES.find((k) => k.spec.kind === 'depthwise' && k.spec.multiplier === 3)!;
    const net = new Network(oneLayerModel(c.spec, c.input, 7));
    const x = randomInput(70, [1, ...c.input]);
    const outShape = net.graph.outputs[0].shape.slice(1) as [number, number, number];
    const w = randomInput(71, [1, ...outShape]);
    const fd = finiteDifferences(net, x, w);
    for (const mode of ['on', 'off'] as const) {
      const g = inputGradient(net, x, w, mode);
      // The layer is linear in x, so central differences are exact up to float32 rounding.
      assert.ok(maxAbsDiff(g, fd) < 2e-3 * Math.max(1, maxAbs(fd)), `${mode}: max diff ${maxAbsDiff(g, fd)}`);
    }
    x.dispose();
    w.dispose();
    net.dispose();
  });

  it('follows new weights (setWeights) instead of reusing a stale flipped kernel, and leaks no tensors', () => {
    const c = CASES[2];
    const model = oneLayerModel(c.spec, c.input, 9);
    const net = new Network(model);
    const x = randomInput(90, [1, ...c.input]);
    const outShape = net.graph.outputs[0].shape.slice(1) as [number, number, number];
    const w = randomInput(91, [1, ...outShape]);
    inputGradient(net, x, w, 'on');
    const before = tf.memory().numTensors;
    for (let k = 0; k < 5; k++) inputGradient(net, x, w, 'on');
    assert.equal(tf.memory().numTensors, before);
    model.setWeights(model.getWeights().map((t) => tf.mul(t, -2)));
    const fast = inputGradient(net, x, w, 'on');
    const reference = inputGradient(net, x, w, 'off');
    assert.ok(maxAbsDiff(fast, reference) < 1e-4 * Math.max(1, maxAbs(reference)), `max diff ${maxAbsDiff(fast, reference)}`);
    x.dispose();
    w.dispose();
    net.dispose();
  });
});

type PoolSpec = { kind: 'max' | 'avg'; size: [number, number]; strides: number; padding: 'same' | 'valid' };

const POOLS: { spec: PoolSpec; input: [number, number, number] }[] = [
  { spec: { kind: 'max', size: [2, 2], strides: 2, padding: 'valid' }, input: [8, 6, 3] },
  { spec: { kind: 'max', size: [2, 2], strides: 2, padding: 'valid' }, input: [7, 9, 2] },
  { spec: { kind: 'max', size: [2, 2], strides: 2, padding: 'same' }, input: [7, 5, 2] },
  { spec: { kind: 'max', size: [3, 3], strides: 2, padding: 'valid' }, input: [9, 10, 3] },
  { spec: { kind: 'max', size: [3, 3], strides: 2, padding: 'same' }, input: [8, 7, 3] },
  { spec: { kind: 'max', size: [3, 3], strides: 1, padding: 'same' }, input: [6, 5, 2] },
  { spec: { kind: 'max', size: [3, 2], strides: 3, padding: 'valid' }, input: [10, 8, 2] },
  { spec: { kind: 'avg', size: [3, 3], strides: 1, padding: 'same' }, input: [7, 6, 3] },
  { spec: { kind: 'avg', size: [2, 2], strides: 2, padding: 'valid' }, input: [7, 8, 2] },
  { spec: { kind: 'avg', size: [3, 3], strides: 2, padding: 'same' }, input: [8, 7, 3] },
  { spec: { kind: 'avg', size: [3, 3], strides: 2, padding: 'valid' }, input: [9, 8, 2] },
];

/**
 * ∂(Σ w·pool(x))/∂x computed directly in JS from the definition: a max window passes w to its first
 * maximum in row-major order, an average window spreads w over its inputs, padding excluded (tfjs's
 * forward averages over the window's inputs inside the image only).
 */
function poolGradReference(spec: PoolSpec, x: tf.Tensor4D, w: tf.Tensor4D): Float32Array {
  const [n, h, wd, c] = x.shape;
  const [, ho, wo] = w.shape;
  const [kh, kw] = spec.size;
  const st = spec.strides;
  const before = (size: number, out: number, k: number) => (spec.padding === 'same' ? Math.floor(Math.max((out - 1) * st + k - size, 0) / 2) : 0);
  const pt = before(h, ho, kh);
  const pl = before(wd, wo, kw);
  const xv = x.dataSync();
  const wv = w.dataSync();
  const g = new Float32Array(xv.length);
  const at = (b: number, i: number, j: number, k: number) => ((b * h + i) * wd + j) * c + k;
  for (let b = 0; b < n; b++) {
    for (let oi = 0; oi < ho; oi++) {
      for (let oj = 0; oj < wo; oj++) {
        for (let k = 0; k < c; k++) {
          const cells: number[] = [];
          for (let p = 0; p < kh; p++) {
            for (let q = 0; q < kw; q++) {
              const i = oi * st + p - pt;
              const j = oj * st + q - pl;
              if (i >= 0 && i < h && j >= 0 && j < wd) cells.push(at(b, i, j, k));
            }
          }
          const wk = wv[((b * ho + oi) * wo + oj) * c + k];
          if (spec.kind === 'avg') {
            for (const cell of cells) g[cell] += wk / cells.length;
          } else {
            let best = cells[0];
            for (const cell of cells) if (xv[cell] > xv[best]) best = cell;
            g[best] += wk;
          }
        }
      }
    }
  }
  return g;
}

function poolModel(spec: PoolSpec, inShape: [number, number, number]): tfl.LayersModel {
  const args = { inputShape: inShape, poolSize: spec.size, strides: spec.strides, padding: spec.padding };
  return tfl.sequential({ layers: [spec.kind === 'max' ? tfl.layers.maxPooling2d(args) : tfl.layers.averagePooling2d(args)] });
}

describe('pooling input gradients from elementwise ops', function () {
  this.timeout(120000);
  before(async () => {
    await initBackend((process.env.CNN_LENS_BACKEND as any) ?? 'auto');
  });

  for (const [i, c] of POOLS.entries()) {
    const s = c.spec;
    it(`${s.kind} pool ${s.size.join('×')} stride ${s.strides} ${s.padding} on ${c.input.join('×')}: equals the gradient worked out from the definition`, () => {
      const net = new Network(poolModel(s, c.input));
      const x = randomInput(200 + i, [2, ...c.input]);
      const outShape = net.graph.outputs[0].shape.slice(1) as [number, number, number];
      const w = randomInput(300 + i, [2, ...outShape]);
      const fast = inputGradient(net, x, w, 'on');
      const reference = poolGradReference(s, x, w);
      assert.ok(maxAbs(reference) > 1e-3, 'the case needs a non-trivial gradient');
      assert.ok(maxAbsDiff(fast, reference) < 1e-5 * Math.max(1, maxAbs(reference)), `max diff ${maxAbsDiff(fast, reference)}`);
      // What the engine uses by default on this backend is right too (tfjs's own kernels are not everywhere:
      // wasm's MaxPoolGrad drops windows whose maximum is negative, AvgPoolGrad miscounts 'same' borders).
      const auto = inputGradient(net, x, w, 'auto');
      assert.ok(maxAbsDiff(auto, reference) < 1e-5 * Math.max(1, maxAbs(reference)), `default path: max diff ${maxAbsDiff(auto, reference)}`);
      x.dispose();
      w.dispose();
      net.dispose();
    });
  }

  it('global average pooling (keepDims or not) passes dy / (h·w) to every position: against a loop written here', () => {
    for (const keepDims of [false, true]) {
      const input = tfl.input({ shape: [5, 3, 4] });
      const out = tfl.layers.globalAveragePooling2d({ keepDims } as any).apply(input) as tfl.SymbolicTensor;
      const net = new Network(tfl.model({ inputs: input, outputs: out }));
      const x = randomInput(410, [2, 5, 3, 4]);
      const rng = makeRng(411);
      // Weights shaped as the logits the network reads ([2, 4] either way: a kept 1×1 map is flattened).
      const logitsShape = tf.tidy(() => net.run(x, { logits: true }).logits!.shape);
      assert.equal(logitsShape.reduce((a, b) => a * b, 1), 8);
      const w = tf.tensor(Float32Array.from({ length: 8 }, () => rng() * 2 - 1), logitsShape);
      const wv = w.dataSync();
      const reference = new Float32Array(2 * 5 * 3 * 4);
      for (let b = 0; b < 2; b++) for (let p = 0; p < 15; p++) for (let c = 0; c < 4; c++) reference[(b * 15 + p) * 4 + c] = wv[b * 4 + c] / 15;
      for (const mode of ['off', 'on'] as const) {
        const g = inputGradient(net, x, w, mode);
        assert.ok(maxAbsDiff(g, reference) < 1e-6, `keepDims ${keepDims}, fast gradients ${mode}: max diff ${maxAbsDiff(g, reference)}`);
      }
      tf.dispose([x, w]);
      net.dispose();
    }
  });

  it('max pool sends each window\'s gradient to its first maximum when values tie (ReLU zeros, repeated values)', () => {
    for (const c of POOLS.filter((p) => p.spec.kind === 'max')) {
      const net = new Network(poolModel(c.spec, c.input));
      // Values from {0, 0.5, 1}: most windows hold several equal maxima.
      const rng = makeRng(5);
      const x = tf.tensor4d(new Float32Array(c.input.reduce((a, b) => a * b)).map(() => Math.floor(rng() * 3) / 2), [1, ...c.input]);
      const outShape = net.graph.outputs[0].shape.slice(1) as [number, number, number];
      const w = randomInput(400, [1, ...outShape]);
      const fast = inputGradient(net, x, w, 'on');
      const reference = poolGradReference(c.spec, x, w);
      assert.ok(maxAbsDiff(fast, reference) < 1e-6, `${c.spec.size.join('×')}/${c.spec.strides} ${c.spec.padding}: max diff ${maxAbsDiff(fast, reference)}`);
      // Each output's gradient lands on exactly one input: the totals agree.
      const total = (a: Float32Array) => a.reduce((u, v) => u + v, 0);
      assert.ok(Math.abs(total(fast) - (w.dataSync() as Float32Array).reduce((u, v) => u + v, 0)) < 1e-4);
      x.dispose();
      w.dispose();
      net.dispose();
    }
  });
});

describe('activation gradients for recorded passes (ReLU, ReLU6, guided)', function () {
  this.timeout(120000);
  before(async () => {
    await initBackend((process.env.CNN_LENS_BACKEND as any) ?? 'auto');
  });

  function activationModel(): tfl.LayersModel {
    return tfl.sequential({
      layers: [
        tfl.layers.conv2d({ inputShape: [6, 6, 3], filters: 4, kernelSize: 3, padding: 'same', kernelInitializer: seeded(31), biasInitializer: seeded(32) }),
        // inputs land on both sides of 0 and 6
        tfl.layers.reLU({ maxValue: 6 }),
        tfl.layers.conv2d({ filters: 5, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: seeded(33), biasInitializer: seeded(34) }),
        tfl.layers.flatten(),
        tfl.layers.dense({ units: 3, kernelInitializer: seeded(35) }),
      ],
    });
  }

  it("match tfjs's own gradients (ReLU6 inputs span both clipping points)", () => {
    const net = new Network(activationModel());
    const x = tf.mul(randomInput(500, [2, 6, 6, 3]), 6);
    const w = tf.reshape(randomInput(501, [2, 1, 1, 3]), [2, 3]);
    const reference = inputGradient(net, x, w, 'off');
    const fast = inputGradient(net, x, w, 'on');
    assert.ok(maxAbs(reference) > 1e-3);
    assert.ok(maxAbsDiff(fast, reference) < 1e-4 * Math.max(1, maxAbs(reference)), `max diff ${maxAbsDiff(fast, reference)}`);
    x.dispose();
    w.dispose();
    net.dispose();
  });

  it('guided mode passes back only positive gradient at positive input, whichever gradients are on', () => {
    const net = new Network(activationModel());
    const x = tf.mul(randomInput(502, [1, 6, 6, 3]), 6);
    const w = tf.reshape(randomInput(503, [1, 1, 1, 3]), [1, 3]);
    const guided = (mode: 'on' | 'off') => {
      setFastGradients(mode);
      try {
        return tf.tidy(() => tf.grad((inp: tf.Tensor) => tf.sum(tf.mul(net.run(inp, { guided: true }).logits!, w)))(x).dataSync() as Float32Array);
      } finally {
        setFastGradients('auto');
      }
    };
    const on = guided('on');
    const off = guided('off');
    assert.ok(maxAbs(off) > 1e-4);
    assert.ok(maxAbsDiff(on, off) < 1e-5 * Math.max(1, maxAbs(off)), `max diff ${maxAbsDiff(on, off)}`);
    x.dispose();
    w.dispose();
    net.dispose();
  });
});

describe('batch size of the sampling methods', () => {
  before(async () => {
    await initBackend((process.env.CNN_LENS_BACKEND as any) ?? 'auto');
  });

  it('is what was asked for, else up to 8 images within 128 MB of gradient work (1 for ImageNet-size activations)', () => {
    const small = new Network(tfl.sequential({ layers: [tfl.layers.conv2d({ inputShape: [16, 16, 3], filters: 4, kernelSize: 3 }), tfl.layers.flatten(), tfl.layers.dense({ units: 2 })] }));
    const x = tf.zeros([1, 16, 16, 3]);
    assert.equal(samplesPerBatch(small, x, 0), 8);
    assert.equal(samplesPerBatch(small, x, 3), 3);
    // 56×56×64 twice: 0.4 M floats per image, 6.4 MB of gradient work per image at 4× → 20 fit in 128 MB, capped at 8.
    const mid = new Network(tfl.sequential({ layers: [tfl.layers.conv2d({ inputShape: [56, 56, 3], filters: 64, kernelSize: 3, padding: 'same' }), tfl.layers.conv2d({ filters: 64, kernelSize: 3, padding: 'same' })] }));
    const xm = tf.zeros([1, 56, 56, 3]);
    assert.equal(samplesPerBatch(mid, xm, 0), 8);
    xm.dispose();
    mid.dispose();
    // 112×112×64 twice: 1.6 M floats per image, 25.7 MB of gradient work per image at 4× → 5 images fit in 128 MB.
    const big = new Network(tfl.sequential({ layers: [tfl.layers.conv2d({ inputShape: [112, 112, 3], filters: 64, kernelSize: 3, padding: 'same' }), tfl.layers.conv2d({ filters: 64, kernelSize: 3, padding: 'same' })] }));
    const xb = tf.zeros([1, 112, 112, 3]);
    assert.equal(samplesPerBatch(big, xb, 0), 5);
    // VGG16-size: 224×224×64 twice is already 100 MB per image → 1.
    const huge = new Network(tfl.sequential({ layers: [tfl.layers.conv2d({ inputShape: [224, 224, 3], filters: 64, kernelSize: 3, padding: 'same' }), tfl.layers.conv2d({ filters: 64, kernelSize: 3, padding: 'same' })] }));
    const xh = tf.zeros([1, 224, 224, 3]);
    assert.equal(samplesPerBatch(huge, xh, 0), 1);
    xh.dispose();
    huge.dispose();
    small.dispose();
    big.dispose();
    x.dispose();
    xb.dispose();
  });
});

describe('input-gradient methods share the forward pass that ranks the classes', () => {
  before(async () => {
    await initBackend((process.env.CNN_LENS_BACKEND as any) ?? 'auto');
  });

  it('saliency and guided backprop for the top 3 classes equal gradients computed on their own', () => {
    const m = tfl.sequential({
      layers: [
        tfl.layers.conv2d({ inputShape: [8, 8, 3], filters: 4, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: seeded(41), biasInitializer: seeded(42) }),
        tfl.layers.globalAveragePooling2d({}),
        tfl.layers.dense({ units: 5, activation: 'softmax', kernelInitializer: seeded(43) }),
      ],
    });
    const lm = wrapLayersModel(m, '/nonexistent/rank/model.json');
    const x = randomInput(600, [1, 8, 8, 3]);
    const probs = tf.tidy(() => (m.predict(x) as tf.Tensor).dataSync() as Float32Array);
    const order = [...probs.keys()].sort((a, b) => probs[b] - probs[a]);
    for (const method of ['saliency', 'guided-backprop'] as const) {
      const r = explain(lm, x, { method, topK: 3 });
      assert.deepEqual(r.explanations.map((e) => e.class.index), order.slice(0, 3), method);
      r.explanations.forEach((e) => {
        const g = tf.tidy(() => {
          const grad = tf.squeeze(inputGradients(lm.network!, x, [e.class.index], { guided: method === 'guided-backprop' }), [0]);
          return (method === 'saliency' ? tf.max(tf.abs(grad), -1) : grad).dataSync() as Float32Array;
        });
        assert.ok(maxAbsDiff(e.map, g) < 1e-6 * Math.max(1, maxAbs(g)), `${method} class ${e.class.index}: max diff ${maxAbsDiff(e.map, g)}`);
      });
      // the probabilities reported come from that pass and match the model's own forward pass
      r.predictions.forEach((p) => assert.ok(Math.abs(p.probability - probs[p.index]) < 1e-6));
    }
    lm.dispose();
    x.dispose();
  });
});

describe('batch norm folded into the convolution before it', function () {
  this.timeout(120000);
  before(async () => {
    await initBackend((process.env.CNN_LENS_BACKEND as any) ?? 'auto');
  });

  const bnArgs = (seed: number, scale = true) => ({
    scale,
    gammaInitializer: tfl.initializers.randomUniform({ minval: 0.5, maxval: 1.5, seed }),
    betaInitializer: seeded(seed + 1),
    movingMeanInitializer: seeded(seed + 2),
    movingVarianceInitializer: tfl.initializers.randomUniform({ minval: 0.5, maxval: 2, seed: seed + 3 }),
  });

  /** conv(bias) → BN → relu6, depthwise(×2, no bias) → BN(scale false), conv(no bias) 'tap_me' → BN → GAP → dense. */
  function bnModel(): tfl.LayersModel {
    const input = tfl.input({ shape: [9, 8, 3] });
    let x = tfl.layers.conv2d({ filters: 4, kernelSize: 3, strides: 2, padding: 'same', kernelInitializer: seeded(61), biasInitializer: seeded(62) }).apply(input) as tfl.SymbolicTensor;
    x = tfl.layers.batchNormalization({ ...bnArgs(63), name: 'first_bn' }).apply(x) as tfl.SymbolicTensor;
    x = tfl.layers.reLU({ maxValue: 6, name: 'first_relu' }).apply(x) as tfl.SymbolicTensor;
    x = tfl.layers.depthwiseConv2d({ kernelSize: 3, depthMultiplier: 2, padding: 'same', useBias: false, depthwiseInitializer: seeded(64) }).apply(x) as tfl.SymbolicTensor;
    x = tfl.layers.batchNormalization(bnArgs(65, false)).apply(x) as tfl.SymbolicTensor;
    x = tfl.layers.conv2d({ filters: 5, kernelSize: 1, useBias: false, kernelInitializer: seeded(66), name: 'tap_me' }).apply(x) as tfl.SymbolicTensor;
    x = tfl.layers.batchNormalization(bnArgs(67)).apply(x) as tfl.SymbolicTensor;
    x = tfl.layers.globalAveragePooling2d({}).apply(x) as tfl.SymbolicTensor;
    x = tfl.layers.dense({ units: 3, activation: 'softmax', kernelInitializer: seeded(68) }).apply(x) as tfl.SymbolicTensor;
    return tfl.model({ inputs: input, outputs: x });
  }

  it("computes what tfjs-layers computes, and the same gradients as the unfolded layers", async () => {
    const m = bnModel();
    const net = new Network(m);
    const x = randomInput(700, [2, 9, 8, 3]);
    setFastGradients('on');
    const ours = tf.tidy(() => net.probabilities(net.logits(x)).dataSync() as Float32Array);
    // Folded: the batch norms' multiplies are gone from the forward pass.
    const kernels = (await tf.profile(() => net.logits(x).dispose())).kernels.map((k) => k.name);
    setFastGradients('auto');
    assert.equal(kernels.filter((k) => k === 'Multiply').length, 0, kernels.join(' '));
    const unfolded = (await tf.profile(() => {
      setFastGradients('off');
      net.logits(x).dispose();
      setFastGradients('auto');
    })).kernels.map((k) => k.name);
    assert.equal(unfolded.filter((k) => k === 'Multiply').length, 3, unfolded.join(' '));
    const theirs = tf.tidy(() => (m.predict(x) as tf.Tensor).dataSync() as Float32Array);
    assert.ok(maxAbsDiff(ours, theirs) < 1e-5, `forward: max diff ${maxAbsDiff(ours, theirs)}`);
    const w = tf.reshape(randomInput(701, [2, 1, 1, 3]), [2, 3]);
    const folded = inputGradient(net, x, w, 'on');
    const plain = inputGradient(net, x, w, 'off');
    assert.ok(maxAbs(plain) > 1e-3);
    assert.ok(maxAbsDiff(folded, plain) < 1e-4 * Math.max(1, maxAbs(plain)), `gradient: max diff ${maxAbsDiff(folded, plain)}`);
    x.dispose();
    w.dispose();
    net.dispose();
  });

  it('still reads and differentiates at a convolution that is folded elsewhere (taps, layer gradients)', () => {
    const m = bnModel();
    const net = new Network(m);
    const x = randomInput(702, [1, 9, 8, 3]);
    const tap = net.findLayer('tap_me');
    // Taps inside a folded chain (the convolution, the batch norm before a ReLU, the ReLU) read what tfjs-layers computes.
    for (const name of ['tap_me', 'first_bn', 'first_relu']) {
      const node = net.findLayer(name);
      const byLayers = tf.tidy(() => (tfl.model({ inputs: m.inputs, outputs: m.getLayer(name).output as tfl.SymbolicTensor }).predict(x) as tf.Tensor).dataSync() as Float32Array);
      for (const mode of ['on', 'off'] as const) {
        setFastGradients(mode);
        try {
          const a = tf.tidy(() => net.run(x, { taps: [node.index] }).taps.get(node.index)!.dataSync() as Float32Array);
          assert.ok(maxAbsDiff(a, byLayers) < 1e-5, `${name} ${mode}: tap max diff ${maxAbsDiff(a, byLayers)}`);
        } finally {
          setFastGradients('auto');
        }
      }
    }
    // Grad-CAM at the folded convolution equals the unfolded computation.
    const grad = (mode: 'on' | 'off') => {
      setFastGradients(mode);
      try {
        return tf.tidy(() => {
          const pass = layerPass(net, x, tap);
          return layerGradient(net, pass, 1).dataSync() as Float32Array;
        });
      } finally {
        setFastGradients('auto');
      }
    };
    const on = grad('on');
    const off = grad('off');
    assert.ok(maxAbs(off) > 1e-4);
    assert.ok(maxAbsDiff(on, off) < 1e-5 * Math.max(1, maxAbs(off)), `layer gradient: max diff ${maxAbsDiff(on, off)}`);
    x.dispose();
    net.dispose();
  });

  it('follows new weights (setWeights) and leaks no tensors', () => {
    const m = bnModel();
    const net = new Network(m);
    const x = randomInput(703, [1, 9, 8, 3]);
    const w = tf.reshape(randomInput(704, [1, 1, 1, 3]), [1, 3]);
    inputGradient(net, x, w, 'on');
    const before = tf.memory().numTensors;
    for (let k = 0; k < 3; k++) inputGradient(net, x, w, 'on');
    assert.equal(tf.memory().numTensors, before);
    const scaled = m.getWeights().map((t, i) => (i % 3 === 0 ? tf.mul(t, 1.5) : t.clone()));
    m.setWeights(scaled);
    scaled.forEach((t) => t.dispose());
    const fresh = tf.tidy(() => (m.predict(x) as tf.Tensor).dataSync() as Float32Array);
    setFastGradients('on');
    const ours = tf.tidy(() => net.probabilities(net.logits(x)).dataSync() as Float32Array);
    setFastGradients('auto');
    assert.ok(maxAbsDiff(ours, fresh) < 1e-5, `after setWeights: max diff ${maxAbsDiff(ours, fresh)}`);
    x.dispose();
    w.dispose();
    net.dispose();
  });
});

describe('memory of the gradients', function () {
  this.timeout(120000);
  before(async () => {
    await initBackend((process.env.CNN_LENS_BACKEND as any) ?? 'auto');
  });

  /**
   * ∂/∂x of Σ y for six ops y = 2x whose gradients each make eight 1 MB temporaries; `make` is
   * tf.customGrad or ours. Returns the gradient's first entry and the tensor bytes alive when each op's
   * gradient starts.
   */
  function chainGradient(make: (f: any) => (x: tf.Tensor) => tf.Tensor): { g: number; bytes: number[] } {
    const bytes: number[] = [];
    const op = make((x: tf.Tensor) => ({
      value: tf.mul(x, 2),
      gradFunc: (dy: tf.Tensor) => {
        bytes.push(tf.memory().numBytes);
        let t = dy;
        for (let i = 0; i < 8; i++) t = tf.add(t, 0);
        return tf.mul(t, 2);
      },
    }));
    const x = tf.ones([256, 1024]); // 1 MB
    const g = tf.tidy(() =>
      tf.grad((inp: tf.Tensor) => {
        let y = inp;
        for (let i = 0; i < 6; i++) y = op(y);
        return tf.sum(y);
      })(x).dataSync()[0],
    );
    x.dispose();
    return { g, bytes };
  }

  it("frees a custom gradient's temporaries as the backward pass goes (tfjs keeps them to the end)", () => {
    const MB = 2 ** 20;
    const ours = chainGradient((f) => customGrad(f));
    const theirs = chainGradient((f) => tf.customGrad(f) as any);
    assert.equal(ours.g, 64);
    assert.equal(theirs.g, 64);
    const growth = (b: number[]) => (b[b.length - 1] - b[0]) / MB;
    // The premise: with tfjs's customGrad each op's 9 temporaries stay until tf.grad ends.
    assert.ok(growth(theirs.bytes) >= 40, `tfjs: ${growth(theirs.bytes)} MB`);
    // Ours: only each op's returned gradient (1 MB) stays.
    assert.ok(growth(ours.bytes) <= 6, `ours: ${growth(ours.bytes)} MB`);
  });

  it('makes the gradient constants before the first gradient, not inside it', () => {
    const model = tfl.sequential();
    for (let i = 0; i < 4; i++) model.add(tfl.layers.conv2d({ inputShape: i === 0 ? [4, 4, 64] : undefined, filters: 64, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: seeded(i) }));
    model.add(tfl.layers.globalAveragePooling2d({}));
    model.add(tfl.layers.dense({ units: 3, kernelInitializer: seeded(9) }));
    const net = new Network(model);
    const x = randomInput(3, [1, 4, 4, 64]);
    // Tensor bytes alive at the end of each forward pass (when a gradient's forward values are all kept).
    const marks: number[] = [];
    const run = net.run.bind(net);
    net.run = (inp, opts) => {
      const r = run(inp, opts);
      marks.push(tf.memory().numBytes);
      return r;
    };
    setFastGradients('on');
    try {
      const before = tf.memory().numBytes;
      tf.tidy(() => inputGradients(net, x, [1]).dataSync());
      const kept = tf.memory().numBytes - before;
      tf.tidy(() => inputGradients(net, x, [1]).dataSync());
      const kernelBytes = 4 * 3 * 3 * 64 * 64 * 4;
      // The first gradient made the flipped kernels (kept), the second nothing new.
      assert.ok(kept >= kernelBytes, `first call kept ${kept} bytes`);
      assert.equal(tf.memory().numBytes - before, kept);
      // Made inside the gradient, the preparation's temporaries would be on its tape until it ends.
      assert.equal(marks.length, 2);
      assert.ok(marks[0] <= marks[1] + kernelBytes / 4, `first forward ${marks[0]} bytes, second ${marks[1]}`);
    } finally {
      setFastGradients('auto');
      x.dispose();
      net.dispose();
    }
  });

  it("a gradient at a layer makes only the constants of the layers after it; an input gradient makes the rest", () => {
    const model = tfl.sequential();
    for (const [i, name] of ['c1', 'c2', 'c3'].entries()) model.add(tfl.layers.conv2d({ inputShape: i === 0 ? [6, 6, 8] : undefined, filters: 8, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: seeded(20 + i), name }));
    model.add(tfl.layers.globalAveragePooling2d({}));
    model.add(tfl.layers.dense({ units: 3, kernelInitializer: seeded(29) }));
    const net = new Network(model);
    const x = randomInput(21, [1, 6, 6, 8]);
    const kernelBytes = 3 * 3 * 8 * 8 * 4;
    const layerGrad = (name: string) => tf.tidy(() => layerGradient(net, layerPass(net, x, net.findLayer(name)), 1).dataSync());
    setFastGradients('on');
    try {
      net.logits(x).dispose();
      let before = tf.memory().numBytes;
      layerGrad('c3');
      assert.equal(tf.memory().numBytes - before, 0, `Grad-CAM at the last convolution kept ${tf.memory().numBytes - before} bytes`);
      before = tf.memory().numBytes;
      layerGrad('c1');
      // c2's and c3's flipped kernels, not c1's.
      assert.equal(tf.memory().numBytes - before, 2 * kernelBytes);
      before = tf.memory().numBytes;
      tf.tidy(() => inputGradients(net, x, [1]).dataSync());
      assert.equal(tf.memory().numBytes - before, kernelBytes, "the input gradient made c1's");
      before = tf.memory().numBytes;
      layerGrad('c2');
      tf.tidy(() => inputGradients(net, x, [1]).dataSync());
      assert.equal(tf.memory().numBytes - before, 0);
    } finally {
      setFastGradients('auto');
      x.dispose();
      net.dispose();
    }
  });

  it('runs the fused convolution kernel inside a gradient too (tf.fused.conv2d splits it there)', async () => {
    const model = tfl.sequential();
    model.add(tfl.layers.conv2d({ inputShape: [8, 8, 3], filters: 4, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: seeded(1) }));
    model.add(tfl.layers.globalAveragePooling2d({}));
    model.add(tfl.layers.dense({ units: 2, kernelInitializer: seeded(2) }));
    const net = new Network(model);
    const x = randomInput(5, [1, 8, 8, 3]);
    setFastGradients('on');
    try {
      const prof = await tf.profile(() => void tf.tidy(() => inputGradients(net, x, [0]).dataSync()));
      const names = prof.kernels.map((k) => k.name);
      assert.ok(names.includes('FusedConv2D'), names.join(' '));
      // Split, the forward pass would run Conv2D, Add and Relu kernels (the ReLU's gradient uses Step).
      assert.ok(!names.includes('Relu'), names.join(' '));
    } finally {
      setFastGradients('auto');
      x.dispose();
      net.dispose();
    }
  });
});
