// ONNX tensors (initializers, Constant nodes) as plain arrays: data in the protobuf or in an external
// data file inside the model's folder; declared sizes checked against the bytes before allocating.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileError } from '../../errors';
import { resolveInside } from '../loadModel';
import { DataType, type OnnxTensorProto } from './schema';

/** A constant: float data as Float32Array, integers and booleans exactly as Float64Array. */
export interface Const {
  shape: number[];
  data: Float32Array | Float64Array;
  int: boolean;
}

/** Largest constant the engine allocates (1 GB of floats; VGG16's largest weight has 103 M elements). */
const MAX_ELEMENTS = 2 ** 28;

const ELEM_BYTES: Record<number, number> = {
  [DataType.FLOAT]: 4, [DataType.UINT8]: 1, [DataType.INT8]: 1, [DataType.UINT16]: 2, [DataType.INT16]: 2, [DataType.INT32]: 4,
  [DataType.INT64]: 8, [DataType.BOOL]: 1, [DataType.FLOAT16]: 2, [DataType.DOUBLE]: 8, [DataType.UINT32]: 4, [DataType.UINT64]: 8,
};

export function elementCount(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

function half(bits: number): number {
  const s = bits & 0x8000 ? -1 : 1;
  const e = (bits >> 10) & 0x1f;
  const m = bits & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

/** Reads the little-endian raw bytes of a tensor of `n` elements. */
function fromRaw(raw: Uint8Array, type: number, n: number): Float32Array | Float64Array {
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  // Float data: one copy into an aligned buffer (every platform Node runs on is little-endian).
  if (type === DataType.FLOAT) {
    const copy = new Uint8Array(n * 4);
    copy.set(raw.subarray(0, n * 4));
    return new Float32Array(copy.buffer);
  }
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    switch (type) {
      case DataType.UINT8: case DataType.BOOL: out[i] = view.getUint8(i); break;
      case DataType.INT8: out[i] = view.getInt8(i); break;
      case DataType.UINT16: out[i] = view.getUint16(i * 2, true); break;
      case DataType.INT16: out[i] = view.getInt16(i * 2, true); break;
      case DataType.INT32: out[i] = view.getInt32(i * 4, true); break;
      case DataType.UINT32: out[i] = view.getUint32(i * 4, true); break;
      case DataType.INT64: out[i] = Number(view.getBigInt64(i * 8, true)); break;
      case DataType.UINT64: out[i] = Number(view.getBigUint64(i * 8, true)); break;
      case DataType.DOUBLE: out[i] = view.getFloat64(i * 8, true); break;
      case DataType.FLOAT16: out[i] = half(view.getUint16(i * 2, true)); break;
    }
  }
  return out;
}

/** Where an external tensor's bytes are: checked (inside the model's folder, within the file) but not read. */
function externalPlace(t: OnnxTensorProto, bytes: number, modelFile: string, what: string): { full: string; offset: number; length: number } {
  const kv = new Map((t.external_data ?? []).map((e) => [e.key ?? '', e.value ?? '']));
  const location = kv.get('location');
  if (!location) throw fileError(modelFile, `${what} is stored externally but names no location`);
  const full = resolveInside(path.dirname(modelFile), location, modelFile);
  const offset = kv.has('offset') ? Number(kv.get('offset')) : 0;
  const length = kv.has('length') ? Number(kv.get('length')) : bytes;
  if (!Number.isSafeInteger(offset) || offset < 0 || !Number.isSafeInteger(length) || length < 0) throw fileError(modelFile, `${what} has an invalid external offset or length`);
  if (length !== bytes) throw fileError(modelFile, `${what} declares ${length} external bytes but its shape needs ${bytes}`);
  const size = fs.statSync(full).size;
  if (offset + length > size) throw fileError(modelFile, `${what} reads bytes ${offset}..${offset + length} of '${location}', which has ${size}`);
  return { full, offset, length };
}

function readExternal(place: { full: string; offset: number; length: number }): Uint8Array {
  const buf = Buffer.alloc(place.length);
  const fd = fs.openSync(place.full, 'r');
  try {
    fs.readSync(fd, buf, 0, place.length, place.offset);
  } finally {
    fs.closeSync(fd);
  }
  return buf;
}

/**
 * A TensorProto checked (shape, type, declared sizes against the bytes, external data's place) without
 * reading its values; `read()` reads them (and refuses NaN and infinite floats). `what` names it in errors
 * ("initializer 'fc.weight'"). Initializers are checked when the file is opened and read when a node uses
 * them, so a large model's weights are not all held as constants and as layer weights at once.
 */
export function checkTensor(t: OnnxTensorProto, modelFile: string, what: string): { shape: number[]; bytes: number; read: () => Const } {
  const shape = (t.dims ?? []).map(Number);
  if (shape.some((d) => !Number.isSafeInteger(d) || d < 0)) throw fileError(modelFile, `${what} has an invalid shape [${shape.join(', ')}]`);
  const n = elementCount(shape);
  if (n > MAX_ELEMENTS) throw fileError(modelFile, `${what} declares ${n} elements, over the limit of ${MAX_ELEMENTS}`);
  const type = t.data_type ?? 0;
  const elem = ELEM_BYTES[type];
  if (elem === undefined) throw fileError(modelFile, `${what} has data type ${type}, which CNN Lens does not read (float, integer and bool tensors only)`);
  const int = type !== DataType.FLOAT && type !== DataType.DOUBLE && type !== DataType.FLOAT16;
  let values: () => Float32Array | Float64Array;
  if (t.data_location === 1 || (t.external_data && t.external_data.length > 0)) {
    const place = externalPlace(t, n * elem, modelFile, what);
    values = () => fromRaw(readExternal(place), type, n);
  } else if (t.raw_data && t.raw_data.length > 0) {
    if (t.raw_data.length !== n * elem) throw fileError(modelFile, `${what} holds ${t.raw_data.length} bytes but its shape [${shape.join(', ')}] needs ${n * elem}`);
    const raw = t.raw_data;
    values = () => fromRaw(raw, type, n);
  } else {
    const list = (type === DataType.FLOAT ? t.float_data : type === DataType.INT64 ? t.int64_data : type === DataType.DOUBLE ? t.double_data : type === DataType.UINT32 || type === DataType.UINT64 ? t.uint64_data : t.int32_data) ?? [];
    if (list.length !== n) throw fileError(modelFile, `${what} holds ${list.length} values but its shape [${shape.join(', ')}] needs ${n}`);
    values = () => (type === DataType.FLOAT16 ? Float64Array.from(list, (b) => half(Number(b))) : type === DataType.FLOAT ? Float32Array.from(list) : Float64Array.from(list.map(Number)));
  }
  const read = (): Const => {
    let data = values();
    if (!int) {
      for (let i = 0; i < data.length; i++) if (!Number.isFinite(data[i])) throw fileError(modelFile, `${what} holds ${Number.isNaN(data[i]) ? 'NaN' : 'infinite'} values (a corrupt file?)`);
      if (!(data instanceof Float32Array)) data = Float32Array.from(data);
    }
    return { shape, data, int };
  };
  return { shape, bytes: n * 4, read };
}

/** A TensorProto as a Const; `what` names it in errors ("initializer 'fc.weight'"). */
export function readTensor(t: OnnxTensorProto, modelFile: string, what: string): Const {
  return checkTensor(t, modelFile, what).read();
}
