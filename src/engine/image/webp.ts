// WebP: the size comes from the RIFF header (VP8, VP8L or VP8X chunk); pixels come from libwebp compiled to
// WebAssembly, shipped as a plain .wasm file by the @cwasm/webp package (no network, no native code).
// We load that .wasm ourselves rather than through the package's index.js, because the package reads the file
// from its own folder at require time, which breaks once our code is bundled into dist/.
// Functions here throw plain Errors describing the problem; decode.ts prefixes the file name.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { UnsupportedImageError } from './unsupported';

export interface WebpHeader {
  width: number;
  height: number;
  animated: boolean;
  hasAlpha: boolean;
  kind: 'lossy' | 'lossless' | 'extended';
}

function fourcc(b: Uint8Array, o: number): string {
  return String.fromCharCode(b[o], b[o + 1], b[o + 2], b[o + 3]);
}

export function readWebpHeader(bytes: Uint8Array): WebpHeader {
  if (bytes.length < 30) throw new Error('file ends inside the header');
  const chunk = fourcc(bytes, 12);
  const p = 20;
  if (chunk === 'VP8 ') {
    if (bytes[p + 3] !== 0x9d || bytes[p + 4] !== 0x01 || bytes[p + 5] !== 0x2a) throw new Error('bad VP8 start code');
    const width = (bytes[p + 6] | (bytes[p + 7] << 8)) & 0x3fff;
    const height = (bytes[p + 8] | (bytes[p + 9] << 8)) & 0x3fff;
    return { width, height, animated: false, hasAlpha: false, kind: 'lossy' };
  }
  if (chunk === 'VP8L') {
    if (bytes[p] !== 0x2f) throw new Error('bad VP8L signature');
    const bits = (bytes[p + 1] | (bytes[p + 2] << 8) | (bytes[p + 3] << 16)) + bytes[p + 4] * 0x1000000;
    const width = (bits & 0x3fff) + 1;
    const height = ((bits >>> 14) & 0x3fff) + 1;
    return { width, height, animated: false, hasAlpha: ((bits >>> 28) & 1) === 1, kind: 'lossless' };
  }
  if (chunk === 'VP8X') {
    const flags = bytes[p];
    const width = (bytes[p + 4] | (bytes[p + 5] << 8) | (bytes[p + 6] << 16)) + 1;
    const height = (bytes[p + 7] | (bytes[p + 8] << 8) | (bytes[p + 9] << 16)) + 1;
    return { width, height, animated: (flags & 0x02) !== 0, hasAlpha: (flags & 0x10) !== 0, kind: 'extended' };
  }
  throw new Error(`unknown WebP chunk "${chunk.replace(/[^\x20-\x7e]/g, '?')}"`);
}

interface WebpWasm {
  memory: WebAssembly.Memory;
  malloc(size: number): number;
  free(ptr: number): void;
  WebPDecodeRGBA(data: number, size: number, width: number, height: number): number;
}

let wasm: WebpWasm | undefined;

/** Where webp.wasm may be: beside the bundle (dist/wasm/, copied by esbuild.mjs) or in node_modules. */
function wasmCandidates(): string[] {
  const out = [join(__dirname, 'wasm', 'webp.wasm'), join(__dirname, 'webp.wasm')];
  try {
    out.push(createRequire(__filename).resolve('@cwasm/webp/webp.wasm'));
  } catch {
    // not installed next to us: the copies beside the bundle are all we have
  }
  return out;
}

function loadWasm(): WebpWasm {
  if (wasm) return wasm;
  const file = wasmCandidates().find((f) => existsSync(f));
  if (!file) throw new UnsupportedImageError('WebP is not supported here: its decoder (webp.wasm from @cwasm/webp) is not installed');
  const module = new WebAssembly.Module(readFileSync(file));
  // The module imports a few WASI calls (for printf); decoding never makes them, so each one just throws.
  const imports: Record<string, Record<string, () => never>> = {};
  for (const imp of WebAssembly.Module.imports(module)) {
    if (imp.kind !== 'function') continue;
    imports[imp.module] ??= {};
    imports[imp.module][imp.name] = () => {
      throw new Error(`webp.wasm called ${imp.module}.${imp.name}`);
    };
  }
  const instance = new WebAssembly.Instance(module, imports);
  wasm = instance.exports as unknown as WebpWasm;
  return wasm;
}

/** Decodes a still WebP (lossy or lossless, with or without alpha) to RGBA. */
export function decodeWebp(bytes: Uint8Array): { width: number; height: number; data: Uint8ClampedArray } {
  const header = readWebpHeader(bytes);
  if (header.animated) throw new UnsupportedImageError('animated WebP is not supported (save one frame as PNG)');
  // libwebp decodes some cut-off files without complaint (the missing rows come out blank): check the sizes.
  const riffEnd = 8 + ((bytes[4] | (bytes[5] << 8) | (bytes[6] << 16)) + bytes[7] * 0x1000000);
  const chunkEnd = 20 + ((bytes[16] | (bytes[17] << 8) | (bytes[18] << 16)) + bytes[19] * 0x1000000);
  if (riffEnd > bytes.length || chunkEnd > bytes.length) throw new Error(`the file ends early (${bytes.length} of ${Math.max(riffEnd, chunkEnd)} bytes)`);
  const w = loadWasm();
  let input = 0;
  let dims = 0;
  let output = 0;
  try {
    input = w.malloc(bytes.length);
    dims = w.malloc(8);
    if (!input || !dims) throw new Error('out of memory in the WebP decoder');
    new Uint8Array(w.memory.buffer, input, bytes.length).set(bytes);
    output = w.WebPDecodeRGBA(input, bytes.length, dims, dims + 4);
    if (!output) throw new Error('libwebp could not decode it');
    const [width, height] = new Uint32Array(w.memory.buffer, dims, 2);
    const data = new Uint8ClampedArray(width * height * 4);
    data.set(new Uint8Array(w.memory.buffer, output, width * height * 4));
    return { width, height, data };
  } catch (e) {
    if (e instanceof WebAssembly.RuntimeError) {
      // A trap leaves the module's heap in an unknown state: start afresh next time.
      wasm = undefined;
      throw new Error(`the WebP decoder failed (${e.message})`, { cause: e });
    }
    throw e;
  } finally {
    if (wasm === w) {
      if (output) w.free(output);
      if (dims) w.free(dims);
      if (input) w.free(input);
    }
  }
}
