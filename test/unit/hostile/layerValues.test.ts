// Real-valued layer settings (Rescaling scale/offset, Normalization mean/variance, rates, slopes, epsilons)
// that are not numbers are refused naming the layer and the key. Found by fuzzing: a Rescaling offset of
// [{"key": "location", …}] loaded, and the first prediction failed inside the wasm backend with "Invalid typed
// array length: 4" (tfjs flattens a list into a tensor, dropping what is not a number, and made a 1-value tensor
// from no values); a string scale stopped it with tfjs's own words, and a string rate or slope gave NaN.
// Lists of numbers stay accepted (Keras stores per-channel statistics that way), and compute what they say.
// Sizes of the preprocessing layers (Resizing, CenterCrop: height, width) must be whole numbers like other sizes.
import * as tf from '@tensorflow/tfjs-core';
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { initBackend } from '../../../src/engine/backend';
import { loadModel } from '../../../src/engine/model/loadModel';
import { tmpDir } from '../helpers';

const H = 2;
const W = 2;
const C = 3;
/** Dense kernel [H·W·C, 2] and bias [2], values chosen so that every input value counts differently. */
const KERNEL = Array.from({ length: H * W * C * 2 }, (_, i) => ((i * 7) % 11) / 10 - 0.5);
const BIAS = [0.25, -0.75];

/** `layer` (applied to a 2×2×3 input) → Flatten → Dense(2, linear), as a tfjs model.json in `dir`. */
function writeModel(dir: string, layer: { class_name: string; config: Record<string, unknown> }): string {
  const topology = {
    class_name: 'Sequential',
    config: {
      name: 'values',
      layers: [
        { class_name: 'InputLayer', config: { name: 'image', batch_input_shape: [null, H, W, C], dtype: 'float32' } },
        { class_name: layer.class_name, config: { name: 'first', ...layer.config } },
        { class_name: 'Flatten', config: { name: 'flat' } },
        { class_name: 'Dense', config: { name: 'out', units: 2, activation: 'linear', use_bias: true } },
      ],
    },
  };
  fs.writeFileSync(path.join(dir, 'w.bin'), Buffer.from(new Float32Array([...KERNEL, ...BIAS]).buffer));
  const manifest = [{ paths: ['w.bin'], weights: [{ name: 'out/kernel', shape: [H * W * C, 2], dtype: 'float32' }, { name: 'out/bias', shape: [2], dtype: 'float32' }] }];
  const file = path.join(dir, 'model.json');
  fs.writeFileSync(file, JSON.stringify({ format: 'layers-model', modelTopology: topology, weightsManifest: manifest }));
  return file;
}

/** The Dense layer's output for a flattened (h, w, c) input, in a plain loop. */
function dense(x: number[]): number[] {
  return [0, 1].map((j) => x.reduce((a, v, i) => a + v * KERNEL[i * 2 + j], BIAS[j]));
}

describe('layer settings that must be numbers', function () {
  this.timeout(60000);
  let dir: string;
  before(async () => {
    await initBackend((process.env.CNN_LENS_BACKEND as any) ?? 'auto');
  });
  beforeEach(() => {
    dir = tmpDir('cnn-lens-layer-values-');
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const bad: [string, { class_name: string; config: Record<string, unknown> }, RegExp][] = [
    ['a Rescaling offset that is a list of objects (the fuzz find)', { class_name: 'Rescaling', config: { scale: 2, offset: [{ key: 'location', value: '../weights.bin' }] } }, /layer 'first' \(Rescaling\) has an invalid offset \[\{"key":"location","value":"\.\.\/weights\.bin"\}\] \(expected a finite number or a list of them\)/],
    ['a Rescaling offset of three empty objects', { class_name: 'Rescaling', config: { scale: 2, offset: [{}, {}, {}] } }, /layer 'first' \(Rescaling\) has an invalid offset \[\{\},\{\},\{\}\]/],
    ['a Rescaling scale given as a string', { class_name: 'Rescaling', config: { scale: '0.5', offset: 0 } }, /layer 'first' \(Rescaling\) has an invalid scale "0\.5"/],
    ['a Rescaling scale of lists of different lengths', { class_name: 'Rescaling', config: { scale: [[1, 2, 3], [1]], offset: 0 } }, /layer 'first' \(Rescaling\) has an invalid scale \[\[1,2,3\],\[1\]\]/],
    ['a Normalization mean that holds an object', { class_name: 'Normalization', config: { axis: -1, mean: [{}, 1, 2], variance: [1, 1, 1] } }, /layer 'first' \(Normalization\) has an invalid mean \[\{\},1,2\]/],
    ['a Resizing height of 0.5', { class_name: 'Resizing', config: { height: 0.5, width: 2 } }, /layer 'first' has an invalid height 0\.5 \(expected whole numbers from 1 to \d+\)/],
    ['a CenterCrop width given as a string', { class_name: 'CenterCrop', config: { height: 2, width: '2' } }, /layer 'first' has an invalid width "2" \(expected whole numbers from 1 to \d+\)/],
    ['a Reshape target_shape given as one number (the fuzz find: "shape.some is not a function")', { class_name: 'Reshape', config: { target_shape: 12 } }, /layer 'first' has an invalid target_shape 12 \(expected a list of whole numbers\)/],
    ['a LeakyReLU slope given as an object', { class_name: 'LeakyReLU', config: { alpha: { value: 0.2 } } }, /layer 'first' \(LeakyReLU\) has an invalid alpha \{"value":0\.2\} \(expected a finite number\)/],
  ];
  for (const [what, layer, re] of bad) {
    it(`refuses ${what}, naming the layer and the key`, async () => {
      const file = writeModel(dir, layer);
      await assert.rejects(loadModel(file), (e: Error) => {
        assert.equal(e.name, 'LensError', `${e.name}: ${e.message}`);
        assert.ok(e.message.startsWith(`${file}: `) && !e.message.includes('\n'), e.message);
        assert.match(e.message, re);
        return true;
      });
    });
  }

  it('keeps per-channel lists of numbers, and computes with them (Rescaling, Normalization)', async () => {
    // A 2×2×3 input with distinct values; Rescaling y = 2x + offset[c]; Normalization y = (x - mean[c]) / sqrt(var[c]).
    const input = Array.from({ length: H * W * C }, (_, i) => i / 10 - 0.3);
    const offset = [0.1, -0.2, 0.3];
    const mean = [0.5, -1, 2];
    const variance = [4, 0.25, 1];
    const cases: [{ class_name: string; config: Record<string, unknown> }, (v: number, c: number) => number][] = [
      [{ class_name: 'Rescaling', config: { scale: 2, offset } }, (v, c) => 2 * v + offset[c]],
      [{ class_name: 'Normalization', config: { axis: -1, mean: [[[mean]]], variance: [[[variance]]] } }, (v, c) => (v - mean[c]) / Math.sqrt(variance[c])],
    ];
    for (const [layer, f] of cases) {
      const m = await loadModel(writeModel(dir, layer));
      try {
        const got = tf.tidy(() => m.network!.logits(tf.tensor4d(input, [1, H, W, C])).dataSync());
        const want = dense(input.map((v, i) => f(v, i % C)));
        assert.ok(Math.abs(got[0] - want[0]) < 1e-5 && Math.abs(got[1] - want[1]) < 1e-5, `${layer.class_name}: got [${Array.from(got)}], want [${want}]`);
      } finally {
        m.dispose();
      }
    }
  });
});
