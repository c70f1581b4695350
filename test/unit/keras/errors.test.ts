import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { zipSync, strToU8 } from 'fflate';
import { loadKerasArtifacts } from '../../../src/engine/model/keras';
import { tmpDir } from '../helpers';
import { h5, modelEntry, plain, toJson, writeKerasArchive, writeLegacyH5, writeSavingLibH5, type ModelDesc } from './kerasWriter';
import { modelA, renamed } from './models';

/** Rejects with exactly one line that starts with the file's name and matches `re`. */
async function rejectsOneLine(p: Promise<unknown>, file: string, re: RegExp): Promise<void> {
  await assert.rejects(p, (e: Error) => {
    assert.ok(!e.message.includes('\n'), `more than one line: ${JSON.stringify(e.message)}`);
    assert.ok(e.message.startsWith(`${file}`), `does not name ${file}: ${e.message}`);
    assert.match(e.message, re);
    return true;
  });
}

describe('keras/loadKerasArtifacts: bad files give one-line errors', function () {
  let dir: string;
  const A = modelA(3);
  before(() => {
    dir = tmpDir('cnn-lens-keras-err-');
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('a file that is not HDF5', async () => {
    const f = path.join(dir, 'model.h5');
    fs.writeFileSync(f, 'this is not hdf5 at all, just text that is long enough to read a signature');
    await rejectsOneLine(loadKerasArtifacts(f), f, /: not an HDF5 file$/);
  });

  it('a truncated HDF5 file', async () => {
    const full = path.join(dir, 'full.h5');
    await writeLegacyH5(full, A, { full: true });
    const f = path.join(dir, 'truncated.h5');
    const bytes = fs.readFileSync(full);
    fs.writeFileSync(f, bytes.subarray(0, Math.floor(bytes.length / 2)));
    await rejectsOneLine(loadKerasArtifacts(f), f, /damaged or truncated HDF5 file \(truncated file: eof = \d+/);
  });

  it('a missing file', async () => {
    const f = path.join(dir, 'nowhere.h5');
    await rejectsOneLine(loadKerasArtifacts(f), f, /no such file/);
    const k = path.join(dir, 'nowhere.keras');
    await rejectsOneLine(loadKerasArtifacts(k), k, /no such file/);
  });

  it('a weights-only .h5 opened as a model', async () => {
    const f = path.join(dir, 'weights-only.h5');
    await writeLegacyH5(f, A, { full: false });
    await rejectsOneLine(loadKerasArtifacts(f), f, /holds only weights \(model\.save_weights\); open the architecture JSON/);
  });

  it('a .keras zip without config.json', async () => {
    const f = path.join(dir, 'noconfig.keras');
    await writeKerasArchive(f, A, 'keras3', { members: { 'config.json': null } });
    await rejectsOneLine(loadKerasArtifacts(f), f, /: zip has no config\.json/);
  });

  it('a .keras whose config.json is not JSON', async () => {
    const f = path.join(dir, 'badjson.keras');
    await writeKerasArchive(f, A, 'keras3', { members: { 'config.json': strToU8('{"class_name": "Sequential", "config": {') } });
    await rejectsOneLine(loadKerasArtifacts(f), f, /: config\.json is not valid JSON \(/);
  });

  it('a .keras that is not a zip, and a damaged zip', async () => {
    const f = path.join(dir, 'notzip.keras');
    fs.writeFileSync(f, 'hello');
    await rejectsOneLine(loadKerasArtifacts(f), f, /not a zip archive/);
    const good = path.join(dir, 'good.keras');
    await writeKerasArchive(good, A, 'keras3');
    const cut = path.join(dir, 'cut.keras');
    fs.writeFileSync(cut, fs.readFileSync(good).subarray(0, 2000));
    await rejectsOneLine(loadKerasArtifacts(cut), cut, /damaged zip archive|zip has no config\.json/);
  });

  it("refuses zip members with '..' or absolute paths", async () => {
    for (const evil of ['../evil.txt', '/etc/evil', 'a/../../evil']) {
      const f = path.join(dir, `evil-${evil.length}.keras`);
      fs.writeFileSync(f, zipSync({ 'config.json': strToU8(JSON.stringify(modelEntry(A, 'keras3'))), [evil]: strToU8('x') }, { level: 0 }));
      await rejectsOneLine(loadKerasArtifacts(f), f, /unsafe path .* refused/);
    }
  });

  it("an unknown layer class names the layer and its class", async () => {
    const m: ModelDesc = { ...A, layers: [...A.layers.slice(0, 2), plain('MyCustomLayer', 'custom_block'), ...A.layers.slice(2)] };
    const f = path.join(dir, 'custom.keras');
    const cfg = modelEntry(m, 'keras3');
    cfg.config.layers[3].module = 'my_package.layers';
    cfg.config.layers[3].registered_name = 'my_package>MyCustomLayer';
    await writeKerasArchive(f, A, 'keras3', { members: { 'config.json': strToU8(JSON.stringify(cfg)) } });
    await rejectsOneLine(loadKerasArtifacts(f), f, /layer 'custom_block' \(MyCustomLayer\) cannot be loaded: unknown layer or class 'MyCustomLayer' \(registered as 'my_package>MyCustomLayer'\) \(not available in TensorFlow\.js/);
  });

  it('a Lambda layer in a Keras 2 .h5', async () => {
    const m: ModelDesc = { ...A, layers: [...A.layers.slice(0, 1), plain('Lambda', 'lambda_1', { function: ['4wEAAAAA', null, null], function_type: 'lambda', module: '__main__', output_shape: null, arguments: {} }), ...A.layers.slice(1)] };
    const f = path.join(dir, 'lambda.h5');
    await writeLegacyH5(f, m, { full: true });
    await rejectsOneLine(loadKerasArtifacts(f), f, /: layer 'lambda_1' \(Lambda\) cannot be loaded: Lambda layers hold Python code; /);
  });

  it('weights missing for a layer', async () => {
    const f = path.join(dir, 'missing.keras');
    await writeKerasArchive(f, A, 'keras3', { omit: ['probs'] });
    await rejectsOneLine(loadKerasArtifacts(f), `${f} (model.weights.h5)`, /weights for layer 'probs' missing \(expected 2 arrays, found 0\)/);
    const arch = path.join(dir, 'missing-arch.json');
    const w = path.join(dir, 'missing.weights.h5');
    fs.writeFileSync(arch, toJson(A, 'keras3'));
    await writeSavingLibH5(w, A, 'keras3', { omit: ['features'] });
    await rejectsOneLine(loadKerasArtifacts(arch, { weightsFile: w }), w, /weights for layer 'features' missing \(expected 2 arrays, found 0\)/);
  });

  it('a dataset declaring an absurd size is refused before anything is allocated', async () => {
    const f = path.join(dir, 'huge.keras');
    await writeKerasArchive(f, A, 'keras3', { huge: 'hidden' });
    assert.ok(fs.statSync(f).size < 1e6, 'the archive itself is small');
    await rejectsOneLine(loadKerasArtifacts(f), `${f} (model.weights.h5)`, /dataset '\/layers\/dense\/vars\/0' declares 4\.5 GB \(over the 4 GB limit\)/);
  });

  it('architecture JSON problems', async () => {
    const arch = path.join(dir, 'arch.json');
    fs.writeFileSync(arch, toJson(A, 'keras2'));
    await rejectsOneLine(loadKerasArtifacts(arch), arch, /needs its weights file/);
    const tfjs = path.join(dir, 'model.json');
    fs.writeFileSync(tfjs, JSON.stringify({ format: 'layers-model', modelTopology: modelEntry(A, 'keras2'), weightsManifest: [] }));
    await rejectsOneLine(loadKerasArtifacts(tfjs, { weightsFile: arch }), tfjs, /is a TensorFlow\.js model\.json, not a Keras architecture JSON/);
    const broken = path.join(dir, 'broken.json');
    fs.writeFileSync(broken, '{"class_name": ');
    await rejectsOneLine(loadKerasArtifacts(broken, { weightsFile: arch }), broken, /not valid JSON/);
    const notKeras = path.join(dir, 'weights.h5');
    const mod = await h5();
    const hf = new mod.File(notKeras, 'w');
    hf.create_dataset({ name: 'x', data: new Float32Array([1, 2]), shape: [2], dtype: '<f4' });
    hf.close();
    await rejectsOneLine(loadKerasArtifacts(arch, { weightsFile: notKeras }), notKeras, /not a Keras weights file/);
  });

  it('a weights file with weights for a different number of layers', async () => {
    const arch = path.join(dir, 'fewer-arch.json');
    const w = path.join(dir, 'fewer-weights.h5');
    // A has 5 layers with weights (features, batch_normalization, block, hidden, probs); the file lacks 'hidden'.
    const fewer: ModelDesc = { ...A, layers: A.layers.filter((l) => l.name !== 'hidden') };
    fs.writeFileSync(arch, toJson(renamed(A, '_2'), 'keras2'));
    await writeLegacyH5(w, fewer, { full: false });
    await rejectsOneLine(loadKerasArtifacts(arch, { weightsFile: w }), w, /has weights for 4 layers, the model has 5 layers with weights/);
  });
});
