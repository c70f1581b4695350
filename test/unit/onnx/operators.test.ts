// ONNX operators and layout traps: logits against onnxruntime-node on the same file (1e-4 relative).
import * as assert from 'node:assert/strict';
import { initBackend } from '../../../src/engine/backend';
import { loadAnyModel } from '../../../src/engine/model/loadModel';
import { compareWithOrt } from './ortCompare';
import { ints, weights, writeModel, type GraphSpec, type NodeSpec } from './onnxWriter';

const TOL = 1e-4;

/** A graph from an NCHW input through `body` nodes (ending in value `out`) to Flatten + Gemm logits. */
function classifier(c: number, hw: number, body: NodeSpec[], out: string, outFeatures: number, extraInits: GraphSpec['initializers'] = [], opset = 13): GraphSpec {
  // Inputs have 3 channels (an image); a 1×1 'stem' convolution makes the c channels the body reads as 'image'.
  const stem: NodeSpec[] = c === 3 ? [] : [{ op: 'Conv', name: 'stem', inputs: ['rgb', 'stem.w'], outputs: ['image'], attrs: { kernel_shape: [1, 1] } }];
  return {
    input: { name: c === 3 ? 'image' : 'rgb', dims: ['N', 3, hw, hw] },
    outputs: [{ name: 'logits', dims: ['N', 5] }],
    opset,
    nodes: [...stem, ...body, { op: 'Flatten', inputs: [out], outputs: ['flat'], attrs: { axis: 1 } }, { op: 'Gemm', inputs: ['flat', 'fc.w', 'fc.b'], outputs: ['logits'], attrs: { transB: 1 } }],
    initializers: [...(c === 3 ? [] : [weights('stem.w', [c, 3, 1, 1], 89)]), ...(extraInits ?? []), weights('fc.w', [5, outFeatures], 90, 0.2), weights('fc.b', [5], 91)],
  };
}

async function check(g: GraphSpec, dims: number[], nchw = true): Promise<void> {
  const file = writeModel(g);
  const { err, ours, theirs } = await compareWithOrt(file, dims, 7, nchw);
  assert.ok(err < TOL, `relative error ${err.toExponential(2)} (ours ${Array.from(ours.slice(0, 4))}, onnxruntime ${Array.from(theirs.slice(0, 4))})`);
}

const conv = (name: string, x: string, y: string, attrs: NodeSpec['attrs'] = {}, bias = true): NodeSpec => ({ op: 'Conv', name, inputs: bias ? [x, `${name}.w`, `${name}.b`] : [x, `${name}.w`], outputs: [y], attrs });

describe('ONNX operators against onnxruntime-node', () => {
  before(async () => {
    await initBackend((process.env.CNN_LENS_BACKEND as any) ?? 'auto');
  });

  it('Flatten + Gemm straight after NCHW convolution features (PyTorch element order), asymmetric pads, strides', async () => {
    const g = classifier(3, 9, [conv('c1', 'image', 'a', { kernel_shape: [3, 3], pads: [0, 1, 2, 1], strides: [2, 2] }), { op: 'Relu', inputs: ['a'], outputs: ['r'] }], 'r', 4 * 5 * 5, [weights('c1.w', [4, 3, 3, 3], 1), weights('c1.b', [4], 2)]);
    await check(g, [2, 3, 9, 9]);
  });

  it('grouped and depthwise convolutions (multiplier 2), dilations, auto_pad SAME_UPPER and SAME_LOWER', async () => {
    const g = classifier(
      4,
      8,
      [
        conv('g', 'image', 'a', { kernel_shape: [3, 3], group: 2, pads: [1, 1, 1, 1] }),
        conv('dw', 'a', 'b', { kernel_shape: [3, 3], group: 6, auto_pad: 'SAME_UPPER', strides: [2, 2] }),
        conv('dil', 'b', 'c', { kernel_shape: [3, 3], dilations: [2, 2], pads: [2, 1, 2, 3] }, false),
        conv('low', 'c', 'd', { kernel_shape: [2, 2], auto_pad: 'SAME_LOWER' }, false),
      ],
      'd',
      3 * 4 * 4,
      [weights('low.w', [3, 3, 2, 2], 8), weights('g.w', [6, 2, 3, 3], 3), weights('g.b', [6], 4), weights('dw.w', [12, 1, 3, 3], 5), weights('dw.b', [12], 6), weights('dil.w', [3, 12, 3, 3], 7)],
    );
    await check(g, [1, 3, 8, 8]);
  });

  it('BatchNormalization after a convolution (folded), ReLU6 as Clip with inputs (opset 13) and with attributes (opset 9)', async () => {
    const bn = [weights('bn.s', [4], 11, 1), weights('bn.b', [4], 12), weights('bn.m', [4], 13), { ...weights('bn.v', [4], 14), values: [0.5, 1, 2, 0.25] }];
    const body = (opset: number): NodeSpec[] => [
      conv('c', 'image', 'a', { kernel_shape: [3, 3], pads: [1, 1, 1, 1] }),
      { op: 'BatchNormalization', inputs: ['a', 'bn.s', 'bn.b', 'bn.m', 'bn.v'], outputs: ['b'], attrs: { epsilon: 1e-3 } },
      opset >= 11 ? { op: 'Clip', inputs: ['b', 'lo', 'hi'], outputs: ['r'] } : { op: 'Clip', inputs: ['b'], outputs: ['r'], attrs: { min: { float: 0 }, max: { float: 6 } } },
    ];
    const clipInits = [{ name: 'lo', dims: [], values: [0] }, { name: 'hi', dims: [], values: [6] }];
    for (const opset of [9, 13]) {
      const g = classifier(3, 6, body(opset), 'r', 4 * 36, [weights('c.w', [4, 3, 3, 3], 10, 2), weights('c.b', [4], 15), ...bn, ...(opset >= 11 ? clipInits : [])], opset);
      await check(g, [2, 3, 6, 6]);
    }
  });

  it('channel shuffle (Reshape to 5-D, Transpose, Reshape back) shuffles the same channels', async () => {
    const g = classifier(
      6,
      5,
      [
        conv('c', 'image', 'a', { kernel_shape: [1, 1] }),
        { op: 'Reshape', inputs: ['a', 's5'], outputs: ['r5'] },
        { op: 'Transpose', inputs: ['r5'], outputs: ['t5'], attrs: { perm: [0, 2, 1, 3, 4] } },
        { op: 'Reshape', inputs: ['t5', 's4'], outputs: ['sh'] },
        conv('d', 'sh', 'out', { kernel_shape: [3, 3], group: 6, pads: [1, 1, 1, 1] }),
      ],
      'out',
      6 * 25,
      [weights('c.w', [6, 6, 1, 1], 20), weights('c.b', [6], 21), ints('s5', [1, 2, 3, 5, 5]), ints('s4', [1, 6, 5, 5]), weights('d.w', [6, 1, 3, 3], 22), weights('d.b', [6], 23)],
    );
    await check(g, [1, 3, 5, 5]);
  });

  it('squeeze-and-excitation (GlobalAveragePool, 1×1 convolutions, HardSigmoid, Mul broadcast), SiLU as x·sigmoid(x), residual Add', async () => {
    const g = classifier(
      4,
      5,
      [
        conv('c', 'image', 'a', { kernel_shape: [3, 3], pads: [1, 1, 1, 1] }),
        { op: 'Sigmoid', inputs: ['a'], outputs: ['sg'] },
        { op: 'Mul', inputs: ['a', 'sg'], outputs: ['silu'] },
        { op: 'GlobalAveragePool', inputs: ['silu'], outputs: ['gap'] },
        conv('se1', 'gap', 'z', { kernel_shape: [1, 1] }),
        { op: 'Relu', inputs: ['z'], outputs: ['zr'] },
        conv('se2', 'zr', 'e', { kernel_shape: [1, 1] }),
        { op: 'HardSigmoid', inputs: ['e'], outputs: ['hs'], attrs: { alpha: 1 / 6, beta: 0.5 } },
        { op: 'Mul', inputs: ['silu', 'hs'], outputs: ['scaled'] },
        { op: 'Add', inputs: ['scaled', 'image'], outputs: ['res'] },
      ],
      'res',
      4 * 25,
      [weights('c.w', [4, 4, 3, 3], 30), weights('c.b', [4], 31), weights('se1.w', [2, 4, 1, 1], 32), weights('se1.b', [2], 33), weights('se2.w', [4, 2, 1, 1], 34), weights('se2.b', [4], 35)],
    );
    await check(g, [2, 3, 5, 5]);
  });

  it('pooling: MaxPool with pads and ceil_mode, AveragePool with and without count_include_pad, GlobalMaxPool', async () => {
    const g: GraphSpec = {
      input: { name: 'image', dims: [1, 3, 9, 9] },
      outputs: [{ name: 'out', dims: [1, 9] }],
      nodes: [
        { op: 'MaxPool', inputs: ['image'], outputs: ['m'], attrs: { kernel_shape: [3, 3], strides: [2, 2], ceil_mode: 1 } },
        { op: 'AveragePool', inputs: ['m'], outputs: ['a1'], attrs: { kernel_shape: [3, 3], pads: [1, 1, 1, 1], count_include_pad: 1 } },
        { op: 'AveragePool', inputs: ['m'], outputs: ['a0'], attrs: { kernel_shape: [2, 2], pads: [0, 0, 1, 1], strides: [2, 2] } },
        { op: 'MaxPool', inputs: ['a1'], outputs: ['mp'], attrs: { kernel_shape: [2, 2], pads: [1, 0, 0, 1], strides: [2, 2] } },
        { op: 'GlobalMaxPool', inputs: ['mp'], outputs: ['g1'] },
        { op: 'GlobalAveragePool', inputs: ['a0'], outputs: ['g2'] },
        { op: 'Flatten', inputs: ['g1'], outputs: ['f1'] },
        { op: 'Flatten', inputs: ['g2'], outputs: ['f2'] },
        { op: 'ReduceMean', inputs: ['a1'], outputs: ['rm'], attrs: { axes: [2, 3], keepdims: 0 } },
        { op: 'Concat', inputs: ['f1', 'f2', 'rm'], outputs: ['out'], attrs: { axis: 1 } },
      ],
    };
    await check(g, [1, 3, 9, 9]);
  });

  it('activations: LeakyRelu, PRelu, Elu, Selu, HardSwish, Tanh, Softplus, Erf (GELU), Div/Sub/Pow with constants; LogSoftmax output', async () => {
    const g = classifier(
      3,
      5,
      [
        { op: 'LeakyRelu', inputs: ['image'], outputs: ['a'], attrs: { alpha: 0.1 } },
        { op: 'PRelu', inputs: ['a', 'slope'], outputs: ['b'] },
        { op: 'Elu', inputs: ['b'], outputs: ['c'], attrs: { alpha: 0.5 } },
        { op: 'Selu', inputs: ['c'], outputs: ['d'] },
        { op: 'HardSwish', inputs: ['d'], outputs: ['e'] },
        { op: 'Div', inputs: ['e', 'sqrt2'], outputs: ['e2'] },
        { op: 'Erf', inputs: ['e2'], outputs: ['e3'] },
        { op: 'Add', inputs: ['e3', 'one'], outputs: ['e4'] },
        { op: 'Mul', inputs: ['e', 'e4'], outputs: ['gelu'] },
        { op: 'Tanh', inputs: ['gelu'], outputs: ['t'] },
        { op: 'Softplus', inputs: ['t'], outputs: ['sp'] },
        { op: 'Sub', inputs: ['sp', 'shift'], outputs: ['s2'] },
        { op: 'Pow', inputs: ['s2', 'two'], outputs: ['p'] },
      ],
      'p',
      3 * 25,
      [weights('slope', [3, 1, 1], 40, 0.3), { name: 'sqrt2', dims: [], values: [Math.SQRT2] }, { name: 'one', dims: [], values: [1] }, weights('shift', [3, 1, 1], 41), { name: 'two', dims: [], values: [2] }],
    );
    g.opset = 14;
    g.nodes.push({ op: 'LogSoftmax', inputs: ['logits'], outputs: ['lsm'], attrs: { axis: 1 } });
    g.outputs = [{ name: 'lsm', dims: ['N', 5] }];
    await check(g, [2, 3, 5, 5]);
  });

  it('shape arithmetic folded at load time: Shape → Gather → Unsqueeze → Concat → Reshape (x.view(x.size(0), -1)); Squeeze/Unsqueeze/Split opset 11 vs 13', async () => {
    for (const opset of [11, 13]) {
      const axesIn = opset >= 13;
      const g: GraphSpec = {
        input: { name: 'image', dims: ['N', 3, 3, 5] },
        outputs: [{ name: 'logits', dims: ['N', 5] }],
        opset,
        nodes: [
          axesIn ? { op: 'Split', inputs: ['image', 'split'], outputs: ['s1', 's2'], attrs: { axis: 1 } } : { op: 'Split', inputs: ['image'], outputs: ['s1', 's2'], attrs: { axis: 1, split: [1, 2] } },
          { op: 'Mul', inputs: ['s2', 'half'], outputs: ['s2h'] },
          { op: 'Concat', inputs: ['s2h', 's1'], outputs: ['cat'], attrs: { axis: 1 } },
          { op: 'Shape', inputs: ['cat'], outputs: ['shape'] },
          { op: 'Gather', inputs: ['shape', 'zero'], outputs: ['n'], attrs: { axis: 0 } },
          axesIn ? { op: 'Unsqueeze', inputs: ['n', 'ax0'], outputs: ['n1'] } : { op: 'Unsqueeze', inputs: ['n'], outputs: ['n1'], attrs: { axes: [0] } },
          { op: 'Concat', inputs: ['n1', 'minus1'], outputs: ['target'], attrs: { axis: 0 } },
          { op: 'Reshape', inputs: ['cat', 'target'], outputs: ['flat'] },
          axesIn ? { op: 'Unsqueeze', inputs: ['flat', 'ax2'], outputs: ['u'] } : { op: 'Unsqueeze', inputs: ['flat'], outputs: ['u'], attrs: { axes: [2] } },
          axesIn ? { op: 'Squeeze', inputs: ['u', 'ax2'], outputs: ['sq'] } : { op: 'Squeeze', inputs: ['u'], outputs: ['sq'], attrs: { axes: [2] } },
          { op: 'Gemm', inputs: ['sq', 'fc.w', 'fc.b'], outputs: ['logits'], attrs: { transB: 1 } },
        ],
        initializers: [ints('split', [1, 2]), { name: 'half', dims: [1], values: [0.5] }, ints('zero', [0], []), ints('ax0', [0]), ints('minus1', [-1]), ints('ax2', [2]), weights('fc.w', [5, 45], 50), weights('fc.b', [5], 51)],
      };
      await check(g, [2, 3, 3, 5]);
    }
  });

  it('NHWC input (tf2onnx): Transpose to NCHW first, Slice, Pad (reflect), MatMul + Add, Softmax output', async () => {
    const g: GraphSpec = {
      input: { name: 'image', dims: ['N', 6, 6, 3] },
      outputs: [{ name: 'prob', dims: ['N', 4] }],
      nodes: [
        { op: 'Transpose', inputs: ['image'], outputs: ['nchw'], attrs: { perm: [0, 3, 1, 2] } },
        conv('c', 'nchw', 'a', { kernel_shape: [3, 3] }),
        { op: 'Slice', inputs: ['a', 'st', 'en', 'ax', 'stp'], outputs: ['sl'] },
        { op: 'Pad', inputs: ['sl', 'pads'], outputs: ['pd'], attrs: { mode: 'reflect' } },
        { op: 'Flatten', inputs: ['pd'], outputs: ['f'] },
        { op: 'MatMul', inputs: ['f', 'mm'], outputs: ['mmo'] },
        { op: 'Add', inputs: ['mmo', 'mb'], outputs: ['lg'] },
        { op: 'Softmax', inputs: ['lg'], outputs: ['prob'], attrs: { axis: 1 } },
      ],
      initializers: [weights('c.w', [5, 3, 3, 3], 60), weights('c.b', [5], 61), ints('st', [1, 0]), ints('en', [4, 4]), ints('ax', [1, 3]), ints('stp', [2, 1]), ints('pads', [0, 0, 1, 1, 0, 0, 1, 0]), weights('mm', [2 * 6 * 5, 4], 62), weights('mb', [4], 63)],
    };
    await check(g, [2, 6, 6, 3], false);
  });
  it('LRN across channels (AlexNet/GoogLeNet of the ONNX zoo): window sizes 5, 3 and 9 (wider than the 6 channels); an even size refused in one line', async () => {
    const g = classifier(
      6,
      6,
      [
        conv('c', 'image', 'a', { kernel_shape: [3, 3], pads: [1, 1, 1, 1] }),
        { op: 'Relu', inputs: ['a'], outputs: ['r'] },
        { op: 'LRN', inputs: ['r'], outputs: ['n5'], attrs: { size: 5, alpha: { float: 0.5 }, beta: { float: 0.75 }, bias: { float: 2 } } },
        { op: 'LRN', inputs: ['n5'], outputs: ['n3'], attrs: { size: 3, alpha: { float: 0.3 }, beta: { float: 0.5 } } },
        { op: 'LRN', inputs: ['n3'], outputs: ['n9'], attrs: { size: 9, alpha: { float: 1 }, beta: { float: 1.5 }, bias: { float: 0.5 } } },
      ],
      'n9',
      6 * 6 * 6,
      [weights('c.w', [6, 6, 3, 3], 31, 1), weights('c.b', [6], 32)],
    );
    await check(g, [2, 3, 6, 6]);
    const even = classifier(3, 5, [{ op: 'LRN', name: 'lrn4', inputs: ['image'], outputs: ['n'], attrs: { size: 4 } }], 'n', 3 * 5 * 5);
    const file = writeModel(even);
    await assert.rejects(loadAnyModel(file), (e: Error) => {
      assert.ok(!e.message.includes('\n'), e.message);
      assert.match(e.message, /model\.onnx.*lrn4.*LRN.*size 4 is not an odd window/);
      return true;
    });
  });

  it('control flow (If, as PyTorch exports nn.LocalResponseNorm) is refused in one line naming the If node, not a node it feeds', async () => {
    const g = classifier(3, 5, [{ op: 'Relu', inputs: ['image'], outputs: ['r'] }, { op: 'Slice', name: 'fed', inputs: ['r', 'st', 'en'], outputs: ['s'] }, { op: 'If', name: 'lrn_if', inputs: ['s'], outputs: ['n'] }], 'n', 3 * 5 * 5, [ints('st', [0]), ints('en', [1])]);
    await assert.rejects(loadAnyModel(writeModel(g)), (e: Error) => {
      assert.ok(!e.message.includes('\n'), e.message);
      assert.match(e.message, /model\.onnx: node 'lrn_if' \(If\): control flow is not supported/);
      return true;
    });
  });

  it('Gemm with alpha, beta, transB 0 and 1 on rectangular weights larger than a transpose block; one initializer read by two nodes', async () => {
    const g: GraphSpec = {
      input: { name: 'image', dims: ['N', 3, 5, 5] },
      outputs: [{ name: 'logits', dims: ['N', 5] }],
      nodes: [
        { op: 'Flatten', inputs: ['image'], outputs: ['flat'] },
        { op: 'Gemm', inputs: ['flat', 'w1', 'b1'], outputs: ['a'], attrs: { transB: 1, alpha: 0.5, beta: 1.75 } },
        { op: 'Relu', inputs: ['a'], outputs: ['r'] },
        { op: 'Gemm', inputs: ['r', 'w2'], outputs: ['b'], attrs: { alpha: 1.5 } },
        { op: 'Gemm', inputs: ['b', 'w2'], outputs: ['c'], attrs: { transB: 1 } },
        { op: 'Gemm', inputs: ['c', 'w3', 'b3'], outputs: ['logits'], attrs: { beta: 0.25 } },
      ],
      initializers: [weights('w1', [130, 75], 70, 0.2), weights('b1', [130], 71), weights('w2', [130, 130], 72, 0.1), weights('w3', [130, 5], 73, 0.2), weights('b3', [5], 74)],
    };
    await check(g, [2, 3, 5, 5]);
  });
});
