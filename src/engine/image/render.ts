// Turning explanation maps into pictures: heatmaps over the input image (Grad-CAM), signed gradient maps
// (saliency, guided backprop), feature-map tiles and labelled grids of tiles.
import type { RgbaImage } from './decode';
import { colormapLut, DEFAULT_COLORMAP, type ColormapName } from './colormap';
import { drawText, fitText, GLYPH_H, textWidth } from './font';
import { resizeBilinear, upscaleNearest } from './resize';

export interface HeatmapOptions {
  colormap?: ColormapName;
  /** Values mapped to the low and high ends of the colormap; default the map's own min and max. */
  range?: [number, number];
}

export interface OverlayOptions extends HeatmapOptions {
  /** Weight of the heatmap colour over the image, 0..1. Default 0.5. */
  alpha?: number;
}

/**
 * Values scaled to 0..1: (v - lo) / (hi - lo), clamped, with lo/hi from `range` or the finite min and max.
 * A constant map (spread within float32 rounding of its magnitude), an empty range and non-finite values give 0,
 * so they render as the low end of the colormap instead of NaN.
 */
export function normalizeMap(map: Float32Array, range?: [number, number]): Float32Array {
  let lo: number;
  let hi: number;
  if (range) {
    [lo, hi] = range;
  } else {
    lo = Infinity;
    hi = -Infinity;
    for (let i = 0; i < map.length; i++) {
      const v = map[i];
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
  }
  const out = new Float32Array(map.length);
  const spread = hi - lo;
  if (!(spread > 1e-6 * Math.max(Math.abs(lo), Math.abs(hi))) || !Number.isFinite(spread)) return out;
  for (let i = 0; i < map.length; i++) {
    const t = (map[i] - lo) / spread;
    out[i] = t > 0 ? (t < 1 ? t : 1) : 0; // NaN lands on 0
  }
  return out;
}

function checkMap(map: Float32Array, h: number, w: number, c = 1): void {
  if (map.length !== h * w * c) throw new Error(`map has ${map.length} values, expected ${h}x${w}${c === 1 ? '' : `x${c}`} = ${h * w * c}`);
  if (!(h > 0 && w > 0)) throw new Error(`map size ${h}x${w} is empty`);
}

/** Colours 0..1 values with a colormap into an RGBA image of size w x h. */
function colorize(t: Float32Array, w: number, h: number, colormap: ColormapName): RgbaImage {
  const lut = colormapLut(colormap);
  const data = new Uint8ClampedArray(w * h * 4);
  for (let i = 0; i < w * h; i++) {
    const k = Math.round(t[i] * 255) * 3;
    data[i * 4] = lut[k];
    data[i * 4 + 1] = lut[k + 1];
    data[i * 4 + 2] = lut[k + 2];
    data[i * 4 + 3] = 255;
  }
  return { width: w, height: h, data };
}

/** The map alone as a coloured image, upsampled bilinearly to outW x outH (default: the map's own size). */
export function heatmapImage(map: Float32Array, h: number, w: number, opts: HeatmapOptions & { outW?: number; outH?: number } = {}): RgbaImage {
  checkMap(map, h, w);
  const outW = opts.outW ?? w;
  const outH = opts.outH ?? h;
  const t = resizeBilinear(normalizeMap(map, opts.range), h, w, 1, outH, outW);
  return colorize(t, outW, outH, opts.colormap ?? DEFAULT_COLORMAP);
}

/**
 * A [mapH, mapW] map (e.g. a 7x7 Grad-CAM) normalized, upsampled bilinearly to the base image's size,
 * coloured and blended over the image: out = (1 - alpha) * image + alpha * colour. Transparent parts of the
 * image are shown over white. The result is opaque.
 */
export function heatmapOverlay(map: Float32Array, mapH: number, mapW: number, base: RgbaImage, opts: OverlayOptions = {}): RgbaImage {
  const alpha = opts.alpha ?? 0.5;
  if (!(alpha >= 0 && alpha <= 1)) throw new Error(`overlay alpha ${alpha} is outside 0..1`);
  const heat = heatmapImage(map, mapH, mapW, { ...opts, outW: base.width, outH: base.height });
  const out = new Uint8ClampedArray(base.width * base.height * 4);
  const b = base.data;
  for (let i = 0; i < out.length; i += 4) {
    const a = b[i + 3] / 255;
    for (let k = 0; k < 3; k++) {
      const under = b[i + k] * a + 255 * (1 - a);
      out[i + k] = (1 - alpha) * under + alpha * heat.data[i + k];
    }
    out[i + 3] = 255;
  }
  return { width: base.width, height: base.height, data: out };
}

/** The p-th percentile (0..100) of |values|, NaN counted as 0. */
export function absPercentile(values: Float32Array, p: number): number {
  if (values.length === 0) return 0;
  const a = new Float32Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = Math.abs(values[i]);
    a[i] = Number.isNaN(v) ? 0 : v;
  }
  a.sort();
  const idx = Math.min(a.length - 1, Math.max(0, Math.ceil((p / 100) * a.length) - 1));
  return a[idx];
}

export interface SignedOptions {
  /** |values| above this percentile are clipped (default 99.5), so a few outliers don't wash the picture out. */
  clipPercentile?: number;
}

/**
 * A gradient-style [H, W, C] map as an image: 0 is mid-gray, +s white-ward and -s black-ward per channel, where s
 * is the clip percentile of |values| over the whole map. C = 3 is shown as RGB, C = 1 as gray.
 */
export function renderSignedOrRgb(map: Float32Array, h: number, w: number, c: number, opts: SignedOptions = {}): RgbaImage {
  if (c !== 1 && c !== 3) throw new Error(`renderSignedOrRgb: ${c} channels (1 or 3 expected)`);
  checkMap(map, h, w, c);
  let s = absPercentile(map, opts.clipPercentile ?? 99.5);
  if (!(s > 0) || !Number.isFinite(s)) s = absPercentile(map, 100);
  const k = s > 0 && Number.isFinite(s) ? 127.5 / s : 0;
  const data = new Uint8ClampedArray(h * w * 4);
  for (let p = 0; p < h * w; p++) {
    for (let ch = 0; ch < 3; ch++) {
      let v = map[p * c + (c === 3 ? ch : 0)] * k;
      if (!(v > -127.5)) v = v < 0 || v === -Infinity ? -127.5 : 0; // NaN → 0 (mid-gray)
      if (v > 127.5) v = 127.5;
      data[p * 4 + ch] = 127.5 + v;
    }
    data[p * 4 + 3] = 255;
  }
  return { width: w, height: h, data };
}

/** max over channels of |value|: the usual saliency magnitude, an [H, W] map. */
export function channelAbsMax(map: Float32Array, h: number, w: number, c: number): Float32Array {
  checkMap(map, h, w, c);
  const out = new Float32Array(h * w);
  for (let p = 0; p < h * w; p++) {
    let m = 0;
    for (let k = 0; k < c; k++) {
      const v = Math.abs(map[p * c + k]);
      if (v > m) m = v;
    }
    out[p] = m;
  }
  return out;
}

/** Channel `channel` of an HWC array, min-max scaled to 0..1 on its own (a constant channel gives zeros). */
export function scaleChannel(data: Float32Array, h: number, w: number, c: number, channel: number): Float32Array {
  checkMap(data, h, w, c);
  if (!(channel >= 0 && channel < c)) throw new Error(`channel ${channel} is outside 0..${c - 1}`);
  const plane = new Float32Array(h * w);
  for (let p = 0; p < h * w; p++) plane[p] = data[p * c + channel];
  return normalizeMap(plane);
}

export interface FeatureMapOptions {
  /** Show at most this many channels (default 64). */
  maxChannels?: number;
  /** Which channels to show (default 0, 1, 2, ...). */
  channels?: number[];
  colormap?: ColormapName;
  /** Integer nearest-neighbour upscaling; default makes tiles about 64 pixels. */
  scale?: number;
}

/** One tile per channel of an [H, W, C] activation, each channel scaled on its own, upscaled crisply. */
export function featureMapTiles(acts: Float32Array, h: number, w: number, c: number, opts: FeatureMapOptions = {}): RgbaImage[] {
  checkMap(acts, h, w, c);
  const chosen = opts.channels ?? Array.from({ length: c }, (_, i) => i);
  const shown = chosen.slice(0, opts.maxChannels ?? 64);
  const scale = Math.max(1, Math.floor(opts.scale ?? Math.floor(64 / Math.max(h, w))));
  return shown.map((k) => upscaleNearest(colorize(scaleChannel(acts, h, w, c, k), w, h, opts.colormap ?? DEFAULT_COLORMAP), scale));
}

export interface GridOptions {
  /** Columns (default: about square). */
  cols?: number;
  /** Space around and between cells in pixels (default 4). */
  pad?: number;
  /** One label per tile, drawn under it; cells widen for up to 16 characters, longer labels end in '…'. */
  labels?: string[];
  background?: [number, number, number];
  /** Font scale (default 1 for cells under 160 pixels wide, else 2). */
  labelScale?: number;
}

/** Tiles in a grid (cells as large as the largest tile, tiles centred), each with its label underneath. */
export function tileGrid(tiles: RgbaImage[], opts: GridOptions = {}): RgbaImage {
  if (tiles.length === 0) throw new Error('tileGrid: no tiles');
  const n = tiles.length;
  const cols = Math.max(1, Math.min(n, Math.floor(opts.cols ?? Math.ceil(Math.sqrt(n)))));
  const rows = Math.ceil(n / cols);
  const pad = Math.max(0, Math.floor(opts.pad ?? 4));
  const bg = opts.background ?? [24, 24, 24];
  const tileW = Math.max(...tiles.map((t) => t.width));
  const cellH = Math.max(...tiles.map((t) => t.height));
  const labels = opts.labels;
  const scale = Math.max(1, Math.floor(opts.labelScale ?? (tileW >= 160 ? 2 : 1)));
  // Cells widen for labels up to 16 characters, so that small tiles still get readable names.
  const longest = Math.max(0, ...(labels ?? []).map((l) => textWidth(l, scale)));
  const cellW = Math.max(tileW, Math.min(longest, textWidth('x'.repeat(16), scale)));
  const labelH = labels ? GLYPH_H * scale + 3 : 0;
  const W = cols * cellW + (cols + 1) * pad;
  const H = rows * (cellH + labelH) + (rows + 1) * pad;
  const data = new Uint8ClampedArray(W * H * 4);
  for (let i = 0; i < W * H; i++) {
    data[i * 4] = bg[0];
    data[i * 4 + 1] = bg[1];
    data[i * 4 + 2] = bg[2];
    data[i * 4 + 3] = 255;
  }
  const out: RgbaImage = { width: W, height: H, data };
  // Light text on dark backgrounds and dark text on light ones (BT.601 luma of the background).
  const textColor: [number, number, number] = 0.299 * bg[0] + 0.587 * bg[1] + 0.114 * bg[2] < 128 ? [235, 235, 235] : [20, 20, 20];
  tiles.forEach((tile, i) => {
    const cx = pad + (i % cols) * (cellW + pad);
    const cy = pad + Math.floor(i / cols) * (cellH + labelH + pad);
    const ox = cx + Math.floor((cellW - tile.width) / 2);
    const oy = cy + Math.floor((cellH - tile.height) / 2);
    for (let y = 0; y < tile.height; y++) {
      for (let x = 0; x < tile.width; x++) {
        const s = (y * tile.width + x) * 4;
        const d = ((oy + y) * W + ox + x) * 4;
        const a = tile.data[s + 3] / 255;
        data[d] = tile.data[s] * a + data[d] * (1 - a);
        data[d + 1] = tile.data[s + 1] * a + data[d + 1] * (1 - a);
        data[d + 2] = tile.data[s + 2] * a + data[d + 2] * (1 - a);
      }
    }
    const label = labels?.[i];
    if (label) {
      const text = fitText(label, cellW, scale);
      const tx = cx + Math.floor((cellW - textWidth(text, scale)) / 2);
      drawText(out, text, tx, cy + cellH + 2, textColor, scale);
    }
  });
  return out;
}

/** featureMapTiles in a labelled grid ("#0", "#1", ... by channel index). */
export function featureMapGrid(acts: Float32Array, h: number, w: number, c: number, opts: FeatureMapOptions & Omit<GridOptions, 'labels'> = {}): RgbaImage {
  const chosen = (opts.channels ?? Array.from({ length: c }, (_, i) => i)).slice(0, opts.maxChannels ?? 64);
  const tiles = featureMapTiles(acts, h, w, c, { ...opts, channels: chosen });
  return tileGrid(tiles, { ...opts, labels: chosen.map((k) => `#${k}`) });
}
