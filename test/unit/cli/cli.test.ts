// The cnn-lens command line end to end (in-process): outputs, exit codes, one-line errors, nothing written on failure.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { main } from '../../../src/cli/main';
import { initBackend } from '../../../src/engine/backend';
import { decodeNpy } from '../../../src/engine/image/npy';
import { captureIO, fixture, gapModel, listFiles, readPng, saveLayersModel, tmpDir, writePng } from '../helpers';

const S = 16;

/** Conv → conv 'last_conv' → GAP → Dense(softmax): CAM applies. */
async function run(args: string[]) {
  const c = captureIO();
  const code = await main(args, c.io);
  return { code, out: c.out.join('\n'), err: c.err };
}

describe('cnn-lens CLI', function () {
  this.timeout(120000);
  let dir: string;
  let modelFile: string;
  let model: tfl.LayersModel;
  let image: string;

  before(async () => {
    await initBackend((process.env.CNN_LENS_BACKEND as any) ?? 'auto');
    dir = tmpDir();
    model = gapModel(S);
    modelFile = await saveLayersModel(model, path.join(dir, 'model'), { metadata: { labels: ['red', 'green', 'blue'] } });
    // 40×30 image: not the model's size, so the CLI must resize for the model and draw at 40×30
    image = writePng(path.join(dir, 'scene.png'), 40, 30, (x, y) => [x * 6, y * 8, (x * y) % 256]);
  });

  it('prints help and exits 2 on bad usage', async () => {
    assert.equal((await run([])).code, 2);
    const h = await run(['explain', '--help']);
    assert.equal(h.code, 0);
    assert.match(h.out, /--method/);
    const u = await run(['explain', modelFile, image, '--methd', 'x']);
    assert.equal(u.code, 2);
    assert.match(u.err[0], /unknown option --methd \(did you mean --method\?\)/);
    assert.equal((await run(['frobnicate'])).code, 2);
    assert.equal((await run(['explain', modelFile, image, '--method', 'nope'])).code, 2);
    assert.equal((await run(['explain', modelFile])).code, 2);
  });

  it('info lists layers, labels and the default layer', async () => {
    const r = await run(['info', modelFile]);
    assert.equal(r.code, 0, r.err.join('\n'));
    assert.match(r.out, /labels +red, green, blue/);
    assert.match(r.out, /default layer +last_conv/);
    const j = JSON.parse((await run(['info', modelFile, '--json'])).out);
    assert.equal(j.numClasses, 3);
    assert.equal(j.defaultLayer, 'last_conv');
    assert.ok(['wasm', 'cpu', 'native'].includes(j.backend));
  });

  it('predict gives a distribution over the labels', async () => {
    const r = await run(['predict', modelFile, image, '--json', '--top', '3']);
    assert.equal(r.code, 0, r.err.join('\n'));
    const j = JSON.parse(r.out);
    const probs = j.results[0].top.map((t: any) => t.probability);
    assert.ok(Math.abs(probs.reduce((a: number, b: number) => a + b, 0) - 1) < 1e-3);
    assert.deepEqual(j.results[0].top.map((t: any) => t.label).sort(), ['blue', 'green', 'red']);
  });

  it('explain --method cam --raw writes Σ_k w_k A_k (A and w taken from tfjs-layers), --out an overlay at the image size', async () => {
    const out = path.join(dir, 'cam.png');
    const raw = path.join(dir, 'cam.npy');
    const r = await run(['explain', modelFile, image, '--method', 'cam', '--class', 'green', '--out', out, '--raw', raw, '--json']);
    assert.equal(r.code, 0, r.err.join('\n'));
    const j = JSON.parse(r.out);
    assert.equal(j.class.label, 'green');
    assert.equal(j.layer, 'last_conv');
    assert.deepEqual(j.map.shape, [8, 8]);
    const png = readPng(out);
    assert.deepEqual([png.width, png.height], [40, 30]);
    const { data, shape } = decodeNpy(fs.readFileSync(raw));
    assert.deepEqual(shape, [8, 8]);
    // independent: resize like the CLI (bilinear, half-pixel centres), unit scaling, tfjs-layers sub-model
    const pngIn = readPng(image);
    const x = tf.tidy(() => {
      const rgb = tf.tensor3d(Uint8Array.from(pngIn.data), [30, 40, 4], 'int32');
      const img = tf.slice(tf.cast(rgb, 'float32'), [0, 0, 0], [30, 40, 3]);
      return tf.div(tf.image.resizeBilinear(tf.expandDims(img, 0) as tf.Tensor4D, [S, S], false, true), 255);
    });
    const A = tf.tidy(() => (tfl.model({ inputs: model.inputs, outputs: model.getLayer('last_conv').output as tfl.SymbolicTensor }).predict(x) as tf.Tensor).dataSync());
    const kernel = model.getLayer('logits').getWeights()[0].dataSync();
    let maxDiff = 0;
    for (let p = 0; p < 64; p++) {
      let s = 0;
      for (let k = 0; k < 6; k++) s += A[p * 6 + k] * kernel[k * 3 + 1];
      maxDiff = Math.max(maxDiff, Math.abs(s - data[p]));
    }
    assert.ok(maxDiff < 1e-3, `max diff ${maxDiff}`);
    x.dispose();
  });

  it('explains several images into --out-dir, one file per image and class', async () => {
    const second = writePng(path.join(dir, 'second.png'), 20, 20, (x) => [255 - x * 10, 0, x * 10]);
    const outDir = path.join(dir, 'maps');
    const r = await run(['explain', modelFile, image, second, '--out-dir', outDir, '--top-k', '2', '--npy']);
    assert.equal(r.code, 0, r.err.join('\n'));
    const names = listFiles(outDir).map((f) => path.basename(f));
    assert.equal(names.filter((n) => n.endsWith('.png')).length, 4);
    assert.equal(names.filter((n) => n.endsWith('.npy')).length, 4);
    assert.ok(names.every((n) => n.startsWith('scene.gradcam.') || n.startsWith('second.gradcam.')));
  });

  it('gradient-style methods render [H,W,C] maps; every method runs from the CLI', async () => {
    for (const method of ['saliency', 'guided-backprop', 'gradcam++', 'guided-gradcam', 'smoothgrad', 'integrated-gradients']) {
      const raw = path.join(dir, `${method}.npy`);
      const r = await run(['explain', modelFile, image, '--method', method, '--raw', raw, '--samples', '4', '--steps', '8', '--json']);
      assert.equal(r.code, 0, `${method}: ${r.err.join('\n')}`);
      const { shape } = decodeNpy(fs.readFileSync(raw));
      const expected = method === 'gradcam++' ? [8, 8] : ['guided-backprop', 'guided-gradcam', 'integrated-gradients'].includes(method) ? [S, S, 3] : [S, S];
      assert.deepEqual(shape, expected, method);
    }
  });

  it('bad input: one line naming the file, exit 1, nothing written', async () => {
    const outDir = tmpDir('cnn-lens-noout-');
    const out = path.join(outDir, 'x.png');
    const notImage = path.join(dir, 'notes.txt');
    fs.writeFileSync(notImage, 'hello, not an image');
    const cases: [string[], RegExp][] = [
      [['explain', path.join(dir, 'missing.json'), image, '--out', out], /missing\.json: no such file/],
      [['explain', modelFile, notImage, '--out', out], /notes\.txt: /],
      [['explain', modelFile, path.join(dir, 'nope.png'), '--out', out], /nope\.png: no such file/],
      [['explain', modelFile, image, '--layer', 'conv9', '--out', out], /no layer named 'conv9'/],
      [['explain', modelFile, image, '--class', 'purple', '--out', out], /no class 'purple' \(known labels: red, green, blue\)/],
      [['explain', modelFile, image, '--method', 'gradcam', '--layer', 'gap', '--out', out], /layer 'gap' has output shape/],
      [['explain', image, image, '--out', out], /scene\.png: not valid JSON/],
    ];
    for (const [args, message] of cases) {
      const r = await run(args);
      assert.equal(r.code, 1, `${args.join(' ')} → ${r.code}`);
      assert.equal(r.err.length, 1, `one line: ${r.err.join(' | ')}`);
      assert.match(r.err[0], message);
    }
    assert.deepEqual(listFiles(outDir), []);
  });

  it('never overwrites an input', async () => {
    const before = fs.readFileSync(image);
    const r = await run(['explain', modelFile, image, '--out', image]);
    assert.equal(r.code, 1);
    assert.match(r.err[0], /refusing to overwrite an input file/);
    assert.deepEqual(fs.readFileSync(image), before);
  });

  it('explains the real Teachable Machine model from the CLI', async function () {
    const file = fixture('tm-waste-12', 'model.json');
    if (!file) return this.skip();
    const photo = writePng(path.join(dir, 'photo.png'), 300, 200, (x, y) => [128 + 100 * Math.sin(x / 17), 128 + 100 * Math.cos(y / 11), (x + y) % 256]);
    const out = path.join(dir, 'tm.png');
    const r = await run(['explain', file, photo, '--out', out, '--json']);
    assert.equal(r.code, 0, r.err.join('\n'));
    const j = JSON.parse(r.out);
    assert.match(j.layer, /out_relu$/);
    assert.deepEqual(j.map.shape, [7, 7]);
    assert.equal(j.preprocess, 'tf');
    const png = readPng(out);
    assert.deepEqual([png.width, png.height], [300, 200]);
  });
});
