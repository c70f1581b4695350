// JPEG header facts read without decoding: frame size from the SOFn segment, EXIF orientation from APP1,
// the Adobe APP14 colour transform, and whether the entropy-coded data reaches an EOI marker (truncation).
// Functions here throw plain Errors describing the problem; decode.ts prefixes the file name.

export interface JpegInfo {
  /** Stored (not displayed) size, from the frame header. */
  width: number;
  height: number;
  components: number;
  /** Bits per sample (8 for nearly every JPEG; 12 in some medical and camera files). */
  precision: number;
  /** 0xC0.. 0xCF: which SOF marker started the frame. */
  sofMarker: number;
  /** EXIF orientation 1..8 (1 when absent or unreadable). */
  orientation: number;
  /** Adobe APP14 transform flag (0: none / CMYK, 1: YCbCr, 2: YCCK), undefined without an Adobe segment. */
  adobeTransform?: number;
  /** Offset of the first SOS marker (start of entropy-coded data). */
  scanOffset: number;
}

/** SOF markers that jpeg-js decodes: baseline, extended sequential and progressive Huffman. */
export const SUPPORTED_SOF = new Set([0xc0, 0xc1, 0xc2]);

function isSof(marker: number): boolean {
  return marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
}

export function sofKind(marker: number): string {
  switch (marker) {
    case 0xc0: return 'baseline';
    case 0xc1: return 'extended sequential';
    case 0xc2: return 'progressive';
    case 0xc3: case 0xc7: case 0xcb: case 0xcf: return 'lossless';
    case 0xc5: case 0xc6: case 0xcd: case 0xce: return 'hierarchical';
    default: return 'arithmetic-coded';
  }
}

/** Walks the marker segments from SOI to the first SOS. Throws when the header is cut short or malformed. */
export function parseJpegInfo(bytes: Uint8Array): JpegInfo {
  const n = bytes.length;
  if (n < 4 || bytes[0] !== 0xff || bytes[1] !== 0xd8) throw new Error('missing JPEG start-of-image marker');
  let pos = 2;
  let frame: { width: number; height: number; components: number; precision: number; sofMarker: number } | undefined;
  let orientation = 1;
  let sawExif = false;
  let adobeTransform: number | undefined;
  for (;;) {
    if (pos >= n) throw new Error(frame ? 'file ends before the image data' : 'file ends before the frame header');
    if (bytes[pos] !== 0xff) throw new Error(`expected a marker at byte ${pos}, found 0x${bytes[pos].toString(16).padStart(2, '0')}`);
    // Any number of 0xFF fill bytes may precede a marker code.
    while (pos < n && bytes[pos] === 0xff) pos++;
    if (pos >= n) throw new Error('file ends inside a marker');
    const marker = bytes[pos++];
    if ((marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) continue; // stand-alone markers
    if (marker === 0xd9) throw new Error('image ends before any image data');
    if (pos + 2 > n) throw new Error('file ends inside a segment header');
    const len = (bytes[pos] << 8) | bytes[pos + 1];
    if (len < 2) throw new Error(`segment 0x${marker.toString(16)} has an invalid length ${len}`);
    if (pos + len > n) throw new Error('file ends inside a header segment');
    const seg = bytes.subarray(pos + 2, pos + len);
    if (marker === 0xda) {
      if (!frame) throw new Error('image data starts before the frame header');
      return { ...frame, orientation, adobeTransform, scanOffset: pos - 2 };
    }
    if (isSof(marker)) {
      if (seg.length < 6) throw new Error('frame header is too short');
      const height = (seg[1] << 8) | seg[2];
      const width = (seg[3] << 8) | seg[4];
      const components = seg[5];
      if (width === 0) throw new Error('frame header says the width is 0');
      // A height of 0 means "defined later by a DNL marker", which almost nothing writes or reads.
      if (height === 0) throw new Error('frame header defers the height to a DNL marker (not supported)');
      if (components === 0) throw new Error('frame header lists no colour components');
      frame ??= { width, height, components, precision: seg[0], sofMarker: marker };
    } else if (marker === 0xe1 && !sawExif && seg.length >= 14 && seg[0] === 0x45 && seg[1] === 0x78 && seg[2] === 0x69 && seg[3] === 0x66 && seg[4] === 0 && seg[5] === 0) {
      sawExif = true;
      orientation = exifOrientation(seg.subarray(6));
    } else if (marker === 0xee && seg.length >= 12 && seg[0] === 0x41 && seg[1] === 0x64 && seg[2] === 0x6f && seg[3] === 0x62 && seg[4] === 0x65) {
      adobeTransform = seg[11];
    }
    pos += len;
  }
}

/**
 * Orientation tag (0x0112) of IFD0 in a TIFF structure (the APP1 payload after "Exif\0\0").
 * Anything malformed gives 1 (as stored): browsers also ignore broken EXIF rather than refuse the image.
 */
export function exifOrientation(tiff: Uint8Array): number {
  if (tiff.length < 8) return 1;
  const little = tiff[0] === 0x49 && tiff[1] === 0x49;
  const big = tiff[0] === 0x4d && tiff[1] === 0x4d;
  if (!little && !big) return 1;
  const u16 = (o: number) => (little ? tiff[o] | (tiff[o + 1] << 8) : (tiff[o] << 8) | tiff[o + 1]);
  const u32 = (o: number) => (little
    ? (tiff[o] | (tiff[o + 1] << 8) | (tiff[o + 2] << 16)) + tiff[o + 3] * 0x1000000
    : ((tiff[o + 1] << 16) | (tiff[o + 2] << 8) | tiff[o + 3]) + tiff[o] * 0x1000000);
  if (u16(2) !== 42) return 1;
  const ifd = u32(4);
  if (ifd + 2 > tiff.length) return 1;
  const count = u16(ifd);
  for (let i = 0; i < count; i++) {
    const e = ifd + 2 + i * 12;
    if (e + 12 > tiff.length) return 1;
    if (u16(e) !== 0x0112) continue;
    const type = u16(e + 2);
    // SHORT is what the standard says; a few writers use LONG.
    const value = type === 3 ? u16(e + 8) : type === 4 ? u32(e + 8) : 0;
    return value >= 1 && value <= 8 ? value : 1;
  }
  return 1;
}

/** True when an EOI marker follows the start of the entropy-coded data (0xFFD9 cannot occur inside it). */
export function hasEndMarker(bytes: Uint8Array, scanOffset: number): boolean {
  for (let i = bytes.length - 2; i >= scanOffset; i--) {
    if (bytes[i] === 0xff && bytes[i + 1] === 0xd9) return true;
  }
  return false;
}

/** Displayed size for an EXIF orientation: 5..8 swap width and height. */
export function orientedSize(width: number, height: number, orientation: number): { width: number; height: number } {
  return orientation >= 5 && orientation <= 8 ? { width: height, height: width } : { width, height };
}

/**
 * Applies EXIF orientation to RGBA pixels so they read as displayed.
 * For each displayed pixel (x, y) the stored pixel it comes from is:
 * 2 mirror left-right, 3 rotate 180, 4 mirror top-bottom, 5 transpose, 6 rotate 90 clockwise,
 * 7 transverse, 8 rotate 90 counter-clockwise.
 */
export function applyOrientation(data: Uint8ClampedArray, width: number, height: number, orientation: number): { width: number; height: number; data: Uint8ClampedArray } {
  if (orientation < 2 || orientation > 8) return { width, height, data };
  const { width: ow, height: oh } = orientedSize(width, height, orientation);
  // A 32-bit view of the pixels: fewer bytes than the size says would be a RangeError without a word about the file.
  if (data.length < width * height * 4) throw new Error(`the decoded pixels (${data.length} bytes) do not fill a ${width}×${height} image`);
  const aligned = data.byteOffset % 4 === 0 ? data : data.slice();
  const src = new Uint32Array(aligned.buffer, aligned.byteOffset, width * height);
  const outData = new Uint8ClampedArray(ow * oh * 4);
  const out = new Uint32Array(outData.buffer);
  for (let y = 0; y < oh; y++) {
    for (let x = 0; x < ow; x++) {
      let sx: number;
      let sy: number;
      switch (orientation) {
        case 2: sx = width - 1 - x; sy = y; break;
        case 3: sx = width - 1 - x; sy = height - 1 - y; break;
        case 4: sx = x; sy = height - 1 - y; break;
        case 5: sx = y; sy = x; break;
        case 6: sx = y; sy = height - 1 - x; break;
        case 7: sx = width - 1 - y; sy = height - 1 - x; break;
        default: sx = width - 1 - y; sy = x; break; // 8
      }
      out[y * ow + x] = src[sy * width + sx];
    }
  }
  return { width: ow, height: oh, data: outData };
}
