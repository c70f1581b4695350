// Reads an .onnx file into plain objects: size-checked before reading, decoded by protobufjs with the
// schema in schema.ts, every failure one line naming the file. Nothing in the file is trusted here:
// convert.ts checks names, shapes and sizes as it meets them.
import * as fs from 'node:fs';
import { fileError } from '../../errors';
import { onnxRoot, type OnnxModelProto } from './schema';

/** Largest .onnx file read (weights inside the protobuf; bigger models keep them in external data files). */
export const MAX_ONNX_BYTES = 2 * 1024 ** 3 - 1;

export function readOnnxFile(file: string): OnnxModelProto {
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch {
    throw fileError(file, 'no such file');
  }
  if (!st.isFile()) throw fileError(file, 'is not a regular file');
  if (st.size > MAX_ONNX_BYTES) throw fileError(file, `is ${(st.size / 1e9).toFixed(1)} GB; ONNX files over 2 GB keep their weights in external data files`);
  if (st.size === 0) throw fileError(file, 'is empty, not an ONNX model');
  return decodeOnnx(fs.readFileSync(file), file);
}

export function decodeOnnx(bytes: Uint8Array, file: string): OnnxModelProto {
  const Model = onnxRoot().lookupType('onnx.ModelProto');
  let obj: OnnxModelProto;
  try {
    const msg = Model.decode(bytes);
    obj = Model.toObject(msg, { longs: Number, bytes: Uint8Array as unknown as typeof String, defaults: false, arrays: true }) as OnnxModelProto;
  } catch (e) {
    if (e instanceof RangeError && /call stack/i.test(e.message)) throw fileError(file, 'not a valid ONNX file: its messages are nested too deeply');
    const why = (e as Error)?.message?.split('\n')[0] ?? String(e);
    throw fileError(file, `not a valid ONNX file (the protobuf does not decode: ${why})`);
  }
  if (!obj.graph || !Array.isArray(obj.graph.node) || obj.graph.node.length === 0) throw fileError(file, 'not an ONNX model: it has no graph nodes');
  return obj;
}
