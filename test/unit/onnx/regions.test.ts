// Occlusion's region runner (src/engine/model/regionRun.ts) on an ONNX graph whose operators become
// OnnxLayers (Selu, HardSwish, a max pool's −∞ Pad): the occlusion map against a per-patch loop of
// onnxruntime's forward passes.
import * as assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';
import { initBackend } from '../../../src/engine/backend';
import { explain } from '../../../src/engine/explain';
import { loadAnyModel } from '../../../src/engine/model/loadModel';
import { stepGeometry } from '../../../src/engine/model/regionGeometry';
import { maxAbs, maxAbsDiff } from '../helpers';
import { seededInput } from './ortCompare';
import { weights, writeModel, type GraphSpec } from './onnxWriter';

const S = 12;

function net(): GraphSpec {
  return {
    opset: 14, // HardSwish
    input: { name: 'image', dims: ['N', 3, S, S] },
    outputs: [{ name: 'logits', dims: ['N', 3] }],
    nodes: [
      { op: 'Conv', name: 'c1', inputs: ['image', 'c1.w', 'c1.b'], outputs: ['a'], attrs: { kernel_shape: [3, 3], pads: [1, 0, 2, 1], strides: [2, 2] } },
      { op: 'Selu', inputs: ['a'], outputs: ['s'] },
      // Asymmetric pads: a Pad of −∞ before a 'valid' max pool (large biases leave windows all below 0, where 0 padding would win).
      { op: 'MaxPool', inputs: ['s'], outputs: ['m'], attrs: { kernel_shape: [3, 3], pads: [0, 1, 2, 0], strides: [1, 1] } },
      { op: 'HardSwish', inputs: ['m'], outputs: ['h'] },
      { op: 'Conv', name: 'c2', inputs: ['h', 'c2.w'], outputs: ['c'], attrs: { kernel_shape: [3, 3], pads: [1, 1, 1, 1] } },
      { op: 'GlobalAveragePool', inputs: ['c'], outputs: ['g'] },
      { op: 'Flatten', inputs: ['g'], outputs: ['f'] },
      { op: 'Gemm', inputs: ['f', 'fc.w', 'fc.b'], outputs: ['logits'], attrs: { transB: 1 } },
    ],
    initializers: [weights('c1.w', [5, 3, 3, 3], 1), weights('c1.b', [5], 2, 4), weights('c2.w', [4, 5, 3, 3], 3), weights('fc.w', [3, 4], 4), weights('fc.b', [3], 5)],
  };
}

describe('ONNX models: occlusion computed over the regions patches reach', () => {
  before(async () => {
    await initBackend((process.env.CNN_LENS_BACKEND as any) ?? 'auto');
  });

  it("the occlusion map equals a per-patch loop of onnxruntime's forward passes; the OnnxLayers keep their regions", async () => {
    const file = writeModel(net(), 'regions.onnx');
    const model = await loadAnyModel(file);
    // Every step before the global pool is a window or per-position step: the ONNX rules are what runs here.
    const steps = model.network!.forwardSteps();
    const firstGlobal = steps.findIndex((st) => stepGeometry(st).kind === 'global');
    assert.ok(steps[firstGlobal].node.className.includes('GlobalAveragePooling'), `first whole-map step: ${steps[firstGlobal].node.className}`);
    assert.ok(steps.some((st) => st.node.className === 'OnnxPad') && steps.some((st) => st.node.className === 'OnnxSelu'));

    const { onnx, nhwc } = seededInput([1, 3, S, S], 7);
    const saved = process.env.CNN_LENS_OCCLUSION_REGIONS;
    process.env.CNN_LENS_OCCLUSION_REGIONS = 'on';
    let map: Float32Array;
    try {
      map = explain(model, nhwc, { method: 'occlusion', classes: [1], preprocess: 'unit', options: { patch: 4, stride: 3 } }).explanations[0].map;
    } finally {
      if (saved === undefined) delete process.env.CNN_LENS_OCCLUSION_REGIONS;
      else process.env.CNN_LENS_OCCLUSION_REGIONS = saved;
    }

    // The loop: the image and each occluded copy (black is 0 with preset 'unit') through onnxruntime in one batch.
    const starts = [0, 3, 6];
    const copies: Float32Array[] = [onnx];
    for (const py of starts) {
      for (const px of starts) {
        const c = Float32Array.from(onnx);
        for (let ch = 0; ch < 3; ch++) for (let y = py; y < py + 4; y++) for (let x = px; x < px + 4; x++) c[(ch * S + y) * S + x] = 0;
        copies.push(c);
      }
    }
    const session = await ort.InferenceSession.create(file);
    const all = new Float32Array(copies.length * onnx.length);
    copies.forEach((c, i) => all.set(c, i * onnx.length));
    const out = (await session.run({ image: new ort.Tensor('float32', all, [copies.length, 3, S, S]) })).logits.data as Float32Array;
    await session.release();
    const sum = new Float64Array(S * S);
    const count = new Float64Array(S * S);
    let k = 1;
    for (const py of starts) {
      for (const px of starts) {
        const drop = out[1] - out[k++ * 3 + 1];
        for (let y = py; y < py + 4; y++) {
          for (let x = px; x < px + 4; x++) {
            sum[y * S + x] += drop;
            count[y * S + x]++;
          }
        }
      }
    }
    const want = sum.map((v, i) => (count[i] ? v / count[i] : 0));
    assert.ok(maxAbs(want) > 1e-3);
    assert.ok(maxAbsDiff(map, want) < 1e-4 * Math.max(1, maxAbs(want)), `max diff ${maxAbsDiff(map, want)} of ${maxAbs(want)}`);
    nhwc.dispose();
    model.dispose();
  });
});
