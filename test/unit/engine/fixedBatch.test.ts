// Graph models and ONNX files whose input fixes the batch size (a TensorFlow.js graph frozen with [4, 4, 4, 3], an
// ONNX export without dynamic axes, [4, 3, 6, 6]), with the batch size baked into a later Reshape as exporters
// write it. One image must run: predictions are compared with a plain-JS forward pass (graph) and with
// onnxruntime running the file on a full batch (ONNX), and ONNX input gradients with central finite differences
// of onnxruntime's forward pass.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as ort from 'onnxruntime-node';
import { initBackend } from '../../../src/engine/backend';
import { explain, predict } from '../../../src/engine/explain';
import { loadAnyModel, loadModel } from '../../../src/engine/model/loadModel';
import { makeRng } from '../../../src/engine/random';
import { tmpDir } from '../helpers';
import { weights, writeModel, type GraphSpec } from '../onnx/onnxWriter';
import { vsCentralDifferences } from '../onnx/ortCompare';

const B = 4;

function seeded(n: number, seed: number): Float32Array {
  const rng = makeRng(seed);
  return Float32Array.from({ length: n }, () => rng() * 2 - 1);
}

/**
 * A graph model: x [batch, 4, 4, 3] → Conv2D 1×1 (3→2) → Relu → Reshape [batch, 32] → MatMul [32, 3] → logits.
 * `batch` is the fixed size written into the input and the Reshape, or -1.
 */
function writeGraph(dir: string, batch: number, k: Float32Array, w: Float32Array): string {
  const shape = new Int32Array([batch, 32]);
  fs.writeFileSync(path.join(dir, 'g.bin'), Buffer.concat([Buffer.from(k.buffer), Buffer.from(w.buffer), Buffer.from(shape.buffer)]));
  const dim = (ds: number[]) => ({ dim: ds.map((d) => ({ size: String(d) })) });
  const f = { type: 'DT_FLOAT' };
  const node = [
    { name: 'x', op: 'Placeholder', attr: { dtype: f, shape: { shape: dim([batch, 4, 4, 3]) } } },
    { name: 'k', op: 'Const', attr: { dtype: f, value: { tensor: { dtype: 'DT_FLOAT', tensorShape: dim([1, 1, 3, 2]) } } } },
    { name: 'w', op: 'Const', attr: { dtype: f, value: { tensor: { dtype: 'DT_FLOAT', tensorShape: dim([32, 3]) } } } },
    { name: 'shape', op: 'Const', attr: { dtype: { type: 'DT_INT32' }, value: { tensor: { dtype: 'DT_INT32', tensorShape: dim([2]) } } } },
    { name: 'conv', op: 'Conv2D', input: ['x', 'k'], attr: { T: f, strides: { list: { i: ['1', '1', '1', '1'] } }, padding: { s: Buffer.from('VALID').toString('base64') }, data_format: { s: Buffer.from('NHWC').toString('base64') }, dilations: { list: { i: ['1', '1', '1', '1'] } } } },
    { name: 'relu', op: 'Relu', input: ['conv'], attr: { T: f } },
    { name: 'flat', op: 'Reshape', input: ['relu', 'shape'], attr: { T: f, Tshape: { type: 'DT_INT32' } } },
    { name: 'logits', op: 'MatMul', input: ['flat', 'w'], attr: { T: f, transpose_a: { b: false }, transpose_b: { b: false } } },
  ];
  const manifest = [{ paths: ['g.bin'], weights: [{ name: 'k', shape: [1, 1, 3, 2], dtype: 'float32' }, { name: 'w', shape: [32, 3], dtype: 'float32' }, { name: 'shape', shape: [2], dtype: 'int32' }] }];
  const file = path.join(dir, 'model.json');
  fs.writeFileSync(file, JSON.stringify({ format: 'graph-model', modelTopology: { node, versions: { producer: 1 } }, weightsManifest: manifest }));
  return file;
}

/** The same forward pass in plain JS on one HWC image. */
function graphByHand(x: Float32Array, k: Float32Array, w: Float32Array): number[] {
  const flat: number[] = [];
  for (let p = 0; p < 16; p++) {
    for (let o = 0; o < 2; o++) {
      let s = 0;
      for (let c = 0; c < 3; c++) s += x[p * 3 + c] * k[c * 2 + o];
      flat.push(Math.max(0, s));
    }
  }
  return [0, 1, 2].map((j) => flat.reduce((a, v, i) => a + v * w[i * 3 + j], 0));
}

/** An ONNX net exported without dynamic axes: input [batch, 3, 6, 6], Conv → Tanh → Reshape [batch, -1] → Gemm. */
function onnxNet(batch: number | string): GraphSpec {
  return {
    input: { name: 'image', dims: [batch, 3, 6, 6] },
    outputs: [{ name: 'logits', dims: [batch, 3] }],
    nodes: [
      { op: 'Conv', name: 'conv', inputs: ['image', 'c.w', 'c.b'], outputs: ['a'], attrs: { kernel_shape: [3, 3], pads: [1, 1, 1, 1], strides: [2, 2] } },
      { op: 'Tanh', inputs: ['a'], outputs: ['t'] },
      { op: 'Reshape', name: 'flatten', inputs: ['t', 'shape'], outputs: ['f'] },
      { op: 'Gemm', name: 'fc', inputs: ['f', 'fc.w', 'fc.b'], outputs: ['logits'], attrs: { transB: 1 } },
    ],
    initializers: [
      weights('c.w', [4, 3, 3, 3], 1),
      weights('c.b', [4], 2),
      { name: 'shape', dims: [2], type: 7, values: [typeof batch === 'number' ? batch : -1, -1] },
      weights('fc.w', [3, 36], 3),
      weights('fc.b', [3], 4),
    ],
  };
}

/** onnxruntime on the fixed-batch file: each image in its own full batch (the other rows are other images). */
async function ortRows(file: string, images: Float32Array[]): Promise<Float32Array[]> {
  const session = await ort.InferenceSession.create(file);
  try {
    const size = images[0].length;
    const out: Float32Array[] = [];
    for (let i = 0; i < images.length; i += B) {
      const all = seeded(B * size, 99 + i); // filler images in the rows not asked for
      images.slice(i, i + B).forEach((x, j) => all.set(x, j * size));
      const r = await session.run({ image: new ort.Tensor('float32', all, [B, 3, 6, 6]) });
      const data = r.logits.data as Float32Array;
      for (let j = 0; j < B && i + j < images.length; j++) out.push(data.slice(j * 3, j * 3 + 3));
    }
    return out;
  } finally {
    await session.release();
  }
}

describe('models whose input fixes the batch size', function () {
  this.timeout(60000);
  before(async () => {
    await initBackend((process.env.CNN_LENS_BACKEND as any) ?? 'auto');
  });

  it('a TensorFlow.js graph model frozen with batch 4 (input and Reshape) predicts one image as by hand, and as its batch -1 twin', async () => {
    const k = seeded(6, 1);
    const w = seeded(96, 2);
    const fixedFile = writeGraph(tmpDir(), B, k, w);
    const freeFile = writeGraph(tmpDir(), -1, k, w);
    const x = seeded(48, 3);
    const want = graphByHand(x, k, w);
    const fixed = await loadModel(fixedFile);
    const free = await loadModel(freeFile);
    try {
      assert.equal(fixed.graphBatch, B);
      assert.equal(free.graphBatch, null);
      assert.match(fixed.format, /batch fixed at 4/);
      const input = tf.tensor4d(x, [1, 4, 4, 3]);
      const pf = predict(fixed, input);
      const pv = predict(free, input);
      input.dispose();
      for (const p of pf) assert.ok(Math.abs(p.logit - want[p.index]) < 1e-5, `class ${p.index}: ${p.logit} vs ${want[p.index]}`);
      assert.deepEqual(pf.map((p) => p.index), pv.map((p) => p.index));
    } finally {
      fixed.dispose();
      free.dispose();
    }
  });

  it('an ONNX file with a fixed batch of 4 (input and Reshape [4, -1]) gives onnxruntime\'s row for each image', async () => {
    const file = writeModel(onnxNet(B));
    const images = [seeded(108, 5), seeded(108, 6)];
    const theirs = await ortRows(file, images);
    const model = await loadAnyModel(file);
    try {
      assert.match(model.format, /batch fixed at 4/);
      for (let i = 0; i < images.length; i++) {
        const x = tf.tidy(() => tf.transpose(tf.tensor4d(images[i], [1, 3, 6, 6]), [0, 2, 3, 1]));
        const ours = predict(model, x);
        x.dispose();
        for (const p of ours) assert.ok(Math.abs(p.logit - theirs[i][p.index]) < 1e-4, `image ${i} class ${p.index}: ${p.logit} vs ${theirs[i][p.index]}`);
      }
    } finally {
      model.dispose();
    }
  });

  it("an ONNX file with a fixed batch of 4: the saliency gradient of one image equals central finite differences of onnxruntime's forward pass", async () => {
    const file = writeModel(onnxNet(B));
    const x = seeded(108, 7);
    const cls = 1;
    const model = await loadAnyModel(file);
    let ours: Float32Array;
    try {
      const nhwc = tf.tidy(() => tf.transpose(tf.tensor4d(x, [1, 3, 6, 6]), [0, 2, 3, 1]));
      ours = tf.tidy(() => {
        const g = tf.grad((v: tf.Tensor) => tf.sum(tf.slice(model.network!.logits(v), [0, cls], [1, 1])))(nhwc);
        return tf.transpose(g, [0, 3, 1, 2]).dataSync() as Float32Array;
      });
      nhwc.dispose();
    } finally {
      model.dispose();
    }
    const { worst, scale } = await vsCentralDifferences(x, ours, cls, 1e-2, (probes) => ortRows(file, probes));
    assert.ok(scale > 1e-3, 'the gradient is not trivially zero');
    assert.ok(worst / scale < 2e-3, `max |ours − finite differences| = ${worst.toExponential(2)} of ${scale.toExponential(2)}`);
  });

  it('an ONNX file with a fixed batch of 4 explains one image with Grad-CAM', async () => {
    const model = await loadAnyModel(writeModel(onnxNet(B)));
    try {
      const x = tf.tidy(() => tf.transpose(tf.tensor4d(seeded(108, 8), [1, 3, 6, 6]), [0, 2, 3, 1]));
      const r = explain(model, x, { method: 'gradcam' });
      x.dispose();
      assert.equal(r.explanations.length > 0, true);
    } finally {
      model.dispose();
    }
  });

  it('an ONNX file whose graph mixes the images of its fixed batch is refused in one line naming the file and the batch size', async () => {
    const g = onnxNet(B);
    // A per-row constant added to the features: row i of the output depends on i, not only on image i.
    g.nodes.splice(2, 0, { op: 'Add', name: 'per_row', inputs: ['t', 'rows'], outputs: ['t2'] });
    g.nodes[3].inputs[0] = 't2';
    g.initializers!.push({ name: 'rows', dims: [B, 1, 1, 1], values: [0, 1, 2, 3] });
    const file = writeModel(g);
    await assert.rejects(loadAnyModel(file), (e: Error) => {
      assert.equal(e.name, 'LensError');
      assert.ok(!e.message.includes('\n'));
      assert.ok(e.message.startsWith(file), e.message);
      assert.match(e.message, /node 'per_row' \(Add\): .*fixed batch of 4/);
      return true;
    });
  });
});
