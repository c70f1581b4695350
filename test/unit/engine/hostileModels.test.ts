// Broken and hostile model.json files: each gives one line naming the file, quickly, and builds nothing.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { initBackend } from '../../../src/engine/backend';
import { loadAnyModel, loadModel } from '../../../src/engine/model/loadModel';
import { tmpDir } from '../helpers';

function write(dir: string, patch: (j: any) => void, weights?: Float32Array): string {
  const j: any = {
    format: 'layers-model',
    modelTopology: {
      class_name: 'Sequential',
      config: {
        name: 'tiny',
        layers: [
          { class_name: 'Flatten', config: { name: 'flat', batch_input_shape: [null, 2, 2, 1], dtype: 'float32' } },
          { class_name: 'Dense', config: { name: 'out', units: 2, activation: 'softmax', use_bias: true } },
        ],
      },
    },
    weightsManifest: [{ paths: ['w.bin'], weights: [{ name: 'out/kernel', shape: [4, 2], dtype: 'float32' }, { name: 'out/bias', shape: [2], dtype: 'float32' }] }],
  };
  patch(j);
  fs.writeFileSync(path.join(dir, 'w.bin'), Buffer.from((weights ?? new Float32Array(10).fill(0.5)).buffer));
  const file = path.join(dir, 'model.json');
  fs.writeFileSync(file, JSON.stringify(j));
  return file;
}

const functional = (layers: any[]) => (j: any) => {
  j.modelTopology = { class_name: 'Model', config: { name: 'fn', input_layers: [['in', 0, 0]], output_layers: [[layers[layers.length - 1].name, 0, 0]], layers: [{ class_name: 'InputLayer', name: 'in', config: { name: 'in', batch_input_shape: [null, 2, 2, 1], dtype: 'float32' }, inbound_nodes: [] }, ...layers] } };
  j.weightsManifest[0].weights = [];
};
const act = (name: string, from: string) => ({ class_name: 'Activation', name, config: { name, activation: 'relu' }, inbound_nodes: [[[from, 0, 0, {}]]] });

const CASES: [string, (j: any) => void, RegExp, Float32Array?][] = [
  ['NaN weights', () => {}, /weight 'out\/kernel' holds NaN values/, new Float32Array([NaN, 1, 1, 1, 1, 1, 1, 1, 1, 1])],
  ['infinite weights', () => {}, /weight 'out\/bias' holds infinite values/, new Float32Array([1, 1, 1, 1, 1, 1, 1, 1, 1, -Infinity])],
  ['duplicate layer names', (j) => (j.modelTopology.config.layers[1].config.name = 'flat'), /duplicate layer name 'flat'/],
  ['an unknown layer class', (j) => (j.modelTopology.config.layers[1].class_name = 'MyCustomLayer'), /unknown layer or class 'MyCustomLayer'/],
  ['weights that would need 64 GB', (j) => (j.modelTopology.config.layers[1].config.units = 4e9), /too large to allocate/],
  ['layers that are not a list', (j) => (j.modelTopology.config.layers = 5), /model 'tiny' has no list of layers/],
  ['a layer without a class', (j) => delete j.modelTopology.config.layers[1].class_name, /has a layer without a class_name/],
  ['weights of the wrong shape', (j) => (j.weightsManifest[0].weights[0].shape = [2, 4]), /the weights do not fit the layers/],
  ['a wrong dtype', (j) => (j.weightsManifest[0].weights[0].dtype = 'float64'), /unsupported dtype 'float64'/],
  ['a negative dimension', (j) => (j.weightsManifest[0].weights[0].shape = [-4, 2]), /invalid shape/],
  ['a cycle between layers', functional([act('a', 'b'), act('b', 'a')]), /form a cycle through/],
  ['a reference to a missing layer', functional([act('a', 'ghost')]), /takes input from 'ghost', which is not a layer/],
  ['a model that is not a model', (j) => (j.modelTopology = { class_name: 'Dense', config: {} }), /expected a Sequential or Functional model/],
  ['an input of 100000×100000', (j) => (j.modelTopology.config.layers[0].config.batch_input_shape = [null, 100000, 100000, 1]), /too large|over the 8192×8192 limit|a size over 8192, the largest image side/],
];

describe('hostile and broken model files', function () {
  this.timeout(60000);
  before(async () => {
    await initBackend((process.env.CNN_LENS_BACKEND as any) ?? 'auto');
  });

  for (const [name, patch, message, weights] of CASES) {
    it(`refuses ${name} with one line naming the file`, async () => {
      const dir = tmpDir();
      const file = write(dir, patch, weights);
      const before = fs.readdirSync(dir).sort();
      const t0 = Date.now();
      await assert.rejects(loadModel(file), (e: Error) => {
        assert.match(e.message, message);
        assert.ok(e.message.startsWith(file + ': '), `names the file: ${e.message}`);
        assert.ok(!e.message.includes('\n'), 'one line');
        return true;
      });
      assert.ok(Date.now() - t0 < 10000, 'no hang');
      assert.deepEqual(fs.readdirSync(dir).sort(), before, 'nothing written');
    });
  }

  it('a weight shard that is a Git LFS pointer (a clone without git lfs pull) is named as such', async () => {
    const dir = tmpDir();
    const file = write(dir, () => {});
    fs.writeFileSync(path.join(dir, 'w.bin'), 'version https://git-lfs.github.com/spec/v1\noid sha256:00\nsize 2830676\n');
    await assert.rejects(loadModel(file), (e: Error) => {
      assert.equal(e.message, `${file}: weight file 'w.bin' is a Git LFS pointer, not the model (the real file has 2.8 MB): run 'git lfs pull' in the repository, or download the file itself`);
      return true;
    });
  });

  it('an empty model file of any format says it is empty, not that its format is wrong', async () => {
    const dir = tmpDir();
    for (const name of ['model.json', 'model.h5', 'model.keras', 'model.onnx']) {
      const file = path.join(dir, name);
      fs.writeFileSync(file, '');
      await assert.rejects(loadAnyModel(file), (e: Error) => {
        assert.equal(e.message, `${file}: is empty (0 bytes): the download or copy did not finish; get the file again`);
        return true;
      });
    }
  });

  it('survives JSON nested 100000 levels deep', async () => {
    const dir = tmpDir();
    const file = path.join(dir, 'model.json');
    fs.writeFileSync(file, '{"modelTopology":' + '['.repeat(100000) + ']'.repeat(100000) + '}');
    await assert.rejects(loadModel(file), /model\.json: /);
  });
});
