// Turns a decoded ONNX model into a tfjs layers model over an NHWC image input: constants folded at load
// time, each operator mapped to a Keras layer where one exists (so the engine's fused kernels, folded
// batch norms, gradients, CAM head and layer kinds apply) or to an OnnxLayer. Every node is run once on a
// 1-image sample as it is converted, which gives every output shape without shape inference of our own.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { fileError, shownName } from '../../errors';
import { Attrs, type CustomSpec, type Live, type NodeCtx, type OpConverter, type Val } from './context';
import { foldConstant } from './fold';
import { imageInputLayout, type InputLayout } from '../inputLayout';
import { onnxShape } from './layout';
import { OnnxLayer } from './onnxLayer';
import { convertActivation } from './ops/activation';
import { convertConv } from './ops/conv';
import { convertGemm, convertMatMul } from './ops/dense';
import { BINARY_OPS, convertBinary, convertUnary, UNARY_OPS } from './ops/elementwise';
import { convertConvTranspose } from './ops/convTranspose';
import { convertBatchNorm, convertInstanceNorm, convertLayerNorm, convertLrn } from './ops/norm';
import { convertGlobalPool, convertPool } from './ops/pool';
import { convertShapeOp } from './ops/shape';
import type { OnnxModelProto, OnnxNode, OnnxValueInfo } from './schema';
import { checkTensor, readTensor, type Const } from './tensors';

const CONVERTERS: Record<string, OpConverter> = {
  Conv: convertConv,
  MaxPool: convertPool,
  AveragePool: convertPool,
  GlobalAveragePool: convertGlobalPool,
  GlobalMaxPool: convertGlobalPool,
  Gemm: convertGemm,
  MatMul: convertMatMul,
  BatchNormalization: convertBatchNorm,
  LayerNormalization: convertLayerNorm,
  InstanceNormalization: convertInstanceNorm,
  LRN: convertLrn,
  ConvTranspose: convertConvTranspose,
};
for (const op of ['Relu', 'Clip', 'LeakyRelu', 'Elu', 'Selu', 'Sigmoid', 'Tanh', 'HardSigmoid', 'HardSwish', 'Softplus', 'Mish', 'Gelu', 'PRelu', 'Softmax', 'LogSoftmax']) CONVERTERS[op] = convertActivation;
for (const op of BINARY_OPS) CONVERTERS[op] = convertBinary;
for (const op of UNARY_OPS) CONVERTERS[op] = convertUnary;
for (const op of ['Identity', 'Dropout', 'Cast', 'Flatten', 'Reshape', 'Transpose', 'Squeeze', 'Unsqueeze', 'Concat', 'Split', 'Slice', 'Pad', 'Gather', 'ReduceMean', 'ReduceSum', 'ReduceMax', 'ReduceMin']) CONVERTERS[op] = convertShapeOp;

/** Operators that run subgraphs: refused before any conversion. */
const CONTROL_FLOW = new Set(['If', 'Loop', 'Scan']);

/** The operators CNN Lens converts (for messages and the README). */
export const SUPPORTED_OPS = [...Object.keys(CONVERTERS), 'Constant', 'Shape', 'ConstantOfShape', 'Range', 'Expand', 'Where', 'Equal'].sort();

/** Most nodes a graph may have (real classifiers have hundreds to a few thousand). */
const MAX_NODES = 100_000;

export interface ImageInput {
  name: string;
  /** [H, W, C] of the image. */
  height: number;
  width: number;
  channels: number;
  /** How the file's input holds the image (inputLayout.ts: the rule every format shares). */
  layout: InputLayout;
  /**
   * The batch size the input fixes (over 1; torch.onnx.export without dynamic axes keeps the traced batch), or
   * null. The converted model takes any batch: a Reshape to [that size, …] reshapes each image, and a node that
   * would mix the images of the batch is refused.
   */
  fixedBatch: number | null;
}

export interface Converted {
  model: tfl.LayersModel;
  input: ImageInput;
  weightBytes: number;
  opset: number;
}

function sanitize(name: string): string {
  const s = name.replace(/[^-A-Za-z0-9._/]/g, '_').replace(/^[^A-Za-z0-9]+/, '');
  return s.length ? s : 'node';
}

function dimsOf(v: OnnxValueInfo): (number | string | null)[] | null {
  const dims = v.type?.tensor_type?.shape?.dim;
  if (!dims) return null;
  return dims.map((d) => (d.dim_value !== undefined && Number(d.dim_value) > 0 ? Number(d.dim_value) : d.dim_param ?? null));
}

/** The image input: its layout and size (symbolic sizes from `size`, else 224×224). */
export function imageInput(file: string, graphInput: OnnxValueInfo, size?: [number, number]): ImageInput {
  const name = graphInput.name ?? '';
  const dims = dimsOf(graphInput);
  if (!dims) throw fileError(file, `input '${shownName(name)}' has no shape`);
  const fixed = (d: number | string | null) => (typeof d === 'number' ? d : null);
  const [h, w] = size ?? [224, 224];
  // A symbolic height and width take the given size; which axes they are follows from the channel axis.
  let shape = dims.map(fixed);
  if (dims.length === 4 && fixed(dims[1]) !== null && fixed(dims[2]) === null && fixed(dims[3]) === null) shape = [null, fixed(dims[1]), h, w];
  else if (dims.length === 4 && fixed(dims[3]) !== null && fixed(dims[1]) === null && fixed(dims[2]) === null) shape = [null, h, w, fixed(dims[3])];
  else if (dims.length === 3 && fixed(dims[1]) === null && fixed(dims[2]) === null) shape = [null, h, w];
  else if (size && dims.length >= 3) throw fileError(file, `input '${shownName(name)}' has a fixed size [${shownName(dims.join(', '))}]; a size of ${size.join('×')} does not apply`);
  const inp = imageInputLayout(shape, file);
  if (inp.layout === 'NHWC' && inp.channels === 4) throw fileError(file, `input '${shownName(name)}' has shape [${shownName(dims.join(', '))}]: 4 channels last; ONNX image models take 1 or 3 channels`);
  const batch = dims.length > 0 ? fixed(dims[0]) : null;
  return { name, height: inp.height, width: inp.width, channels: inp.channels, layout: inp.layout, fixedBatch: batch !== null && batch > 1 ? batch : null };
}

export function convertOnnx(file: string, proto: OnnxModelProto, size?: [number, number]): Converted {
  const graph = proto.graph!;
  const opset = Number((proto.opset_import ?? []).find((o) => !o.domain || o.domain === 'ai.onnx')?.version ?? 13);
  const nodes = graph.node ?? [];
  if (nodes.length > MAX_NODES) throw fileError(file, `the graph has ${nodes.length} nodes, over the limit of ${MAX_NODES}`);
  const values = new Map<string, Val>();
  let weightBytes = 0;
  for (const init of graph.initializer ?? []) {
    const name = init.name ?? '';
    const checked = checkTensor(init, file, `initializer '${shownName(name)}'`);
    weightBytes += checked.bytes;
    if (weightBytes > 4 * 1024 ** 3) throw fileError(file, 'its weights would need over 4 GB');
    // Read when a node first uses it (and dropped after its last use, below).
    let c: Const | undefined;
    values.set(name, {
      kind: 'const',
      get c() {
        return (c ??= checked.read());
      },
    });
  }
  const inputs = (graph.input ?? []).filter((i) => !values.has(i.name ?? ''));
  if (inputs.length !== 1) throw fileError(file, `the model has ${inputs.length} inputs (${shownName(inputs.map((i) => i.name).join(', '))}); CNN Lens explains image models with one input`);
  const input = imageInput(file, inputs[0], size);
  const usedNames = new Set<string>();
  const unique = (base: string) => {
    let n = sanitize(base);
    for (let i = 2; usedNames.has(n); i++) n = `${sanitize(base)}_${i}`;
    usedNames.add(n);
    return n;
  };

  // Uses of each value, to free samples once their last consumer is converted.
  const uses = new Map<string, number>();
  for (const n of nodes) for (const i of n.input ?? []) if (i) uses.set(i, (uses.get(i) ?? 0) + 1);
  for (const o of graph.output ?? []) uses.set(o.name ?? '', (uses.get(o.name ?? '') ?? 0) + 1);

  // [N, H, W] inputs (no channel axis) stay 3-D and [N, s²] ones 2-D: the engine's network reshapes images to
  // them (inputLayout.ts).
  const inShape = input.layout === 'HW' ? [input.height, input.width] : input.layout === 'FLAT' ? [input.height * input.width] : [input.height, input.width, input.channels];
  const symIn = tfl.input({ shape: inShape, name: unique(input.name || 'input') });
  const nhwcDirect = input.layout === 'NHWC' && nhwcTransposedFirst();
  const sampleIn = tf.zeros([1, ...inShape]);
  const kept = new Set<tf.Tensor>([sampleIn]);
  const sampleUses = new Map<tf.Tensor, number>();
  const release = (t: tf.Tensor) => {
    if (kept.delete(t)) t.dispose();
  };
  try {
    let imageVal: Live = { kind: 'live', sym: symIn, sample: sampleIn };
    if (input.layout === 'NHWC' && !nhwcDirect) {
      // The ONNX value is [N, H, W, C]; as a rank-4 value the engine keeps it transposed by [0, 2, 3, 1], which shows
      // as W×C×H in the layer list (only graphs that compute on the NHWC image before transposing it get here).
      const layer = new OnnxLayer({ name: unique(`${input.name}_layout`), className: 'OnnxInputLayout', kind: 'reshape', outShapes: [[input.width, input.channels, input.height]], consts: [], fn: ([x]) => [tf.transpose(x, [0, 2, 3, 1])] });
      const sample = tf.transpose(sampleIn, [0, 2, 3, 1]);
      kept.add(sample);
      imageVal = { kind: 'live', sym: layer.apply(symIn) as tfl.SymbolicTensor, sample };
    }
    values.set(input.name, imageVal);
    sampleUses.set(imageVal.sample, uses.get(input.name) ?? 0);

    // Control flow fails later at a node it feeds, under a misleading problem: name the If/Loop/Scan itself
    // (PyTorch's nn.LocalResponseNorm, for one, exports with an If).
    const flow = nodes.findIndex((n) => CONTROL_FLOW.has(n.op_type ?? '') && (!n.domain || n.domain === 'ai.onnx'));
    if (flow >= 0) {
      const n = nodes[flow];
      throw fileError(file, `node '${shownName(n.name || n.output?.[0] || String(flow))}' (${shownName(n.op_type ?? '')}): control flow is not supported: CNN Lens converts feed-forward graphs (PyTorch's nn.LocalResponseNorm exports with an If; the ONNX LRN operator itself is supported)`);
    }
    nodes.forEach((node, index) => convertNode(node, index));

    const outs = (graph.output ?? []).map((o) => {
      const v = values.get(o.name ?? '');
      if (!v) throw fileError(file, `graph output '${shownName(o.name ?? '')}' is computed by no node`);
      if (v.kind !== 'live') throw fileError(file, `graph output '${shownName(o.name ?? '')}' is a constant, not computed from the image`);
      return v.sym;
    });
    if (outs.length === 0) throw fileError(file, 'the graph has no outputs');
    const model = tfl.model({ inputs: symIn, outputs: outs, name: sanitize(graph.name || 'onnx_model') });
    return { model, input, weightBytes, opset };
  } finally {
    for (const t of kept) t.dispose();
  }

  /**
   * Whether every reader of an NHWC image input is a Transpose to NCHW (perm [0, 3, 1, 2]: tf2onnx's first node, or
   * PyTorch's x.permute(0, 3, 1, 2)). Their output, an NCHW image, is in the engine's layout exactly the image
   * input itself, so they become the input layer: no transposes at run time, and no layer holding the image as
   * W×C×H (the engine's layout of an ONNX [N, H, W, C] value) in the layer list.
   */
  function nhwcTransposedFirst(): boolean {
    if ((graph.output ?? []).some((o) => o.name === input.name)) return false;
    const readers = nodes.filter((n) => (n.input ?? []).includes(input.name));
    return readers.length > 0 && readers.every(isNhwcToNchw);
  }

  function isNhwcToNchw(node: OnnxNode): boolean {
    const perm = new Attrs(node.attribute).ints('perm');
    return node.op_type === 'Transpose' && (!node.domain || node.domain === 'ai.onnx') && node.input?.length === 1 && node.input[0] === input.name && !!perm && perm.join() === '0,3,1,2';
  }

  function convertNode(node: OnnxNode, index: number): void {
    const op = node.op_type ?? '';
    const display = sanitize(node.name || node.output?.[0] || `${op}_${index}`);
    const fail = (problem: string): never => {
      throw fileError(file, `node '${shownName(node.name || node.output?.[0] || String(index))}' (${shownName(op) || 'no op type'}): ${problem}`);
    };
    if (node.domain && node.domain !== 'ai.onnx') fail(`operator domain '${shownName(node.domain)}' is not supported (standard ONNX operators only)`);
    const ins: (Val | null)[] = (node.input ?? []).map((name) => {
      if (!name) return null;
      const v = values.get(name);
      if (!v) return fail(`input '${shownName(name)}' is computed by no earlier node (the graph is cyclic or not in order)`);
      return v;
    });
    const outNames = (node.output ?? []).filter((o) => o);
    if (outNames.length === 0) fail('has no outputs');
    // Every supported operator but Constant reads at least one input (found by fuzzing: a Concat of nothing).
    if (op !== 'Constant' && !ins.some((v) => v)) fail('has no inputs');
    const attrs = new Attrs(node.attribute);
    let results: Val[];
    if (nhwcDirect && isNhwcToNchw(node)) {
      results = [ins[0]!];
    } else if (op === 'Constant') {
      const t = attrs.t('value');
      const f = attrs.floats('value_floats') ?? (attrs.has('value_float') ? [attrs.f('value_float', 0)] : undefined);
      const i = attrs.ints('value_ints') ?? (attrs.has('value_int') ? [attrs.i('value_int', 0)] : undefined);
      let c: Const;
      if (t) c = readTensor(t, file, `the value of node '${display}'`);
      else if (f) c = { shape: attrs.has('value_float') ? [] : [f.length], data: Float32Array.from(f), int: false };
      else if (i) c = { shape: attrs.has('value_int') ? [] : [i.length], data: Float64Array.from(i), int: true };
      else return void fail('has no value');
      results = [{ kind: 'const', c }];
    } else if (op === 'Shape' && ins[0]?.kind === 'live') {
      const s = onnxShape((ins[0] as Live).sample.shape);
      s[0] = NaN; // the batch size is known only when the model runs
      results = [{ kind: 'const', c: { shape: [s.length], data: Float64Array.from(s), int: true } }];
      const start = attrs.i('start', 0);
      if (start !== 0 || attrs.has('end')) {
        const st = start < 0 ? start + s.length : start;
        const en = attrs.has('end') ? (attrs.i('end', s.length) < 0 ? attrs.i('end', s.length) + s.length : attrs.i('end', s.length)) : s.length;
        const dims = s.slice(st, en);
        results = [{ kind: 'const', c: { shape: [dims.length], data: Float64Array.from(dims), int: true } }];
      }
    } else if (ins.length > 0 && ins.every((v) => !v || v.kind === 'const') && ins.some((v) => v)) {
      let folded: Const[] | null;
      try {
        folded = foldConstant(op, ins.map((v) => (v ? (v as { c: Const }).c : null)), attrs, opset);
      } catch (e) {
        if ((e as Error)?.name === 'LensError') throw e;
        return void fail(`cannot fold its constant inputs: ${(e as Error).message}`);
      }
      if (!folded) fail(Object.prototype.hasOwnProperty.call(CONVERTERS, op) ? 'all its inputs are constants, which CNN Lens does not compute for this operator' : unsupported(op));
      results = folded!.map((cc) => ({ kind: 'const', c: cc }));
    } else {
      const conv = Object.prototype.hasOwnProperty.call(CONVERTERS, op) ? CONVERTERS[op] : undefined;
      if (!conv) return void fail(unsupported(op));
      const ctx = makeCtx(node, op, display, attrs, ins, fail);
      try {
        let out: Val[] = [];
        tf.tidy(() => {
          out = conv(ctx);
          return out.filter((v): v is Live => v.kind === 'live').flatMap((v) => (v.flat ? [v.sample, v.flat.sample] : [v.sample]));
        });
        results = out;
      } catch (e) {
        if ((e as Error)?.name === 'LensError') throw e;
        const msg = (e as Error)?.message?.split('\n')[0] ?? String(e);
        if (/memory access out of bounds|Invalid typed array length|Array buffer allocation failed|out of memory/i.test(msg)) return void fail('its output would be too large to allocate');
        return void fail(`cannot convert it: ${shownName(msg)}`);
      }
      for (const v of results) {
        if (v.kind !== 'live') continue;
        kept.add(v.sample);
        // One image in, one row out: a node that broadcasts the image against a batch-sized constant (an Expand to
        // the fixed batch, an Add of an [8, …] constant) gives more rows and cannot run on one image.
        if (v.sample.shape[0] !== 1) {
          fail(input.fixedBatch ? `its output has ${v.sample.shape[0]} rows for one image: the graph computes across the images of its fixed batch of ${input.fixedBatch}, so it cannot run on one image` : `its output has ${v.sample.shape[0]} rows for one image (it mixes the batch axis with a constant)`);
        }
        if (v.flat) {
          kept.add(v.flat.sample);
          // Read through its [N, 1, 1, C] twin: freed with the last reader of either.
          sampleUses.set(v.flat.sample, (sampleUses.get(v.flat.sample) ?? 0) + 1);
        }
      }
    }
    if (results.length < outNames.length) fail(`gives ${results.length} outputs, the graph uses ${outNames.length}`);
    (node.output ?? []).forEach((name, i) => {
      if (name) values.set(name, results[i]);
    });
    for (const name of outNames) {
      const v = values.get(name);
      if (v?.kind === 'live') sampleUses.set(v.sample, (sampleUses.get(v.sample) ?? 0) + (uses.get(name) ?? 0));
    }
    // Free the samples and constants nothing later reads (a VGG's weights would otherwise stay in memory
    // twice, as constants and as the layers' tensors, until the whole graph is converted).
    for (const name of node.input ?? []) {
      const v = name ? values.get(name) : undefined;
      if (v?.kind === 'const') {
        const left = (uses.get(name) ?? 1) - 1;
        uses.set(name, left);
        if (left <= 0) values.delete(name);
      }
      if (v?.kind !== 'live') continue;
      const left = (sampleUses.get(v.sample) ?? 1) - 1;
      sampleUses.set(v.sample, left);
      if (left <= 0) release(v.sample);
    }
  }

  function makeCtx(node: OnnxNode, op: string, display: string, attrs: Attrs, ins: (Val | null)[], fail: (p: string) => never): NodeCtx {
    const ctx: NodeCtx = {
      file,
      node,
      op,
      name: display,
      opset,
      fixedBatch: input.fixedBatch,
      attrs,
      inputs: ins,
      fail,
      live(k) {
        const v = ins[k];
        if (!v) return fail(`input ${k} is missing`);
        if (v.kind !== 'live') return fail(`input ${k} is a constant where an image-dependent value is expected`);
        return v;
      },
      konst(k, what) {
        const v = ins[k];
        if (!v) return null;
        if (v.kind !== 'const') return fail(`${what} depends on the image; only constant ${what} is supported`);
        return v.c;
      },
      layerName(suffix = '') {
        return unique(display + suffix);
      },
      keras(layer, inputs) {
        const sym = layer.apply(inputs.length === 1 ? inputs[0].sym : inputs.map((i) => i.sym)) as tfl.SymbolicTensor;
        const sample = layer.apply(inputs.length === 1 ? inputs[0].sample : inputs.map((i) => i.sample)) as tf.Tensor;
        return [{ kind: 'live', sym, sample }];
      },
      custom(spec: CustomSpec, inputs: Live[], suffix = '') {
        const consts = (spec.consts ?? []).map((t) => tf.keep(t));
        const samples = tf.tidy(() => spec.fn(inputs.map((i) => i.sample), consts));
        const layer = new OnnxLayer({
          name: unique(display + suffix),
          className: spec.className ?? `Onnx${op}`,
          kind: spec.kind,
          outShapes: samples.map((s) => s.shape.slice(1)),
          consts,
          fn: spec.fn,
          kernelIndex: spec.kernelIndex,
          region: spec.region,
        });
        const sym = layer.apply(inputs.length === 1 ? inputs[0].sym : inputs.map((i) => i.sym));
        const syms = Array.isArray(sym) ? (sym as tfl.SymbolicTensor[]) : [sym as tfl.SymbolicTensor];
        return syms.map((s, i) => ({ kind: 'live' as const, sym: s, sample: samples[i] }));
      },
    };
    return ctx;
  }
}

function unsupported(op: string): string {
  return `operator '${shownName(op)}' is not supported (CNN Lens converts the operators of image classifiers; the README's Model formats section lists them)`;
}
