// Loading ONNX files: labels and preprocessing defaults, external data, and hostile files (one line
// naming the file, never a crash or a hang).
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { initBackend } from '../../../src/engine/backend';
import { loadAnyModel } from '../../../src/engine/model/loadModel';
import { summarizeModel } from '../../../src/engine/model/summary';
import { onnxRoot } from '../../../src/engine/model/onnx/schema';
import { compareWithOrt } from './ortCompare';
import { encodeModel, weights, writeModel, type GraphSpec } from './onnxWriter';

function tiny(classes: number, channels = 3, metadata?: Record<string, string>): GraphSpec {
  return {
    input: { name: 'x', dims: ['batch', channels, 'height', 'width'] },
    outputs: [{ name: 'y', dims: ['batch', classes] }],
    metadata,
    nodes: [
      { op: 'Conv', name: 'conv', inputs: ['x', 'w'], outputs: ['a'], attrs: { kernel_shape: [3, 3], pads: [1, 1, 1, 1] } },
      { op: 'Relu', name: 'relu', inputs: ['a'], outputs: ['r'] },
      { op: 'GlobalAveragePool', name: 'gap', inputs: ['r'], outputs: ['g'] },
      { op: 'Flatten', name: 'flat', inputs: ['g'], outputs: ['f'] },
      { op: 'Gemm', name: 'fc', inputs: ['f', 'fc.w'], outputs: ['y'], attrs: { transB: 1 } },
    ],
    initializers: [weights('w', [4, channels, 3, 3], 1), weights('fc.w', [classes, 4], 2)],
  };
}

async function loadError(file: string): Promise<string> {
  try {
    const m = await loadAnyModel(file);
    m.dispose();
  } catch (e) {
    return (e as Error).message;
  }
  return '(loaded)';
}

describe('ONNX loading', () => {
  before(async () => {
    await initBackend((process.env.CNN_LENS_BACKEND as any) ?? 'auto');
  });

  it('symbolic sizes default to 224×224; names, kinds, the default layer and torch preprocessing for 3 channels', async () => {
    const m = await loadAnyModel(writeModel(tiny(5)));
    try {
      assert.deepEqual(m.inputSize, { height: 224, width: 224, channels: 3 });
      assert.equal(m.defaultPreprocess, 'torch');
      const s = summarizeModel(m);
      assert.match(s.format, /ONNX model \(opset 13/);
      assert.equal(s.inputLayout, 'channels first (NCHW)'); // as the file declares it, not the engine's internal NHWC
      const byName = new Map(s.layers.map((l) => [l.name, l]));
      assert.equal(byName.get('conv')?.kind, 'conv');
      assert.equal(byName.get('relu')?.kind, 'activation');
      assert.equal(byName.get('fc')?.kind, 'dense');
      assert.equal(s.defaultLayer, 'relu');
      assert.equal(m.labels, null);
    } finally {
      m.dispose();
    }
  });

  it('an NHWC input transposed to NCHW first is the input layer itself (shapes H×W×C in the layer list, never W×C×H); outputs as onnxruntime', async () => {
    // 7×5: a square image would hide a swapped height and width. A graph that reads the NHWC image before
    // transposing it (an Add) keeps the engine's layout layer and still matches onnxruntime.
    const nhwc = (addFirst: boolean): GraphSpec => ({
      input: { name: 'img', dims: ['batch', 7, 5, 3] },
      outputs: [{ name: 'y', dims: ['batch', 4] }],
      nodes: [
        ...(addFirst ? [{ op: 'Add', name: 'shift', inputs: ['img', 'bias'], outputs: ['img2'] }] : []),
        { op: 'Transpose', name: 'to_nchw', inputs: [addFirst ? 'img2' : 'img'], outputs: ['x'], attrs: { perm: [0, 3, 1, 2] } },
        { op: 'Conv', name: 'conv', inputs: ['x', 'w'], outputs: ['a'], attrs: { kernel_shape: [3, 3], pads: [1, 1, 1, 1] } },
        { op: 'Relu', name: 'relu', inputs: ['a'], outputs: ['r'] },
        { op: 'Flatten', name: 'flat', inputs: ['r'], outputs: ['f'] },
        { op: 'Gemm', name: 'fc', inputs: ['f', 'fc.w'], outputs: ['y'], attrs: { transB: 1 } },
      ],
      initializers: [weights('w', [2, 3, 3, 3], 1), weights('fc.w', [4, 2 * 7 * 5], 2), ...(addFirst ? [weights('bias', [3], 3)] : [])],
    });
    const file = writeModel(nhwc(false));
    const m = await loadAnyModel(file);
    try {
      const s = summarizeModel(m);
      assert.equal(s.inputLayout, 'channels last (NHWC)');
      const shapes = new Map(s.layers.map((l) => [l.name, l.outputShape?.slice(1).join('×')]));
      assert.deepEqual([...shapes.entries()].slice(0, 2), [['img', '7×5×3'], ['conv', '7×5×2']]);
      assert.ok(!s.layers.some((l) => /Transpose|InputLayout/.test(l.className)), s.layers.map((l) => l.className).join(', '));
    } finally {
      m.dispose();
    }
    assert.ok((await compareWithOrt(file, [2, 7, 5, 3], 4, false)).err < 1e-4);
    assert.ok((await compareWithOrt(writeModel(nhwc(true)), [2, 7, 5, 3], 5, false)).err < 1e-4);
  });

  it('layers are built with their weights: no initializer fills a weight first (a zero-filled copy of VGG\'s 411 MB classifier weights); outputs as onnxruntime', async () => {
    // tf.memory() counts a variable and the tensor it was made from twice (they share one buffer), so the test
    // watches the initializers tfjs-layers would use for weights not given: zeros, ones and its defaults.
    const g: GraphSpec = {
      input: { name: 'x', dims: ['batch', 3, 8, 8] },
      outputs: [{ name: 'y', dims: ['batch', 10] }],
      nodes: [
        { op: 'Conv', name: 'conv', inputs: ['x', 'w', 'b'], outputs: ['a'], attrs: { kernel_shape: [3, 3], pads: [1, 1, 1, 1] } },
        { op: 'BatchNormalization', name: 'bn', inputs: ['a', 'g', 'beta', 'mean', 'var'], outputs: ['n'] },
        { op: 'Conv', name: 'dw', inputs: ['n', 'dww'], outputs: ['d'], attrs: { kernel_shape: [3, 3], pads: [1, 1, 1, 1], group: 4 } },
        { op: 'Flatten', name: 'flat', inputs: ['d'], outputs: ['f'] },
        { op: 'Gemm', name: 'fc', inputs: ['f', 'fc.w', 'fc.b'], outputs: ['h'], attrs: { transB: 1 } },
        { op: 'MatMul', name: 'mm', inputs: ['h', 'mm.w'], outputs: ['y'] },
      ],
      initializers: [
        weights('w', [4, 3, 3, 3], 1), weights('b', [4], 2), weights('g', [4], 3), weights('beta', [4], 4), weights('mean', [4], 5), { ...weights('var', [4], 6), values: [0.5, 1, 1.5, 2] },
        weights('dww', [4, 1, 3, 3], 7), weights('fc.w', [16, 256], 8, 0.1), weights('fc.b', [16], 9), weights('mm.w', [16, 10], 10),
      ],
    };
    const file = writeModel(g);
    const filled: string[] = [];
    const protos = [tfl.initializers.zeros(), tfl.initializers.ones(), tfl.initializers.glorotUniform({})].map((i) => Object.getPrototypeOf(i));
    const originals = protos.map((p) => p.apply);
    protos.forEach((p, k) => {
      p.apply = function (this: unknown, shape: number[], dtype?: tf.DataType) {
        filled.push(`[${shape.join(', ')}]`);
        return originals[k].call(this, shape, dtype);
      };
    });
    try {
      (await loadAnyModel(file)).dispose();
    } finally {
      protos.forEach((p, k) => (p.apply = originals[k]));
    }
    assert.deepEqual(filled, []);
    assert.ok((await compareWithOrt(file, [2, 3, 8, 8], 6)).err < 1e-4);
  });

  it('1 channel: unit preprocessing; metadata_props labels, preprocess and input size', async () => {
    const m = await loadAnyModel(writeModel(tiny(3, 1, { labels: '["cat", "dog", "fox"]', preprocess: 'tf', input_size: '32,48' })));
    try {
      assert.deepEqual(m.labels, ['cat', 'dog', 'fox']);
      assert.equal(m.labelsSource, 'ONNX metadata_props');
      assert.equal(m.defaultPreprocess, 'tf');
      assert.deepEqual(m.inputSize, { height: 32, width: 48, channels: 1 });
    } finally {
      m.dispose();
    }
    const u = await loadAnyModel(writeModel(tiny(3, 1)));
    assert.equal(u.defaultPreprocess, 'unit');
    u.dispose();
  });

  it('an export by tf2onnx or keras2onnx (a Keras model) defaults to x/255 as Keras models do, not to PyTorch mean/std', async () => {
    for (const producer of ['tf2onnx', 'keras2onnx']) {
      const m = await loadAnyModel(writeModel({ ...tiny(3), producer }));
      try {
        assert.equal(m.defaultPreprocess, 'unit', producer);
        assert.match(summarizeModel(m).preprocessReason ?? '', /Keras/);
      } finally {
        m.dispose();
      }
    }
  });

  it('exactly 1000 classes and no labels: the ImageNet-1k names, said to be assumed; labels.txt beside the file wins', async () => {
    const file = writeModel(tiny(1000));
    const m = await loadAnyModel(file);
    assert.equal(m.labels?.length, 1000);
    assert.equal(m.labels?.[0], 'tench');
    assert.equal(m.labels?.[999], 'toilet tissue');
    assert.match(m.labelsSource ?? '', /ImageNet-1k.*assumed/);
    m.dispose();
    fs.writeFileSync(path.join(path.dirname(file), 'labels.txt'), Array.from({ length: 1000 }, (_, i) => `c${i}`).join('\n'));
    const n = await loadAnyModel(file);
    assert.equal(n.labels?.[5], 'c5');
    assert.equal(n.labelsSource, 'labels.txt');
    n.dispose();
    const other = await loadAnyModel(writeModel(tiny(999)));
    assert.equal(other.labels, null);
    other.dispose();
  });

  it('weights in an external data file inside the folder load and match onnxruntime; a path out of the folder is refused', async () => {
    const g = tiny(4);
    const file = writeModel(g);
    const dir = path.dirname(file);
    const w = g.initializers![0];
    fs.writeFileSync(path.join(dir, 'weights.bin'), Buffer.alloc(16));
    fs.appendFileSync(path.join(dir, 'weights.bin'), new Uint8Array(Float32Array.from(w.values).buffer));
    const Model = onnxRoot().lookupType('onnx.ModelProto');
    const write = (location: string, length: number) => {
      const obj = Model.toObject(Model.decode(encodeModel(g)), { longs: Number }) as any;
      obj.graph.initializer[0] = { name: 'w', dims: w.dims, data_type: 1, data_location: 1, external_data: [{ key: 'location', value: location }, { key: 'offset', value: '16' }, { key: 'length', value: String(length) }] };
      fs.writeFileSync(file, Model.encode(Model.fromObject(obj)).finish());
    };
    write('weights.bin', w.values.length * 4);
    const { err } = await compareWithOrt(file, [1, 3, 8, 8]);
    assert.ok(err < 1e-4, `relative error ${err}`);
    write('../weights.bin', w.values.length * 4);
    assert.match(await loadError(file), /model\.onnx: .*leaves the model's folder/);
    write('/etc/passwd', w.values.length * 4);
    assert.match(await loadError(file), /model\.onnx: .*leaves the model's folder/);
    write('weights.bin', 10 ** 12);
    assert.match(await loadError(file), /model\.onnx: initializer 'w' declares 1000000000000 external bytes but its shape needs 432/);
  });

  it('hostile files: truncated, wrong wire types, huge declared tensors, unknown ops, cycles, several inputs — one line naming the file', async () => {
    const good = encodeModel(tiny(4));
    const dir = path.dirname(writeModel(tiny(4)));
    const put = (name: string, bytes: Uint8Array) => {
      const f = path.join(dir, name);
      fs.writeFileSync(f, bytes);
      return f;
    };
    const cases: [string, Uint8Array | GraphSpec, RegExp][] = [
      ['truncated.onnx', good.slice(0, Math.floor(good.length / 2)), /truncated\.onnx: not a valid ONNX file \(the protobuf does not decode/],
      ['wiretype.onnx', Uint8Array.from([0x3d, 1, 2, 3, 4, ...good.slice(5)]), /wiretype\.onnx: (not a valid ONNX file|not an ONNX model)/],
      ['empty.onnx', new Uint8Array(0), /empty\.onnx: is empty/],
      ['text.onnx', new TextEncoder().encode('{"modelTopology": {}}'), /text\.onnx: not (a valid ONNX file|an ONNX model)/],
      ['huge.onnx', { ...tiny(4), initializers: [{ name: 'w', dims: [100000, 100000, 3, 3], values: [1, 2] }, weights('fc.w', [4, 4], 2)] }, /huge\.onnx: initializer 'w' declares 90000000000 elements, over the limit/],
      ['short.onnx', { ...tiny(4), initializers: [{ name: 'w', dims: [4, 3, 3, 3], values: [1, 2] }, weights('fc.w', [4, 4], 2)] }, /short\.onnx: initializer 'w' holds 8 bytes but its shape \[4, 3, 3, 3\] needs 432/],
      ['unknown.onnx', { ...tiny(4), nodes: [{ op: 'FancyAttention', name: 'attn', inputs: ['x'], outputs: ['a'] }, ...tiny(4).nodes.slice(1)] }, /unknown\.onnx: node 'attn' \(FancyAttention\): operator 'FancyAttention' is not supported/],
      ['cycle.onnx', { ...tiny(4), nodes: [{ op: 'Relu', name: 'loop', inputs: ['r'], outputs: ['a'] }, ...tiny(4).nodes.slice(1)] }, /cycle\.onnx: node 'loop' \(Relu\): input 'r' is computed by no earlier node/],
      ['twoinputs.onnx', { ...tiny(4), input: { name: 'x', dims: ['b', 3, 8, 8] }, nodes: [{ op: 'Add', name: 'add', inputs: ['x', 'other'], outputs: ['xx'] }, ...tiny(4).nodes] }, /twoinputs\.onnx: node 'add' \(Add\): input 'other' is computed by no earlier node/],
      ['badshape.onnx', { ...tiny(4), input: { name: 'x', dims: ['b', 5, 8, 8] } }, /badshape\.onnx: input shape \[null,5,8,8\] is not an image/],
      // Found by fuzzing: a pad of 10^9 reached the wasm convolution; a newline in an op type broke the one line; '__proto__' found Object's prototype.
      ['hugepad.onnx', { ...tiny(4), nodes: [{ ...tiny(4).nodes[0], attrs: { kernel_shape: [3, 3], pads: [1e9, 1, 1, 1] } }, ...tiny(4).nodes.slice(1)] }, /hugepad\.onnx: node 'conv' \(Conv\): pads \[1000000000,1,1,1\] are not 4 whole numbers from 0 to 8192/],
      ['newline.onnx', { ...tiny(4), nodes: [{ ...tiny(4).nodes[0], op: 'Conv\nX' }, ...tiny(4).nodes.slice(1)] }, /newline\.onnx: node 'conv' \(Conv\\x0aX\): operator 'Conv\\x0aX' is not supported/],
      ['proto.onnx', { ...tiny(4), nodes: [{ ...tiny(4).nodes[0], op: '__proto__' }, ...tiny(4).nodes.slice(1)] }, /proto\.onnx: node 'conv' \(__proto__\): operator '__proto__' is not supported/],
      ['badgroup.onnx', { ...tiny(4), nodes: [{ ...tiny(4).nodes[0], attrs: { kernel_shape: [3, 3], group: 2 } }, ...tiny(4).nodes.slice(1)] }, /badgroup\.onnx: node 'conv' \(Conv\): weights \[4, 3, 3, 3\] with group 2 do not fit an input of 3 channels/],
    ];
    for (const [name, content, expected] of cases) {
      const file = put(name, content instanceof Uint8Array ? content : encodeModel(content));
      const msg = await loadError(file);
      assert.match(msg, expected, name);
      assert.ok(!msg.includes('\n'), `${name}: one line`);
    }
  });
});
