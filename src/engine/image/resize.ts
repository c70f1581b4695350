// Bilinear resizing with half-pixel centres, the convention of tf.image.resizeBilinear(x, size, false, true)
// (align_corners=false, half_pixel_centers=true), PIL and OpenCV: output pixel i samples the input at
// (i + 0.5) * in/out - 0.5, clamped to the edge pixels.
import type { RgbaImage } from './decode';

export interface Taps {
  /** For each output index: the two input indices and the weight of the second. */
  i0: Int32Array;
  i1: Int32Array;
  f: Float32Array;
}

/** Half-pixel-centre sampling positions for resizing inSize to outSize along one axis. */
export function bilinearTaps(inSize: number, outSize: number): Taps {
  const i0 = new Int32Array(outSize);
  const i1 = new Int32Array(outSize);
  const f = new Float32Array(outSize);
  const scale = inSize / outSize;
  for (let o = 0; o < outSize; o++) {
    let s = (o + 0.5) * scale - 0.5;
    if (s < 0) s = 0;
    if (s > inSize - 1) s = inSize - 1;
    const a = Math.floor(s);
    i0[o] = a;
    i1[o] = Math.min(a + 1, inSize - 1);
    f[o] = s - a;
  }
  return { i0, i1, f };
}

/**
 * Resizes an HWC float image (c channels interleaved) to outH x outW. Returns a copy when the size already matches.
 */
export function resizeBilinear(src: Float32Array, h: number, w: number, c: number, outH: number, outW: number): Float32Array {
  if (src.length !== h * w * c) throw new Error(`resizeBilinear: data has ${src.length} values, expected ${h}x${w}x${c} = ${h * w * c}`);
  if (!(outH >= 1 && outW >= 1 && Number.isInteger(outH) && Number.isInteger(outW))) throw new Error(`resizeBilinear: invalid output size ${outH}x${outW}`);
  if (h === outH && w === outW) return src.slice();
  const ys = bilinearTaps(h, outH);
  const xs = bilinearTaps(w, outW);
  const out = new Float32Array(outH * outW * c);
  let o = 0;
  for (let y = 0; y < outH; y++) {
    const r0 = ys.i0[y] * w * c;
    const r1 = ys.i1[y] * w * c;
    const fy = ys.f[y];
    for (let x = 0; x < outW; x++) {
      const c0 = xs.i0[x] * c;
      const c1 = xs.i1[x] * c;
      const fx = xs.f[x];
      for (let k = 0; k < c; k++) {
        const top = src[r0 + c0 + k] + (src[r0 + c1 + k] - src[r0 + c0 + k]) * fx;
        const bottom = src[r1 + c0 + k] + (src[r1 + c1 + k] - src[r1 + c0 + k]) * fx;
        out[o++] = top + (bottom - top) * fy;
      }
    }
  }
  return out;
}

/**
 * Resizes an RGBA image bilinearly. Colours are interpolated premultiplied by alpha, so fully transparent
 * pixels (whose RGB is arbitrary) do not bleed into their neighbours.
 */
export function resizeRgba(img: RgbaImage, outW: number, outH: number): RgbaImage {
  const { width: w, height: h, data } = img;
  if (w === outW && h === outH) return { width: w, height: h, data: data.slice() };
  const pre = new Float32Array(w * h * 4);
  for (let i = 0; i < data.length; i += 4) {
    const a = data[i + 3] / 255;
    pre[i] = data[i] * a;
    pre[i + 1] = data[i + 1] * a;
    pre[i + 2] = data[i + 2] * a;
    pre[i + 3] = data[i + 3];
  }
  const r = resizeBilinear(pre, h, w, 4, outH, outW);
  const out = new Uint8ClampedArray(outW * outH * 4);
  for (let i = 0; i < r.length; i += 4) {
    const a = r[i + 3];
    const k = a > 0 ? 255 / a : 0;
    out[i] = r[i] * k;
    out[i + 1] = r[i + 1] * k;
    out[i + 2] = r[i + 2] * k;
    out[i + 3] = a;
  }
  return { width: outW, height: outH, data: out };
}

/** Nearest-neighbour upscaling by an integer factor (keeps small feature maps crisp). */
export function upscaleNearest(img: RgbaImage, factor: number): RgbaImage {
  if (factor === 1) return { width: img.width, height: img.height, data: img.data.slice() };
  const ow = img.width * factor;
  const oh = img.height * factor;
  const aligned = img.data.byteOffset % 4 === 0 ? img.data : img.data.slice();
  const src = new Uint32Array(aligned.buffer, aligned.byteOffset, img.width * img.height);
  const outData = new Uint8ClampedArray(ow * oh * 4);
  const out = new Uint32Array(outData.buffer);
  for (let y = 0; y < oh; y++) {
    const sy = Math.floor(y / factor) * img.width;
    for (let x = 0; x < ow; x++) out[y * ow + x] = src[sy + Math.floor(x / factor)];
  }
  return { width: ow, height: oh, data: outData };
}
