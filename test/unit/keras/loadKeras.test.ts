import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { initBackend } from '../../../src/engine/backend';
import { isKerasFile, loadKerasArtifacts } from '../../../src/engine/model/keras';
import { setReadSliceBytes } from '../../../src/engine/model/keras/h5';
import { tmpDir } from '../helpers';
import { dense, h5, modelEntry, toJson, Weights, writeKerasArchive, writeLegacyH5, writeSavingLibH5, type ModelDesc } from './kerasWriter';
import { maxAbsDiff, modelA, modelB, modelC, referenceA, referenceB, referenceC, renamed, sampleInput } from './models';

interface Case {
  label: string;
  desc: ModelDesc;
  reference: () => tfl.LayersModel;
  /** What the reference is fed, given the sample input. */
  refInput: (x: tf.Tensor) => tf.Tensor;
}

const A = modelA(11);
const B = modelB(23);
const C = modelC(37);
const cases: Case[] = [
  { label: 'A (Sequential with a nested Functional)', desc: A, reference: () => referenceA(A), refInput: (x) => x },
  // Model B's reference has no Rescaling layer: it gets x * 2 - 1 directly.
  { label: 'B (Functional with a frozen nested Sequential)', desc: B, reference: () => referenceB(B), refInput: (x) => tf.sub(tf.mul(x, 2), 1) },
  { label: 'C (Functional with a shared Dense called twice)', desc: C, reference: () => referenceC(C), refInput: (x) => x },
];

async function predictionsMatch(artifacts: tf.io.ModelArtifacts, c: Case): Promise<tfl.LayersModel> {
  const loaded = await tfl.loadLayersModel(tf.io.fromMemory(artifacts), { strict: true });
  const ref = c.reference();
  const x = sampleInput(5);
  const got = loaded.predict(x) as tf.Tensor;
  const want = ref.predict(c.refInput(x)) as tf.Tensor;
  assert.deepEqual(got.shape, [2, 3]);
  const diff = await maxAbsDiff(got, want);
  assert.ok(diff < 1e-5, `${c.label}: max |loaded - reference| = ${diff}`);
  // The probabilities differ between the two samples and classes (a constant output would match trivially).
  const p = await want.data();
  assert.ok(Math.max(...p) - Math.min(...p) > 0.05, `${c.label}: reference outputs are too uniform to tell anything (${Array.from(p)})`);
  ref.dispose();
  return loaded;
}

describe('keras/loadKerasArtifacts: formats', function () {
  let dir: string;
  before(async () => {
    await initBackend('auto');
    dir = tmpDir('cnn-lens-keras-');
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  for (const c of cases) {
    const tag = c.desc.name;
    it(`Keras 2 model.save('x.h5'): ${c.label}`, async () => {
      const file = path.join(dir, `${tag}.h5`);
      await writeLegacyH5(file, c.desc, { full: true, kerasVersion: '2.15.0', dialect: 'keras2' });
      assert.equal(isKerasFile(file), true);
      const art = await loadKerasArtifacts(file);
      assert.equal(art.format, 'layers-model');
      const loaded = await predictionsMatch(art, c);
      // Nested models stay nested, under their own names; shared layers keep both calls.
      const nestedName = c.desc.layers.find((l) => l.model)?.name;
      if (nestedName) assert.ok(loaded.getLayer(nestedName) instanceof tfl.LayersModel);
      const shared = c.desc.layers.find((l) => l.calls)?.name;
      if (shared) assert.equal(loaded.getLayer(shared).inboundNodes.length, 2);
      loaded.dispose();
    });

    it(`Keras 3 .keras archive: ${c.label}`, async () => {
      const file = path.join(dir, `${tag}.keras`);
      await writeKerasArchive(file, c.desc, 'keras3');
      const art = await loadKerasArtifacts(file);
      (await predictionsMatch(art, c)).dispose();
    });

    it(`Keras 2.15 .keras archive (_layer_checkpoint_dependencies): ${c.label}`, async () => {
      const file = path.join(dir, `${tag}-215.keras`);
      await writeKerasArchive(file, c.desc, 'keras2.15');
      const art = await loadKerasArtifacts(file);
      (await predictionsMatch(art, c)).dispose();
    });

    it(`Keras 2 to_json() + save_weights('w.h5'): ${c.label}`, async () => {
      const arch = path.join(dir, `${tag}-arch.json`);
      const weights = path.join(dir, `${tag}-weights.h5`);
      fs.writeFileSync(arch, toJson(c.desc, 'keras2'));
      await writeLegacyH5(weights, c.desc, { full: false });
      assert.equal(isKerasFile(arch), true);
      const art = await loadKerasArtifacts(arch, { weightsFile: weights });
      (await predictionsMatch(art, c)).dispose();
    });

    it(`Keras 3 to_json() + save_weights('x.weights.h5'): ${c.label}`, async () => {
      const arch = path.join(dir, `${tag}-arch3.json`);
      const weights = path.join(dir, `${tag}.weights.h5`);
      fs.writeFileSync(arch, toJson(c.desc, 'keras3'));
      await writeSavingLibH5(weights, c.desc, 'keras3');
      const art = await loadKerasArtifacts(arch, { weightsFile: weights });
      (await predictionsMatch(art, c)).dispose();
    });
  }

  it('reads big arrays in row slices with the same result', async () => {
    const file = path.join(dir, 'sliced.keras');
    await writeKerasArchive(file, B, 'keras3');
    const whole = await loadKerasArtifacts(file);
    const old = setReadSliceBytes(100); // a few rows per read: every kernel is read in several slices
    try {
      const sliced = await loadKerasArtifacts(file);
      assert.deepEqual(new Uint8Array(sliced.weightData as ArrayBuffer), new Uint8Array(whole.weightData as ArrayBuffer));
      (await predictionsMatch(sliced, cases[1])).dispose();
    } finally {
      setReadSliceBytes(old);
    }
  });

  it("Keras 3 legacy model.save('x.h5') (weight names without ':0')", async () => {
    const file = path.join(dir, 'k3-legacy.h5');
    await writeLegacyH5(file, A, { full: true, kerasVersion: '3.10.0', dialect: 'keras2', weightNames: 'keras3' });
    (await predictionsMatch(await loadKerasArtifacts(file), cases[0])).dispose();
  });

  it('weights-only file for an architecture whose layers were renamed: matched by order, as Keras does', async () => {
    const arch = path.join(dir, 'renamed-arch.json');
    const weights = path.join(dir, 'renamed-weights.h5');
    fs.writeFileSync(arch, toJson(renamed(A, '_7'), 'keras2'));
    await writeLegacyH5(weights, A, { full: false });
    const art = await loadKerasArtifacts(arch, { weightsFile: weights });
    assert.ok(art.weightSpecs!.some((s) => s.name === 'features_7/kernel'), 'weights carry the architecture names');
    (await predictionsMatch(art, cases[0])).dispose();
  });

  it('names weights the way tfjs-layers does (layer/weight, nested layers unprefixed) and packs them as float32', async () => {
    const file = path.join(dir, 'names.keras');
    await writeKerasArchive(file, A, 'keras3');
    const art = await loadKerasArtifacts(file);
    const names = art.weightSpecs!.map((s) => s.name);
    for (const n of ['features/kernel', 'batch_normalization/moving_mean', 'block_conv/kernel', 'block_bn/moving_variance', 'block_proj/bias', 'probs/bias']) assert.ok(names.includes(n), `missing ${n} in ${names}`);
    assert.ok(art.weightSpecs!.every((s) => s.dtype === 'float32'));
    const bytes = art.weightSpecs!.reduce((a, s) => a + s.shape.reduce((x, y) => x * y, 1) * 4, 0);
    assert.equal((art.weightData as ArrayBuffer).byteLength, bytes);
    // The first array is features/kernel: compare with what was written.
    const first = new Float32Array(art.weightData as ArrayBuffer, 0, 3 * 3 * 3 * 6);
    assert.deepEqual(Array.from(first), Array.from(A.layers[0].weights[0].arr.data));
  });

  it('reads bfloat16 arrays (stored as 16-bit words with a dtype attribute, as Keras 3 writes them) and float64 arrays', async () => {
    // Dense(2) on 3 inputs; the kernel holds values exact in bfloat16, the bias is float64.
    const kernel = [0.5, -1.25, 3, 0.15625, -2, 1];
    const bias = [0.1, -0.3];
    const m: ModelDesc = { kind: 'Sequential', name: 'tiny', inputName: 'x', inputShape: [3], layers: [dense(new Weights(1), 'd', 3, 2)] };
    const arch = path.join(dir, 'tiny.json');
    const weights = path.join(dir, 'tiny.weights.h5');
    fs.writeFileSync(arch, toJson(m, 'keras3'));
    const mod = await h5();
    const f = new mod.File(weights, 'w');
    f.create_group('vars');
    const vars = f.create_group('layers').create_group('dense').create_group('vars');
    const words = new Uint16Array(new Uint32Array(Float32Array.from(kernel).buffer).map((u) => u >>> 16));
    vars.create_dataset({ name: '0', data: words, shape: [3, 2], dtype: '<H' });
    (vars.get('0') as any).create_attribute('dtype', 'bfloat16', null, 'S8');
    vars.create_dataset({ name: '1', data: Float64Array.from(bias), shape: [2], dtype: '<d' });
    f.close();
    const loaded = await tfl.loadLayersModel(tf.io.fromMemory(await loadKerasArtifacts(arch, { weightsFile: weights })));
    const x = [1, 2, -1];
    const got = await (loaded.predict(tf.tensor2d([x])) as tf.Tensor).data();
    for (let j = 0; j < 2; j++) {
      const want = x.reduce((a, xi, i) => a + xi * kernel[i * 2 + j], bias[j]);
      assert.ok(Math.abs(got[j] - want) < 1e-6, `output ${j}: ${got[j]} vs ${want}`);
    }
    loaded.dispose();
  });

  it('the topology is in the Keras 2 dialect tfjs reads (no Keras 3 wrappers left)', async () => {
    const file = path.join(dir, 'dialect.keras');
    await writeKerasArchive(file, B, 'keras3');
    const text = JSON.stringify((await loadKerasArtifacts(file)).modelTopology);
    for (const marker of ['batch_shape', '__keras_tensor__', 'DTypePolicy', 'registered_name', '"module"', 'keras_history']) assert.ok(!text.includes(marker), `${marker} left in ${text.slice(0, 300)}`);
    assert.ok(text.includes('batch_input_shape'));
    // The raw Keras 3 config is what tfjs 4.22 rejects.
    await assert.rejects(tfl.models.modelFromJSON({ modelTopology: modelEntry(B, 'keras3') } as any), /batchInputShape|keras_tensor|Unknown|Cannot read|not a function|undefined/i);
  });
});
