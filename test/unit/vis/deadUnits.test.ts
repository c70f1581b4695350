// Dead and input-independent channels in activation maximization (issue 16 item 7): a ReLU channel whose
// bias keeps it below zero for every image, and a channel whose kernel is zero, are said to be so in the
// result, the CLI text and its JSON, instead of "mean activation 0.000" beside a noise image.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { main } from '../../../src/cli/main';
import { initBackend } from '../../../src/engine/backend';
import { wrapLayersModel } from '../../../src/engine/model/loadModel';
import { maximizeRange } from '../../../src/engine/vis';
import { Weights } from '../keras/kerasWriter';
import { captureIO, saveLayersModel, tmpDir } from '../helpers';

const S = 12;

/**
 * conv 'conv3' (3×3, relu, 4 channels) → GAP → dense. Channel 0 an ordinary detector; 1 kernel 0, bias −1
 * (dead); 2 kernel 0, bias 0.5 (a constant); 3 an ordinary kernel with bias −50: a dead ReLU, since for
 * pixels in [0, 1] its pre-activation is at most Σ max(w, 0) − 50 < 0 (checked below).
 */
function deadReluModel(): { model: tfl.LayersModel; kernel: Float32Array; bias: Float32Array } {
  const w = new Weights(21);
  const kernel = w.normal([3, 3, 3, 4], 0.3).data;
  for (let i = 0; i < 27; i++) {
    kernel[i * 4 + 1] = 0;
    kernel[i * 4 + 2] = 0;
  }
  const bias = Float32Array.from([-0.2, -1, 0.5, -50]);
  const model = tfl.sequential({
    layers: [
      tfl.layers.conv2d({ inputShape: [S, S, 3], filters: 4, kernelSize: 3, padding: 'same', activation: 'relu', name: 'conv3' }),
      tfl.layers.globalAveragePooling2d({ name: 'gap' }),
      tfl.layers.dense({ units: 2, activation: 'softmax', name: 'out' }),
    ],
  });
  model.getLayer('conv3').setWeights([tf.tensor4d(kernel, [3, 3, 3, 4]), tf.tensor1d(bias)]);
  return { model, kernel, bias };
}

describe('dead and flat units in activation maximization', function () {
  this.timeout(120000);
  let dir: string;
  before(async () => {
    await initBackend('auto');
    dir = tmpDir('cnn-lens-dead-');
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('maximizeRange flags the dead ReLU, the zero channel and the constant one, and not the live channel', () => {
    const { model, kernel, bias } = deadReluModel();
    // The premise, by a plain loop: channel 3's largest possible pre-activation on pixels in [0, 1] is negative.
    let best = bias[3];
    for (let i = 0; i < 27; i++) best += Math.max(0, kernel[i * 4 + 3]);
    assert.ok(best < 0, `channel 3 can reach ${best}`);
    const m = wrapLayersModel(model, path.join(dir, 'nothing.json'));
    const r = maximizeRange(m, { layer: 'conv3', first: 0, last: 3, steps: 24, seed: 1 });
    assert.equal(r.length, 4);
    assert.ok(!r[0].dead && !r[0].flat && !r[0].note, `channel 0 is live (value ${r[0].objective}): ${r[0].note}`);
    assert.ok(r[0].objective > 0);
    assert.equal(r[1].dead, true);
    assert.match(r[1].note!, /^channel 1 of conv3 does not activate for any input tried: a dead unit \(its pre-activation was optimized too/);
    assert.equal(r[3].dead, true);
    assert.equal(r[3].objective, 0);
    assert.equal(r[2].flat, true);
    assert.equal(r[2].dead, false);
    assert.match(r[2].note!, /channel 2 of conv3 has the same value \(0\.5\) for every input tried: it does not depend on the image/);
    m.dispose();
  });

  it('the CLI says so in its text and its JSON ("dead": true)', async () => {
    const { model } = deadReluModel();
    const file = await saveLayersModel(model, path.join(dir, 'm'));
    model.dispose();
    const run = async (args: string[]) => {
      const c = captureIO();
      const code = await main(args, c.io);
      return { code, out: c.out.join('\n'), err: c.err.join('\n') };
    };
    const t = await run(['maximize', file, '--layer', 'conv3', '--channel', '3', '--steps', '8', '--out', path.join(dir, 'c3.png')]);
    assert.equal(t.code, 0, t.err);
    assert.match(t.out, /channel 3 of conv3: mean activation 0\.000+ after 8 steps.*\n {2}note: channel 3 of conv3 does not activate for any input tried: a dead unit/);
    const j = await run(['maximize', file, '--layer', 'conv3', '--channels', '0-3', '--steps', '8', '--json']);
    assert.equal(j.code, 0, j.err);
    const results = JSON.parse(j.out).results;
    assert.deepEqual(results.map((x: { dead?: boolean; flat?: boolean }) => [!!x.dead, !!x.flat]), [[false, false], [true, false], [false, true], [true, false]]);
  });
});
