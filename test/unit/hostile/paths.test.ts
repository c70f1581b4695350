// Paths in and around model files: weight paths stay inside the model's folder also when URL-encoded, name
// regular files only, and the optional files found beside a model (labels.txt, metadata.json) are not read
// through links out of the folder or from FIFOs. (Plain '..', absolute, URL and link-out weight paths:
// test/unit/engine/loadModel.test.ts; '..' and absolute .keras members: test/unit/keras/errors.test.ts.)
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { initBackend } from '../../../src/engine/backend';
import { loadAnyModel, loadModel } from '../../../src/engine/model/loadModel';
import { tmpDir } from '../helpers';

/** Flatten → Dense(2) on a 2×2×1 input; weights 'w.bin' unless another path is given. */
function writeModel(dir: string, weightPath = 'w.bin'): string {
  const topology = {
    class_name: 'Sequential',
    config: {
      name: 'tiny',
      layers: [
        { class_name: 'Flatten', config: { name: 'flat', batch_input_shape: [null, 2, 2, 1], dtype: 'float32' } },
        { class_name: 'Dense', config: { name: 'out', units: 2, activation: 'softmax', use_bias: true } },
      ],
    },
  };
  fs.writeFileSync(path.join(dir, 'w.bin'), Buffer.from(new Float32Array([1, -1, 2, -2, 3, -3, 4, -4, 0.5, -0.5]).buffer));
  const manifest = [{ paths: [weightPath], weights: [{ name: 'out/kernel', shape: [4, 2], dtype: 'float32' }, { name: 'out/bias', shape: [2], dtype: 'float32' }] }];
  const file = path.join(dir, 'model.json');
  fs.writeFileSync(file, JSON.stringify({ format: 'layers-model', modelTopology: topology, weightsManifest: manifest }));
  return file;
}

function mkfifo(p: string): boolean {
  try {
    execFileSync('mkfifo', [p]);
    return true;
  } catch {
    console.log('      (skipped: mkfifo is not available)');
    return false;
  }
}

async function refused(file: string, re: RegExp): Promise<void> {
  await assert.rejects(loadModel(file), (e: Error) => {
    assert.equal(e.name, 'LensError');
    assert.ok(e.message.startsWith(`${file}: `) && !e.message.includes('\n'), e.message);
    assert.match(e.message, re);
    return true;
  });
}

describe('hostile paths around model files', function () {
  this.timeout(30000);
  let dirs: string[] = [];
  const dir = () => {
    const d = tmpDir('cnn-lens-hostile-paths-');
    dirs.push(d);
    return d;
  };
  before(async () => {
    await initBackend((process.env.CNN_LENS_BACKEND as any) ?? 'auto');
  });
  after(() => {
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
    dirs = [];
  });

  it("refuses URL-encoded '..' and absolute weight paths, and malformed encodings", async () => {
    const outer = dir();
    const inner = path.join(outer, 'model');
    fs.mkdirSync(inner);
    fs.writeFileSync(path.join(outer, 'w.bin'), Buffer.alloc(40)); // what '../w.bin' would read
    await refused(writeModel(inner, '%2e%2e/w.bin'), /weight path '%2e%2e\/w\.bin' leaves the model's folder/);
    await refused(writeModel(inner, '..%2Fw.bin'), /leaves the model's folder/);
    await refused(writeModel(inner, '%2Fetc%2Fpasswd'), /leaves the model's folder/);
    await refused(writeModel(inner, 'w.bin%00.png'), /leaves the model's folder/);
    await refused(writeModel(inner, '%zz.bin'), /is not a valid URL-encoded path/);
    await refused(writeModel(inner, 'http://127.0.0.1:9/w.bin'), /is a URL; CNN Lens never downloads/);
    await refused(writeModel(inner, 'file:///etc/passwd'), /is a URL; CNN Lens never downloads/);
  });

  it('refuses weight paths that name a folder, a FIFO or a link to a device', async function () {
    const d = dir();
    await refused(writeModel(d, '.'), /weight path '\.' is not a regular file/);
    fs.mkdirSync(path.join(d, 'sub'));
    await refused(writeModel(d, 'sub'), /weight path 'sub' is not a regular file/);
    fs.symlinkSync('/dev/zero', path.join(d, 'zero.bin'));
    await refused(writeModel(d, 'zero.bin'), /leads outside the model's folder/);
    if (!mkfifo(path.join(d, 'pipe.bin'))) return this.skip();
    await refused(writeModel(d, 'pipe.bin'), /weight path 'pipe\.bin' is not a regular file/);
  });

  it('a model.json that is a FIFO is refused instead of blocking', async function () {
    const d = dir();
    const fifo = path.join(d, 'model.json');
    if (!mkfifo(fifo)) return this.skip();
    await refused(fifo, /is not a regular file/);
  });

  it('Keras files the user names (.h5, .keras, an architecture .json and its --weights) that are FIFOs or devices are refused instead of blocking', async function () {
    const d = dir();
    const arch = path.join(d, 'arch.json');
    fs.writeFileSync(arch, JSON.stringify({ class_name: 'Sequential', config: { name: 's', layers: [{ class_name: 'InputLayer', config: { name: 'in', batch_input_shape: [null, 4] } }, { class_name: 'Dense', config: { name: 'd', units: 2 } }] } }));
    const refusedAny = async (file: string, opts: { weightsFile?: string }, shown: string) => {
      await assert.rejects(loadAnyModel(file, opts), (e: Error) => {
        assert.equal(e.name, 'LensError', `${e.name}: ${e.message}`);
        assert.equal(e.message, `${shown}: is not a regular file`);
        return true;
      });
    };
    fs.symlinkSync('/dev/zero', path.join(d, 'zero.h5'));
    await refusedAny(path.join(d, 'zero.h5'), {}, path.join(d, 'zero.h5'));
    await refusedAny(arch, { weightsFile: path.join(d, 'zero.h5') }, path.join(d, 'zero.h5'));
    if (!mkfifo(path.join(d, 'pipe.h5'))) return this.skip();
    const t0 = Date.now();
    await refusedAny(path.join(d, 'pipe.h5'), {}, path.join(d, 'pipe.h5'));
    await refusedAny(arch, { weightsFile: path.join(d, 'pipe.h5') }, path.join(d, 'pipe.h5'));
    mkfifo(path.join(d, 'pipe.keras'));
    await refusedAny(path.join(d, 'pipe.keras'), {}, path.join(d, 'pipe.keras'));
    mkfifo(path.join(d, 'pipe.json'));
    await refusedAny(path.join(d, 'pipe.json'), { weightsFile: path.join(d, 'zero.h5') }, path.join(d, 'pipe.json'));
    mkfifo(path.join(d, 'pipe2.json'));
    await assert.rejects(loadAnyModel(path.join(d, 'pipe2.json')), /pipe2\.json: .*is not a regular file/);
    assert.ok(Date.now() - t0 < 10000);
  });

  it('labels.txt and metadata.json beside the model are not read through links out of the folder or from FIFOs', async function () {
    const outside = dir();
    fs.writeFileSync(path.join(outside, 'secret.txt'), 'line one\nline two\n'); // two lines: would fit the two classes
    fs.writeFileSync(path.join(outside, 'meta.json'), JSON.stringify({ labels: ['x', 'y'], preprocess: 'caffe' }));
    const d = dir();
    const file = writeModel(d);
    fs.symlinkSync(path.join(outside, 'secret.txt'), path.join(d, 'labels.txt'));
    fs.symlinkSync(path.join(outside, 'meta.json'), path.join(d, 'metadata.json'));
    const m = await loadModel(file);
    assert.equal(m.labels, null, 'labels from a link out are ignored');
    assert.equal(m.metadata, null, 'metadata from a link out is ignored');
    assert.equal(m.defaultPreprocess, 'unit');
    m.dispose();
    // The same files inside the folder are read.
    fs.rmSync(path.join(d, 'labels.txt'));
    fs.copyFileSync(path.join(outside, 'secret.txt'), path.join(d, 'labels.txt'));
    const m2 = await loadModel(file);
    assert.deepEqual(m2.labels, ['line one', 'line two']);
    m2.dispose();
    fs.rmSync(path.join(d, 'labels.txt'));
    if (!mkfifo(path.join(d, 'labels.txt'))) return this.skip();
    const t0 = Date.now();
    const m3 = await loadModel(file);
    assert.equal(m3.labels, null);
    assert.ok(Date.now() - t0 < 10000);
    m3.dispose();
  });
});
