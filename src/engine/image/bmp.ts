// A small Windows BMP decoder: BITMAPCOREHEADER and BITMAPINFOHEADER..V5, 1/4/8-bit palettes, 16/24/32-bit
// pixels with or without BI_BITFIELDS masks, bottom-up and top-down rows. RLE and embedded JPEG/PNG are refused.
// Functions here throw plain Errors describing the problem; decode.ts prefixes the file name.
import { UnsupportedImageError } from './unsupported';

export interface BmpHeader {
  width: number;
  height: number;
  topDown: boolean;
  bitsPerPixel: number;
  compression: number;
  headerSize: number;
  pixelOffset: number;
}

const BI_RGB = 0;
const BI_RLE8 = 1;
const BI_RLE4 = 2;
const BI_BITFIELDS = 3;
const BI_JPEG = 4;
const BI_PNG = 5;
const BI_ALPHABITFIELDS = 6;

function u16(b: Uint8Array, o: number): number {
  return b[o] | (b[o + 1] << 8);
}
function u32(b: Uint8Array, o: number): number {
  return (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16)) + b[o + 3] * 0x1000000;
}
function i32(b: Uint8Array, o: number): number {
  return b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24);
}

export function readBmpHeader(bytes: Uint8Array): BmpHeader {
  if (bytes.length < 26) throw new Error('file ends inside the header');
  const pixelOffset = u32(bytes, 10);
  const headerSize = u32(bytes, 14);
  let width: number;
  let height: number;
  let bitsPerPixel: number;
  let compression = BI_RGB;
  if (headerSize === 12) {
    width = u16(bytes, 18);
    height = u16(bytes, 20);
    bitsPerPixel = u16(bytes, 24);
  } else if (headerSize >= 40 && headerSize <= 124) {
    if (bytes.length < 14 + 40) throw new Error('file ends inside the header');
    width = i32(bytes, 18);
    height = i32(bytes, 22);
    bitsPerPixel = u16(bytes, 28);
    compression = u32(bytes, 30);
  } else {
    throw new Error(`unknown header size ${headerSize}`);
  }
  const topDown = height < 0;
  height = Math.abs(height);
  if (width <= 0 || height <= 0) throw new Error(`invalid size ${width}x${height}`);
  return { width, height, topDown, bitsPerPixel, compression, headerSize, pixelOffset };
}

interface Field { mask: number; shift: number; max: number }

function field(mask: number): Field {
  mask >>>= 0;
  if (mask === 0) return { mask: 0, shift: 0, max: 0 };
  let shift = 0;
  while (((mask >>> shift) & 1) === 0) shift++;
  let bits = 0;
  while (shift + bits < 32 && ((mask >>> (shift + bits)) & 1) === 1) bits++;
  return { mask, shift, max: 2 ** bits - 1 };
}

function extract(px: number, f: Field): number {
  if (f.max === 0) return 0;
  const v = ((px & f.mask) >>> 0) / 2 ** f.shift;
  return Math.round((Math.floor(v) * 255) / f.max);
}

/** Decodes a BMP to RGBA, top row first. */
export function decodeBmp(bytes: Uint8Array): { width: number; height: number; data: Uint8ClampedArray } {
  const h = readBmpHeader(bytes);
  const { width, height, bitsPerPixel: bpp, compression } = h;
  if (compression === BI_RLE8 || compression === BI_RLE4) throw new UnsupportedImageError('RLE-compressed BMP is not supported');
  if (compression === BI_JPEG || compression === BI_PNG) throw new UnsupportedImageError('BMP with embedded JPEG/PNG data is not supported');
  if (compression !== BI_RGB && compression !== BI_BITFIELDS && compression !== BI_ALPHABITFIELDS) {
    throw new Error(`unknown BMP compression ${compression}`);
  }
  if (![1, 4, 8, 16, 24, 32].includes(bpp)) throw new UnsupportedImageError(`${bpp}-bit BMP is not supported`);

  // Colour masks for 16/32-bit images.
  let fields: [Field, Field, Field, Field] | undefined;
  if (bpp === 16 || bpp === 32) {
    if (compression === BI_BITFIELDS || compression === BI_ALPHABITFIELDS) {
      // The masks sit inside V2+ headers, or just after a 40-byte header.
      const at = 14 + 40;
      if (bytes.length < at + 12) throw new Error('file ends inside the colour masks');
      const alphaMask = h.headerSize >= 56 || compression === BI_ALPHABITFIELDS ? u32(bytes, at + 12) : 0;
      fields = [field(u32(bytes, at)), field(u32(bytes, at + 4)), field(u32(bytes, at + 8)), field(alphaMask)];
    } else if (bpp === 16) {
      fields = [field(0x7c00), field(0x03e0), field(0x001f), field(0)];
    }
  }

  // Palette for 1/4/8-bit images: BGR triples (core header) or BGRX quads after the header and masks.
  let palette: Uint8Array | undefined;
  if (bpp <= 8) {
    const core = h.headerSize === 12;
    const entrySize = core ? 3 : 4;
    const used = core ? 0 : u32(bytes, 46);
    const count = used > 0 && used <= 256 ? used : 1 << bpp;
    let at = 14 + h.headerSize;
    if (!core && h.headerSize === 40 && compression === BI_BITFIELDS) at += 12;
    if (at + count * entrySize > bytes.length) throw new Error('file ends inside the palette');
    palette = new Uint8Array(256 * 3);
    for (let i = 0; i < count; i++) {
      palette[i * 3] = bytes[at + i * entrySize + 2];
      palette[i * 3 + 1] = bytes[at + i * entrySize + 1];
      palette[i * 3 + 2] = bytes[at + i * entrySize];
    }
  }

  const stride = Math.floor((bpp * width + 31) / 32) * 4;
  const lastRowBytes = Math.ceil((bpp * width) / 8);
  if (h.pixelOffset + stride * (height - 1) + lastRowBytes > bytes.length) throw new Error('pixel data ends early');

  const out = new Uint8ClampedArray(width * height * 4);
  // A 32-bit BI_RGB image has an unused fourth byte; some writers put alpha there. Use it only when some pixel
  // has a non-zero value (an all-zero "alpha" would otherwise make the image invisible).
  let useX = false;
  if (bpp === 32 && !fields) {
    for (let y = 0; y < height && !useX; y++) {
      const row = h.pixelOffset + y * stride;
      for (let x = 0; x < width; x++) if (bytes[row + x * 4 + 3] !== 0) { useX = true; break; }
    }
  }
  for (let y = 0; y < height; y++) {
    const row = h.pixelOffset + (h.topDown ? y : height - 1 - y) * stride;
    let o = y * width * 4;
    for (let x = 0; x < width; x++, o += 4) {
      if (palette) {
        const bit = x * bpp;
        const byte = bytes[row + (bit >> 3)];
        const idx = bpp === 8 ? byte : (byte >> (8 - bpp - (bit & 7))) & ((1 << bpp) - 1);
        out[o] = palette[idx * 3];
        out[o + 1] = palette[idx * 3 + 1];
        out[o + 2] = palette[idx * 3 + 2];
        out[o + 3] = 255;
      } else if (bpp === 24) {
        const p = row + x * 3;
        out[o] = bytes[p + 2];
        out[o + 1] = bytes[p + 1];
        out[o + 2] = bytes[p];
        out[o + 3] = 255;
      } else if (bpp === 32 && !fields) {
        const p = row + x * 4;
        out[o] = bytes[p + 2];
        out[o + 1] = bytes[p + 1];
        out[o + 2] = bytes[p];
        out[o + 3] = useX ? bytes[p + 3] : 255;
      } else {
        const f = fields as [Field, Field, Field, Field];
        const px = bpp === 16 ? u16(bytes, row + x * 2) : u32(bytes, row + x * 4);
        out[o] = extract(px, f[0]);
        out[o + 1] = extract(px, f[1]);
        out[o + 2] = extract(px, f[2]);
        out[o + 3] = f[3].max ? extract(px, f[3]) : 255;
      }
    }
  }
  return { width, height, data: out };
}
