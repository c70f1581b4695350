import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { initBackend } from '../../../src/engine/backend';
import { loadKerasArtifacts, normalizeKerasTopology } from '../../../src/engine/model/keras';
import { fixture, tmpDir } from '../helpers';
import { modelEntry, plain, writeKerasArchive, writeLegacyH5, Weights, type LayerDesc, type ModelDesc } from './kerasWriter';
import { maxAbsDiff, modelA, referenceA, sampleInput } from './models';

/** tfjs weight specs + data for a description, named "<layer>/<weight>" as tfjs-layers names them. */
function tfjsWeights(m: ModelDesc): { specs: tf.io.WeightsManifestEntry[]; data: ArrayBuffer } {
  const specs: tf.io.WeightsManifestEntry[] = [];
  const parts: Float32Array[] = [];
  const walk = (layers: LayerDesc[]): void => {
    for (const l of layers) {
      if (l.model) walk(l.model.layers);
      for (const w of l.weights) {
        specs.push({ name: `${l.name}/${w.short}`, shape: w.arr.shape, dtype: 'float32' });
        parts.push(w.arr.data);
      }
    }
  };
  walk(m.layers);
  const total = parts.reduce((a, p) => a + p.length, 0);
  const all = new Float32Array(total);
  let o = 0;
  for (const p of parts) {
    all.set(p, o);
    o += p.length;
  }
  return { specs, data: all.buffer };
}

describe('keras/normalizeKerasTopology', function () {
  let dir: string;
  before(async () => {
    await initBackend('auto');
    dir = tmpDir('cnn-lens-keras-topo-');
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('makes a tfjs model.json written from Keras 3 load (InputLayer with batch_shape) and predict like the tfjs-built model', async () => {
    const A = modelA(31);
    const { specs, data } = tfjsWeights(A);
    const raw = { modelTopology: { ...modelEntry(A, 'keras3'), keras_version: '3.10.0', backend: 'tensorflow' }, weightSpecs: specs, weightData: data };
    // What tfjs 4.22 says about the untranslated topology.
    await assert.rejects(tfl.loadLayersModel(tf.io.fromMemory(raw)), /An InputLayer should be passed either a `batchInputShape` or an `inputShape`/);
    const loaded = await tfl.loadLayersModel(tf.io.fromMemory({ ...raw, modelTopology: normalizeKerasTopology(raw.modelTopology) }));
    const ref = referenceA(A);
    const x = sampleInput(8);
    const diff = await maxAbsDiff(loaded.predict(x) as tf.Tensor, ref.predict(x) as tf.Tensor);
    assert.ok(diff < 1e-5, `max diff ${diff}`);
    loaded.dispose();
    ref.dispose();
  });

  it('leaves Teachable Machine tfjs topologies (Keras 2 dialect, nested Model in Sequentials) working unchanged', async () => {
    for (const name of ['tm-waste-12', 'tm-items-4']) {
      const file = fixture(name, 'model.json');
      if (!file) continue;
      const json = JSON.parse(fs.readFileSync(file, 'utf8'));
      const dirOf = path.dirname(file);
      const specs = json.weightsManifest.flatMap((g: any) => g.weights);
      const data = Buffer.concat(json.weightsManifest.flatMap((g: any) => g.paths.map((p: string) => fs.readFileSync(path.join(dirOf, p)))));
      const weightData = data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength);
      const rawModel = await tfl.loadLayersModel(tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: specs, weightData }));
      const normModel = await tfl.loadLayersModel(tf.io.fromMemory({ modelTopology: normalizeKerasTopology(json.modelTopology), weightSpecs: specs, weightData }));
      const x = tf.randomUniform([1, 224, 224, 3], -1, 1, 'float32', 7);
      const diff = await maxAbsDiff(rawModel.predict(x) as tf.Tensor, normModel.predict(x) as tf.Tensor);
      assert.equal(diff, 0, `${name}: normalized topology predicts differently (${diff})`);
      assert.equal(normModel.layers.length, rawModel.layers.length);
      rawModel.dispose();
      normModel.dispose();
    }
  });

  it('keeps a {model_config: …} wrapper and its other keys', () => {
    const A = modelA(1);
    const out = normalizeKerasTopology({ model_config: modelEntry(A, 'keras3'), training_config: { loss: 'x' } });
    assert.deepEqual(out.training_config, { loss: 'x' });
    assert.equal(out.model_config.class_name, 'Sequential');
    assert.equal(out.model_config.config.layers[0].config.batch_input_shape.length, 4);
  });

  describe('exact translations (checked against the formulas)', () => {
    // x → RandomFlip (identity at inference) → Activation('silu') → ReLU(negative_slope=0.1) →
    // Normalization(mean, variance given) → Rescaling(0.5, offset 1) → Normalization (adapted: weights) →
    // LeakyReLU(negative_slope=0.2), on 4 features.
    const w = new Weights(99);
    const m1 = [0.5, -1, 2, 0];
    const v1 = [4, 0.25, 1, 9];
    const adapted = { mean: w.normal([4], 1), variance: w.uniform([4], 0.5, 3), count: { shape: [], data: new Float32Array([1000]) } };
    const layersFor = (withCount: boolean): LayerDesc[] => [
      plain('RandomFlip', 'random_flip', { mode: 'horizontal', seed: null }),
      plain('Activation', 'act', { activation: 'silu' }),
      plain('ReLU', 're_lu', { max_value: null, negative_slope: 0.1, threshold: 0 }),
      plain('Normalization', 'norm_given', { axis: -1, mean: m1, variance: v1, invert: false }),
      plain('Rescaling', 'rescale', { scale: 0.5, offset: 1 }),
      {
        ...plain('Normalization', 'norm_adapted', { axis: -1, mean: null, variance: null, invert: false }),
        weights: [
          { short: 'mean', trainable: false, arr: adapted.mean },
          { short: 'variance', trainable: false, arr: adapted.variance },
          ...(withCount ? [{ short: 'count', trainable: false, arr: adapted.count }] : []),
        ],
      },
      plain('LeakyReLU', 'leaky', { negative_slope: 0.2 }),
    ];
    const expected = (x: number, i: number): number => {
      let y = x; // RandomFlip: identity at inference
      y = y / (1 + Math.exp(-y)); // silu
      y = y > 0 ? y : 0.1 * y;
      y = (y - m1[i]) / Math.sqrt(v1[i]);
      y = y * 0.5 + 1;
      y = (y - adapted.mean.data[i]) / Math.sqrt(adapted.variance.data[i]);
      return y > 0 ? y : 0.2 * y;
    };
    const xs = [
      [-3, -0.5, 0.2, 4],
      [1, 2, -1, -2],
    ];

    async function check(file: string): Promise<void> {
      const art = await loadKerasArtifacts(file);
      const model = await tfl.loadLayersModel(tf.io.fromMemory(art));
      const got = await (model.predict(tf.tensor2d(xs)) as tf.Tensor).data();
      xs.flat().forEach((x, k) => {
        const want = expected(x, k % 4);
        assert.ok(Math.abs(got[k] - want) < 1e-5, `element ${k}: got ${got[k]}, formula ${want}`);
      });
      const classes = model.layers.map((l) => l.getClassName());
      assert.deepEqual(classes, ['InputLayer', 'Activation', 'Activation', 'LeakyReLU', 'Normalization', 'Rescaling', 'Normalization', 'LeakyReLU']);
      model.dispose();
    }

    it('in a Keras 3 .keras archive', async () => {
      const m: ModelDesc = { kind: 'Sequential', name: 'prep', inputName: 'x', inputShape: [4], layers: layersFor(false) };
      const file = path.join(dir, 'prep.keras');
      await writeKerasArchive(file, m, 'keras3');
      await check(file);
    });

    it('in a Keras 2 .h5 (Normalization stores mean, variance and count)', async () => {
      const m: ModelDesc = { kind: 'Sequential', name: 'prep', inputName: 'x', inputShape: [4], layers: layersFor(true) };
      const file = path.join(dir, 'prep.h5');
      await writeLegacyH5(file, m, { full: true, kerasVersion: '2.15.0', dialect: 'keras2' });
      await check(file);
    });
  });

  describe('refusals name the layer and its class', () => {
    const seq = (layer: any, version = '3.10.0') => ({
      module: 'keras',
      class_name: 'Sequential',
      keras_version: version,
      config: { name: 's', layers: [{ module: 'keras.layers', class_name: 'InputLayer', config: { batch_shape: [null, 4], dtype: 'float32', name: 'in' } }, layer] },
    });
    const cases: [string, any, RegExp][] = [
      ['Lambda', { module: 'keras.layers', class_name: 'Lambda', config: { name: 'lambda_1', function: { class_name: '__lambda__' } } }, /^layer 'lambda_1' \(Lambda\) cannot be loaded: Lambda layers hold Python code; /],
      ['a custom class', { module: 'my_lib', class_name: 'Fancy', registered_name: 'my_lib>Fancy', config: { name: 'fancy' } }, /^layer 'fancy' \(Fancy\) cannot be loaded: unknown layer or class 'Fancy' \(registered as 'my_lib>Fancy'\) \(not available in TensorFlow\.js/],
      ['a Keras operation', { module: 'keras.src.ops.numpy', class_name: 'Add', config: { name: 'add_op' } }, /^layer 'add_op' \(Add\) cannot be loaded: it is a Keras operation/],
      ['a TF op layer', { class_name: 'TFOpLambda', config: { name: 'tf.math.add', function: 'math.add' } }, /^layer 'tf\.math\.add' \(TFOpLambda\) cannot be loaded: it wraps a raw TensorFlow op/],
      ['a lookup layer', { module: 'keras.layers', class_name: 'StringLookup', config: { name: 'lookup' } }, /^layer 'lookup' \(StringLookup\) cannot be loaded: this preprocessing layer keeps Python-side state/],
      ['Keras 3 hard_sigmoid', { module: 'keras.layers', class_name: 'Dense', config: { name: 'd', units: 2, activation: 'hard_sigmoid' } }, /^layer 'd' \(Dense\) cannot be loaded: activation 'hard_sigmoid' is relu6/],
      ['an unknown activation', { module: 'keras.layers', class_name: 'Activation', config: { name: 'a', activation: 'my_act' } }, /^layer 'a' \(Activation\) cannot be loaded: activation 'my_act' is not available in TensorFlow\.js$/],
      ['grouped convolution', { module: 'keras.layers', class_name: 'Conv2D', config: { name: 'g', filters: 4, kernel_size: [3, 3], groups: 2 } }, /^layer 'g' \(Conv2D\) cannot be loaded: grouped convolution \(groups=2\)/],
      ['GRU reset_after', { module: 'keras.layers', class_name: 'GRU', config: { name: 'gru', units: 3, reset_after: true } }, /^layer 'gru' \(GRU\) cannot be loaded: GRU with reset_after=True/],
    ];
    for (const [what, layer, re] of cases) {
      it(what, () => {
        assert.throws(() => normalizeKerasTopology(seq(layer)), (e: Error) => {
          assert.match(e.message, re);
          assert.ok(!e.message.includes('\n'));
          return true;
        });
      });
    }

    it('prefixes the file when given', () => {
      assert.throws(() => normalizeKerasTopology(seq(cases[0][1]), { file: 'model.json' }), (e: Error) => /^model\.json: layer 'lambda_1' \(Lambda\)/.test(e.message));
    });

    it("accepts Keras 2's hard_sigmoid (same formula as tfjs)", () => {
      const t = normalizeKerasTopology({ class_name: 'Sequential', keras_version: '2.15.0', config: { name: 's', layers: [{ class_name: 'Dense', config: { name: 'd', units: 2, activation: 'hard_sigmoid', batch_input_shape: [null, 3] } }] } });
      assert.equal(t.config.layers[0].config.activation, 'hard_sigmoid');
    });

    it('refuses a subclassed model', () => {
      assert.throws(() => normalizeKerasTopology({ module: 'my_lib', class_name: 'MyModel', registered_name: 'my_lib>MyModel', config: { name: 'm', units: 3 } }), /model config has class 'MyModel' \(registered as 'my_lib>MyModel'\), not a Sequential or Functional model/);
    });
  });
});
