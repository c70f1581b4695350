// `cnn-lens evaluate` and `cnn-lens sanity` end to end on the demo model: the JSON records, the PNGs,
// the table, and one-line errors.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { main } from '../../../src/cli/main';
import { METHOD_NAMES } from '../../../src/engine/methods';
import { captureIO, readPng, tmpDir } from '../helpers';

const DEMO = path.resolve('media/demo/model.json');
const IMAGE = path.resolve('media/samples/cross-and-arrow.png');

describe('trust: the evaluate and sanity commands', () => {
  const dir = tmpDir();
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('evaluate --method all --json: every method, both curves of N+1 points, AUCs, the random map', async () => {
    const c = captureIO();
    const plot = path.join(dir, 'curves.png');
    const raw = path.join(dir, 'map.npy');
    assert.equal(await main(['evaluate', DEMO, IMAGE, '--method', 'all', '--steps', '10', '--json', '--plot', plot, '--raw', raw], c.io), 0, c.err.join('\n'));
    const r = JSON.parse(c.out.join('\n'));
    assert.equal(r.class.label, 'cross');
    assert.deepEqual(r.methods.map((m: any) => m.method), METHOD_NAMES);
    for (const m of [...r.methods, r.random]) {
      for (const curve of [m.deletion, m.insertion]) {
        assert.equal(curve.curve.length, 11);
        let s = 0;
        for (let k = 0; k < 10; k++) s += (curve.curve[k] + curve.curve[k + 1]) / 2;
        assert.ok(Math.abs(curve.auc - s / 10) < 1e-3);
      }
      // k = 0 of deletion is the image itself: the class probability.
      assert.ok(Math.abs(m.deletion.curve[0] - r.class.probability) < 1e-3);
    }
    const png = readPng(plot);
    assert.ok(png.width >= 800 && png.height >= 400);
    assert.ok(fs.statSync(raw).size > 128);
  });

  it('evaluate prints a table with the AUCs and the random row', async () => {
    const c = captureIO();
    assert.equal(await main(['evaluate', DEMO, IMAGE, '--method', 'gradcam,saliency', '--steps', '5', '--baseline', 'mean'], c.io), 0);
    const text = c.out.join('\n');
    assert.match(text, /class 'cross'.*5 steps, mean baseline/);
    assert.match(text, /Grad-CAM\s+last_conv\s+\d\.\d{3}\s+\d\.\d{3}/);
    assert.match(text, /random \(seed 0\)\s+-\s+\d\.\d{3}\s+\d\.\d{3}/);
  });

  it('evaluate writes the class probability as a percentage, as explain does; --json keeps the number', async () => {
    const args = ['evaluate', DEMO, IMAGE, '--method', 'gradcam', '--steps', '2'];
    const j = captureIO();
    assert.equal(await main([...args, '--json'], j.io), 0, j.err.join('\n'));
    const p = JSON.parse(j.out.join('\n')).class.probability;
    assert.equal(typeof p, 'number');
    const t = captureIO();
    assert.equal(await main(args, t.io), 0, t.err.join('\n'));
    const text = t.out.join('\n');
    assert.ok(text.includes(`class 'cross' (${(100 * p).toFixed(1)}%)`), text);
    assert.doesNotMatch(text, /p=/);
  });

  it('sanity --json --out: stages output layer first, verdict, strip PNG', async () => {
    const c = captureIO();
    const out = path.join(dir, 'strip.png');
    assert.equal(await main(['sanity', DEMO, IMAGE, '--json', '--out', out], c.io), 0, c.err.join('\n'));
    const r = JSON.parse(c.out.join('\n'));
    assert.equal(r.method, 'gradcam');
    assert.equal(r.stages[0].layer, 'predictions');
    assert.equal(r.stages.length, 5);
    for (const s of r.stages) assert.ok(typeof s.spearman === 'number' && typeof s.ssim === 'number');
    assert.equal(r.passed, r.stages[4].spearman <= 0.5);
    assert.match(r.verdict, /Grad-CAM passes the sanity check/);
    assert.ok(readPng(out).width > 6 * 100);
  });

  it('bad input: usage errors exit 2, missing files exit 1 with one line naming the file; nothing overwritten', async () => {
    let c = captureIO();
    assert.equal(await main(['evaluate', DEMO, IMAGE, '--method', 'nope'], c.io), 2);
    assert.match(c.err[0], /unknown method 'nope'/);
    c = captureIO();
    assert.equal(await main(['sanity', DEMO, path.join(dir, 'missing.png')], c.io), 1);
    assert.equal(c.err.length, 1);
    assert.match(c.err[0], /missing\.png: no such file/);
    c = captureIO();
    const before = fs.readFileSync(IMAGE);
    assert.equal(await main(['evaluate', DEMO, IMAGE, '--steps', '2', '--plot', IMAGE], c.io), 1);
    assert.match(c.err[0], /refusing to overwrite an input file/);
    assert.deepEqual(fs.readFileSync(IMAGE), before);
  });
});
