// Loading model.json files: the real Teachable Machine fixtures, and files that must be refused.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../../src/engine/backend';
import { explain, predict } from '../../../src/engine/explain';
import * as tfl from '@tensorflow/tfjs-layers';
import { loadModel, wrapLayersModel } from '../../../src/engine/model/loadModel';
import { summarizeModel } from '../../../src/engine/model/summary';
import { fixture, tmpDir } from '../helpers';

/** A tiny valid layers model.json (Dense on a 2×2×1 image) with its weights, written to `dir`. */
function writeTinyModel(dir: string, opts: { weightPath?: string; truncate?: boolean; topologyPatch?: (t: any) => void } = {}): string {
  const topology = {
    class_name: 'Sequential',
    config: {
      name: 'tiny',
      layers: [
        { class_name: 'Flatten', config: { name: 'flat', batch_input_shape: [null, 2, 2, 1], dtype: 'float32' } },
        { class_name: 'Dense', config: { name: 'out', units: 2, activation: 'softmax', use_bias: true, kernel_initializer: { class_name: 'Zeros', config: {} }, bias_initializer: { class_name: 'Zeros', config: {} } } },
      ],
    },
    keras_version: 'tfjs-layers 4.22.0',
    backend: 'tensor_flow.js',
  };
  opts.topologyPatch?.(topology);
  const weights = new Float32Array([1, -1, 2, -2, 3, -3, 4, -4, 0.5, -0.5]);
  const file = opts.weightPath ?? 'w.bin';
  const bytes = Buffer.from(weights.buffer);
  if (!opts.weightPath) fs.writeFileSync(path.join(dir, file), opts.truncate ? bytes.subarray(0, 20) : bytes);
  const manifest = [{ paths: [file], weights: [{ name: 'out/kernel', shape: [4, 2], dtype: 'float32' }, { name: 'out/bias', shape: [2], dtype: 'float32' }] }];
  const mj = path.join(dir, 'model.json');
  fs.writeFileSync(mj, JSON.stringify({ format: 'layers-model', modelTopology: topology, weightsManifest: manifest }));
  return mj;
}

describe('model loading', function () {
  this.timeout(120000);
  before(async () => {
    await initBackend((process.env.CNN_LENS_BACKEND as any) ?? 'auto');
  });

  it('loads a small model.json and computes what its weights say', async () => {
    const dir = tmpDir();
    const m = await loadModel(writeTinyModel(dir));
    assert.equal(m.kind, 'layers');
    assert.deepEqual(m.inputSize, { height: 2, width: 2, channels: 1 });
    assert.equal(m.numClasses, 2);
    // x = [1,2,3,4]: logit0 = 1+4+9+16+0.5 = 30.5, logit1 = -30.5
    const p = predict(m, tf.tensor4d([1, 2, 3, 4], [1, 2, 2, 1]));
    assert.equal(p[0].index, 0);
    assert.ok(Math.abs(p[0].logit - 30.5) < 1e-4);
    assert.ok(Math.abs(p[1].logit + 30.5) < 1e-4);
    m.dispose();
  });

  it('reads labels from labels.txt beside the model, and a --labels file over it', async () => {
    const dir = tmpDir();
    const mj = writeTinyModel(dir);
    fs.writeFileSync(path.join(dir, 'labels.txt'), 'left\nright\n');
    const m = await loadModel(mj);
    assert.deepEqual(m.labels, ['left', 'right']);
    m.dispose();
    const other = path.join(dir, 'other.json');
    fs.writeFileSync(other, JSON.stringify(['a', 'b']));
    const m2 = await loadModel(mj, { labelsFile: other });
    assert.deepEqual(m2.labels, ['a', 'b']);
    m2.dispose();
    fs.writeFileSync(other, JSON.stringify(['a', 'b', 'c']));
    await assert.rejects(loadModel(mj, { labelsFile: other }), /has 3 labels but the model has 2 classes/);
  });

  for (const [name, weightPath, message] of [
    ['a parent path', '../outside.bin', /leaves the model's folder/],
    ['an absolute path', '/etc/passwd', /leaves the model's folder/],
    ['a URL', 'https://example.com/w.bin', /is a URL; CNN Lens never downloads/],
    ['a missing file', 'nothere.bin', /weight file 'nothere.bin' is missing/],
  ] as const) {
    it(`refuses a weight path that is ${name}`, async () => {
      const dir = tmpDir();
      await assert.rejects(loadModel(writeTinyModel(dir, { weightPath })), (e: Error) => message.test(e.message) && e.message.includes('model.json'));
    });
  }

  it('a model with two inputs (an image and a feature vector) is refused in one line naming the file and the inputs', () => {
    // As a real .keras export did (image_input + haralick_input): the line had no file name.
    const img = tfl.input({ shape: [8, 8, 3], name: 'image_input' });
    const feats = tfl.input({ shape: [4], name: 'haralick_input' });
    const joined = tfl.layers.concatenate().apply([tfl.layers.flatten().apply(img) as tfl.SymbolicTensor, feats]) as tfl.SymbolicTensor;
    const out = tfl.layers.dense({ units: 2, activation: 'softmax' }).apply(joined) as tfl.SymbolicTensor;
    const m = tfl.model({ inputs: [img, feats], outputs: out });
    assert.throws(
      () => wrapLayersModel(m, '/somewhere/champion_model.keras'),
      (e: Error) => /^\/somewhere\/champion_model\.keras: the model has 2 inputs \(image_input, haralick_input\)/.test(e.message) && !e.message.includes('\n'),
    );
  });

  it('refuses a weight file that is a link out of the folder', async () => {
    const outside = tmpDir();
    fs.writeFileSync(path.join(outside, 'w.bin'), Buffer.alloc(40));
    const dir = tmpDir();
    fs.symlinkSync(path.join(outside, 'w.bin'), path.join(dir, 'link.bin'));
    await assert.rejects(loadModel(writeTinyModel(dir, { weightPath: 'link.bin' })), /leads outside the model's folder/);
  });

  it('refuses truncated shards, absurd shapes and broken JSON with one line naming the file', async () => {
    const dir = tmpDir();
    await assert.rejects(loadModel(writeTinyModel(dir, { truncate: true })), /model\.json: weight files hold 20 bytes but the manifest needs 40/);
    const mj = path.join(dir, 'model.json');
    const j = JSON.parse(fs.readFileSync(mj, 'utf8'));
    fs.writeFileSync(path.join(dir, 'w.bin'), Buffer.alloc(40));
    j.weightsManifest[0].weights[0].shape = [100000, 100000, 1000];
    fs.writeFileSync(mj, JSON.stringify(j));
    await assert.rejects(loadModel(mj), /over the 4 GB limit/);
    fs.writeFileSync(mj, '{"modelTopology": ');
    await assert.rejects(loadModel(mj), /model\.json: not valid JSON/);
    fs.writeFileSync(mj, '[]');
    await assert.rejects(loadModel(mj), /no "modelTopology"/);
    await assert.rejects(loadModel(path.join(dir, 'absent.json')), /absent\.json: no such file/);
  });

  it('loads a graph model for prediction and explains why gradient methods need a layers model', async () => {
    const dir = tmpDir();
    // x [-1,4,4,3] → mean over H,W → MatMul w[3,2] → logits
    const w = new Float32Array([1, 0, 0, 1, -1, 1]);
    const axes = new Int32Array([1, 2]);
    fs.writeFileSync(path.join(dir, 'g.bin'), Buffer.concat([Buffer.from(w.buffer), Buffer.from(axes.buffer)]));
    const dim = (ds: number[]) => ({ dim: ds.map((d) => ({ size: String(d) })) });
    const topology = {
      node: [
        { name: 'x', op: 'Placeholder', attr: { dtype: { type: 'DT_FLOAT' }, shape: { shape: dim([-1, 4, 4, 3]) } } },
        { name: 'w', op: 'Const', attr: { dtype: { type: 'DT_FLOAT' }, value: { tensor: { dtype: 'DT_FLOAT', tensorShape: dim([3, 2]) } } } },
        { name: 'axes', op: 'Const', attr: { dtype: { type: 'DT_INT32' }, value: { tensor: { dtype: 'DT_INT32', tensorShape: dim([2]) } } } },
        { name: 'mean', op: 'Mean', input: ['x', 'axes'], attr: { T: { type: 'DT_FLOAT' }, Tidx: { type: 'DT_INT32' }, keep_dims: { b: false } } },
        { name: 'logits', op: 'MatMul', input: ['mean', 'w'], attr: { T: { type: 'DT_FLOAT' }, transpose_a: { b: false }, transpose_b: { b: false } } },
      ],
      versions: { producer: 1 },
    };
    const manifest = [{ paths: ['g.bin'], weights: [{ name: 'w', shape: [3, 2], dtype: 'float32' }, { name: 'axes', shape: [2], dtype: 'int32' }] }];
    const mj = path.join(dir, 'model.json');
    fs.writeFileSync(mj, JSON.stringify({ format: 'graph-model', modelTopology: topology, weightsManifest: manifest }));
    const m = await loadModel(mj);
    assert.equal(m.kind, 'graph');
    assert.deepEqual(m.inputSize, { height: 4, width: 4, channels: 3 });
    const x = tf.fill([1, 4, 4, 3], 1);
    // mean = [1,1,1] → logits [0, 2]
    const p = predict(m, x);
    assert.equal(p[0].index, 1);
    assert.ok(Math.abs(p[0].logit - 2) < 1e-5 && Math.abs(p[1].logit) < 1e-5);
    assert.throws(() => explain(m, x, { method: 'gradcam' }), /graph model .*export a layers model/);
    m.dispose();
    // The same graph ending in an ArgMax (a TF1 MNIST export in a public repository did): the class index is
    // not the class scores, and the line says which output to convert instead.
    const argmax = { ...topology, node: [...topology.node, { name: 'dim', op: 'Const', attr: { dtype: { type: 'DT_INT32' }, value: { tensor: { dtype: 'DT_INT32', tensorShape: dim([]) } } } }, { name: 'prediction', op: 'ArgMax', input: ['logits', 'dim'], attr: { T: { type: 'DT_FLOAT' }, Tidx: { type: 'DT_INT32' }, output_type: { type: 'DT_INT64' } } }] };
    fs.writeFileSync(path.join(dir, 'g2.bin'), Buffer.concat([Buffer.from(w.buffer), Buffer.from(axes.buffer), Buffer.from(new Int32Array([1]).buffer)]));
    const mj2 = path.join(dir, 'argmax.json');
    fs.writeFileSync(mj2, JSON.stringify({ format: 'graph-model', modelTopology: argmax, weightsManifest: [{ paths: ['g2.bin'], weights: [...manifest[0].weights, { name: 'dim', shape: [], dtype: 'int32' }] }] }));
    await assert.rejects(loadModel(mj2), (e: Error) => e.message === `${mj2}: the graph's output 'prediction' is an ArgMax (the predicted class index, not the class scores); convert the model with the scores (the Softmax or logits before it) as its output`);
  });

  describe('Teachable Machine fixtures (real MobileNetV2 models nested two levels down)', () => {
    for (const name of ['tm-waste-12', 'tm-items-4']) {
      it(`${name}: loads, predicts, and gives Grad-CAM maps at the default layer`, async function () {
        const file = fixture(name, 'model.json');
        if (!file) return this.skip();
        const m = await loadModel(file);
        const meta = JSON.parse(fs.readFileSync(path.join(path.dirname(file), 'metadata.json'), 'utf8'));
        assert.deepEqual(m.labels, meta.labels);
        assert.equal(m.defaultPreprocess, 'tf');
        assert.deepEqual(m.inputSize, { height: 224, width: 224, channels: 3 });
        const s = summarizeModel(m);
        assert.match(s.defaultLayer ?? '', /^sequential_\d+\/model\d+\/out_relu$/, 'the last spatial layer, two models down');
        assert.equal(s.layers[0].kind, 'container');
        // a smooth synthetic "photo" in the tf range
        const x = tf.tidy(() => {
          const yy = tf.reshape(tf.linspace(-1, 1, 224), [1, 224, 1, 1]);
          const xx = tf.reshape(tf.linspace(-1, 1, 224), [1, 1, 224, 1]);
          return tf.concat([tf.add(tf.mul(yy, tf.ones([1, 224, 224, 1])), 0), tf.mul(xx, tf.ones([1, 224, 224, 1])), tf.sin(tf.mul(tf.add(xx, yy), 6))], 3);
        });
        const preds = predict(m, x);
        const total = preds.reduce((a, p) => a + p.probability, 0);
        assert.ok(Math.abs(total - 1) < 1e-4);
        const r = explain(m, x, { method: 'gradcam', topK: 2 });
        assert.equal(r.layer, s.defaultLayer);
        for (const e of r.explanations) {
          assert.deepEqual(e.shape, [7, 7]);
          assert.ok(e.map.every((v) => Number.isFinite(v) && v >= 0));
        }
        assert.ok(r.explanations[0].max > 0, 'the top class has some positive evidence');
        x.dispose();
        m.dispose();
      });

      it(`${name}: loading and disposing leaves no tensor behind (tfjs-layers alone leaves the head's weights)`, async function () {
        const file = fixture(name, 'model.json');
        if (!file) return this.skip();
        const before = tf.memory().numTensors;
        for (let i = 0; i < 2; i++) (await loadModel(file)).dispose();
        assert.equal(tf.memory().numTensors, before);
      });
    }
  });
});
