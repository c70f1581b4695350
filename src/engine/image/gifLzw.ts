// A check of a GIF frame's LZW codes, made before omggif decodes them. Found by fuzzing: omggif trusts the codes,
// and a code past the end of its table (or a minimum code size over 11) makes it build a table entry whose prefix
// chain loops, so its decoder never returns (a 104-byte GIF hung the engine). This walks the codes exactly as
// omggif reads them (same bit order, sub-blocks, clear codes and code-size growth) and stops where omggif would
// stop, without building any strings: every code must be a literal, a clear/end code, or an entry that exists
// (or the one being defined, LZW's KwKwK case). Such codes only ever chain to older entries, so decoding ends.
// Functions here return a problem or null; decode.ts turns a problem into a one-line error naming the file.

/**
 * Checks the LZW image data starting at `p` (the minimum code size byte) of a frame with `pixels` pixels.
 * Returns what is wrong, or null when omggif will decode it and stop.
 */
export function gifLzwProblem(buf: Uint8Array, p: number, pixels: number): string | null {
  const n = buf.length;
  if (p >= n) return null; // no data: omggif reads nothing and leaves the frame blank
  const minCodeSize = buf[p++];
  if (minCodeSize > 11) return `LZW minimum code size ${minCodeSize} (at most 11)`;
  const clear = 1 << minCodeSize;
  const eoi = clear + 1;
  let next = eoi + 1;
  let size = minCodeSize + 1;
  let mask = (1 << size) - 1;
  let cur = 0;
  let shift = 0;
  let sub = p < n ? buf[p++] : 0;
  let prev: number | null = null;
  let out = 0;
  // Length of each table entry's string: literals are 1 byte; an entry is its prefix plus one byte.
  const length = new Int32Array(4096).fill(1);
  for (;;) {
    while (shift < 16) {
      if (sub === 0) break;
      // Past the end omggif reads zeros (literal code 0) until the frame is full: that cannot loop.
      if (p >= n) return null;
      cur |= buf[p++] << shift;
      shift += 8;
      if (sub === 1) {
        if (p >= n) return null;
        sub = buf[p++];
      } else {
        sub--;
      }
    }
    if (shift < size) return null;
    const code = cur & mask;
    cur >>= size;
    shift -= size;
    if (code === clear) {
      next = eoi + 1;
      size = minCodeSize + 1;
      mask = (1 << size) - 1;
      prev = null;
      continue;
    }
    if (code === eoi) return null;
    if (code > next || (code === next && prev === null)) return `code ${code} refers to no table entry (the table has ${next})`;
    const chase = code < next ? code : (prev as number);
    const emitted = length[chase] + (chase !== code ? 1 : 0);
    if (out + emitted > pixels) return null; // omggif stops here: more data than pixels
    out += emitted;
    if (prev !== null && next < 4096) {
      length[next] = length[prev] + 1;
      next++;
      if (next >= mask + 1 && size < 12) {
        size++;
        mask = (mask << 1) | 1;
      }
    }
    prev = code;
  }
}
