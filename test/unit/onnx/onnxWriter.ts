// A minimal ONNX writer for tests: graphs built in code, encoded with protobufjs (onnxruntime-node reads
// the same bytes independently, so a wrong field number in the engine's schema fails the comparison).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { onnxRoot } from '../../../src/engine/model/onnx/schema';
import { makeRng } from '../../../src/engine/random';

export type AttrValue = number | number[] | string | { float: number } | { floats: number[] } | { tensor: TensorSpec };

export interface TensorSpec {
  name?: string;
  dims: number[];
  /** 1 float (default), 7 int64. */
  type?: number;
  values: ArrayLike<number>;
}

export interface NodeSpec {
  op: string;
  inputs: string[];
  outputs: string[];
  name?: string;
  attrs?: Record<string, AttrValue>;
}

export interface GraphSpec {
  input: { name: string; dims: (number | string)[] };
  outputs: { name: string; dims?: (number | string)[] }[];
  nodes: NodeSpec[];
  initializers?: TensorSpec[];
  opset?: number;
  metadata?: Record<string, string>;
  /** producer_name (default 'cnn-lens-tests'). */
  producer?: string;
}

function tensorProto(t: TensorSpec): Record<string, unknown> {
  const type = t.type ?? 1;
  const out: Record<string, unknown> = { name: t.name ?? '', dims: t.dims, data_type: type };
  if (type === 1) out.raw_data = new Uint8Array(Float32Array.from(t.values).buffer);
  else out.int64_data = Array.from(t.values);
  return out;
}

function attribute(name: string, v: AttrValue): Record<string, unknown> {
  if (typeof v === 'number') return Number.isInteger(v) ? { name, type: 2, i: v } : { name, type: 1, f: v };
  if (typeof v === 'string') return { name, type: 3, s: new TextEncoder().encode(v) };
  if (Array.isArray(v)) return { name, type: 7, ints: v };
  if ('float' in v) return { name, type: 1, f: v.float };
  if ('floats' in v) return { name, type: 6, floats: v.floats };
  return { name, type: 4, t: tensorProto(v.tensor) };
}

function valueInfo(name: string, dims?: (number | string)[]): Record<string, unknown> {
  return { name, type: { tensor_type: { elem_type: 1, shape: dims ? { dim: dims.map((d) => (typeof d === 'number' ? { dim_value: d } : { dim_param: d })) } : undefined } } };
}

export function encodeModel(g: GraphSpec): Uint8Array {
  const Model = onnxRoot().lookupType('onnx.ModelProto');
  const msg = Model.fromObject({
    ir_version: 8,
    producer_name: g.producer ?? 'cnn-lens-tests',
    opset_import: [{ domain: '', version: g.opset ?? 13 }],
    metadata_props: Object.entries(g.metadata ?? {}).map(([key, value]) => ({ key, value })),
    graph: {
      name: 'test',
      node: g.nodes.map((n, i) => ({ name: n.name ?? `${n.op}_${i}`, op_type: n.op, input: n.inputs, output: n.outputs, attribute: Object.entries(n.attrs ?? {}).map(([k, v]) => attribute(k, v)) })),
      initializer: (g.initializers ?? []).map(tensorProto),
      input: [valueInfo(g.input.name, g.input.dims)],
      output: g.outputs.map((o) => valueInfo(o.name, o.dims)),
    },
  });
  return Model.encode(msg).finish();
}

/** Writes the model to a fresh temporary folder and returns the file's path. */
export function writeModel(g: GraphSpec, name = 'model.onnx'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cnn-lens-onnx-'));
  const file = path.join(dir, name);
  fs.writeFileSync(file, encodeModel(g));
  return file;
}

/** Seeded weights in [-scale, scale]. */
export function weights(name: string, dims: number[], seed: number, scale = 0.5): TensorSpec {
  const rng = makeRng(seed);
  const n = dims.reduce((a, b) => a * b, 1);
  return { name, dims, values: Float32Array.from({ length: n }, () => (rng() * 2 - 1) * scale) };
}

export function ints(name: string, values: number[], dims = [values.length]): TensorSpec {
  return { name, dims, type: 7, values };
}
