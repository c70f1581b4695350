// Mutations for the fuzzer. Every mutation is plain data (an Op), chosen with a seeded random generator by
// looking at the current files, then applied by applyOp. Recording ops as data lets a failing case be replayed
// exactly and shrunk by dropping ops (an op that no longer fits the files is skipped, not an error).
import { unzipSync, zipSync } from 'fflate';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { onnxRoot } from '../../src/engine/model/onnx/schema';
import { crc32 } from '../../test/unit/image/helpers';

export type Rng = () => number;
export type Files = Map<string, Uint8Array>;

export type BytesOp =
  | { t: 'flip'; file: string; pos: number; bit: number }
  | { t: 'setByte'; file: string; pos: number; value: number }
  | { t: 'setInt'; file: string; pos: number; value: number; size: 2 | 4; little: boolean }
  | { t: 'setFloat'; file: string; pos: number; value: number }
  | { t: 'insert'; file: string; pos: number; bytes: number[] }
  | { t: 'delete'; file: string; pos: number; len: number }
  | { t: 'dupe'; file: string; pos: number; len: number; at: number }
  | { t: 'truncate'; file: string; len: number }
  | { t: 'extend'; file: string; len: number; fill: number };

export type JsonPath = (string | number)[];
export type JsonOp =
  | { t: 'jdelete'; file: string; member?: string; path: JsonPath }
  | { t: 'jset'; file: string; member?: string; path: JsonPath; value: unknown }
  | { t: 'jcopy'; file: string; member?: string; from: JsonPath; to: JsonPath }
  | { t: 'jdupe'; file: string; member?: string; path: JsonPath; at: number }
  | { t: 'jswap'; file: string; member?: string; path: JsonPath; i: number; j: number };

export type Op =
  | BytesOp
  | JsonOp
  /** Zip members of a .keras archive: rename, drop, or mutate a member's bytes (inner op on member). */
  | { t: 'zrename'; file: string; member: string; to: string }
  | { t: 'zdrop'; file: string; member: string }
  | { t: 'zbytes'; file: string; member: string; op: BytesOp }
  /** Whole files: delete, or rename (the manifest keeps the old name). */
  | { t: 'rm'; file: string }
  | { t: 'mv'; file: string; to: string }
  /** `file` becomes a symbolic link to `to` (relative to the case folder: '../outside/…' leaves it). */
  | { t: 'symlink'; file: string; to: string }
  /** Recomputes the CRC of every PNG chunk, so that a header change reaches the decoder. */
  | { t: 'pngcrc'; file: string }
  /** An ONNX protobuf decoded to JSON (bytes as base64), changed by `op`, encoded again. */
  | { t: 'onnx'; file: string; op: JsonOp }
  /** An ONNX graph appended (merged into the model's by protobuf rules) whose node nests graphs `depth` deep. */
  | { t: 'onnxnest'; file: string; depth: number };

export const pick = <T>(rng: Rng, xs: readonly T[]): T => xs[Math.floor(rng() * xs.length)];
export const int = (rng: Rng, n: number): number => Math.floor(rng() * n);

const INTERESTING_INTS = [0, 1, 2, 3, 7, 8, 16, 255, 256, 0x7fff, 0x8000, 0xffff, 0x10000, 65535, 0x7fffffff, 0x80000000, 0xffffffff, 60000, 1 << 24];
const INTERESTING_FLOATS = [NaN, Infinity, -Infinity, 3.4e38, -3.4e38, 1e-45, 0, -0];

/** Values a JSON field may be set to: types swapped, extremes, paths out of the folder, URLs, dtypes, classes. */
export const INTERESTING_JSON: unknown[] = [
  null, true, false, 0, -1, 1, 2, 3, 0.5, -0.5, 2 ** 31, 2 ** 32, 2 ** 53, -(2 ** 53), 1e308, -1e308, 1e-308,
  '', 'NaN', 'Infinity', '-Infinity', '1e400', '..', '../weights.bin', '../../../../etc/passwd', '/etc/passwd', 'C:\\Windows\\win.ini',
  'http://127.0.0.1:9/w.bin', 'https://example.invalid/w.bin', 'file:///etc/passwd', 'data:application/octet-stream;base64,AAAA',
  'w.bin%2F..%2F..%2Fx', '%2e%2e/x.bin', 'sub/../w.bin', '\u0000', 'x'.repeat(5000),
  [], {}, [[]], [null], [1e9, 1e9], [-1], [0], [65536, 65536, 3], [null, 8192, 8192, 3], [null, 0, 0, 3], [null, 1, 1, 4096],
  'float64', 'int64', 'string', 'complex64', 'bool', 'uint8', 'float16', 'int32', 'bfloat16',
  'Conv2D', 'Dense', 'Lambda', 'Model', 'Functional', 'Sequential', 'InputLayer', 'TFOpLambda', 'NoSuchLayer', '__proto__', 'constructor',
  { class_name: 'Lambda', config: { name: 'lam' } }, { __proto__: null, polluted: 1 },
  // ONNX: op types (supported, unsupported, control flow), data types, locations of external data.
  'Conv', 'Reshape', 'Transpose', 'Gemm', 'Loop', 'If', 'Scan', 'NoSuchOp', 'com.microsoft', 'ai.onnx.ml', 'weights.bin', 'model.onnx',
  [{ key: 'location', value: '../weights.bin' }], [{ key: 'location', value: 'weights.bin' }, { key: 'offset', value: '-4' }], [{ key: 'location', value: 'weights.bin' }, { key: 'length', value: '99999999999' }],
  [2 ** 31, 2 ** 31], [1, 1e9, 1e9, 3], [-1, 3, 224, 224], [0, 0, 0, 0], 8, 9, 10, 11, 16, 17,
];

const NAMES_FOR_MEMBERS = ['../config.json', '/config.json', 'C:/model.weights.h5', 'a/../../model.weights.h5', '..\\..\\x', 'config.json ', 'Config.json', 'model.weights.npz', 'model.weights.h5/', 'dir/config.json', 'x'.repeat(300)];

// ───────────────────────── applying ─────────────────────────

function bytesOf(files: Files, file: string): Uint8Array | undefined {
  return files.get(file);
}

export function applyBytesOp(b: Uint8Array, op: BytesOp): Uint8Array {
  const n = b.length;
  switch (op.t) {
    case 'flip': {
      if (op.pos >= n) return b;
      const c = b.slice();
      c[op.pos] ^= 1 << op.bit;
      return c;
    }
    case 'setByte': {
      if (op.pos >= n) return b;
      const c = b.slice();
      c[op.pos] = op.value;
      return c;
    }
    case 'setInt': {
      if (op.pos + op.size > n) return b;
      const c = b.slice();
      const dv = new DataView(c.buffer, c.byteOffset, c.byteLength);
      if (op.size === 2) dv.setUint16(op.pos, op.value & 0xffff, op.little);
      else dv.setUint32(op.pos, op.value >>> 0, op.little);
      return c;
    }
    case 'setFloat': {
      if (op.pos + 4 > n) return b;
      const c = b.slice();
      new DataView(c.buffer, c.byteOffset, c.byteLength).setFloat32(op.pos, op.value, true);
      return c;
    }
    case 'insert': {
      const p = Math.min(op.pos, n);
      const c = new Uint8Array(n + op.bytes.length);
      c.set(b.subarray(0, p));
      c.set(op.bytes, p);
      c.set(b.subarray(p), p + op.bytes.length);
      return c;
    }
    case 'delete': {
      if (op.pos >= n) return b;
      const c = new Uint8Array(n - Math.min(op.len, n - op.pos));
      c.set(b.subarray(0, op.pos));
      c.set(b.subarray(op.pos + op.len), op.pos);
      return c;
    }
    case 'dupe': {
      if (op.pos >= n) return b;
      const chunk = b.slice(op.pos, op.pos + op.len);
      return applyBytesOp(b, { t: 'insert', file: op.file, pos: op.at, bytes: Array.from(chunk) });
    }
    case 'truncate':
      return op.len < n ? b.slice(0, op.len) : b;
    case 'extend': {
      const c = new Uint8Array(n + op.len);
      c.set(b);
      c.fill(op.fill, n);
      return c;
    }
  }
}

function getAt(root: unknown, p: JsonPath): unknown {
  let cur: any = root;
  for (const k of p) {
    if (cur === null || typeof cur !== 'object' || !Object.prototype.hasOwnProperty.call(cur, k)) return undefined;
    cur = cur[k];
  }
  return cur;
}

/** Applies a JSON op to parsed JSON (in place when possible); returns the new root, or undefined when the op does not fit. */
function applyJson(root: any, op: JsonOp): any {
  const clone = (v: unknown) => (v === undefined ? undefined : JSON.parse(JSON.stringify(v)));
  const setAt = (p: JsonPath, value: unknown): any => {
    if (p.length === 0) return value;
    const parent = getAt(root, p.slice(0, -1)) as any;
    const k = p[p.length - 1];
    if (parent === null || typeof parent !== 'object' || !Object.prototype.hasOwnProperty.call(parent, k)) return undefined;
    parent[k] = value;
    return root;
  };
  switch (op.t) {
    case 'jdelete': {
      if (op.path.length === 0) return undefined;
      const parent = getAt(root, op.path.slice(0, -1)) as any;
      const k = op.path[op.path.length - 1];
      if (Array.isArray(parent) && typeof k === 'number' && k < parent.length) parent.splice(k, 1);
      else if (parent && typeof parent === 'object' && Object.prototype.hasOwnProperty.call(parent, k)) delete parent[k];
      else return undefined;
      return root;
    }
    case 'jset':
      return setAt(op.path, clone(op.value));
    case 'jcopy': {
      const v = getAt(root, op.from);
      if (v === undefined) return undefined;
      return setAt(op.to, clone(v));
    }
    case 'jdupe': {
      const arr = getAt(root, op.path);
      if (!Array.isArray(arr) || arr.length === 0) return undefined;
      arr.splice(op.at % (arr.length + 1), 0, clone(arr[op.at % arr.length]));
      return root;
    }
    case 'jswap': {
      const arr = getAt(root, op.path);
      if (!Array.isArray(arr) || op.i >= arr.length || op.j >= arr.length) return undefined;
      [arr[op.i], arr[op.j]] = [arr[op.j], arr[op.i]];
      return root;
    }
  }
}

const enc = new TextEncoder();
const dec = new TextDecoder();

function applyJsonToBytes(b: Uint8Array, op: JsonOp): Uint8Array | undefined {
  let root: unknown;
  try {
    root = JSON.parse(dec.decode(b));
  } catch {
    return undefined;
  }
  const out = applyJson(root, op);
  if (out === undefined) return undefined;
  return enc.encode(JSON.stringify(out));
}

/** The ONNX file as JSON and back (undefined when it does not decode or the changed object does not encode). */
function applyOnnxJson(b: Uint8Array, op: JsonOp): Uint8Array | undefined {
  const Model = onnxRoot().lookupType('onnx.ModelProto');
  try {
    const root = Model.toObject(Model.decode(b), { longs: Number, bytes: String, arrays: true });
    const out = applyJson(root, op);
    if (out === undefined) return undefined;
    return Model.encode(Model.fromObject(out)).finish();
  } catch {
    return undefined;
  }
}

/** The ONNX file as JSON, for choosing a mutation (undefined when it does not decode). */
export function onnxAsJson(b: Uint8Array): unknown {
  const Model = onnxRoot().lookupType('onnx.ModelProto');
  try {
    return Model.toObject(Model.decode(b), { longs: Number, bytes: String, arrays: true });
  } catch {
    return undefined;
  }
}

function fixPngCrcs(b: Uint8Array): Uint8Array {
  const c = b.slice();
  const dv = new DataView(c.buffer, c.byteOffset, c.byteLength);
  let p = 8;
  while (p + 12 <= c.length) {
    const len = dv.getUint32(p);
    if (p + 12 + len > c.length) break;
    dv.setUint32(p + 8 + len, crc32(c.subarray(p + 4, p + 8 + len)));
    p += 12 + len;
  }
  return c;
}

function rezip(b: Uint8Array, edit: (members: Record<string, Uint8Array>) => boolean): Uint8Array | undefined {
  let members: Record<string, Uint8Array>;
  try {
    members = unzipSync(b);
  } catch {
    return undefined;
  }
  if (!edit(members)) return undefined;
  return zipSync(members, { level: 0 });
}

/** Applies one op to the case's files (a new map; the input is not changed). Ops that do not fit change nothing. */
export function applyOp(files: Files, op: Op): Files {
  const out = new Map(files);
  const b = bytesOf(files, op.file);
  if (op.t === 'rm') {
    out.delete(op.file);
    return out;
  }
  if (op.t === 'symlink') {
    out.set(op.file, linkBytes(op.to));
    return out;
  }
  if (b === undefined) return out;
  let nb: Uint8Array | undefined;
  switch (op.t) {
    case 'mv':
      out.delete(op.file);
      out.set(op.to, b);
      return out;
    case 'pngcrc':
      nb = fixPngCrcs(b);
      break;
    case 'onnx':
      nb = applyOnnxJson(b, op.op);
      break;
    case 'onnxnest': {
      const tail = nestedGraphs(op.depth);
      nb = new Uint8Array(b.length + tail.length);
      nb.set(b);
      nb.set(tail, b.length);
      break;
    }
    case 'zrename':
      nb = rezip(b, (m) => {
        if (!(op.member in m)) return false;
        m[op.to] = m[op.member];
        delete m[op.member];
        return true;
      });
      break;
    case 'zdrop':
      nb = rezip(b, (m) => (op.member in m ? (delete m[op.member], true) : false));
      break;
    case 'zbytes':
      nb = rezip(b, (m) => {
        if (!(op.member in m)) return false;
        m[op.member] = applyBytesOp(m[op.member], op.op);
        return true;
      });
      break;
    case 'jdelete':
    case 'jset':
    case 'jcopy':
    case 'jdupe':
    case 'jswap':
      if (op.member) {
        nb = rezip(b, (m) => {
          const inner = m[op.member!] ? applyJsonToBytes(m[op.member!], op) : undefined;
          if (!inner) return false;
          m[op.member!] = inner;
          return true;
        });
      } else {
        nb = applyJsonToBytes(b, op);
      }
      break;
    default:
      nb = applyBytesOp(b, op);
  }
  if (nb) out.set(op.file, nb);
  return out;
}

export function applyOps(files: Files, ops: Op[]): Files {
  return ops.reduce(applyOp, files);
}

// ───────────────────────── symbolic links ─────────────────────────

/**
 * A symbolic link among a case's files: bytes that start with this marker name the link's target. A byte
 * mutation that breaks the marker turns the link into an ordinary (garbage) file, which is a case too.
 */
const LINK_MARKER = '\u0000fuzz-symlink\u0000';

/** The bytes that stand for a symbolic link to `to` among a case's files. */
export function linkBytes(to: string): Uint8Array {
  return enc.encode(LINK_MARKER + to);
}

/** The target of a file that stands for a symbolic link, or null for an ordinary file. */
export function linkTarget(b: Uint8Array): string | null {
  if (b.length < LINK_MARKER.length || b[0] !== 0) return null;
  const s = dec.decode(b);
  return s.startsWith(LINK_MARKER) ? s.slice(LINK_MARKER.length) : null;
}

/** Writes a case's files into `dir` (which exists and is empty): ordinary files, and links where ops made them. */
export function writeFiles(dir: string, files: Files): void {
  for (const [name, b] of files) {
    const to = linkTarget(b);
    try {
      if (to !== null) {
        fs.symlinkSync(to, path.join(dir, name));
        continue;
      }
    } catch {
      // a target that byte mutations made impossible (too long, a NUL inside): the bytes become a file
    }
    fs.writeFileSync(path.join(dir, name), b);
  }
}

/**
 * Folder name, beside a case's folder, of the decoy files that symbolic links and '../' paths lead to: good
 * copies of the seed's files (so a loader that followed the way out would load them without complaint) and a
 * labels file and metadata.json. The fuzzer's oracle fails a case whose loader opened anything there.
 */
export const OUTSIDE = 'outside';

// ───────────────────────── choosing ─────────────────────────

/** A random byte-level mutation of `b` (the bytes of `file`). */
export function randomBytesOp(rng: Rng, file: string, b: Uint8Array): BytesOp {
  const n = Math.max(1, b.length);
  // Positions near the start (headers) are picked more often: most formats put their sizes there.
  const pos = rng() < 0.5 ? int(rng, Math.min(n, 64)) : int(rng, n);
  switch (int(rng, 10)) {
    case 0:
    case 1:
      return { t: 'flip', file, pos, bit: int(rng, 8) };
    case 2:
      return { t: 'setByte', file, pos, value: pick(rng, [0, 1, 0x7f, 0x80, 0xfe, 0xff, int(rng, 256)]) };
    case 3:
      return { t: 'setInt', file, pos, value: pick(rng, INTERESTING_INTS), size: rng() < 0.5 ? 2 : 4, little: rng() < 0.5 };
    case 4:
      return { t: 'setFloat', file, pos: pos & ~3, value: pick(rng, INTERESTING_FLOATS) };
    case 5:
      return { t: 'insert', file, pos, bytes: Array.from({ length: 1 + int(rng, 16) }, () => (rng() < 0.5 ? 0xff : int(rng, 256))) };
    case 6:
      return { t: 'delete', file, pos, len: 1 + int(rng, Math.min(64, n)) };
    case 7:
      return { t: 'dupe', file, pos, len: 1 + int(rng, Math.min(256, n)), at: int(rng, n) };
    case 8:
      return { t: 'truncate', file, len: int(rng, n) };
    default:
      return { t: 'extend', file, len: 1 + int(rng, 4096), fill: pick(rng, [0, 0xff, 0x41]) };
  }
}

/** Every path in a JSON value, with its value. */
export function jsonPaths(root: unknown, limit = 20000): { path: JsonPath; value: unknown }[] {
  const out: { path: JsonPath; value: unknown }[] = [];
  const stack: { path: JsonPath; value: unknown }[] = [{ path: [], value: root }];
  while (stack.length && out.length < limit) {
    const e = stack.pop()!;
    out.push(e);
    if (Array.isArray(e.value)) e.value.forEach((v, i) => stack.push({ path: [...e.path, i], value: v }));
    else if (e.value && typeof e.value === 'object') for (const [k, v] of Object.entries(e.value)) stack.push({ path: [...e.path, k], value: v });
  }
  return out;
}

/** Keys whose values matter most to a model loader: mutated more often. */
const HOT_KEYS = /^(class_name|name|shape|batch_input_shape|batch_shape|input_shape|dtype|paths|weights|inbound_nodes|layers|config|units|filters|kernel_size|strides|pool_size|size|target_shape|axis|input_layers|output_layers|node|op|input|attr|tensorShape|dim|args|kwargs|keras_history|module|registered_name|build_config|groups|dilation_rate|padding|activation|data_format|rate|cropping|dims|n|depth_multiplier|op_type|data_type|raw_data|external_data|data_location|dim_value|dim_param|ints|i|f|output|initializer|opset_import|version|domain|metadata_props)$/;

/** A random structural mutation of a JSON document (a tfjs model.json, a Keras config). */
export function randomJsonOp(rng: Rng, file: string, root: unknown, member?: string): JsonOp {
  const all = jsonPaths(root);
  const hot = all.filter((e) => e.path.length > 0 && HOT_KEYS.test(String(e.path[e.path.length - 1])));
  const target = (hot.length && rng() < 0.6 ? pick(rng, hot) : pick(rng, all)).path;
  const strings = all.filter((e) => typeof e.value === 'string').map((e) => e.value as string);
  const base = { file, member };
  switch (int(rng, 9)) {
    case 0:
      return { ...base, t: 'jdelete', path: target };
    case 1:
    case 2:
      return { ...base, t: 'jset', path: target, value: pick(rng, INTERESTING_JSON) };
    case 3: {
      // Numbers pushed to extremes: sizes that need terabytes, zero, negatives, fractions.
      const nums = all.filter((e) => typeof e.value === 'number');
      if (!nums.length) return { ...base, t: 'jset', path: target, value: pick(rng, INTERESTING_JSON) };
      const e = pick(rng, nums);
      const v = e.value as number;
      const value = pick(rng, [v * 1000, v * 65536, v * 1e6, -v, v + 1, v - 1, 0, v / 3, 1e9, 2 ** 31 - 1, 2 ** 32 + v]);
      return { ...base, t: 'jset', path: e.path, value };
    }
    case 4:
      // A string set to another string of the document: duplicate names, references to other layers (cycles).
      if (strings.length) {
        const strs = all.filter((e) => typeof e.value === 'string');
        return { ...base, t: 'jset', path: pick(rng, strs).path, value: pick(rng, strings) };
      }
      return { ...base, t: 'jdelete', path: target };
    case 5: {
      // Splice: a subtree copied over another (a layer over a layer, a node list into another layer).
      const from = pick(rng, all).path;
      return { ...base, t: 'jcopy', from, to: target };
    }
    case 6: {
      const arrays = all.filter((e) => Array.isArray(e.value) && (e.value as unknown[]).length > 0);
      if (!arrays.length) return { ...base, t: 'jdelete', path: target };
      const a = pick(rng, arrays);
      return { ...base, t: 'jdupe', path: a.path, at: int(rng, (a.value as unknown[]).length + 1) };
    }
    case 7: {
      const arrays = all.filter((e) => Array.isArray(e.value) && (e.value as unknown[]).length > 1);
      if (!arrays.length) return { ...base, t: 'jdelete', path: target };
      const a = pick(rng, arrays);
      const n = (a.value as unknown[]).length;
      return { ...base, t: 'jswap', path: a.path, i: int(rng, n), j: int(rng, n) };
    }
    default: {
      // A layer's inbound reference pointed at a later layer (a cycle), or at itself.
      const refs = all.filter((e) => e.path.includes('inbound_nodes') && typeof e.value === 'string');
      const names = all.filter((e) => e.path[e.path.length - 1] === 'name' && typeof e.value === 'string').map((e) => e.value as string);
      if (refs.length && names.length) return { ...base, t: 'jset', path: pick(rng, refs).path, value: pick(rng, names) };
      return { ...base, t: 'jset', path: target, value: pick(rng, INTERESTING_JSON) };
    }
  }
}

/** A random mutation of a .keras zip: members renamed (also to '..' and absolute names), dropped, or mutated. */
export function randomZipOp(rng: Rng, file: string, b: Uint8Array): Op {
  let members: Record<string, Uint8Array>;
  try {
    members = unzipSync(b);
  } catch {
    return randomBytesOp(rng, file, b);
  }
  const names = Object.keys(members);
  if (!names.length) return randomBytesOp(rng, file, b);
  const r = rng();
  if (r < 0.1) return { t: 'zrename', file, member: pick(rng, names), to: pick(rng, NAMES_FOR_MEMBERS) };
  if (r < 0.15) return { t: 'zdrop', file, member: pick(rng, names) };
  if (r < 0.55 && members['config.json']) {
    try {
      return randomJsonOp(rng, file, JSON.parse(dec.decode(members['config.json'])), 'config.json');
    } catch {
      /* not JSON any more: mutate bytes */
    }
  }
  if (r < 0.6 && members['metadata.json']) return { t: 'zbytes', file, member: 'metadata.json', op: randomBytesOp(rng, file, members['metadata.json']) };
  if (r < 0.85 && members['model.weights.h5']) return { t: 'zbytes', file, member: 'model.weights.h5', op: randomBytesOp(rng, file, members['model.weights.h5']) };
  return randomBytesOp(rng, file, b);
}

/**
 * Header fields that hold an image's size, per format: where to write an inflated dimension. Where width and
 * height are adjacent 16-bit fields (JPEG SOF, GIF screen and frame), both are sometimes inflated at once: a
 * decompression bomb needs both.
 */
export function randomImageDimOp(rng: Rng, file: string, b: Uint8Array): Op | null {
  const big = pick(rng, [0, 1, 60000, 65535, 0x7fff, 0x10000, 0x3fff, 0xffffff, 0x7fffffff, 0xffffffff, 46341]);
  const both = rng() < 0.4;
  const pair = (v: number) => ((v & 0xffff) * 0x10000 + (v & 0xffff)) >>> 0;
  const a = (s: number, len: number) => String.fromCharCode(...b.subarray(s, s + len));
  if (b[0] === 0x89 && a(1, 3) === 'PNG') return { t: 'setInt', file, pos: pick(rng, [16, 20]), value: big, size: 4, little: false };
  if (b[0] === 0xff && b[1] === 0xd8) {
    // The SOF segment's height/width (any SOFn), found by scanning markers.
    const sofs: number[] = [];
    for (let i = 2; i + 8 < b.length; i++) if (b[i] === 0xff && b[i + 1] >= 0xc0 && b[i + 1] <= 0xcf && ![0xc4, 0xc8, 0xcc].includes(b[i + 1])) sofs.push(i);
    if (!sofs.length) return null;
    const sof = pick(rng, sofs);
    if (both) return { t: 'setInt', file, pos: sof + 5, value: pair(big), size: 4, little: false };
    return { t: 'setInt', file, pos: sof + pick(rng, [5, 7]), value: big, size: 2, little: false };
  }
  if (a(0, 3) === 'GIF') {
    // Logical screen (6, 8) or the first image descriptor's left/top (1, 3) and width/height (5, 7).
    const desc = b.indexOf(0x2c, 13);
    if (both) return { t: 'setInt', file, pos: desc > 0 && rng() < 0.7 ? desc + 5 : 6, value: pair(big), size: 4, little: true };
    const positions = [6, 8];
    if (desc > 0) positions.push(desc + 5, desc + 7, desc + 1, desc + 3);
    return { t: 'setInt', file, pos: pick(rng, positions), value: big, size: 2, little: true };
  }
  if (a(0, 2) === 'BM') return { t: 'setInt', file, pos: pick(rng, [18, 22, 10, 34, 46]), value: big, size: 4, little: true };
  if (a(0, 4) === 'RIFF') {
    const chunk = a(12, 4);
    if (chunk === 'VP8X') return { t: 'setInt', file, pos: pick(rng, [24, 27]), value: big & 0xffffff, size: 2, little: true };
    if (chunk === 'VP8 ') return { t: 'setInt', file, pos: pick(rng, [26, 28]), value: big, size: 2, little: true };
    if (chunk === 'VP8L') return { t: 'setInt', file, pos: 21, value: big, size: 4, little: true };
    return { t: 'setInt', file, pos: 4, value: big, size: 4, little: true };
  }
  return null;
}

// ───────────────────────── hostile ONNX files ─────────────────────────

/** One field of a protobuf message as found in the bytes: where its tag is, its wire type, where its payload is. */
interface PbField {
  tag: number;
  wire: number;
  /** For length-delimited fields: where the length varint starts, and the payload's range. */
  len?: number;
  start?: number;
  end?: number;
}

function readVarint(b: Uint8Array, p: number, end: number): { value: number; next: number } | null {
  let v = 0;
  for (let i = 0; i < 10 && p + i < end; i++) {
    v += (b[p + i] & 0x7f) * 2 ** (7 * i);
    if (!(b[p + i] & 0x80)) return { value: v, next: p + i + 1 };
  }
  return null;
}

/**
 * Every field of a protobuf message, and of the messages nested in its length-delimited fields (a payload
 * that parses to its end as fields is taken for a message). Bounded in depth and count: the seeds are small.
 */
export function protobufFields(b: Uint8Array, from = 0, to = b.length, depth = 0, out: PbField[] = []): PbField[] {
  const fields: PbField[] = [];
  let complete = true;
  for (let p = from; p < to; ) {
    const tag = readVarint(b, p, to);
    const f: PbField = { tag: p, wire: tag ? tag.value & 7 : -1 };
    let next = -1;
    if (tag && tag.value >= 8) {
      if (f.wire === 0) next = readVarint(b, tag.next, to)?.next ?? -1;
      else if (f.wire === 1) next = tag.next + 8;
      else if (f.wire === 5) next = tag.next + 4;
      else if (f.wire === 2) {
        const l = readVarint(b, tag.next, to);
        if (l) {
          f.len = tag.next;
          f.start = l.next;
          f.end = next = l.next + l.value;
        }
      }
    }
    if (next < 0 || next > to) {
      complete = false;
      break;
    }
    fields.push(f);
    p = next;
  }
  // A nested payload counts as a message only when it parses to its end; the file itself keeps what parsed.
  if (!complete && depth > 0) return out;
  for (const f of fields) {
    if (out.length > 20000) break;
    out.push(f);
    if (f.wire === 2 && depth < 12 && f.end! > f.start!) protobufFields(b, f.start!, f.end!, depth + 1, out);
  }
  return out;
}

function varint(n: number): number[] {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n % 0x80) | 0x80);
    n = Math.floor(n / 0x80);
  }
  out.push(n);
  return out;
}

/**
 * ModelProto field 7 (graph) holding a node whose attribute 'g' holds a graph whose node… `depth` levels
 * deep: a decoder that recurses per message runs out of stack. Built from the inside out by sizes, so that a
 * deep nest costs linear time.
 */
function nestedGraphs(depth: number): Uint8Array {
  const headers: number[][] = [];
  let inner = 0;
  for (let i = 0; i < depth; i++) {
    const attr = [0x0a, 0x01, 0x67, 0x32, ...varint(inner)]; // name "g", g = the graph inside
    const attrLen = attr.length + inner;
    const node = [0x2a, ...varint(attrLen)]; // NodeProto.attribute
    const nodeLen = node.length + attrLen;
    const graph = [0x0a, ...varint(nodeLen)]; // GraphProto.node
    headers.push([...graph, ...node, ...attr]);
    inner = graph.length + nodeLen;
  }
  const out: number[] = [0x3a, ...varint(inner)];
  for (let i = headers.length - 1; i >= 0; i--) for (const x of headers[i]) out.push(x);
  return Uint8Array.from(out);
}

/** Op types the engine does not run, and names that are not op types at all. */
const UNKNOWN_OPS = ['NoSuchOp', 'Loop', 'If', 'Scan', 'NonMaxSuppression', 'FancyAttention', '__proto__', 'constructor', 'hasOwnProperty', 'toString', '', 'Conv\u0000', 'conv', 'Relu ', 'x'.repeat(3000)];
/** Shapes no constant may have: more elements than memory, over 2^53, negative, fractional. */
const HUGE_DIMS: number[][] = [[2 ** 31, 2 ** 31], [1e9, 1e9, 3, 3], [2 ** 53], [2 ** 62], [65536, 65536, 3, 3], [-1, 3, 3, 3], [-4], [0.5, 8], [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]];
/** Where an external tensor may claim to live: up and out of the folder, absolute, a URL, encoded, odd names. */
const ESCAPES = [
  `../${OUTSIDE}/weights.bin`, `../../../../../../etc/passwd`, '/etc/passwd', '/dev/zero', '/proc/self/environ', 'http://127.0.0.1:9/weights.bin', 'https://example.invalid/w.bin',
  'file:///etc/passwd', `%2e%2e/${OUTSIDE}/weights.bin`, `..%2F${OUTSIDE}%2Fweights.bin`, `sub/../../${OUTSIDE}/weights.bin`, `.\\..\\${OUTSIDE}\\weights.bin`, 'C:\\Windows\\win.ini',
  '\\\\server\\share\\weights.bin', '.', '..', '', 'weights.bin\u0000.txt', 'link.bin', 'model.onnx', 'weights.bin/', ' weights.bin',
];

/**
 * A hostile change to an ONNX file aimed at what the issue names: cycles, unknown ops, huge declared tensors,
 * external data leading out of the folder (paths, URLs, symbolic links), wrong wire types, truncated fields,
 * graphs nested deeper than a recursive decoder's stack.
 * `json` is the file as decoded by onnxAsJson (undefined when it no longer decodes: byte-level changes only).
 */
export function randomOnnxOp(rng: Rng, file: string, b: Uint8Array, json: any, names: string[]): Op {
  const graph = json?.graph;
  const nodes: any[] = Array.isArray(graph?.node) ? graph.node : [];
  const inits: any[] = Array.isArray(graph?.initializer) ? graph.initializer : [];
  const onnx = (op: JsonOp): Op => ({ t: 'onnx', file, op });
  const kind = int(rng, 9);
  if (kind === 0 && nodes.length) {
    // A cycle: an input of node i computed by node i itself or a later one.
    const i = int(rng, nodes.length);
    const k = i + int(rng, nodes.length - i);
    const ins: unknown[] = Array.isArray(nodes[i].input) ? nodes[i].input : [];
    const outs: unknown[] = Array.isArray(nodes[k].output) ? nodes[k].output : [];
    if (ins.length && outs.length) return onnx({ t: 'jset', file, path: ['graph', 'node', i, 'input', int(rng, ins.length)], value: pick(rng, outs) });
  }
  if (kind === 1 && nodes.length) {
    const i = int(rng, nodes.length);
    const node = JSON.parse(JSON.stringify(nodes[i]));
    if (rng() < 0.7) node.op_type = pick(rng, UNKNOWN_OPS);
    else node.domain = pick(rng, ['com.example', 'com.microsoft', 'ai.onnx.ml', 'ai.onnx', 'ai.onnx.preview.training']);
    return onnx({ t: 'jset', file, path: ['graph', 'node', i], value: node });
  }
  if (kind === 2 && inits.length) {
    // A huge (or impossible) declared shape on an initializer, or on the graph's input.
    if (rng() < 0.7) return onnx({ t: 'jset', file, path: ['graph', 'initializer', int(rng, inits.length), 'dims'], value: pick(rng, HUGE_DIMS) });
    const dims = graph?.input?.[0]?.type?.tensor_type?.shape?.dim;
    if (Array.isArray(dims) && dims.length) return onnx({ t: 'jset', file, path: ['graph', 'input', 0, 'type', 'tensor_type', 'shape', 'dim', int(rng, dims.length)], value: { dim_value: pick(rng, [2 ** 31, 2 ** 40, 1e9, 65536, -1, 0]) } });
  }
  if (kind === 3 && inits.length) {
    // An initializer moved to "external data" that leads out of the folder, or with sizes that do not fit.
    const k = int(rng, inits.length);
    const t = JSON.parse(JSON.stringify(inits[k]));
    delete t.raw_data;
    delete t.float_data;
    delete t.int64_data;
    t.data_location = 1;
    const kv = [{ key: 'location', value: pick(rng, ESCAPES) }];
    if (rng() < 0.4) kv.push({ key: pick(rng, ['offset', 'length']), value: pick(rng, ['0', '8', '-4', '1e3', '99999999999', '18446744073709551615', 'NaN', '0x10', ' 8']) });
    t.external_data = kv;
    return onnx({ t: 'jset', file, path: ['graph', 'initializer', k], value: t });
  }
  if (kind === 4) {
    // A symbolic link in place of a file, or beside it under a name external data uses, leading out.
    const to = pick(rng, [`../${OUTSIDE}/weights.bin`, `../${OUTSIDE}/labels.txt`, `../${OUTSIDE}/metadata.json`, '/etc/passwd', '/dev/zero', '/proc/self/mem', 'missing.bin', '.']);
    const others = names.filter((n) => n !== file);
    return { t: 'symlink', file: pick(rng, [...others, 'link.bin', 'labels.txt', 'metadata.json']), to };
  }
  const fields = protobufFields(b);
  if (kind === 5 && fields.length) {
    // A field's wire type changed (the low 3 bits of its tag): valid types in the wrong place, and 3, 4, 6, 7.
    const f = pick(rng, fields);
    const wire = pick(rng, [0, 1, 2, 3, 4, 5, 6, 7].filter((w) => w !== f.wire));
    return { t: 'setByte', file, pos: f.tag, value: (b[f.tag] & ~7) | wire };
  }
  const delimited = fields.filter((f) => f.wire === 2);
  if (kind === 6 && delimited.length) {
    // A length that runs past the end of its message, or the file cut inside a field.
    const f = pick(rng, delimited);
    if (rng() < 0.5) return { t: 'setByte', file, pos: f.len!, value: pick(rng, [0x7f, 0xff, 0x00, 0x80]) };
    return { t: 'truncate', file, len: f.tag + 1 + int(rng, Math.max(1, f.end! - f.tag - 1)) };
  }
  if (kind === 7) return { t: 'onnxnest', file, depth: pick(rng, [1, 8, 100, 1000, 5000, 30000]) };
  return randomBytesOp(rng, file, b);
}
