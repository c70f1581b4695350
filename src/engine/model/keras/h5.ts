// HDF5 access through h5wasm (the HDF5 C library compiled to WebAssembly; see README-keras.md for why).
// Only what the Keras readers need: open a file, walk groups, read string attributes and float datasets,
// with size checks made from the dataset's header before anything is allocated.
import type * as H5 from 'h5wasm';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileError } from '../../errors';

type H5Module = typeof H5;
export type H5File = H5.File;
export type H5Group = H5.Group;
export type H5Dataset = H5.Dataset;

/** Largest single dataset or whole weight payload we accept: a guard against damaged or hostile headers. */
export const MAX_WEIGHT_BYTES = 4 * 1024 ** 3;

let loading: Promise<H5Module> | null = null;

/** The h5wasm module, initialised once. Its Node entry reads the host file system directly. */
export function h5wasm(): Promise<H5Module> {
  if (!loading) {
    loading = (async () => {
      // A string expression so that tsc does not need the package's export map; esbuild keeps the import
      // external (esbuild.mjs lists h5wasm in nodeExternal) and Node loads the ES module at run time.
      const mod = (await import('h5wasm/node' as string)) as H5Module;
      const m = await mod.ready;
      // HDF5 errors become exceptions carrying the error stack, instead of HDF5-DIAG dumps on stderr.
      m.activate_throwing_error_handler();
      return mod;
    })();
  }
  return loading;
}

const SIGNATURE = Buffer.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]);

/** HDF5 files start with a signature at 0, 512, 1024, 2048, … (after an optional user block). */
export function hasHdf5Signature(file: string): boolean {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch {
    return false;
  }
  try {
    const size = fs.fstatSync(fd).size;
    const buf = Buffer.alloc(8);
    for (let off = 0; off + 8 <= size && off <= 1 << 24; off = off === 0 ? 512 : off * 2) {
      if (fs.readSync(fd, buf, 0, 8, off) === 8 && buf.equals(SIGNATURE)) return true;
    }
    return false;
  } finally {
    fs.closeSync(fd);
  }
}

/** The most specific line of an HDF5 error stack ("truncated file: eof = …"), for a one-line message. */
export function hdf5Reason(e: unknown): string {
  const text = e instanceof Error ? e.message : String(e);
  const lines = text.split('\n').filter((l) => /#\d+:/.test(l));
  const last = lines[lines.length - 1];
  const m = last ? /\(\): (.*)$/.exec(last) : null;
  if (m) return m[1].trim();
  return text.split('\n')[0].trim();
}

/**
 * Opens an HDF5 file for reading. `shownAs` is the name used in messages (the user's file, also when the
 * HDF5 data was extracted from a .keras archive to a temporary file).
 */
export async function openH5(file: string, shownAs: string): Promise<H5File> {
  if (!fs.existsSync(file)) throw fileError(shownAs, 'no such file');
  // A FIFO would block the signature read forever (the open waits for a writer), a device never ends.
  if (!fs.statSync(file).isFile()) throw fileError(shownAs, 'is not a regular file');
  if (!hasHdf5Signature(file)) throw fileError(shownAs, 'not an HDF5 file');
  const mod = await h5wasm();
  try {
    return new mod.File(path.resolve(file), 'r');
  } catch (e) {
    throw fileError(shownAs, `damaged or truncated HDF5 file (${hdf5Reason(e)})`);
  }
}

export function isGroup(e: unknown): e is H5Group {
  return !!e && (e as { type?: string }).type === 'Group';
}

export function isDataset(e: unknown): e is H5Dataset {
  return !!e && (e as { type?: string }).type === 'Dataset';
}

/** Child of a group, or null when absent (never throws for a missing path). */
export function child(g: H5Group, name: string): H5.Entity | null {
  try {
    if (!g.keys().includes(name)) return null;
    return g.get(name);
  } catch {
    return null;
  }
}

/** Entity at a slash-separated path below `g`, or null. */
export function at(g: H5Group, p: string): H5.Entity | null {
  let cur: H5.Entity | null = g;
  for (const part of p.split('/').filter((s) => s.length > 0)) {
    if (!isGroup(cur)) return null;
    cur = child(cur, part);
  }
  return cur;
}

function decodeString(v: unknown): string | null {
  if (typeof v === 'string') return v.replace(/\0+$/, '');
  if (v instanceof Uint8Array) return Buffer.from(v).toString('utf8').replace(/\0+$/, '');
  return null;
}

/** A scalar string attribute (h5py writes Keras' JSON strings as fixed-length byte strings). */
export function stringAttr(obj: H5Group | H5Dataset, name: string): string | null {
  const attrs = obj.attrs;
  if (!(name in attrs)) return null;
  const v = attrs[name].value;
  if (Array.isArray(v)) return v.length === 1 ? decodeString(v[0]) : null;
  return decodeString(v);
}

/**
 * A list-of-strings attribute such as `layer_names` / `weight_names`. Keras splits lists too large for an
 * HDF5 object header into `name0`, `name1`, …; those are joined here.
 */
export function stringListAttr(obj: H5Group, name: string): string[] | null {
  const attrs = obj.attrs;
  const one = (key: string): string[] => {
    const v = attrs[key].value;
    const arr = Array.isArray(v) ? v : [v];
    return arr.map((x) => decodeString(x) ?? String(x));
  };
  if (name in attrs) {
    const shape = attrs[name].shape;
    // An empty list is stored as a zero-length (or null-shaped) attribute.
    if (shape && shape.length === 1 && shape[0] === 0) return [];
    return one(name);
  }
  if (!(`${name}0` in attrs)) return null;
  const out: string[] = [];
  for (let i = 0; `${name}${i}` in attrs; i++) out.push(...one(`${name}${i}`));
  return out;
}

export interface DatasetInfo {
  path: string;
  shape: number[];
  /** Number of elements. */
  count: number;
}

/** Shape and element count of a numeric dataset, from its header only; refuses absurd declared sizes. */
export function datasetInfo(ds: H5Dataset, shownAs: string): DatasetInfo {
  const meta = ds.metadata;
  const shape = (ds.shape ?? []).map(Number);
  const count = shape.reduce((a, b) => a * b, 1);
  const bytes = count * Math.max(4, meta.size);
  if (!Number.isFinite(bytes) || bytes > MAX_WEIGHT_BYTES) {
    throw fileError(shownAs, `dataset '${ds.path}' declares ${(bytes / 1024 ** 3).toFixed(1)} GB (over the 4 GB limit); the file is damaged or not a Keras model`);
  }
  // HDF5 virtual datasets take their values from datasets in other files, named by path (found while testing
  // issue 8: h5wasm follows them). Weights are read from the model file alone.
  const sources = (meta as { virtual_sources?: { file_name: string }[] }).virtual_sources;
  if (sources && sources.length) throw fileError(shownAs, `dataset '${ds.path}' is a virtual dataset reading '${sources[0].file_name}'; refused (weights are read from the model file only)`);
  // type 0 = integer, 1 = float (H5T_class_t); Keras marks bfloat16 arrays (stored as 16-bit words) with an attribute.
  const bfloat16 = meta.size === 2 && stringAttr(ds, 'dtype') === 'bfloat16';
  if (meta.type !== 0 && meta.type !== 1 && !bfloat16) throw fileError(shownAs, `dataset '${ds.path}' is not numeric`);
  return { path: ds.path, shape, count };
}

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * 2 ** -14 * (f / 1024);
  if (e === 31) return f ? NaN : s * Infinity;
  return s * 2 ** (e - 15) * (1 + f / 1024);
}

/**
 * Largest piece read from a dataset at once. h5wasm copies every read through the WebAssembly heap, which
 * grows to the largest read and never shrinks (and is capped at 2 GB): big kernels are read in row slices.
 */
let sliceBytes = 32 * 1024 ** 2;

/** Changes the slice size (tests use a tiny one so that small files exercise sliced reads). */
export function setReadSliceBytes(bytes: number): number {
  const old = sliceBytes;
  sliceBytes = bytes;
  return old;
}

/** Converts one read (a typed array from h5wasm) into float32 values in `out`. */
function convertInto(v: unknown, out: Float32Array, meta: H5Dataset['metadata'], bfloat16: boolean, what: string, shownAs: string): void {
  if (typeof v === 'number' || typeof v === 'bigint') {
    if (out.length !== 1) throw fileError(shownAs, `${what} has the wrong size`);
    out[0] = Number(v);
    return;
  }
  if (!ArrayBuffer.isView(v)) throw fileError(shownAs, `${what} could not be read as numbers`);
  const view = v as ArrayBufferView;
  if (bfloat16 || (meta.type === 1 && meta.size === 2)) {
    // bfloat16 (marked by Keras with a dtype attribute) or float16: read the raw 16-bit words.
    if (view.byteLength !== out.length * 2) throw fileError(shownAs, `${what} holds ${view.byteLength / 2} values, its shape says ${out.length}`);
    const words = new Uint16Array(view.buffer.slice(view.byteOffset, view.byteOffset + out.length * 2));
    const f32 = new Float32Array(1);
    const u32 = new Uint32Array(f32.buffer);
    for (let i = 0; i < words.length; i++) {
      if (bfloat16) {
        u32[0] = words[i] << 16;
        out[i] = f32[0];
      } else {
        out[i] = halfToFloat(words[i]);
      }
    }
    return;
  }
  const src = v as unknown as ArrayLike<number | bigint>;
  if (src.length !== out.length) throw fileError(shownAs, `${what} holds ${src.length} values, its shape says ${out.length}`);
  if (v instanceof Float32Array) {
    out.set(v);
    return;
  }
  for (let i = 0; i < src.length; i++) out[i] = Number(src[i]);
}

/**
 * Runs a synchronous HDF5 read with the file system closed to new opens. A dataset may keep its raw data in
 * other files named by path (HDF5 "external storage", and virtual datasets); HDF5 opens those while reading,
 * through Node's fs.openSync (h5wasm's Node build uses the host file system). The model file itself is open
 * already, so any open during a read is such a file: it fails as "permission denied" inside HDF5, and the
 * path is returned so that the caller can say what happened. Synchronous, so nothing else runs meanwhile.
 */
function withoutFileOpens<T>(read: () => T): { value?: T; error?: unknown; refused: string | null } {
  let refused: string | null = null;
  // The module object itself (h5wasm calls its openSync); an `import * as` namespace would be a copy.
  const nodeFs: { openSync: typeof fs.openSync } = require('node:fs');
  const original = nodeFs.openSync;
  nodeFs.openSync = ((p: fs.PathLike, flags?: fs.OpenMode, mode?: fs.Mode) => {
    // h5wasm's error handler formats HDF5's error stack through tmpfile(), which creates a fresh
    // /tmp/tmpfile_XXXXXX exclusively (and unlinks it): that one is let through, as nothing is read from it.
    if (/^\/tmp\/tmpfile_\w{6}$/.test(String(p)) && typeof flags === 'number' && (flags & fs.constants.O_CREAT) && (flags & fs.constants.O_EXCL)) return original(p, flags, mode);
    refused ??= String(p);
    throw Object.assign(new Error(`EACCES: permission denied, open '${String(p)}'`), { code: 'EACCES', errno: -13, syscall: 'open', path: String(p) });
  }) as typeof fs.openSync;
  try {
    return { value: read(), refused };
  } catch (error) {
    return { error, refused };
  } finally {
    nodeFs.openSync = original;
  }
}

/** Reads a numeric dataset as float32 into `out` (which has room for exactly its elements). */
export function readFloat32Into(ds: H5Dataset, out: Float32Array, shownAs: string): void {
  const r = withoutFileOpens(() => readFloat32IntoUnguarded(ds, out, shownAs));
  if (r.refused !== null) throw fileError(shownAs, `dataset '${ds.path}' keeps its data in another file ('${r.refused}'); refused (weights are read from the model file only)`);
  if (r.error !== undefined) throw r.error;
}

function readFloat32IntoUnguarded(ds: H5Dataset, out: Float32Array, shownAs: string): void {
  const meta = ds.metadata;
  const what = `dataset '${ds.path}'`;
  const bfloat16 = meta.size === 2 && stringAttr(ds, 'dtype') === 'bfloat16';
  const shape = (ds.shape ?? []).map(Number);
  const rowElems = shape.slice(1).reduce((a, b) => a * b, 1);
  const rowsPerRead = shape.length > 0 ? Math.max(1, Math.floor(sliceBytes / Math.max(1, rowElems * meta.size))) : 0;
  try {
    if (shape.length === 0 || rowsPerRead >= shape[0]) {
      convertInto(ds.value, out, meta, bfloat16, what, shownAs);
      return;
    }
    for (let r0 = 0; r0 < shape[0]; r0 += rowsPerRead) {
      const r1 = Math.min(shape[0], r0 + rowsPerRead);
      convertInto(ds.slice([[r0, r1]]), out.subarray(r0 * rowElems, r1 * rowElems), meta, bfloat16, what, shownAs);
    }
  } catch (e) {
    if (e instanceof Error && e.name === 'LensError') throw e;
    throw fileError(shownAs, `cannot read ${what} (${hdf5Reason(e)})`);
  }
}
