// NumPy .npy files (format version 1.0; see numpy.lib.format): float32 arrays for users who want the raw
// numbers behind a picture, and a reader for tests and tools.
//
// Layout: magic "\x93NUMPY", major 1, minor 0, header length (uint16 little-endian), then an ASCII Python dict
// literal, e.g. "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", padded with spaces and ended by
// "\n" so that the data starts at a multiple of 64 bytes; then the data in C order.

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

function shapeTuple(shape: number[]): string {
  if (shape.length === 0) return '()';
  if (shape.length === 1) return `(${shape[0]},)`;
  return `(${shape.join(', ')})`;
}

export function encodeNpy(data: Float32Array, shape: number[]): Buffer {
  for (const d of shape) if (!(Number.isInteger(d) && d >= 0)) throw new Error(`encodeNpy: invalid shape [${shape.join(', ')}]`);
  const count = shape.reduce((a, b) => a * b, 1);
  if (count !== data.length) throw new Error(`encodeNpy: shape [${shape.join(', ')}] holds ${count} values, got ${data.length}`);
  const dict = `{'descr': '<f4', 'fortran_order': False, 'shape': ${shapeTuple(shape)}, }`;
  const unpadded = MAGIC.length + 2 + 2 + dict.length + 1;
  const total = Math.ceil(unpadded / 64) * 64;
  const header = dict + ' '.repeat(total - unpadded) + '\n';
  if (header.length > 0xffff) throw new Error('encodeNpy: shape too long for a version 1.0 header');
  const out = Buffer.alloc(total + data.length * 4);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  out.writeUInt16LE(header.length, 8);
  out.write(header, 10, 'latin1');
  const dv = new DataView(out.buffer, out.byteOffset, out.byteLength);
  for (let i = 0; i < data.length; i++) dv.setFloat32(total + i * 4, data[i], true);
  return out;
}

type Reader = (dv: DataView, offset: number) => number;

const READERS: Record<string, { size: number; read: Reader }> = {
  '<f4': { size: 4, read: (dv, o) => dv.getFloat32(o, true) },
  '>f4': { size: 4, read: (dv, o) => dv.getFloat32(o, false) },
  '<f8': { size: 8, read: (dv, o) => dv.getFloat64(o, true) },
  '>f8': { size: 8, read: (dv, o) => dv.getFloat64(o, false) },
  '<i4': { size: 4, read: (dv, o) => dv.getInt32(o, true) },
  '|u1': { size: 1, read: (dv, o) => dv.getUint8(o) },
  '|i1': { size: 1, read: (dv, o) => dv.getInt8(o) },
};

/** Reads a C-order .npy array of float32/float64/int32/uint8/int8 as float32. */
export function decodeNpy(buf: Uint8Array, file = 'array.npy'): { data: Float32Array; shape: number[] } {
  const bad = (why: string) => new Error(`${file}: ${why}`);
  if (buf.length < 10 || MAGIC.some((b, i) => buf[i] !== b)) throw bad('not a NumPy .npy file');
  const major = buf[6];
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let headerLen: number;
  let start: number;
  if (major === 1) {
    headerLen = dv.getUint16(8, true);
    start = 10;
  } else if (major === 2 || major === 3) {
    if (buf.length < 12) throw bad('truncated .npy header');
    headerLen = dv.getUint32(8, true);
    start = 12;
  } else {
    throw bad(`unsupported .npy version ${major}.${buf[7]}`);
  }
  if (start + headerLen > buf.length) throw bad('truncated .npy header');
  const header = new TextDecoder('latin1').decode(buf.subarray(start, start + headerLen));
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) throw bad('malformed .npy header');
  if (fortran === 'True') throw bad('Fortran-order .npy arrays are not supported');
  const reader = READERS[descr];
  if (!reader) throw bad(`.npy dtype ${descr} is not supported (float32, float64, int32, uint8 or int8 expected)`);
  const shape = shapeText.split(',').map((s) => s.trim()).filter((s) => s.length > 0).map((s) => Number(s.replace(/L$/, '')));
  if (shape.some((d) => !(Number.isInteger(d) && d >= 0))) throw bad(`malformed .npy shape (${shapeText})`);
  const count = shape.reduce((a, b) => a * b, 1);
  const dataStart = start + headerLen;
  if (dataStart + count * reader.size > buf.length) throw bad(`truncated .npy data (${count} values of ${descr} expected)`);
  const data = new Float32Array(count);
  for (let i = 0; i < count; i++) data[i] = reader.read(dv, dataStart + i * reader.size);
  return { data, shape };
}
