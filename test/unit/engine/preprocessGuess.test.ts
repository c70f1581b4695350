// Preprocessing the model itself states (a Rescaling/Normalization layer at its input) comes before guesses,
// and a prediction close to uniform is said beside it with the presets to try (issue 16 item 11).
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { main } from '../../../src/cli/main';
import { initBackend } from '../../../src/engine/backend';
import { loadAnyModel } from '../../../src/engine/model/loadModel';
import { isNearUniform, spreadOf } from '../../../src/shared/predictionSpread';
import { captureIO, tmpDir, writePng } from '../helpers';
import { plain, writeKerasArchive, type LayerDesc, type ModelDesc } from '../keras/kerasWriter';

const CLASSES = 43;

/**
 * A Keras 3 traffic-sign-style model trained on 0–255 pixels: Rescaling(1/255) first, then a 1×1 conv that
 * passes the colour channels on, global average pooling and a dense layer whose logits are 10 × the mean of
 * red, green and blue for classes 0–2 and 0 for the other 40.
 */
function rescalingFirst(scale: number, offset: number): ModelDesc {
  const kernel = new Float32Array(9);
  for (let c = 0; c < 3; c++) kernel[c * 3 + c] = 1;
  const dense = new Float32Array(3 * CLASSES);
  for (let c = 0; c < 3; c++) dense[c * CLASSES + c] = 10;
  const conv: LayerDesc = {
    cls: 'Conv2D', name: 'conv2d',
    cfg: { filters: 3, kernel_size: [1, 1], strides: [1, 1], padding: 'valid', data_format: 'channels_last', dilation_rate: [1, 1], groups: 1, activation: 'relu', use_bias: false },
    weights: [{ short: 'kernel', trainable: true, arr: { shape: [1, 1, 3, 3], data: kernel } }],
  };
  const fc: LayerDesc = {
    cls: 'Dense', name: 'dense', cfg: { units: CLASSES, activation: 'softmax', use_bias: true },
    weights: [{ short: 'kernel', trainable: true, arr: { shape: [3, CLASSES], data: dense } }, { short: 'bias', trainable: true, arr: { shape: [CLASSES], data: new Float32Array(CLASSES) } }],
  };
  return {
    kind: 'Sequential', name: 'sequential', inputName: 'input_layer', inputShape: [8, 8, 3],
    layers: [plain('Rescaling', 'rescaling', { scale, offset }), conv, plain('GlobalAveragePooling2D', 'gap', { data_format: 'channels_last', keepdims: false }), fc],
  };
}

async function run(args: string[]) {
  const c = captureIO();
  const code = await main(args, c.io);
  return { code, out: c.out.join('\n'), err: c.err };
}

describe('preprocessing the model states, and near-uniform predictions', function () {
  this.timeout(120000);
  let dir: string;
  let red: string;
  before(async () => {
    await initBackend('auto');
    dir = tmpDir('cnn-lens-pre-');
    red = writePng(path.join(dir, 'red.png'), 8, 8, () => [255, 0, 0]);
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('spread: uniform is 1, one class is 0, and a hand-computed case', () => {
    assert.equal(spreadOf([0.25, 0.25, 0.25, 0.25]).normalizedEntropy, 1);
    assert.equal(spreadOf([1, 0, 0]).normalizedEntropy, 0);
    // H(0.5, 0.25, 0.25) = 1.5 bits; over log2(3) bits.
    assert.ok(Math.abs(spreadOf([0.5, 0.25, 0.25]).normalizedEntropy - 1.5 / Math.log2(3)) < 1e-12);
    // The case: 43 classes, top-1 11%, the rest spread evenly.
    const rest = (1 - 0.11) / 42;
    assert.equal(isNearUniform(spreadOf([0.11, ...new Array(42).fill(rest)])), true);
    assert.equal(isNearUniform(spreadOf([0.45, 0.45, 0.1])), false); // two objects, not a scaling problem
    assert.equal(isNearUniform(spreadOf([0.52, 0.48])), true);
    assert.equal(isNearUniform(spreadOf([0.7, 0.3])), false);
  });

  it('a Rescaling(1/255)-first model gets raw pixels by default, and predicts its class', async () => {
    const file = path.join(dir, 'signs.keras');
    await writeKerasArchive(file, rescalingFirst(1 / 255, 0), 'keras3');
    const m = await loadAnyModel(file);
    assert.equal(m.defaultPreprocess, 'raw');
    assert.match(m.preprocessReason, /Rescaling ×1\/255 at 'rescaling'.*raw 0–255 pixels/);
    m.dispose();
    const r = await run(['predict', file, red, '--json']);
    assert.equal(r.code, 0, r.err.join('\n'));
    const j = JSON.parse(r.out);
    assert.equal(j.preprocess, 'raw');
    // softmax of logits [10, 0, …, 0]: e^10 / (e^10 + 42).
    assert.ok(Math.abs(j.results[0].top[0].probability - Math.exp(10) / (Math.exp(10) + 42)) < 1e-3);
    assert.equal(j.results[0].nearUniform, undefined);
  });

  it('given x/255 it predicts near-uniformly, and the CLI says so with the presets to try', async () => {
    const file = path.join(dir, 'signs.keras');
    const r = await run(['predict', file, red, '--preprocess', 'unit']);
    assert.equal(r.code, 0);
    assert.match(r.out, /note: the prediction is close to uniform \(top-1 2\.\d% over 43 classes, chance 2\.3%\).*'unit' now.*--preprocess raw/);
    const e = await run(['explain', file, red, '--preprocess', 'unit', '--method', 'saliency', '--json']);
    assert.equal(e.code, 0, e.err.join('\n'));
    const j = JSON.parse(e.out);
    assert.equal(j.nearUniform, true);
    assert.match(j.note, /try --preprocess raw, --preprocess tf/);
  });

  it('Rescaling(2, −1) maps [0, 1] to [−1, 1]: x/255 goes in', async () => {
    const file = path.join(dir, 'unit.keras');
    await writeKerasArchive(file, rescalingFirst(2, -1), 'keras3');
    const m = await loadAnyModel(file);
    assert.equal(m.defaultPreprocess, 'unit');
    assert.match(m.preprocessReason, /Rescaling ×2 − 1.*0\.\.1/);
    m.dispose();
  });
});
