// ONNX files written by torch.onnx.export (scripts/make-onnx-fixtures.py, committed: no PyTorch needed):
// logits against onnxruntime-node, the engine's layer kinds and default layer, and the CLI on them.
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { initBackend } from '../../../src/engine/backend';
import { main } from '../../../src/cli/main';
import { loadAnyModel } from '../../../src/engine/model/loadModel';
import { summarizeModel } from '../../../src/engine/model/summary';
import { captureIO, tmpDir, writePng } from '../helpers';
import { compareWithOrt } from './ortCompare';

const dir = path.resolve('test', 'fixtures', 'onnx');

describe('ONNX exports from PyTorch (committed fixtures)', () => {
  before(async () => {
    await initBackend((process.env.CNN_LENS_BACKEND as any) ?? 'auto');
  });

  for (const [name, dims] of [
    ['tiny-resnet.onnx', [3, 3, 64, 64]],
    ['tiny-shuffle.onnx', [1, 3, 16, 16]],
    ['tiny-gray.onnx', [2, 1, 28, 28]],
  ] as const) {
    it(`${name}: output equals onnxruntime's within 1e-4 relative`, async () => {
      const { err } = await compareWithOrt(path.join(dir, name), [...dims], 3);
      assert.ok(err < 1e-4, `relative error ${err.toExponential(2)}`);
    });
  }

  it('the layer tree has the kinds of the PyTorch modules; the default layer is the last block\'s ReLU', async () => {
    const m = await loadAnyModel(path.join(dir, 'tiny-resnet.onnx'));
    try {
      const s = summarizeModel(m);
      const kinds = new Set(s.layers.map((l) => l.kind));
      // torch.onnx.export folds eval-mode batch norms into the convolutions: no 'norm' layers are left.
      for (const k of ['conv', 'activation', 'merge', 'pool', 'dense']) assert.ok(kinds.has(k as any), `kind ${k} present`);
      const def = s.layers.find((l) => l.path === s.defaultLayer)!;
      assert.equal(def.kind, 'activation');
      assert.deepEqual(def.outputShape, [null, 8, 8, 32]);
      assert.equal(m.defaultPreprocess, 'torch');
    } finally {
      m.dispose();
    }
  });

  it('cnn-lens info, predict and explain run on an ONNX export', async () => {
    const out = tmpDir();
    const img = writePng(path.join(out, 'img.png'), 40, 30, (x, y) => [x * 6, y * 8, 120]);
    const model = path.join(dir, 'tiny-resnet.onnx');
    let c = captureIO();
    assert.equal(await main(['info', model], c.io), 0, c.err.join('\n'));
    assert.match(c.out.join('\n'), /ONNX model \(opset 13, from pytorch/);
    c = captureIO();
    assert.equal(await main(['predict', model, img], c.io), 0, c.err.join('\n'));
    assert.match(c.out.join('\n'), /%/);
    c = captureIO();
    assert.equal(await main(['explain', model, img, '--method', 'gradcam', '--out', path.join(out, 'map.png')], c.io), 0, c.err.join('\n'));
    assert.match(c.out.join('\n'), /map\.png/);
  });
});
