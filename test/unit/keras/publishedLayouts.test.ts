// Model files laid out the way other people's tools published them, which CNN Lens once refused or misread
// (issue 16, items 1–6 and 12). Each file is written here as that tool writes it; the network it loads is
// compared with a reference built directly with the tfjs layers API, or with a plain loop written below.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { zipSync, strToU8 } from 'fflate';
import { initBackend } from '../../../src/engine/backend';
import { explain, predict } from '../../../src/engine/explain';
import { loadAnyModel, type LoadedModel } from '../../../src/engine/model/loadModel';
import { saveLayersModel, tmpDir } from '../helpers';
import { dense, modelEntry, plain, toJson, Weights, writeKerasArchive, writeLegacyH5, type LayerDesc, type ModelDesc } from './kerasWriter';
import { maxAbsDiff, modelA, referenceA, sampleInput } from './models';

async function probsOf(m: LoadedModel, x: tf.Tensor): Promise<tf.Tensor> {
  const net = m.network!;
  return tf.tidy(() => net.probabilities(net.logits(x)));
}

async function matchesReferenceA(file: string, A: ModelDesc): Promise<void> {
  const m = await loadAnyModel(file);
  const ref = referenceA(A);
  const x = sampleInput(7);
  const want = ref.predict(x) as tf.Tensor;
  const got = await probsOf(m, x);
  const diff = await maxAbsDiff(got, want);
  assert.ok(diff < 1e-5, `${path.basename(file)}: max |loaded − reference| = ${diff}`);
  tf.dispose([x, want, got]);
  ref.dispose();
  m.dispose();
}

/** The arrays of a model description in Keras' creation order, with their path in the model ("outer/inner/layer"). */
function arraysWithPaths(m: ModelDesc, prefix: string): { path: string; short: string; data: Float32Array; shape: number[] }[] {
  const out: { path: string; short: string; data: Float32Array; shape: number[] }[] = [];
  for (const l of m.layers) {
    if (l.model) out.push(...arraysWithPaths(l.model, `${prefix}${l.model.name}/`));
    else for (const w of l.weights) out.push({ path: `${prefix}${l.name}`, short: w.short, data: w.arr.data, shape: w.arr.shape });
  }
  return out;
}

/**
 * A model.json as tensorflowjs_converter writes it for a Keras 3 model: the Keras 3 config under model_config,
 * weights named by their path in the model with the model's own name in front ("cnn_a/features/kernel",
 * "cnn_a/block/block_conv/kernel").
 */
function writeKeras3TfjsExport(dir: string, m: ModelDesc, rename: (name: string) => string = (n) => n): string {
  fs.mkdirSync(dir, { recursive: true });
  const arrays = arraysWithPaths(m, `${m.name}/`);
  fs.writeFileSync(path.join(dir, 'group1-shard1of1.bin'), Buffer.concat(arrays.map((a) => Buffer.from(a.data.buffer, a.data.byteOffset, a.data.byteLength))));
  const weights = arrays.map((a) => ({ name: rename(`${a.path}/${a.short}`), shape: a.shape, dtype: 'float32' }));
  const json = {
    format: 'layers-model',
    generatedBy: 'keras v3.10.0',
    convertedBy: 'TensorFlow.js Converter v4.22.0',
    modelTopology: { keras_version: '3.10.0', backend: 'tensorflow', model_config: modelEntry(m, 'keras3') },
    weightsManifest: [{ paths: ['group1-shard1of1.bin'], weights }],
  };
  const file = path.join(dir, 'model.json');
  fs.writeFileSync(file, JSON.stringify(json));
  return file;
}

/** A Keras MLP for 8×8 grayscale images: Flatten first, input [None, 8, 8] (no channel axis). */
function mlp(seed: number): ModelDesc {
  const w = new Weights(seed);
  return {
    kind: 'Sequential',
    name: 'mlp',
    inputName: 'input_1',
    inputShape: [8, 8],
    layers: [plain('Flatten', 'flatten', { data_format: 'channels_last' }), dense(w, 'dense', 64, 5, 'softmax')],
  };
}

/** The MLP's logits for an 8×8 image (row-major pixels), by a plain loop. */
function mlpLogits(m: ModelDesc, pixels: Float32Array): number[] {
  const d = m.layers[1] as LayerDesc;
  const [kernel, bias] = [d.weights[0].arr.data, d.weights[1].arr.data];
  const out: number[] = [];
  for (let k = 0; k < 5; k++) {
    let s = bias[k];
    for (let i = 0; i < 64; i++) s += pixels[i] * kernel[i * 5 + k];
    out.push(s);
  }
  return out;
}

describe('published model layouts (issue 16)', function () {
  let dir: string;
  before(async () => {
    await initBackend('auto');
    dir = tmpDir('cnn-lens-published-');
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  describe('item 2: Keras 2.15 .keras saved on Windows (backslashes in group names)', () => {
    it('loads the weights of every layer, nested models included', async () => {
      const A = modelA(3);
      const file = path.join(dir, 'windows.keras');
      await writeKerasArchive(file, A, 'keras2.15', { separator: '\\', container: 'layers' });
      await matchesReferenceA(file, A);
    });

    it('also under Keras 2.15\'s own container name', async () => {
      const A = modelA(4);
      const file = path.join(dir, 'windows-ckpt.keras');
      await writeKerasArchive(file, A, 'keras2.15', { separator: '\\' });
      await matchesReferenceA(file, A);
    });
  });

  describe('item 3: Keras 3 → TensorFlow.js exports with the model name in weight names', () => {
    it('matches weights by their layer path, with or without the enclosing models\' names', async () => {
      const A = modelA(5);
      const file = writeKeras3TfjsExport(path.join(dir, 'k3-tfjs'), A);
      const names = JSON.parse(fs.readFileSync(file, 'utf8')).weightsManifest[0].weights.map((w: { name: string }) => w.name);
      assert.ok(names.includes('cnn_a/features/kernel') && names.includes('cnn_a/block/block_conv/kernel'), names.join(', '));
      await matchesReferenceA(file, A);
    });

    it('still refuses weights that belong to no layer', async () => {
      const A = modelA(5);
      const file = writeKeras3TfjsExport(path.join(dir, 'k3-tfjs-bad'), A, (n) => n.replace('block_conv', 'other_conv'));
      await assert.rejects(loadAnyModel(file), /model\.json: the weights do not fit the layers/);
    });

    it('a weight name that is not a string is refused in one line (found by fuzzing)', async () => {
      const A = modelA(5);
      const file = writeKeras3TfjsExport(path.join(dir, 'k3-tfjs-null'), A);
      const j = JSON.parse(fs.readFileSync(file, 'utf8'));
      j.weightsManifest[0].weights[0].name = null;
      fs.writeFileSync(file, JSON.stringify(j));
      await assert.rejects(loadAnyModel(file), (e: Error) => e.name === 'LensError' && /model\.json: the weights do not fit the layers/.test(e.message));
    });
  });

  describe('item 4: input_shape given to a later layer, batch size fixed at 32', () => {
    for (const [dialect, ext] of [['keras2', 'h5'], ['keras3', 'keras']] as const) {
      it(`${dialect} .${ext}: only the model's input defines the input shape, and a batch of 1 runs`, async () => {
        const A = modelA(6);
        // model.add(BatchNormalization(input_shape=(32, 16, 16, 6))) after the first conv, Input(batch_size=32).
        const bn = A.layers[1];
        bn.cfg = { ...bn.cfg, batch_input_shape: [null, 32, 16, 16, 6] };
        A.batchSize = 32;
        const file = path.join(dir, `later-shape-${dialect}.${ext}`);
        if (ext === 'h5') await writeLegacyH5(file, A, { full: true, dialect: 'keras2' });
        else await writeKerasArchive(file, A, 'keras3');
        const m = await loadAnyModel(file);
        assert.deepEqual(m.inputSize, { height: 16, width: 16, channels: 3 });
        m.dispose();
        await matchesReferenceA(file, A);
        const one = await loadAnyModel(file);
        const r = explain(one, tf.slice(sampleInput(8), 0, 1), { method: 'gradcam' });
        assert.equal(r.predictions.length, 3);
        one.dispose();
      });
    }
  });

  describe('item 5: TensorFlow.js graph models with an NCHW input', () => {
    /** PyTorch → ONNX → TF → tfjs: x [1, 3, H, W] → Reshape [1, 3·H·W] → MatMul → logits (C, H, W order). */
    function writeNchwGraph(gdir: string, H: number, W: number, kernel: Float32Array, classes: number): string {
      fs.mkdirSync(gdir, { recursive: true });
      const shape = new Int32Array([1, 3 * H * W]);
      fs.writeFileSync(path.join(gdir, 'group1-shard1of1.bin'), Buffer.concat([Buffer.from(kernel.buffer), Buffer.from(shape.buffer)]));
      const dim = (ds: number[]) => ({ dim: ds.map((d) => ({ size: String(d) })) });
      const f = { type: 'DT_FLOAT' };
      const node = [
        { name: 'input.1', op: 'Placeholder', attr: { dtype: f, shape: { shape: dim([1, 3, H, W]) } } },
        { name: 'fc.weight', op: 'Const', attr: { dtype: f, value: { tensor: { dtype: 'DT_FLOAT', tensorShape: dim([3 * H * W, classes]) } } } },
        { name: 'flat_shape', op: 'Const', attr: { dtype: { type: 'DT_INT32' }, value: { tensor: { dtype: 'DT_INT32', tensorShape: dim([2]) } } } },
        { name: 'flat', op: 'Reshape', input: ['input.1', 'flat_shape'], attr: { T: f, Tshape: { type: 'DT_INT32' } } },
        { name: 'logits', op: 'MatMul', input: ['flat', 'fc.weight'], attr: { T: f, transpose_a: { b: false }, transpose_b: { b: false } } },
      ];
      const weights = [{ name: 'fc.weight', shape: [3 * H * W, classes], dtype: 'float32' }, { name: 'flat_shape', shape: [2], dtype: 'int32' }];
      const file = path.join(gdir, 'model.json');
      fs.writeFileSync(file, JSON.stringify({ format: 'graph-model', generatedBy: '2.15.0', convertedBy: 'TensorFlow.js Converter v4.22.0', modelTopology: { node, versions: { producer: 1 } }, weightsManifest: [{ paths: ['group1-shard1of1.bin'], weights }] }));
      return file;
    }

    it('reads [1, 3, H, W] as 3 channels of H×W and feeds the image channels first', async () => {
      const H = 6;
      const W = 10;
      const classes = 4;
      const kernel = new Weights(9).normal([3 * H * W, classes], 1).data;
      const m = await loadAnyModel(writeNchwGraph(path.join(dir, 'nchw'), H, W, kernel, classes));
      assert.deepEqual(m.inputSize, { height: H, width: W, channels: 3 });
      assert.equal(m.inputLayout, 'NCHW');
      const img = new Weights(10).uniform([1, H, W, 3], 0, 1).data; // NHWC, as the engine holds images
      const x = tf.tensor4d(img, [1, H, W, 3]);
      const preds = predict(m, x);
      // The model's logits by a plain loop over its own (C, H, W) order.
      const want: number[] = [];
      for (let k = 0; k < classes; k++) {
        let s = 0;
        for (let c = 0; c < 3; c++) for (let h = 0; h < H; h++) for (let w = 0; w < W; w++) s += img[(h * W + w) * 3 + c] * kernel[((c * H + h) * W + w) * classes + k];
        want.push(s);
      }
      for (const p of preds) assert.ok(Math.abs(p.logit - want[p.index]) < 1e-3, `class ${p.index}: ${p.logit} vs ${want[p.index]}`);
      x.dispose();
      m.dispose();
    });
  });

  describe('item 1: inputs without a channel axis ([None, 28, 28] MLPs)', () => {
    const M = mlp(12);
    const pixels = new Weights(13).uniform([64], 0, 1).data;
    const files: Record<string, () => Promise<string>> = {
      'model.json': async () => {
        const model = tfl.sequential({ name: 'mlp', layers: [tfl.layers.flatten({ inputShape: [8, 8], name: 'flatten' }), tfl.layers.dense({ units: 5, activation: 'softmax', name: 'dense' })] });
        const d = M.layers[1];
        model.getLayer('dense').setWeights(d.weights.map((w) => tf.tensor(w.arr.data, w.arr.shape)));
        const out = path.join(dir, 'mlp-tfjs');
        fs.mkdirSync(out, { recursive: true });
        const f = await saveLayersModel(model, out);
        model.dispose();
        return f;
      },
      '.h5': async () => {
        const f = path.join(dir, 'mlp.h5');
        await writeLegacyH5(f, M, { full: true, dialect: 'keras2' });
        return f;
      },
      '.keras': async () => {
        const f = path.join(dir, 'mlp.keras');
        await writeKerasArchive(f, M, 'keras3');
        return f;
      },
    };
    for (const [form, make] of Object.entries(files)) {
      it(`${form}: a grayscale image; predict and the input-gradient methods work, layer methods say why not`, async () => {
        const m = await loadAnyModel(await make());
        assert.deepEqual(m.inputSize, { height: 8, width: 8, channels: 1 });
        assert.equal(m.inputLayout, 'HW');
        const x = tf.tensor4d(pixels, [1, 8, 8, 1]);
        const logits = mlpLogits(M, pixels);
        const preds = predict(m, x);
        for (const p of preds) assert.ok(Math.abs(p.logit - logits[p.index]) < 1e-4, `${form} class ${p.index}: ${p.logit} vs ${logits[p.index]}`);
        // Saliency of a linear logit: |∂(Σ w_i x_i + b)/∂x_i| = |w_ik| for class k, pixel by pixel.
        const top = preds[0].index;
        const sal = explain(m, x, { method: 'saliency' }).explanations[0];
        assert.deepEqual(sal.shape, [8, 8]);
        const kernel = M.layers[1].weights[0].arr.data;
        for (let i = 0; i < 64; i++) assert.ok(Math.abs(sal.map[i] - Math.abs(kernel[i * 5 + top])) < 1e-5, `${form} pixel ${i}`);
        assert.throws(() => explain(m, x, { method: 'gradcam' }), /no layer with a spatial output.*saliency/);
        x.dispose();
        m.dispose();
      });
    }
  });

  describe('item 6: a weights-only .h5 opened beside its architecture JSON', () => {
    it('uses the one Keras architecture JSON in the folder whose layers take the weights, and says so', async () => {
      const A = modelA(14);
      const d = path.join(dir, 'weights-beside');
      fs.mkdirSync(d);
      fs.writeFileSync(path.join(d, 'model_architecture.json'), toJson(A, 'keras2'));
      fs.writeFileSync(path.join(d, 'labels.json'), JSON.stringify(['a', 'b', 'c'])); // not an architecture
      const weights = path.join(d, 'model_weights.h5');
      await writeLegacyH5(weights, A, { full: false });
      const m = await loadAnyModel(weights);
      assert.match(m.format, /architecture from model_architecture\.json/);
      m.dispose();
      await matchesReferenceA(weights, A);
    });

    it('keeps the message when the JSON beside it is for other layers, or there are two', async () => {
      const A = modelA(15);
      const d = path.join(dir, 'weights-other');
      fs.mkdirSync(d);
      const other = { ...A, layers: A.layers.map((l) => (l.name === 'hidden' ? { ...l, name: 'fc' } : l)) };
      fs.writeFileSync(path.join(d, 'arch.json'), toJson(other, 'keras2'));
      const weights = path.join(d, 'w.h5');
      await writeLegacyH5(weights, A, { full: false });
      await assert.rejects(loadAnyModel(weights), /w\.h5: holds only weights.*arch\.json beside it has layers this file has no weights for: fc/);
      fs.writeFileSync(path.join(d, 'arch2.json'), toJson(A, 'keras2'));
      await assert.rejects(loadAnyModel(weights), /holds only weights.*2 architecture JSONs are beside it/);
    });
  });

  describe('item 12: formats CNN Lens does not read say what they are and what opens them', () => {
    const cases: [string, Buffer, RegExp][] = [
      ['resnet.pt', Buffer.from(zipSync({ 'resnet/data.pkl': strToU8('\x80\x02}q\x00.'), 'resnet/version': strToU8('3\n') })), /resnet\.pt: is a PyTorch file.*torch\.onnx\.export/],
      ['weights.pth', Buffer.from([0x80, 0x02, 0x7d, 0x71, 0x00, 0x2e]), /weights\.pth: is a PyTorch file.*torch\.onnx\.export/],
      ['model.safetensors', Buffer.from('{"__metadata__":{}}'), /holds tensors only.*torch\.onnx\.export/],
      ['model.tflite', Buffer.concat([Buffer.from([0x1c, 0, 0, 0]), Buffer.from('TFL3'), Buffer.alloc(32)]), /TensorFlow Lite/],
      ['saved_model.pb', Buffer.from([0x08, 0x01, 0x12, 0x00]), /SavedModel.*tensorflowjs_converter/],
      ['last.ckpt', Buffer.from([0x50, 0x4b, 0x03, 0x04]), /checkpoint.*torch\.onnx\.export/],
      ['clf.pkl', Buffer.from([0x80, 0x04, 0x95]), /pickled Python object/],
      // No telling extension: recognized from the first bytes.
      ['model.json', Buffer.concat([Buffer.from([0x80, 0x04, 0x95, 0x00]), Buffer.alloc(16)]), /model\.json: is a pickled Python object/],
      ['exported_model', Buffer.from(zipSync({ 'archive/data.pkl': strToU8('\x80\x02.') })), /is a PyTorch file/],
      // Stand-ins for the model, in every format (both found in public repositories of trained models).
      ...['model.h5', 'model.keras', 'model.onnx', 'model.json'].map((name): [string, Buffer, RegExp] => [
        name,
        Buffer.from('version https://git-lfs.github.com/spec/v1\noid sha256:17bdbc3a917d965eaa5a8c02d8c7f632d5cdc6707d22dae77bda0bf81fbcfdd9\nsize 256052008\n'),
        new RegExp(`${name.replace('.', '\\.')}: is a Git LFS pointer, not the model \\(the real file has 256\\.1 MB\\): run 'git lfs pull'`),
      ]),
      ...['mobilenetv2-7.onnx', 'model.json', 'model.h5'].map((name): [string, Buffer, RegExp] => [name, Buffer.from('\n\n<!DOCTYPE html>\n<html lang="en">\n<head>'), /is a web page \(HTML\), not a model/]),
    ];
    for (const [name, bytes, message] of cases) {
      it(`${name}: ${bytes.subarray(0, 24).toString('latin1').replace(/[^ -~]/g, '.')}`, async () => {
        const file = path.join(dir, name);
        fs.writeFileSync(file, bytes);
        await assert.rejects(loadAnyModel(file), (e: Error) => {
          assert.match(e.message, message);
          assert.doesNotMatch(e.message, /JSON/);
          assert.equal(e.message.split('\n').length, 1);
          return true;
        });
      });
    }
  });
});

