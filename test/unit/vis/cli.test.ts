// cnn-lens activations / filters / maximize / invert / dream end to end (in-process): files, exit codes,
// one-line errors, byte-identical --raw for the same seed, progress on stderr.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { main } from '../../../src/cli/main';
import { initBackend } from '../../../src/engine/backend';
import { decodeNpy } from '../../../src/engine/image/npy';
import { captureIO, fixture, listFiles, readPng, saveLayersModel, tmpDir, writePng } from '../helpers';

const S = 16;

function model(): tfl.LayersModel {
  const init = (seed: number) => tfl.initializers.randomNormal({ mean: 0, stddev: 0.4, seed });
  return tfl.sequential({
    layers: [
      tfl.layers.conv2d({ inputShape: [S, S, 3], filters: 4, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: init(1), biasInitializer: init(2), name: 'conv1' }),
      tfl.layers.conv2d({ filters: 6, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu', kernelInitializer: init(3), biasInitializer: init(4), name: 'conv2' }),
      tfl.layers.globalAveragePooling2d({ name: 'gap' }),
      tfl.layers.dense({ units: 3, activation: 'softmax', kernelInitializer: init(5), name: 'logits' }),
    ],
  });
}

async function run(args: string[]) {
  const c = captureIO();
  const code = await main(args, c.io);
  return { code, out: c.out.join('\n'), err: c.err };
}

describe('cnn-lens feature visualization commands', function () {
  this.timeout(120000);
  let dir: string;
  let modelFile: string;
  let m: tfl.LayersModel;
  let image: string;

  before(async () => {
    await initBackend((process.env.CNN_LENS_BACKEND as any) ?? 'auto');
    dir = tmpDir();
    m = model();
    modelFile = await saveLayersModel(m, path.join(dir, 'model'), { metadata: { labels: ['red', 'green', 'blue'] } });
    image = writePng(path.join(dir, 'scene.png'), S, S, (x, y) => [x * 15, y * 15, ((x * y) * 7) % 256]);
  });

  it('activations --raw is the layer output from tfjs-layers; --out a grid PNG', async () => {
    const raw = path.join(dir, 'acts.npy');
    const png = path.join(dir, 'acts.png');
    const r = await run(['activations', modelFile, image, '--layer', 'conv2', '--raw', raw, '--out', png]);
    assert.equal(r.code, 0, r.err.join('\n'));
    assert.match(r.out, /conv2: 8×8×6 activations/);
    const npy = decodeNpy(fs.readFileSync(raw));
    assert.deepEqual(npy.shape, [8, 8, 6]);
    // The same image through tfjs-layers: unit preset (no preprocessing in the metadata), no resize (16×16).
    const pix = readPng(image);
    const x = tf.tensor4d(Float32Array.from({ length: S * S * 3 }, (_, i) => pix.data[Math.floor(i / 3) * 4 + (i % 3)] / 255), [1, S, S, 3]);
    const expected = tf.tidy(() => (tfl.model({ inputs: m.inputs, outputs: m.getLayer('conv2').output as tfl.SymbolicTensor }).predict(x) as tf.Tensor).dataSync());
    for (let i = 0; i < expected.length; i++) assert.ok(Math.abs(npy.data[i] - expected[i]) < 1e-5);
    assert.ok(readPng(png).width > 8 * 6);
    x.dispose();
  });

  it('filters --raw is the stored kernel; --out a grid', async () => {
    const raw = path.join(dir, 'k.npy');
    const png = path.join(dir, 'k.png');
    const r = await run(['filters', modelFile, '--layer', 'conv1', '--raw', raw, '--out', png, '--json']);
    assert.equal(r.code, 0, r.err.join('\n'));
    const j = JSON.parse(r.out);
    assert.equal(j.kind, 'rgb');
    const npy = decodeNpy(fs.readFileSync(raw));
    assert.deepEqual(npy.shape, [3, 3, 3, 4]);
    assert.deepEqual(Array.from(npy.data), Array.from(m.getLayer('conv1').getWeights()[0].dataSync()));
    assert.ok(fs.existsSync(png));
  });

  it('maximize: the same --seed writes byte-identical --raw, another seed a different one; progress on stderr', async () => {
    const a = path.join(dir, 'a.npy');
    const b = path.join(dir, 'b.npy');
    const c = path.join(dir, 'c.npy');
    const png = path.join(dir, 'a.png');
    const r = await run(['maximize', modelFile, '--layer', 'conv2', '--channel', '2', '--steps', '10', '--seed', '3', '--raw', a, '--out', png]);
    assert.equal(r.code, 0, r.err.join('\n'));
    assert.match(r.out, /channel 2 of conv2: mean activation [\d.]+ after 10 steps \(16×16, fourier, seed 3\)/);
    assert.ok(r.err.some((l) => /^maximize \[#+-*\] 10\/10/.test(l)), r.err.join('\n'));
    assert.equal((await run(['maximize', modelFile, '--layer', 'conv2', '--channel', '2', '--steps', '10', '--seed', '3', '--raw', b])).code, 0);
    assert.equal((await run(['maximize', modelFile, '--layer', 'conv2', '--channel', '2', '--steps', '10', '--seed', '4', '--raw', c])).code, 0);
    assert.ok(fs.readFileSync(a).equals(fs.readFileSync(b)));
    assert.ok(!fs.readFileSync(a).equals(fs.readFileSync(c)));
    const npy = decodeNpy(fs.readFileSync(a));
    assert.deepEqual(npy.shape, [S, S, 3]);
    // A 16-pixel image is enlarged by whole pixels for the PNG: 16 × 16 = 256.
    assert.equal(readPng(png).width, 256);
  });

  it('maximize --channels writes a grid and a stacked --raw; --class and --neuron work; frames go to --frames', async () => {
    const raw = path.join(dir, 'range.npy');
    const r = await run(['maximize', modelFile, '--layer', 'conv2', '--channels', '1-3', '--steps', '4', '--raw', raw, '--out', path.join(dir, 'range.png'), '--json']);
    assert.equal(r.code, 0, r.err.join('\n'));
    const j = JSON.parse(r.out);
    assert.deepEqual(j.results.map((x: any) => x.target), ['channel 1 of conv2', 'channel 2 of conv2', 'channel 3 of conv2']);
    assert.deepEqual(decodeNpy(fs.readFileSync(raw)).shape, [3, S, S, 3]);
    const frames = path.join(dir, 'frames');
    const c = await run(['maximize', modelFile, '--class', 'blue', '--steps', '6', '--frames', frames, '--frame-every', '3']);
    assert.equal(c.code, 0, c.err.join('\n'));
    assert.match(c.out, /class 2 'blue': logit/);
    assert.deepEqual(listFiles(frames).map((f) => path.basename(f)), ['frame-0003.png', 'frame-0006.png']);
    const n = await run(['maximize', modelFile, '--layer', 'conv2', '--neuron', '3,4,1', '--steps', '3']);
    assert.equal(n.code, 0, n.err.join('\n'));
    assert.match(n.out, /neuron \(3, 4, 1\) of conv2: unit value/);
  });

  it('maximize says its time estimate on stderr before the run starts (and in --json timings)', async () => {
    // conv2 has 6 channels: batches of 4 and 2, 5 steps each.
    const r = await run(['maximize', modelFile, '--layer', 'conv2', '--channels', '0-5', '--steps', '5']);
    assert.equal(r.code, 0, r.err.join('\n'));
    const at = r.err.findIndex((l) => l.startsWith('estimate: '));
    assert.ok(at >= 0, r.err.join('\n'));
    assert.match(r.err[at], /^estimate: (under 1 s|about \d+ s): 2 batches of 4 channels × 5 steps at [\d.]+ m?s a step \(timed on this model\)$/);
    const firstStep = r.err.findIndex((l) => l.startsWith('maximize ['));
    assert.ok(firstStep > at, `the estimate (line ${at}) comes after the progress (line ${firstStep}):\n${r.err.join('\n')}`);
    const j = await run(['maximize', modelFile, '--layer', 'conv2', '--channel', '1', '--steps', '5', '--json']);
    assert.equal(j.code, 0, j.err.join('\n'));
    assert.ok(!j.err.some((l) => l.startsWith('estimate: ')), 'no stderr chatter with --json');
    const est = JSON.parse(j.out).timings.estimateMs;
    assert.ok(Number.isInteger(est) && est >= 0, `estimateMs ${est}`);
  });

  it('CNN_LENS_MAX_STEPS caps the steps', async () => {
    const before = process.env.CNN_LENS_MAX_STEPS;
    process.env.CNN_LENS_MAX_STEPS = '3';
    try {
      const r = await run(['maximize', modelFile, '--layer', 'conv1', '--channel', '0', '--steps', '500', '--json']);
      assert.equal(r.code, 0, r.err.join('\n'));
      assert.equal(JSON.parse(r.out).steps, 3);
    } finally {
      if (before === undefined) delete process.env.CNN_LENS_MAX_STEPS;
      else process.env.CNN_LENS_MAX_STEPS = before;
    }
  });

  it('invert and dream write their images and report how close / how much stronger', async () => {
    const inv = path.join(dir, 'inv.npy');
    const r = await run(['invert', modelFile, image, '--layer', 'conv1', '--steps', '30', '--raw', inv, '--out', path.join(dir, 'inv.png'), '--json']);
    assert.equal(r.code, 0, r.err.join('\n'));
    const j = JSON.parse(r.out);
    assert.ok(j.relativeDistance > 0 && j.relativeDistance < 1);
    assert.deepEqual(decodeNpy(fs.readFileSync(inv)).shape, [S, S, 3]);
    const big = writePng(path.join(dir, 'big.png'), 40, 30, (x, y) => [x * 6, y * 8, 128]);
    const d1 = path.join(dir, 'd1.npy');
    const d2 = path.join(dir, 'd2.npy');
    const dr = await run(['dream', modelFile, big, '--layers', 'conv2', '--octaves', '2', '--steps', '5', '--raw', d1, '--out', path.join(dir, 'd.png')]);
    assert.equal(dr.code, 0, dr.err.join('\n'));
    assert.match(dr.out, /dream at conv2: octaves 29×21 → 40×30, 10 steps, layer norm ×[\d.]+/);
    assert.equal((await run(['dream', modelFile, big, '--layers', 'conv2', '--octaves', '2', '--steps', '5', '--raw', d2])).code, 0);
    assert.ok(fs.readFileSync(d1).equals(fs.readFileSync(d2)));
    assert.deepEqual(decodeNpy(fs.readFileSync(d1)).shape, [30, 40, 3]);
    const png = readPng(path.join(dir, 'd.png'));
    assert.equal(png.width, 40);
  });

  it('usage errors exit 2; bad layers and channels are one line with exit 1; nothing is written', async () => {
    const out = path.join(dir, 'never.png');
    const usage = [
      ['maximize', modelFile, '--channel', '1'],
      ['maximize', modelFile, '--layer', 'conv2'],
      ['maximize', modelFile, '--layer', 'conv2', '--channel', '1', '--class', '0'],
      ['maximize', modelFile, '--layer', 'conv2', '--neuron', '1,2'],
      ['maximize', modelFile, '--layer', 'conv2', '--channels', '5'],
      ['activations', modelFile, image],
      ['invert', modelFile, '--layer', 'conv1'],
      ['filters', modelFile, image, '--layer', 'conv1'],
      ['dream', modelFile, image, '--octaves', '0'],
    ];
    for (const a of usage) {
      const r = await run([...a, '--out', out]);
      assert.equal(r.code, 2, `${a.join(' ')}: ${r.err.join('\n')}`);
    }
    const bad = [
      [['maximize', modelFile, '--layer', 'nope', '--channel', '1'], /no layer named 'nope'/],
      [['maximize', modelFile, '--layer', 'conv2', '--channel', '6'], /channel 6 is out of range: layer 'conv2' has 6 channels \(0–5\)/],
      [['maximize', modelFile, '--class', 'purple'], /no class 'purple'/],
      [['filters', modelFile, '--layer', 'gap'], /filters needs a Conv2D/],
      [['activations', modelFile, path.join(dir, 'missing.png'), '--layer', 'conv1'], /missing\.png: no such file/],
      [['dream', modelFile, image, '--layers', 'gap'], /4-D/],
    ] as const;
    for (const [a, msg] of bad) {
      const r = await run([...a, '--out', out]);
      assert.equal(r.code, 1, `${a.join(' ')}: ${r.err.join('\n')}`);
      assert.equal(r.err.length, 1, r.err.join('\n'));
      assert.match(r.err[0], msg);
    }
    assert.ok(!fs.existsSync(out));
  });

  it('runs on the real Teachable Machine MobileNet (a few steps)', async () => {
    const file = fixture('tm-waste-12', 'model.json');
    if (!file) return;
    const photo = writePng(path.join(dir, 'photo.png'), 64, 48, (x, y) => [100 + x, 150 - y, 80 + ((x * y) % 60)]);
    const r = await run(['maximize', file, '--layer', 'block_6_expand_relu', '--channel', '5', '--steps', '3', '--size', '64', '--json']);
    assert.equal(r.code, 0, r.err.join('\n'));
    assert.deepEqual(JSON.parse(r.out).size, [64, 64]);
    const d = await run(['dream', file, photo, '--octaves', '2', '--steps', '2', '--json']);
    assert.equal(d.code, 0, d.err.join('\n'));
    assert.ok(JSON.parse(d.out).layersAreDefault);
    // 8 octaves of a 128-pixel image would start at 12×12, under block_12_add's 16× downsampling (14×14 of the
    // 224-pixel input): the wasm kernels failed with 'memory access out of bounds'. No octave goes below 16.
    const square = writePng(path.join(dir, 'square128.png'), 128, 128, (x, y) => [(x * 2) % 256, (y * 2) % 256, 90]);
    const many = await run(['dream', file, square, '--octaves', '8', '--steps', '1', '--json']);
    assert.equal(many.code, 0, many.err.join('\n'));
    const sizes: [number, number][] = JSON.parse(many.out).octaves;
    assert.equal(sizes.length, 8);
    assert.ok(sizes.every(([h, w]) => h >= 16 && w >= 16), JSON.stringify(sizes));
    assert.deepEqual(sizes.at(-1), [128, 128]);
  });
});
