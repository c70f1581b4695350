// Reading images: the format is sniffed from the first bytes (never the extension), the size is read from the
// header alone so that oversized images are refused before any pixel is decoded, and every failure is one line
// that names the file. Everything is synchronous except readImageFile.
import { promises as fsp } from 'node:fs';
import { PNG } from 'pngjs';
import * as jpeg from 'jpeg-js';
import { GifReader } from 'omggif';
import { fileError } from '../errors';
import { decodeBmp, readBmpHeader } from './bmp';
import { gifLzwProblem } from './gifLzw';
import { applyOrientation, hasEndMarker, orientedSize, parseJpegInfo, sofKind, SUPPORTED_SOF } from './jpegInfo';
import { UnsupportedImageError } from './unsupported';
import { decodeWebp, readWebpHeader } from './webp';

export interface RgbaImage {
  width: number;
  height: number;
  /** RGBA, 8 bits per channel, row-major, top row first; length width*height*4. */
  data: Uint8ClampedArray;
}

export type ImageFormat = 'png' | 'jpeg' | 'gif' | 'bmp' | 'webp';

export interface ImageHeader {
  format: ImageFormat;
  /** As displayed (JPEG EXIF orientation applied). */
  width: number;
  height: number;
}

export interface DecodeOptions {
  /** Refuse images with more pixels than this, from the header, before decoding. Default 50 million. */
  maxPixels?: number;
}

export const DEFAULT_MAX_PIXELS = 50_000_000;
/** readImageFile refuses larger files by their size, before reading them. */
export const MAX_IMAGE_FILE_BYTES = 512 * 1024 * 1024;

const EXPECTED = 'PNG, JPEG, GIF, BMP or WebP expected';
const FORMAT_NAME: Record<ImageFormat, string> = { png: 'PNG', jpeg: 'JPEG', gif: 'GIF', bmp: 'BMP', webp: 'WebP' };

function startsWith(b: Uint8Array, sig: number[], at = 0): boolean {
  if (b.length < at + sig.length) return false;
  for (let i = 0; i < sig.length; i++) if (b[at + i] !== sig[i]) return false;
  return true;
}

function ascii(b: Uint8Array, at: number, len: number): string {
  let s = '';
  for (let i = at; i < at + len && i < b.length; i++) s += String.fromCharCode(b[i]);
  return s;
}

/** The image format from magic bytes, or undefined. */
export function sniffImageFormat(b: Uint8Array): ImageFormat | undefined {
  if (startsWith(b, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'png';
  if (startsWith(b, [0xff, 0xd8, 0xff])) return 'jpeg';
  const gif = ascii(b, 0, 6);
  if (gif === 'GIF87a' || gif === 'GIF89a') return 'gif';
  if (ascii(b, 0, 4) === 'RIFF' && ascii(b, 8, 4) === 'WEBP') return 'webp';
  // "BM" alone is too weak (a text file may start with it): also require a known DIB header size.
  if (startsWith(b, [0x42, 0x4d]) && b.length >= 18 && b[15] === 0 && b[16] === 0 && b[17] === 0 && [12, 40, 52, 56, 64, 108, 124].includes(b[14])) return 'bmp';
  return undefined;
}

/** Names a few formats we recognise but cannot read, for a more useful error. */
function otherFormat(b: Uint8Array): string | undefined {
  if (b.length === 0) return 'empty file';
  if (startsWith(b, [0x49, 0x49, 0x2a, 0x00]) || startsWith(b, [0x4d, 0x4d, 0x00, 0x2a])) return 'TIFF';
  if (ascii(b, 4, 4) === 'ftyp') {
    const brand = ascii(b, 8, 4);
    if (brand.startsWith('avi')) return 'AVIF';
    if (brand.startsWith('hei') || brand.startsWith('hev') || brand === 'mif1' || brand === 'msf1') return 'HEIC/HEIF';
  }
  if (startsWith(b, [0xff, 0x0a]) || ascii(b, 4, 4) === 'JXL ') return 'JPEG XL';
  if (ascii(b, 0, 4) === '8BPS') return 'Photoshop';
  if (startsWith(b, [0x00, 0x00, 0x01, 0x00])) return 'ICO';
  if (ascii(b, 0, 5) === '%PDF-') return 'PDF';
  if (startsWith(b, [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59])) return 'NumPy array';
  if (/<svg[\s>]/i.test(ascii(b, 0, 1024))) return 'SVG';
  return undefined;
}

function notAnImage(bytes: Uint8Array, file: string): Error {
  const other = otherFormat(bytes);
  if (other === 'empty file') return fileError(file, `empty file, not an image (${EXPECTED})`);
  if (other) return fileError(file, `${other} images are not supported (${EXPECTED})`);
  return fileError(file, `not an image (${EXPECTED})`);
}

function corrupt(file: string, format: ImageFormat, e: unknown): Error {
  if (e instanceof UnsupportedImageError) return fileError(file, e.message);
  let why = e instanceof Error ? e.message.split('\n')[0] : String(e);
  // pngjs's wording when the data stops before the image does.
  if (/read requests waitng|unexpected end/i.test(why)) why = 'the file ends early';
  // Found by fuzzing: jpeg-js meets some malformed segments with a TypeError of its own ("Cannot set properties
  // of undefined (setting 'huffmanTableDC')"), which says nothing to the user.
  if (e instanceof TypeError) why = 'malformed data the decoder could not follow';
  return fileError(file, `truncated or corrupt ${FORMAT_NAME[format]} data (${why})`);
}

function headerOf(bytes: Uint8Array, format: ImageFormat): { width: number; height: number } {
  switch (format) {
    case 'png': {
      if (bytes.length < 24) throw new Error('file ends inside the header');
      if (ascii(bytes, 12, 4) !== 'IHDR') throw new Error('first chunk is not IHDR');
      const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      return { width: dv.getUint32(16), height: dv.getUint32(20) };
    }
    case 'jpeg': {
      const info = parseJpegInfo(bytes);
      return orientedSize(info.width, info.height, info.orientation);
    }
    case 'gif':
      if (bytes.length < 13) throw new Error('file ends inside the header');
      return { width: bytes[6] | (bytes[7] << 8), height: bytes[8] | (bytes[9] << 8) };
    case 'bmp':
      return readBmpHeader(bytes);
    case 'webp':
      return readWebpHeader(bytes);
  }
}

/** Format and displayed size from the header alone. Throws a one-line error naming the file. */
export function readImageHeader(bytes: Uint8Array, file: string): ImageHeader {
  const format = sniffImageFormat(bytes);
  if (!format) throw notAnImage(bytes, file);
  let size: { width: number; height: number };
  try {
    size = headerOf(bytes, format);
  } catch (e) {
    throw corrupt(file, format, e);
  }
  if (!(size.width > 0 && size.height > 0)) throw fileError(file, `corrupt ${FORMAT_NAME[format]} header (size ${size.width}×${size.height})`);
  return { format, width: size.width, height: size.height };
}

function megapixels(n: number): string {
  const mp = n / 1e6;
  if (mp >= 10) return String(Math.round(mp));
  if (mp >= 0.1) return String(Math.round(mp * 10) / 10);
  return String(Number(mp.toPrecision(2)));
}

/** Throws when width*height is over the limit. */
export function checkPixelLimit(width: number, height: number, file: string, maxPixels = DEFAULT_MAX_PIXELS): void {
  if (width * height > maxPixels) {
    throw fileError(file, `image is ${width}×${height} (${megapixels(width * height)} megapixels), over the ${megapixels(maxPixels)} megapixel limit`);
  }
}

function asClamped(b: Uint8Array): Uint8ClampedArray {
  // Buffers under 4 KiB share Node's pool: copy those rather than expose the pool's ArrayBuffer.
  if (b.byteOffset === 0 && b.byteLength === b.buffer.byteLength) return new Uint8ClampedArray(b.buffer, 0, b.byteLength);
  return new Uint8ClampedArray(b);
}

function decodePng(bytes: Uint8Array): RgbaImage {
  // pngjs expands gray, gray+alpha, palette (with tRNS) and RGB to RGBA, and rescales 16-bit samples to 8 bits.
  const png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  return { width: png.width, height: png.height, data: asClamped(png.data) };
}

function decodeJpeg(bytes: Uint8Array, maxPixels: number): RgbaImage {
  const info = parseJpegInfo(bytes);
  if (!SUPPORTED_SOF.has(info.sofMarker)) throw new UnsupportedImageError(`${sofKind(info.sofMarker)} JPEG is not supported (baseline and progressive are)`);
  if (info.precision !== 8) throw new UnsupportedImageError(`${info.precision}-bit JPEG is not supported (8-bit expected)`);
  if (info.components === 4 && info.adobeTransform === undefined) {
    throw new UnsupportedImageError('4-channel JPEG without an Adobe marker (unknown CMYK convention) is not supported');
  }
  // jpeg-js is tolerant of a cut-off scan (it fills the rest with gray); we want a clear error instead.
  if (!hasEndMarker(bytes, info.scanOffset)) throw new Error('no end-of-image marker: the file looks cut short');
  // jpeg-js converts YCbCr, and Adobe CMYK/YCCK (inverted ink values, as Photoshop writes them) to RGB.
  // Its own limits stop runaway allocations in corrupt files; the pixel limit was already checked from the header.
  const decoded = jpeg.decode(bytes, {
    useTArray: true,
    formatAsRGBA: true,
    tolerantDecoding: true,
    maxResolutionInMP: Math.max(1, maxPixels / 1e6) * 1.01,
    maxMemoryUsageInMB: Math.ceil((Math.max(maxPixels, 1e6) * 40) / 2 ** 20),
  });
  const oriented = applyOrientation(asClamped(decoded.data), decoded.width, decoded.height, info.orientation);
  return oriented;
}

function decodeGif(bytes: Uint8Array, maxPixels: number): RgbaImage {
  const reader = new GifReader(bytes);
  if (reader.numFrames() < 1) throw new Error('no image frames');
  // Found by fuzzing: the logical screen (checked from the header) may be small while the first frame's own
  // descriptor claims 65535x65535; omggif then walks all 4 billion frame pixels (75 s for a 100-byte file).
  const frame = reader.frameInfo(0);
  if (frame.width * frame.height > maxPixels) {
    throw new UnsupportedImageError(`the first GIF frame is ${frame.width}×${frame.height}, over the ${Math.round(maxPixels / 1e6)} megapixel limit`);
  }
  // Codes omggif would loop forever on (see gifLzw.ts) are refused before it decodes them.
  const lzw = gifLzwProblem(bytes, frame.data_offset, frame.width * frame.height);
  if (lzw) throw new Error(`invalid LZW data in the first frame: ${lzw}`);
  // The first frame composited onto a fully transparent canvas of the logical screen size.
  const data = new Uint8ClampedArray(reader.width * reader.height * 4);
  // omggif reports a short LZW stream with console.log, which would land in the CLI's output (e.g. --json):
  // the frame is decoded as far as its data goes either way, so the remark is dropped.
  const log = console.log;
  console.log = () => undefined;
  try {
    reader.decodeAndBlitFrameRGBA(0, data);
  } finally {
    console.log = log;
  }
  return { width: reader.width, height: reader.height, data };
}

/**
 * Decodes PNG, JPEG (EXIF orientation applied), GIF (first frame), BMP or WebP to 8-bit RGBA.
 * Refuses images over opts.maxPixels from the header, before decoding.
 */
export function decodeImage(bytes: Uint8Array, file: string, opts: DecodeOptions = {}): RgbaImage {
  const maxPixels = opts.maxPixels ?? DEFAULT_MAX_PIXELS;
  const header = readImageHeader(bytes, file);
  checkPixelLimit(header.width, header.height, file, maxPixels);
  let img: RgbaImage;
  try {
    switch (header.format) {
      case 'png': img = decodePng(bytes); break;
      case 'jpeg': img = decodeJpeg(bytes, maxPixels); break;
      case 'gif': img = decodeGif(bytes, maxPixels); break;
      case 'bmp': img = decodeBmp(bytes); break;
      case 'webp': img = decodeWebp(bytes); break;
    }
  } catch (e) {
    throw corrupt(file, header.format, e);
  }
  if (img.width !== header.width || img.height !== header.height || img.data.length !== img.width * img.height * 4) {
    throw fileError(file, `corrupt ${FORMAT_NAME[header.format]} data (header says ${header.width}×${header.height}, decoded ${img.width}×${img.height})`);
  }
  return img;
}

/** Reads and decodes an image file. Files over 512 MB are refused by their size before reading. */
export async function readImageFile(file: string, opts: DecodeOptions = {}): Promise<RgbaImage> {
  let size: number;
  try {
    const st = await fsp.stat(file);
    if (st.isDirectory()) throw fileError(file, 'is a folder, not an image file');
    // A FIFO or device would block the read forever (or never end: /dev/zero).
    if (!st.isFile()) throw fileError(file, 'is not a regular file');
    size = st.size;
  } catch (e) {
    throw fsError(file, e);
  }
  if (size > MAX_IMAGE_FILE_BYTES) {
    throw fileError(file, `file is ${Math.round(size / 2 ** 20)} MB, over the ${MAX_IMAGE_FILE_BYTES / 2 ** 20} MB limit for images`);
  }
  let bytes: Buffer;
  try {
    bytes = await fsp.readFile(file);
  } catch (e) {
    throw fsError(file, e);
  }
  return decodeImage(bytes, file, opts);
}

function fsError(file: string, e: unknown): Error {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT') return fileError(file, 'file not found');
  if (code === 'EACCES' || code === 'EPERM') return fileError(file, 'permission denied');
  if (code === 'EISDIR') return fileError(file, 'is a folder, not an image file');
  if (e instanceof Error && e.message.startsWith(`${file}: `)) return e;
  return fileError(file, `cannot read (${e instanceof Error ? e.message : String(e)})`);
}
