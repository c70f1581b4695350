// Builders for test images written byte by byte from the format specifications, so that the decoders are
// checked against files we know the exact content of (not against their own encoders).
import { deflateSync } from 'node:zlib';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { makeRng } from '../../../src/engine/random';

// ---------- PNG (ISO/IEC 15948) ----------

let crcTable: Uint32Array | undefined;
/** CRC-32 (ISO 3309 / ITU-T V.42, polynomial 0xEDB88320), as PNG chunks use. */
export function crc32(bytes: Uint8Array): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (const b of bytes) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Uint8Array): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'latin1');
  out.set(data, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

export interface PngSpec {
  width: number;
  height: number;
  /** 0 gray, 2 RGB, 3 palette, 4 gray+alpha, 6 RGBA */
  colorType: 0 | 2 | 3 | 4 | 6;
  bitDepth: 1 | 2 | 4 | 8 | 16;
  /** Samples row by row, channel-interleaved (palette: indices). */
  samples: number[];
  palette?: [number, number, number][];
  /** tRNS chunk payload: for palettes, one alpha per entry. */
  trns?: number[];
  /** Overrides the IHDR size (the pixel data stays as given). */
  ihdrWidth?: number;
  ihdrHeight?: number;
  /** Raw IDAT payload instead of compressing the samples. */
  idat?: Uint8Array;
}

const CHANNELS = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 } as const;

export function buildPng(s: PngSpec): Buffer {
  const ch = CHANNELS[s.colorType];
  const rowBits = s.width * ch * s.bitDepth;
  const rowBytes = Math.ceil(rowBits / 8);
  const raw = Buffer.alloc((rowBytes + 1) * s.height);
  for (let y = 0; y < s.height; y++) {
    const row = y * (rowBytes + 1);
    raw[row] = 0; // filter: none
    for (let i = 0; i < s.width * ch; i++) {
      const v = s.samples[y * s.width * ch + i];
      if (s.bitDepth === 16) {
        raw[row + 1 + i * 2] = v >> 8;
        raw[row + 2 + i * 2] = v & 0xff;
      } else if (s.bitDepth === 8) {
        raw[row + 1 + i] = v;
      } else {
        const bit = i * s.bitDepth;
        raw[row + 1 + (bit >> 3)] |= v << (8 - s.bitDepth - (bit & 7));
      }
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(s.ihdrWidth ?? s.width, 0);
  ihdr.writeUInt32BE(s.ihdrHeight ?? s.height, 4);
  ihdr[8] = s.bitDepth;
  ihdr[9] = s.colorType;
  const parts = [Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr)];
  if (s.palette) parts.push(chunk('PLTE', Uint8Array.from(s.palette.flat())));
  if (s.trns) parts.push(chunk('tRNS', Uint8Array.from(s.trns)));
  parts.push(chunk('IDAT', s.idat ?? deflateSync(raw)));
  parts.push(chunk('IEND', new Uint8Array(0)));
  return Buffer.concat(parts);
}

// ---------- JPEG (ITU-T T.81) ----------

/** The APP1 segment "Exif\0\0" + a TIFF header whose IFD0 holds only the Orientation tag. */
export function exifApp1(orientation: number, littleEndian: boolean): Buffer {
  const tiff = Buffer.alloc(8 + 2 + 12 + 4);
  const w16 = (v: number, o: number) => (littleEndian ? tiff.writeUInt16LE(v, o) : tiff.writeUInt16BE(v, o));
  const w32 = (v: number, o: number) => (littleEndian ? tiff.writeUInt32LE(v, o) : tiff.writeUInt32BE(v, o));
  tiff.write(littleEndian ? 'II' : 'MM', 0, 'latin1');
  w16(42, 2);
  w32(8, 4); // IFD0 right after the header
  w16(1, 8); // one entry
  w16(0x0112, 10); // Orientation
  w16(3, 12); // SHORT
  w32(1, 14); // count
  w16(orientation, 18); // value, left-justified in the 4-byte field
  w32(0, 22); // no next IFD
  const payload = Buffer.concat([Buffer.from('Exif\0\0', 'latin1'), tiff]);
  const seg = Buffer.alloc(4);
  seg[0] = 0xff;
  seg[1] = 0xe1;
  seg.writeUInt16BE(payload.length + 2, 2);
  return Buffer.concat([seg, payload]);
}

/** Inserts segments right after SOI. */
export function insertAfterSoi(jpeg: Uint8Array, ...segments: Buffer[]): Buffer {
  return Buffer.concat([Buffer.from(jpeg.subarray(0, 2)), ...segments, Buffer.from(jpeg.subarray(2))]);
}

/**
 * A baseline JPEG whose 8x8 blocks are all flat, with as many components as blocks[0][0] has values (1x1
 * sampling each), and an Adobe APP14 marker when adobeTransform is given. blocks[by][bx] holds the stored
 * component values (0..255) of that block. Each block is coded with its DC coefficient only: with all
 * quantizers 1, a flat block of value v has DC = 8 * (v - 128) and no AC terms.
 */
export function buildFlatJpeg(blocks: number[][][], adobeTransform?: 0 | 1 | 2): Buffer {
  const bh = blocks.length;
  const bw = blocks[0].length;
  const seg = (marker: number, payload: number[]) => [0xff, marker, (payload.length + 2) >> 8, (payload.length + 2) & 0xff, ...payload];
  const bytes: number[] = [0xff, 0xd8];
  const nc = blocks[0][0].length;
  // APP14 "Adobe": version 100, flags0 0, flags1 0, transform
  if (adobeTransform !== undefined) bytes.push(...seg(0xee, [0x41, 0x64, 0x6f, 0x62, 0x65, 0x00, 0x64, 0, 0, 0, 0, adobeTransform]));
  // DQT: table 0, 8-bit, all ones
  bytes.push(...seg(0xdb, [0x00, ...new Array(64).fill(1)]));
  // SOF0: precision 8, height, width, components (id, 1x1 sampling, quantization table 0)
  const height = bh * 8;
  const width = bw * 8;
  const comps: number[] = [];
  for (let c = 0; c < nc; c++) comps.push(c + 1, 0x11, 0);
  bytes.push(...seg(0xc0, [8, height >> 8, height & 0xff, width >> 8, width & 0xff, nc, ...comps]));
  // DHT DC table 0: twelve 4-bit codes for categories 0..11 (code i = i in 4 bits)
  const dcCounts = new Array(16).fill(0);
  dcCounts[3] = 12;
  bytes.push(...seg(0xc4, [0x00, ...dcCounts, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]));
  // DHT AC table 0: a single 1-bit code "0" for EOB (0x00)
  const acCounts = new Array(16).fill(0);
  acCounts[0] = 1;
  bytes.push(...seg(0xc4, [0x10, ...acCounts, 0x00]));
  // SOS: all components, each with DC table 0 and AC table 0; spectral 0..63, no approximation
  const scomps: number[] = [];
  for (let c = 0; c < nc; c++) scomps.push(c + 1, 0x00);
  bytes.push(...seg(0xda, [nc, ...scomps, 0, 63, 0]));
  // Entropy-coded data (interleaved when nc > 1): per MCU one block per component, in component order.
  let acc = 0;
  let nbits = 0;
  const data: number[] = [];
  const put = (value: number, len: number) => {
    for (let i = len - 1; i >= 0; i--) {
      acc = (acc << 1) | ((value >> i) & 1);
      nbits++;
      if (nbits === 8) {
        data.push(acc);
        if (acc === 0xff) data.push(0x00); // byte stuffing
        acc = 0;
        nbits = 0;
      }
    }
  };
  const prev = new Array(nc).fill(0);
  for (let by = 0; by < bh; by++) {
    for (let bx = 0; bx < bw; bx++) {
      for (let c = 0; c < nc; c++) {
        const dc = 8 * (blocks[by][bx][c] - 128);
        const diff = dc - prev[c];
        prev[c] = dc;
        const mag = Math.abs(diff);
        const cat = mag === 0 ? 0 : Math.floor(Math.log2(mag)) + 1;
        put(cat, 4);
        if (cat > 0) put(diff > 0 ? diff : diff + (1 << cat) - 1, cat);
        put(0, 1); // EOB
      }
    }
  }
  if (nbits > 0) put((1 << (8 - nbits)) - 1, 8 - nbits); // pad with 1-bits
  bytes.push(...data, 0xff, 0xd9);
  return Buffer.from(bytes);
}

// ---------- BMP ----------

/** A BITMAPINFOHEADER BMP. rows: top row first, each pixel [r, g, b, a?] (palette images: an index). */
export function buildBmp(opts: {
  width: number;
  height: number;
  bpp: 8 | 16 | 24 | 32;
  pixels: number[][]; // per pixel, row-major top-down: [r,g,b,(a)] or [index]
  topDown?: boolean;
  palette?: [number, number, number][];
  masks?: [number, number, number, number?]; // BI_BITFIELDS
}): Buffer {
  const { width, height, bpp } = opts;
  const stride = Math.floor((bpp * width + 31) / 32) * 4;
  const masks = opts.masks;
  const maskBytes = masks ? (masks.length === 4 && masks[3] !== undefined ? 16 : 12) : 0;
  const headerSize = masks && maskBytes === 16 ? 56 : 40;
  const paletteBytes = opts.palette ? opts.palette.length * 4 : 0;
  const pixelOffset = 14 + headerSize + (headerSize === 40 ? maskBytes : 0) + paletteBytes;
  const buf = Buffer.alloc(pixelOffset + stride * height);
  buf.write('BM', 0, 'latin1');
  buf.writeUInt32LE(buf.length, 2);
  buf.writeUInt32LE(pixelOffset, 10);
  buf.writeUInt32LE(headerSize, 14);
  buf.writeInt32LE(width, 18);
  buf.writeInt32LE(opts.topDown ? -height : height, 22);
  buf.writeUInt16LE(1, 26);
  buf.writeUInt16LE(bpp, 28);
  buf.writeUInt32LE(masks ? 3 : 0, 30);
  buf.writeUInt32LE(stride * height, 34);
  buf.writeUInt32LE(opts.palette?.length ?? 0, 46);
  let at = 54;
  if (masks) {
    for (const m of masks) if (m !== undefined) { buf.writeUInt32LE(m >>> 0, at); at += 4; }
  }
  at = 14 + headerSize + (headerSize === 40 ? maskBytes : 0);
  for (const [r, g, b] of opts.palette ?? []) {
    buf[at++] = b;
    buf[at++] = g;
    buf[at++] = r;
    buf[at++] = 0;
  }
  for (let y = 0; y < height; y++) {
    const row = pixelOffset + (opts.topDown ? y : height - 1 - y) * stride;
    for (let x = 0; x < width; x++) {
      const p = opts.pixels[y * width + x];
      if (bpp === 8) buf[row + x] = p[0];
      else if (bpp === 24) { buf[row + x * 3] = p[2]; buf[row + x * 3 + 1] = p[1]; buf[row + x * 3 + 2] = p[0]; }
      else if (bpp === 16) buf.writeUInt16LE(p[0], row + x * 2); // p[0] is the packed value
      else if (masks) buf.writeUInt32LE(p[0] >>> 0, row + x * 4); // packed
      else { buf[row + x * 4] = p[2]; buf[row + x * 4 + 1] = p[1]; buf[row + x * 4 + 2] = p[0]; buf[row + x * 4 + 3] = p[3] ?? 0; }
    }
  }
  return buf;
}

// ---------- misc ----------

/** test/unit/image/fixtures, found from the bundled test's location (dist/test/unit/image) or the sources. */
export function fixturePath(name: string): string {
  let dir = __dirname;
  for (let i = 0; i < 8; i++) {
    const p = join(dir, 'test', 'unit', 'image', 'fixtures', name);
    if (existsSync(p)) return p;
    dir = dirname(dir);
  }
  throw new Error(`fixture ${name} not found above ${__dirname}`);
}

export { maxAbsDiff } from '../helpers';

/** A small deterministic PRNG (the engine's mulberry32) for test data. */
export const rng: (seed: number) => () => number = makeRng;

/**
 * Bilinear resize written from TensorFlow's description of half_pixel_centers (independently of the code under
 * test): in = (out + 0.5) * scale - 0.5; top = max(floor(in), 0); bottom = min(ceil(in), size - 1);
 * lerp = in - floor(in); value = top + (bottom - top) * lerp, first along x, then along y.
 */
export function naiveResize(src: ArrayLike<number>, h: number, w: number, c: number, oh: number, ow: number): Float64Array {
  const out = new Float64Array(oh * ow * c);
  const at = (y: number, x: number, k: number) => src[(y * w + x) * c + k];
  for (let y = 0; y < oh; y++) {
    const iy = (y + 0.5) * (h / oh) - 0.5;
    const y0 = Math.max(Math.floor(iy), 0);
    const y1 = Math.min(Math.ceil(iy), h - 1);
    const ly = iy - Math.floor(iy);
    for (let x = 0; x < ow; x++) {
      const ix = (x + 0.5) * (w / ow) - 0.5;
      const x0 = Math.max(Math.floor(ix), 0);
      const x1 = Math.min(Math.ceil(ix), w - 1);
      const lx = ix - Math.floor(ix);
      for (let k = 0; k < c; k++) {
        const top = at(y0, x0, k) + (at(y0, x1, k) - at(y0, x0, k)) * lx;
        const bottom = at(y1, x0, k) + (at(y1, x1, k) - at(y1, x0, k)) * lx;
        out[(y * ow + x) * c + k] = top + (bottom - top) * ly;
      }
    }
  }
  return out;
}
