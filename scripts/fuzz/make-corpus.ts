// Writes the fuzz seed corpus, test/fuzz/corpus/: tiny valid files of every kind the loaders read.
//   npm run fuzz -- --make-corpus
// Each seed is a folder (a model with its shards) or a single file (an image). The files are small on purpose:
// the fuzzer mutates them thousands of times a minute. Regenerating gives the same content (fixed seeds), but
// the HDF5 files differ in their object-header timestamps, and test/unit/hostile/fuzzCases.json replays byte
// mutations against the committed bytes: regenerate only when a seed must change, then re-check those cases.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import * as jpeg from 'jpeg-js';
import { GifWriter } from 'omggif';
import { PNG } from 'pngjs';
import { initBackend } from '../../src/engine/backend';
import { makeRng } from '../../src/engine/random';
import { saveLayersModel } from '../../test/unit/helpers';
import { buildBmp, buildFlatJpeg, buildPng, exifApp1, fixturePath, insertAfterSoi } from '../../test/unit/image/helpers';
import { toJson, writeKerasArchive, writeLegacyH5 } from '../../test/unit/keras/kerasWriter';
import { modelA, modelB } from '../../test/unit/keras/models';
import { onnxRoot } from '../../src/engine/model/onnx/schema';
import { encodeModel, ints, weights, type GraphSpec } from '../../test/unit/onnx/onnxWriter';

function seeded(seed: number) {
  return tfl.initializers.randomUniform({ minval: -0.5, maxval: 0.5, seed });
}

/** Sequential CNN: conv → max pool → conv → flatten → dense softmax, on an 8×8 RGB input. */
function sequentialCnn(): tfl.LayersModel {
  return tfl.sequential({
    name: 'seq_cnn',
    layers: [
      tfl.layers.conv2d({ inputShape: [8, 8, 3], filters: 4, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: seeded(1), name: 'conv_a' }),
      tfl.layers.maxPooling2d({ poolSize: 2, name: 'pool' }),
      tfl.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'valid', activation: 'relu', kernelInitializer: seeded(2), name: 'conv_b' }),
      tfl.layers.flatten({ name: 'flat' }),
      tfl.layers.dense({ units: 3, activation: 'softmax', kernelInitializer: seeded(3), name: 'probs' }),
    ],
  });
}

/** Functional model with a skip connection, batch norm, a nested Sequential (as Teachable Machine nests) and GAP. */
function functionalCnn(): tfl.LayersModel {
  const input = tfl.input({ shape: [6, 6, 3], name: 'image' });
  const a = tfl.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', kernelInitializer: seeded(4), name: 'stem' }).apply(input) as tfl.SymbolicTensor;
  const bn = tfl.layers.batchNormalization({ name: 'stem_bn' }).apply(a) as tfl.SymbolicTensor;
  const r = tfl.layers.reLU({ name: 'stem_relu' }).apply(bn) as tfl.SymbolicTensor;
  const inner = tfl.sequential({
    name: 'inner',
    layers: [
      tfl.layers.depthwiseConv2d({ inputShape: [6, 6, 4], kernelSize: 3, padding: 'same', depthwiseInitializer: seeded(5), name: 'dw' }),
      tfl.layers.conv2d({ filters: 4, kernelSize: 1, kernelInitializer: seeded(6), name: 'pw' }),
    ],
  });
  const b = inner.apply(r) as tfl.SymbolicTensor;
  const sum = tfl.layers.add({ name: 'skip' }).apply([r, b]) as tfl.SymbolicTensor;
  const cat = tfl.layers.concatenate({ name: 'cat' }).apply([sum, a]) as tfl.SymbolicTensor;
  const g = tfl.layers.globalAveragePooling2d({ name: 'gap' }).apply(cat) as tfl.SymbolicTensor;
  const out = tfl.layers.dense({ units: 2, activation: 'softmax', kernelInitializer: seeded(7), name: 'probs' }).apply(g) as tfl.SymbolicTensor;
  return tfl.model({ inputs: input, outputs: out, name: 'fn_cnn' });
}

/** Splits a saved model's weights.bin into shards of `size` bytes (group1-shard1of2.bin, …) as the converter does. */
function shard(dir: string, size: number): void {
  const mj = path.join(dir, 'model.json');
  const j = JSON.parse(fs.readFileSync(mj, 'utf8'));
  const data = fs.readFileSync(path.join(dir, 'weights.bin'));
  fs.rmSync(path.join(dir, 'weights.bin'));
  const n = Math.ceil(data.length / size);
  const paths: string[] = [];
  for (let i = 0; i < n; i++) {
    const name = `group1-shard${i + 1}of${n}.bin`;
    fs.writeFileSync(path.join(dir, name), data.subarray(i * size, (i + 1) * size));
    paths.push(name);
  }
  j.weightsManifest[0].paths = paths;
  fs.writeFileSync(mj, JSON.stringify(j));
}

/** A tfjs graph model: x[-1,4,4,3] → Conv2D 1×1 → Relu → Mean over H,W → MatMul → logits. */
function writeGraphModel(dir: string): void {
  fs.mkdirSync(dir, { recursive: true });
  const k = new Float32Array([0.5, -0.2, 0.1, 0.3, -0.4, 0.2]); // [1,1,3,2]
  const w = new Float32Array([1, 0, 0, 1]); // [2,2]
  const axes = new Int32Array([1, 2]);
  fs.writeFileSync(path.join(dir, 'group1-shard1of1.bin'), Buffer.concat([Buffer.from(k.buffer), Buffer.from(w.buffer), Buffer.from(axes.buffer)]));
  const dim = (ds: number[]) => ({ dim: ds.map((d) => ({ size: String(d) })) });
  const f = { type: 'DT_FLOAT' };
  const node = [
    { name: 'x', op: 'Placeholder', attr: { dtype: f, shape: { shape: dim([-1, 4, 4, 3]) } } },
    { name: 'k', op: 'Const', attr: { dtype: f, value: { tensor: { dtype: 'DT_FLOAT', tensorShape: dim([1, 1, 3, 2]) } } } },
    { name: 'w', op: 'Const', attr: { dtype: f, value: { tensor: { dtype: 'DT_FLOAT', tensorShape: dim([2, 2]) } } } },
    { name: 'axes', op: 'Const', attr: { dtype: { type: 'DT_INT32' }, value: { tensor: { dtype: 'DT_INT32', tensorShape: dim([2]) } } } },
    { name: 'conv', op: 'Conv2D', input: ['x', 'k'], attr: { T: f, strides: { list: { i: ['1', '1', '1', '1'] } }, padding: { s: 'U0FNRQ==' }, data_format: { s: 'TkhXQw==' }, dilations: { list: { i: ['1', '1', '1', '1'] } } } },
    { name: 'relu', op: 'Relu', input: ['conv'], attr: { T: f } },
    { name: 'mean', op: 'Mean', input: ['relu', 'axes'], attr: { T: f, Tidx: { type: 'DT_INT32' }, keep_dims: { b: false } } },
    { name: 'logits', op: 'MatMul', input: ['mean', 'w'], attr: { T: f, transpose_a: { b: false }, transpose_b: { b: false } } },
  ];
  const manifest = [{ paths: ['group1-shard1of1.bin'], weights: [{ name: 'k', shape: [1, 1, 3, 2], dtype: 'float32' }, { name: 'w', shape: [2, 2], dtype: 'float32' }, { name: 'axes', shape: [2], dtype: 'int32' }] }];
  fs.writeFileSync(path.join(dir, 'model.json'), JSON.stringify({ format: 'graph-model', generatedBy: 'cnn-lens fuzz corpus', modelTopology: { node, versions: { producer: 1 } }, weightsManifest: manifest }));
}

/**
 * ONNX seeds (a folder each, model.onnx): a small PyTorch-like net with the shape arithmetic exporters write,
 * a grouped convolution, a channel shuffle and pooling; the same with its weights in an external data file.
 */
function writeOnnxSeeds(dir: string): void {
  const g: GraphSpec = {
    input: { name: 'input', dims: ['batch', 3, 8, 8] },
    outputs: [{ name: 'logits', dims: ['batch', 3] }],
    opset: 13,
    metadata: { labels: '["a", "b", "c"]' },
    nodes: [
      { op: 'Conv', name: 'conv', inputs: ['input', 'w1', 'b1'], outputs: ['c'], attrs: { kernel_shape: [3, 3], pads: [1, 1, 1, 1], strides: [2, 2] } },
      { op: 'Clip', name: 'relu6', inputs: ['c', 'lo', 'hi'], outputs: ['r'] },
      { op: 'Conv', name: 'group', inputs: ['r', 'w2'], outputs: ['g'], attrs: { kernel_shape: [1, 1], group: 2 } },
      { op: 'Reshape', name: 'split', inputs: ['g', 's5'], outputs: ['g5'] },
      { op: 'Transpose', name: 'shuffle', inputs: ['g5'], outputs: ['t5'], attrs: { perm: [0, 2, 1, 3, 4] } },
      { op: 'Reshape', name: 'merge', inputs: ['t5', 's4'], outputs: ['sh'] },
      { op: 'MaxPool', name: 'pool', inputs: ['sh'], outputs: ['p'], attrs: { kernel_shape: [2, 2], strides: [2, 2], ceil_mode: 1 } },
      { op: 'Shape', name: 'shape', inputs: ['p'], outputs: ['shp'] },
      { op: 'Gather', name: 'n', inputs: ['shp', 'zero'], outputs: ['n'], attrs: { axis: 0 } },
      { op: 'Unsqueeze', name: 'n1', inputs: ['n', 'ax0'], outputs: ['n1'] },
      { op: 'Concat', name: 'target', inputs: ['n1', 'minus1'], outputs: ['tg'], attrs: { axis: 0 } },
      { op: 'Reshape', name: 'flatten', inputs: ['p', 'tg'], outputs: ['f'] },
      { op: 'Gemm', name: 'fc', inputs: ['f', 'wf', 'bf'], outputs: ['logits'], attrs: { transB: 1 } },
    ],
    initializers: [
      weights('w1', [4, 3, 3, 3], 1), weights('b1', [4], 2), { name: 'lo', dims: [], values: [0] }, { name: 'hi', dims: [], values: [6] },
      weights('w2', [4, 2, 1, 1], 3), ints('s5', [-1, 2, 2, 4, 4]), ints('s4', [-1, 4, 4, 4]), ints('zero', [0], []), ints('ax0', [0]), ints('minus1', [-1]),
      weights('wf', [3, 16], 4), weights('bf', [3], 5),
    ],
  };
  fs.mkdirSync(path.join(dir, 'shapes'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'shapes', 'model.onnx'), encodeModel(g));
  // The first convolution's weights in weights.bin (offset 8), as torch.onnx.export writes models over 2 GB.
  const w1 = g.initializers![0];
  const ext = { ...g, initializers: g.initializers!.slice(1) };
  const bytes = encodeModel(ext);
  const dirExt = path.join(dir, 'external');
  fs.mkdirSync(dirExt, { recursive: true });
  fs.writeFileSync(path.join(dirExt, 'weights.bin'), Buffer.concat([Buffer.alloc(8), Buffer.from(new Float32Array(w1.values).buffer)]));
  // Re-encoded with the external initializer added (the test writer has no external form).
  const Model = onnxRoot().lookupType('onnx.ModelProto');
  const obj = Model.toObject(Model.decode(bytes), { longs: Number, arrays: true }) as any;
  obj.graph.initializer.unshift({ name: 'w1', dims: w1.dims, data_type: 1, data_location: 1, external_data: [{ key: 'location', value: 'weights.bin' }, { key: 'offset', value: '8' }, { key: 'length', value: String(w1.values.length * 4) }] });
  fs.writeFileSync(path.join(dirExt, 'model.onnx'), Model.encode(Model.fromObject(obj)).finish());
  fs.mkdirSync(path.join(dir, 'pytorch-shuffle'), { recursive: true });
  fs.copyFileSync(path.resolve('test', 'fixtures', 'onnx', 'tiny-shuffle.onnx'), path.join(dir, 'pytorch-shuffle', 'model.onnx'));
}

function pattern(w: number, h: number, seed: number): Uint8Array {
  const rng = makeRng(seed);
  const px = new Uint8Array(w * h * 4);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = (y * w + x) * 4;
      px[i] = (x * 255) / (w - 1);
      px[i + 1] = (y * 255) / (h - 1);
      px[i + 2] = Math.floor(rng() * 256);
      px[i + 3] = 255;
    }
  }
  return px;
}

function writeImages(dir: string): void {
  fs.mkdirSync(dir, { recursive: true });
  const W = 12;
  const H = 9;
  const px = pattern(W, H, 11);
  // PNG: 8-bit RGBA (pngjs), 16-bit gray and palette with transparency (built by hand), interlaced RGB.
  const png = new PNG({ width: W, height: H });
  png.data.set(px);
  fs.writeFileSync(path.join(dir, 'rgba8.png'), PNG.sync.write(png));
  const gray16 = new Uint16Array(W * H).map((_, i) => (i * 977) % 65536);
  fs.writeFileSync(path.join(dir, 'gray16.png'), buildPng({ width: W, height: H, bitDepth: 16, colorType: 0, samples: Array.from(gray16) }));
  fs.writeFileSync(path.join(dir, 'palette.png'), buildPng({ width: 4, height: 3, bitDepth: 8, colorType: 3, samples: [0, 1, 2, 3, 3, 2, 1, 0, 1, 1, 2, 2], palette: [[255, 0, 0], [0, 255, 0], [0, 0, 255], [9, 9, 9]], trns: [255, 128, 0] }));
  // JPEG: baseline 4:2:0 from jpeg-js, one with EXIF orientation 6, Adobe CMYK and grayscale; progressive fixture.
  const base = jpeg.encode({ data: Buffer.from(px), width: W, height: H }, 80).data;
  fs.writeFileSync(path.join(dir, 'baseline.jpg'), base);
  fs.writeFileSync(path.join(dir, 'exif6.jpg'), insertAfterSoi(base, exifApp1(6, false)));
  fs.writeFileSync(path.join(dir, 'cmyk-adobe.jpg'), buildFlatJpeg([[[10, 200, 30, 40], [250, 5, 60, 0]], [[0, 0, 0, 255], [128, 128, 128, 128]]], 0));
  fs.writeFileSync(path.join(dir, 'gray.jpg'), buildFlatJpeg([[[20], [200]]]));
  fs.copyFileSync(fixturePath('pattern-progressive.jpg'), path.join(dir, 'progressive.jpg'));
  // GIF: two frames (the first is what we decode), a local palette on the second, transparency.
  const gifBuf = new Uint8Array(2048);
  const gw = new GifWriter(gifBuf, 6, 5, { loop: 0, palette: [0x000000, 0xff0000, 0x00ff00, 0x0000ff] });
  gw.addFrame(0, 0, 6, 5, Array.from({ length: 30 }, (_, i) => i % 4), { delay: 10, transparent: 0 });
  gw.addFrame(1, 1, 3, 2, [1, 2, 3, 0, 1, 2], { delay: 10, palette: [0xffffff, 0x808080] as any, disposal: 2 });
  fs.writeFileSync(path.join(dir, 'animated.gif'), gifBuf.subarray(0, gw.end()));
  // BMP: 24-bit bottom-up, 8-bit palette top-down, 32-bit bitfields.
  const rgb = Array.from({ length: 20 }, (_, i) => [i * 12, 255 - i * 12, (i * 37) % 256]);
  fs.writeFileSync(path.join(dir, 'rgb24.bmp'), buildBmp({ width: 5, height: 4, bpp: 24, pixels: rgb }));
  fs.writeFileSync(path.join(dir, 'pal8.bmp'), buildBmp({ width: 5, height: 4, bpp: 8, topDown: true, palette: [[0, 0, 0], [255, 255, 255], [255, 0, 0]], pixels: rgb.map((_, i) => [i % 3]) }));
  fs.writeFileSync(path.join(dir, 'bitfields32.bmp'), buildBmp({ width: 3, height: 2, bpp: 32, masks: [0xff0000, 0xff00, 0xff, 0xff000000], pixels: Array.from({ length: 6 }, (_, i) => [(0x80000000 + i * 0x102030) >>> 0]) }));
  // WebP: lossless and lossy (made with cwebp; the image helper's fixtures), and the animated one (refused).
  for (const f of ['pattern-lossless.webp', 'pattern-lossy.webp', 'animated.webp']) fs.copyFileSync(fixturePath(f), path.join(dir, f.replace('pattern-', '')));
}

async function main(): Promise<void> {
  const out = path.resolve(process.argv[2] ?? 'test/fuzz/corpus');
  await initBackend('cpu');
  fs.rmSync(out, { recursive: true, force: true });

  const tfjs = path.join(out, 'tfjs');
  await saveLayersModel(sequentialCnn(), path.join(tfjs, 'sequential'));
  fs.writeFileSync(path.join(tfjs, 'sequential', 'labels.txt'), 'cat\ndog\nbird\n');
  const fnDir = path.join(tfjs, 'functional');
  await saveLayersModel(functionalCnn(), fnDir, { metadata: { labels: ['yes', 'no'], preprocess: 'tf' } });
  shard(fnDir, 512);
  writeGraphModel(path.join(tfjs, 'graph'));

  const keras = path.join(out, 'keras');
  fs.mkdirSync(keras, { recursive: true });
  await writeLegacyH5(path.join(keras, 'a-keras2.h5'), modelA(1), { full: true, dialect: 'keras2' });
  await writeKerasArchive(path.join(keras, 'b-keras3.keras'), modelB(2), 'keras3');
  await writeKerasArchive(path.join(keras, 'a-keras215.keras'), modelA(3), 'keras2.15');
  const arch = path.join(keras, 'arch');
  fs.mkdirSync(arch, { recursive: true });
  fs.writeFileSync(path.join(arch, 'model.json'), toJson(modelA(4), 'keras2'));
  await writeLegacyH5(path.join(arch, 'weights.h5'), modelA(4), { full: false });

  writeImages(path.join(out, 'images'));
  writeOnnxSeeds(path.join(out, 'onnx'));
  let n = 0;
  let bytes = 0;
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(path.join(d, e.name));
      else {
        n++;
        bytes += fs.statSync(path.join(d, e.name)).size;
      }
    }
  };
  walk(out);
  console.log(`corpus: ${n} files, ${bytes} bytes in ${path.relative(process.cwd(), out)}`);
  tf.disposeVariables();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
