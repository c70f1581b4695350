// ONNX models under the engine's gradient methods: input gradients against central finite differences of
// onnxruntime-node's forward pass, Grad-CAM against its closed form on a GAP head, no leaked tensors.
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import * as ort from 'onnxruntime-node';
import { initBackend } from '../../../src/engine/backend';
import { explain } from '../../../src/engine/explain';
import { loadAnyModel } from '../../../src/engine/model/loadModel';
import { seededInput, vsCentralDifferences } from './ortCompare';
import { weights, writeModel, type GraphSpec, type NodeSpec } from './onnxWriter';

/** A smooth network with the layout traps in it: strided conv with asymmetric pads, grouped conv, channel shuffle, Flatten of NCHW features. */
function smoothNet(): GraphSpec {
  return {
    input: { name: 'image', dims: ['N', 3, 6, 6] },
    outputs: [{ name: 'logits', dims: ['N', 4] }],
    nodes: [
      { op: 'Conv', name: 'c1', inputs: ['image', 'c1.w', 'c1.b'], outputs: ['a'], attrs: { kernel_shape: [3, 3], pads: [1, 0, 2, 1], strides: [2, 2] } },
      { op: 'Tanh', inputs: ['a'], outputs: ['t'] },
      { op: 'Conv', name: 'c2', inputs: ['t', 'c2.w'], outputs: ['g'], attrs: { kernel_shape: [3, 3], pads: [1, 1, 1, 1], group: 2 } },
      { op: 'Sigmoid', inputs: ['g'], outputs: ['s'] },
      { op: 'Reshape', inputs: ['s', 's5'], outputs: ['r5'] },
      { op: 'Transpose', inputs: ['r5'], outputs: ['t5'], attrs: { perm: [0, 2, 1, 3, 4] } },
      { op: 'Reshape', inputs: ['t5', 's4'], outputs: ['sh'] },
      { op: 'AveragePool', inputs: ['sh'], outputs: ['p'], attrs: { kernel_shape: [2, 2], pads: [0, 0, 1, 1], strides: [2, 2] } },
      { op: 'Flatten', inputs: ['p'], outputs: ['f'] },
      { op: 'Gemm', inputs: ['f', 'fc.w', 'fc.b'], outputs: ['logits'], attrs: { transB: 1 } },
    ],
    initializers: [
      weights('c1.w', [4, 3, 3, 3], 1),
      weights('c1.b', [4], 2),
      weights('c2.w', [4, 2, 3, 3], 3),
      { name: 's5', dims: [5], type: 7, values: [-1, 2, 2, 4, 3] },
      { name: 's4', dims: [4], type: 7, values: [-1, 4, 4, 3] },
      weights('fc.w', [4, 16], 4),
      weights('fc.b', [4], 5),
    ],
  };
}

async function ortBatch(file: string, inputs: Float32Array[], dims: number[], output = 0): Promise<Float32Array[]> {
  const session = await ort.InferenceSession.create(file);
  try {
    const n = inputs.length;
    const size = inputs[0].length;
    const all = new Float32Array(n * size);
    inputs.forEach((x, i) => all.set(x, i * size));
    const out = await session.run({ [session.inputNames[0]]: new ort.Tensor('float32', all, [n, ...dims.slice(1)]) });
    const data = out[session.outputNames[output]].data as Float32Array;
    const per = data.length / n;
    return inputs.map((_, i) => data.slice(i * per, (i + 1) * per));
  } finally {
    await session.release();
  }
}

/** Our input gradient of logit `cls` (NCHW order, as ONNX indexes the input) against central finite differences of
 * onnxruntime's forward pass on the same file: the largest difference relative to the largest finite difference. */
async function gradientVsFiniteDifferences(file: string, dims: number[], seed: number, cls: number, eps = 1e-2): Promise<{ worst: number; scale: number }> {
  const { onnx, nhwc } = seededInput(dims, seed);
  const model = await loadAnyModel(file);
  const ours = tf.tidy(() => {
    const g = tf.grad((x: tf.Tensor) => tf.sum(tf.slice(model.network!.logits(x), [0, cls], [1, 1])))(nhwc);
    return tf.transpose(g, [0, 3, 1, 2]).dataSync() as Float32Array;
  });
  nhwc.dispose();
  model.dispose();
  return vsCentralDifferences(onnx, ours, cls, eps, (probes) => ortBatch(file, probes, dims));
}

/** Our input gradient of logit `cls` matches central finite differences of onnxruntime to `tolerance` of the largest one. */
async function expectGradientsMatch(file: string, dims: number[], seed: number, cls: number, eps = 1e-2, tolerance = 2e-3): Promise<void> {
  const { worst, scale } = await gradientVsFiniteDifferences(file, dims, seed, cls, eps);
  assert.ok(scale > 1e-3, 'the gradient is not trivially zero');
  assert.ok(worst / scale < tolerance, `max |ours − finite differences| = ${worst.toExponential(2)} of ${scale.toExponential(2)}`);
}

/** An NCHW image of hw×hw through `body` (reading 'image', ending in value `out`), then Flatten and a Gemm (fc.w) to 3 logits. */
function withHead(hw: number, body: NodeSpec[], out: string, initializers: GraphSpec['initializers'], opset?: number): GraphSpec {
  return {
    ...(opset ? { opset } : {}),
    input: { name: 'image', dims: ['N', 3, hw, hw] },
    outputs: [{ name: 'logits', dims: ['N', 3] }],
    nodes: [...body, { op: 'Flatten', inputs: [out], outputs: ['f'] }, { op: 'Gemm', inputs: ['f', 'fc.w'], outputs: ['logits'], attrs: { transB: 1 } }],
    initializers,
  };
}

describe('ONNX models: gradients and Grad-CAM', () => {
  before(async () => {
    await initBackend((process.env.CNN_LENS_BACKEND as any) ?? 'auto');
  });

  it("input gradients equal central finite differences of onnxruntime's forward pass", async () => {
    await expectGradientsMatch(writeModel(smoothNet()), [1, 3, 6, 6], 3, 2);
  });

  it("input gradients through Slice (a channel split) and Concat equal central finite differences of onnxruntime's forward pass", async () => {
    const file = writeModel(
      withHead(
        6,
        [
          { op: 'Conv', name: 'c1', inputs: ['image', 'c1.w', 'c1.b'], outputs: ['a'], attrs: { kernel_shape: [3, 3], pads: [1, 1, 1, 1], strides: [2, 2] } },
          { op: 'Tanh', inputs: ['a'], outputs: ['t'] },
          { op: 'Slice', inputs: ['t', 'st0', 'en0', 'ax'], outputs: ['lo'] },
          { op: 'Slice', inputs: ['t', 'st1', 'en1', 'ax'], outputs: ['hi'] },
          { op: 'Concat', inputs: ['hi', 'lo'], outputs: ['cat'], attrs: { axis: 1 } },
        ],
        'cat',
        [
          weights('c1.w', [4, 3, 3, 3], 11),
          weights('c1.b', [4], 12),
          { name: 'st0', dims: [1], type: 7, values: [0] },
          { name: 'en0', dims: [1], type: 7, values: [1] },
          { name: 'st1', dims: [1], type: 7, values: [1] },
          { name: 'en1', dims: [1], type: 7, values: [4] },
          { name: 'ax', dims: [1], type: 7, values: [1] },
          weights('fc.w', [3, 36], 13),
        ],
      ),
    );
    await expectGradientsMatch(file, [1, 3, 6, 6], 5, 1);
  });

  it("input gradients through LRN (sizes 5 and 3) equal central finite differences of onnxruntime's forward pass", async () => {
    const conv = { op: 'Conv', name: 'c1', inputs: ['image', 'c1.w', 'c1.b'], outputs: ['a'], attrs: { kernel_shape: [3, 3], pads: [1, 1, 1, 1] } };
    const lrn = (size: number, x: string, y: string, attrs: NodeSpec['attrs']): NodeSpec => ({ op: 'LRN', inputs: [x], outputs: [y], attrs: { size, ...attrs } });
    const body = [conv, { op: 'Tanh', inputs: ['a'], outputs: ['t'] }, lrn(5, 't', 'n', { alpha: { float: 2 }, beta: { float: 0.75 }, bias: { float: 1 } }), lrn(3, 'n', 'm', { alpha: { float: 1 }, beta: { float: 0.5 } })];
    const file = writeModel(withHead(5, body, 'm', [weights('c1.w', [6, 3, 3, 3], 21), weights('c1.b', [6], 22), weights('fc.w', [3, 150], 23)]));
    await expectGradientsMatch(file, [1, 3, 5, 5], 6, 2);
  });

  it("input gradients through ConvTranspose (stride 2, pads, output_padding) equal central finite differences of onnxruntime's forward pass", async () => {
    const body: NodeSpec[] = [
      { op: 'Conv', name: 'c1', inputs: ['image', 'c1.w', 'c1.b'], outputs: ['a'], attrs: { kernel_shape: [3, 3], pads: [1, 1, 1, 1] } },
      { op: 'Tanh', inputs: ['a'], outputs: ['t'] },
      { op: 'ConvTranspose', name: 'up', inputs: ['t', 'up.w', 'up.b'], outputs: ['u'], attrs: { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 0, 0, 1], output_padding: [1, 1] } },
      { op: 'Sigmoid', inputs: ['u'], outputs: ['s'] },
    ];
    // u: (5 − 1)·2 + 3 − 1 − 0 + 1 = 11 by (5 − 1)·2 + 3 − 0 − 1 + 1 = 11, 4 channels.
    const file = writeModel(withHead(5, body, 's', [weights('c1.w', [4, 3, 3, 3], 51), weights('c1.b', [4], 52), weights('up.w', [4, 4, 3, 3], 53), weights('up.b', [4], 54), weights('fc.w', [3, 4 * 11 * 11], 55, 0.1)]));
    await expectGradientsMatch(file, [1, 3, 5, 5], 8, 1);
  });

  // Each activation the front end converts, between a convolution and a dense head, with the class gradient
  // checked against onnxruntime. Found on a real export (a PyTorch CIFAR-100 net with SELU): saliency failed with
  // "gradient function not found for Greater" though the forward pass was right. eps is small so that no
  // pre-activation crosses a kink of Relu/Clip/HardSigmoid/HardSwish in these seeded inputs.
  const activations: Array<{ op: string; attrs?: Record<string, number> }> = [
    { op: 'Relu' }, { op: 'LeakyRelu', attrs: { alpha: 0.1 } }, { op: 'Elu' }, { op: 'Elu', attrs: { alpha: 0.5 } },
    { op: 'Selu' }, { op: 'Selu', attrs: { alpha: 1.2, gamma: 0.9 } }, { op: 'Sigmoid' }, { op: 'Tanh' },
    { op: 'HardSigmoid' }, { op: 'HardSwish' }, { op: 'Softplus' }, { op: 'Mish' },
  ];
  for (const { op, attrs } of activations) {
    it(`input gradients through ${op}${attrs ? ` ${JSON.stringify(attrs)}` : ''} equal central finite differences of onnxruntime's forward pass`, async () => {
      const body: NodeSpec[] = [
        { op: 'Conv', name: 'c1', inputs: ['image', 'c1.w', 'c1.b'], outputs: ['a'], attrs: { kernel_shape: [3, 3], pads: [1, 1, 1, 1] } },
        { op, inputs: ['a'], outputs: ['t'], attrs },
      ];
      const file = writeModel(withHead(5, body, 't', [weights('c1.w', [3, 3, 3, 3], 21, 1.5), weights('c1.b', [3], 22), weights('fc.w', [3, 75], 23)], op === 'Mish' ? 18 : 14));
      await expectGradientsMatch(file, [1, 3, 5, 5], 7, 0, 1e-3, 3e-3);
    });
  }

  it('Grad-CAM at a convolution before GlobalAveragePool + Gemm equals ReLU(Σ_k W[c,k]/(HW) · A_k), with A from onnxruntime', async () => {
    const g: GraphSpec = {
      input: { name: 'image', dims: ['N', 3, 7, 7] },
      outputs: [{ name: 'logits', dims: ['N', 3] }, { name: 'feat', dims: ['N', 5, 7, 7] }],
      nodes: [
        { op: 'Conv', name: 'feat_conv', inputs: ['image', 'c.w', 'c.b'], outputs: ['feat'], attrs: { kernel_shape: [3, 3], pads: [1, 1, 1, 1] } },
        { op: 'GlobalAveragePool', inputs: ['feat'], outputs: ['gap'] },
        { op: 'Flatten', inputs: ['gap'], outputs: ['f'] },
        { op: 'Gemm', inputs: ['f', 'fc.w', 'fc.b'], outputs: ['logits'], attrs: { transB: 1 } },
      ],
      initializers: [weights('c.w', [5, 3, 3, 3], 11), weights('c.b', [5], 12), weights('fc.w', [3, 5], 13), weights('fc.b', [3], 14)],
    };
    const file = writeModel(g);
    const dims = [1, 3, 7, 7];
    const { onnx, nhwc } = seededInput(dims, 5);
    const [a] = await ortBatch(file, [onnx], dims, 1); // A in NCHW: [5, 7, 7]
    const fcw = g.initializers!.find((t) => t.name === 'fc.w')!.values;
    const model = await loadAnyModel(file);
    for (const cls of [0, 1, 2]) {
      const r = explain(model, nhwc, { method: 'gradcam', classes: [cls], layer: 'feat_conv' }).explanations[0];
      assert.deepEqual(r.shape, [7, 7]);
      let worst = 0;
      let peak = 0;
      for (let i = 0; i < 49; i++) {
        let s = 0;
        for (let k = 0; k < 5; k++) s += (fcw[cls * 5 + k] / 49) * a[k * 49 + i];
        const expected = Math.max(0, s);
        worst = Math.max(worst, Math.abs(r.map[i] - expected));
        peak = Math.max(peak, expected);
      }
      assert.ok(peak > 0, 'the closed-form map is not empty');
      assert.ok(worst <= 1e-4 * peak + 1e-7, `class ${cls}: max deviation ${worst.toExponential(2)} of peak ${peak.toExponential(2)}`);
    }
    nhwc.dispose();
    model.dispose();
  });

  it('loading, explaining (Grad-CAM, saliency, integrated gradients) and disposing an ONNX model leaks no tensors', async () => {
    const file = writeModel(smoothNet());
    const before = tf.memory().numTensors;
    const model = await loadAnyModel(file);
    const x = tf.zeros([1, 6, 6, 3]);
    for (const method of ['gradcam', 'saliency', 'integrated-gradients'] as const) explain(model, x, { method, classes: [1], layer: method === 'gradcam' ? 'c2' : undefined });
    x.dispose();
    model.dispose();
    assert.equal(tf.memory().numTensors, before);
  });
});
