// Batches on the command line: a failing image is reported on its own line and the batch goes on;
// folders stand for the images below them; one progress line per image when stderr is not a terminal;
// the header names the prediction, then each class asked for.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { main } from '../../../src/cli/main';
import { initBackend } from '../../../src/engine/backend';
import { captureIO, gapModel, listFiles, readPng, saveLayersModel, tmpDir, writePng } from '../helpers';

const S = 16;
const LABELS = ['red', 'green', 'blue'];

async function run(args: string[]) {
  const c = captureIO();
  const code = await main(args, c.io);
  return { code, out: c.out, err: c.err };
}

describe('cnn-lens batches: failures per image, folders, progress lines, the header', function () {
  this.timeout(120000);
  let dir: string;
  let model: tfl.LayersModel;
  let modelFile: string;
  let a: string;
  let b: string;
  let notes: string;

  before(async () => {
    await initBackend((process.env.CNN_LENS_BACKEND as any) ?? 'auto');
    dir = tmpDir('cnn-lens-batch-');
    model = gapModel(S);
    modelFile = await saveLayersModel(model, path.join(dir, 'model'), { metadata: { labels: LABELS } });
    a = writePng(path.join(dir, 'a.png'), S, S, (x, y) => [x * 15, y * 15, 40]);
    b = writePng(path.join(dir, 'b.png'), S, S, (x, y) => [200, (x * y) % 256, 90]);
    // A file named like an image that is not one.
    notes = path.join(dir, 'notes.png');
    fs.writeFileSync(notes, 'these are notes, not pixels');
  });

  it('one bad file does not stop the batch: its line, the others written, "2 of 3 explained, 1 failed", exit 1', async () => {
    const out = path.join(dir, 'out');
    const r = await run(['explain', modelFile, a, notes, b, '--out-dir', out]);
    assert.equal(r.code, 1);
    assert.deepEqual(listFiles(out).map((f) => path.basename(f)), ['a.gradcam.png', 'b.gradcam.png']);
    const failures = r.err.filter((l) => l.startsWith('cnn-lens: '));
    assert.equal(failures.length, 1, r.err.join('\n'));
    assert.match(failures[0], /notes\.png: /);
    assert.equal(r.err.at(-1), 'explain: 2 of 3 explained, 1 failed');
    // Both good images have their result lines on stdout, in order.
    assert.deepEqual(r.out.filter((l) => !l.startsWith(' ')).map((l) => l.split(':')[0]), ['a.png', 'b.png']);
  });

  it('a missing file in a batch is one failure too; --json lists it with its error', async () => {
    const r = await run(['predict', modelFile, a, path.join(dir, 'gone.png'), '--json']);
    assert.equal(r.code, 1);
    const j = JSON.parse(r.out.join('\n'));
    assert.equal(j.results.length, 2);
    assert.equal(j.results[0].image, a);
    assert.match(j.results[1].error, /gone\.png: no such file/);
    assert.equal(r.err.at(-1), 'predict: 1 of 2 predicted, 1 failed');
  });

  it('a folder stands for the images below it: recursive, images only, sorted', async () => {
    const folder = path.join(dir, 'photos');
    fs.mkdirSync(path.join(folder, 'sub', 'deeper'), { recursive: true });
    const made = ['z.png', 'sub/m.png', 'sub/deeper/c.PNG', 'b.png'].map((f) => writePng(path.join(folder, f), S, S, (x, y) => [x * 9, y * 9, f.length * 20]));
    fs.writeFileSync(path.join(folder, 'readme.txt'), 'not an image');
    fs.writeFileSync(path.join(folder, 'sub', 'labels.csv'), 'a,b');
    const r = await run(['predict', modelFile, folder, '--json']);
    assert.equal(r.code, 0, r.err.join('\n'));
    const got = JSON.parse(r.out.join('\n')).results.map((x: { image: string }) => path.relative(folder, x.image).split(path.sep).join('/'));
    // Sorted by name at each level, a folder's images where its name sorts.
    assert.deepEqual(got, ['b.png', 'sub/deeper/c.PNG', 'sub/m.png', 'z.png']);
    assert.equal(made.length, 4);
    const empty = path.join(dir, 'empty');
    fs.mkdirSync(empty);
    fs.writeFileSync(path.join(empty, 'x.txt'), 'x');
    const e = await run(['predict', modelFile, empty]);
    assert.equal(e.code, 1);
    assert.equal(e.err.length, 1);
    assert.match(e.err[0], /empty: no images in this folder/);
  });

  it('stderr not a terminal: one progress line per image, not one per update', async () => {
    const r = await run(['predict', modelFile, a, b, a]);
    assert.equal(r.code, 0, r.err.join('\n'));
    assert.deepEqual(r.err.slice(0, 3), ['predict 1/3 a.png', 'predict 2/3 b.png', 'predict 3/3 a.png']);
    assert.match(r.err[3], /^predict: 3 of 3 predicted in [\d.]+s$/);
    assert.equal(r.err.length, 4);
  });

  it('--class names the prediction in the header, then each class asked for', async () => {
    // The prediction, computed here with tfjs-layers (pixels → x/255, the model's own forward pass).
    const png = readPng(a);
    const x = tf.tidy(() => tf.div(tf.expandDims(tf.slice(tf.tensor3d(Float32Array.from(png.data), [S, S, 4]), [0, 0, 0], [S, S, 3]), 0), 255));
    const probs = Array.from((model.predict(x) as tf.Tensor).dataSync());
    x.dispose();
    const best = probs.indexOf(Math.max(...probs));
    const asked = [0, 1, 2].filter((i) => i !== best);
    const r = await run(['explain', modelFile, a, '--class', asked.map((i) => LABELS[i]).join(',')]);
    assert.equal(r.code, 0, r.err.join('\n'));
    assert.match(r.out[0], new RegExp(`^a\\.png: ${LABELS[best]} \\d+\\.\\d%$`));
    assert.equal(r.out.length, 3);
    asked.forEach((i, k) => assert.match(r.out[k + 1], new RegExp(`^  Grad-CAM at last_conv for '${LABELS[i]}' \\(`)));
  });
});
