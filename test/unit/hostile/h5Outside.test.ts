// HDF5 datasets whose values live in other files (external raw storage, virtual datasets) name those files by
// path, and h5wasm reads the host file system: a .h5 could pull any readable file into a model's weights. The
// Keras reader refuses them (src/engine/model/keras/h5.ts). Fixtures: fixtures/make-fixtures.py (h5py); the
// outside files are written here, so a loader that followed the links would succeed and show their values.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadKerasArtifacts } from '../../../src/engine/model/keras';
import { h5wasm } from '../../../src/engine/model/keras/h5';
import { tmpDir } from '../helpers';

const OUTSIDE_BIN = '/tmp/cnn-lens-outside-weights.bin';
const OUTSIDE_H5 = '/tmp/cnn-lens-outside-weights.h5';

function fixture(name: string): string {
  let dir = __dirname;
  for (let i = 0; i < 8; i++) {
    const p = path.join(dir, 'test', 'unit', 'hostile', 'fixtures', name);
    if (fs.existsSync(p)) return p;
    dir = path.dirname(dir);
  }
  throw new Error(`fixture ${name} not found above ${__dirname}`);
}

describe('HDF5 data kept in other files is refused (Keras .h5)', function () {
  this.timeout(30000);
  let dir: string;
  before(async () => {
    dir = tmpDir('cnn-lens-h5-outside-');
    fs.writeFileSync(OUTSIDE_BIN, Buffer.from(new Float32Array([7, 8, 9]).buffer));
    const m = await h5wasm();
    const f = new m.File(OUTSIDE_H5, 'w');
    f.create_dataset({ name: 'data', data: new Float32Array([4, 5, 6]) });
    f.close();
  });
  after(() => {
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(OUTSIDE_BIN, { force: true });
    fs.rmSync(OUTSIDE_H5, { force: true });
  });

  for (const [name, re] of [
    ['external-storage.h5', /dataset '\/model_weights\/probs\/probs\/bias:0' keeps its data in another file \('\/tmp\/cnn-lens-outside-weights\.bin'\); refused/],
    ['virtual-dataset.h5', /dataset '\/model_weights\/probs\/probs\/bias:0' is a virtual dataset reading '\/tmp\/cnn-lens-outside-weights\.h5'; refused/],
  ] as const) {
    it(`${name}: one line naming the file and the outside path`, async () => {
      const sub = fs.mkdtempSync(path.join(dir, 'case-'));
      const file = path.join(sub, name);
      fs.copyFileSync(fixture(name), file);
      await assert.rejects(loadKerasArtifacts(file), (e: Error) => {
        assert.equal(e.name, 'LensError');
        assert.ok(e.message.startsWith(`${file}: `) && !e.message.includes('\n'), e.message);
        assert.match(e.message, re);
        return true;
      });
      assert.deepEqual(fs.readdirSync(sub), [name], 'nothing written');
    });
  }

  it('the same model with its bias stored in the file loads (the refusal is about where the data is)', async () => {
    const a = await loadKerasArtifacts(fixture('../../../fuzz/corpus/keras/a-keras2.h5'));
    assert.ok(a.weightSpecs!.some((s) => s.name === 'probs/bias'));
  });
});
