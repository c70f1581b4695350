// Drawing primitives for the trust PNGs (curve plots, sanity strips): a filled RGBA canvas, rectangles,
// thick and dashed lines, and text wrapped to a width with the engine's bitmap font.
import type { RgbaImage } from '../image/decode';
import { ADVANCE, drawText, fitText, GLYPH_H, textWidth } from '../image/font';

export type Rgb = [number, number, number];

export function canvas(width: number, height: number, bg: Rgb): RgbaImage {
  const data = new Uint8ClampedArray(width * height * 4);
  for (let i = 0; i < width * height; i++) data.set([bg[0], bg[1], bg[2], 255], i * 4);
  return { width, height, data };
}

export function fillRect(img: RgbaImage, x: number, y: number, w: number, h: number, c: Rgb): void {
  for (let yy = Math.max(0, Math.floor(y)); yy < Math.min(img.height, Math.floor(y + h)); yy++) {
    for (let xx = Math.max(0, Math.floor(x)); xx < Math.min(img.width, Math.floor(x + w)); xx++) img.data.set(c, (yy * img.width + xx) * 4);
  }
}

/** A line `thickness` pixels wide; with `dash` [on, off] in pixels along the line. */
export function line(img: RgbaImage, x0: number, y0: number, x1: number, y1: number, c: Rgb, thickness = 1, dash?: [number, number], dashOffset = 0): number {
  const len = Math.hypot(x1 - x0, y1 - y0);
  const n = Math.max(1, Math.ceil(len * 2));
  const r = thickness / 2;
  for (let i = 0; i <= n; i++) {
    const t = i / n;
    const along = dashOffset + t * len;
    if (dash && along % (dash[0] + dash[1]) >= dash[0]) continue;
    fillRect(img, Math.round(x0 + (x1 - x0) * t - r), Math.round(y0 + (y1 - y0) * t - r), Math.max(1, Math.round(thickness)), Math.max(1, Math.round(thickness)), c);
  }
  return dashOffset + len;
}

/** Text split into lines of at most maxWidth pixels (at `scale`), breaking at spaces. */
export function wrapText(text: string, maxWidth: number, scale = 1): string[] {
  const max = Math.max(1, Math.floor((maxWidth / scale + 1) / ADVANCE));
  const lines: string[] = [];
  let cur = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    const next = cur ? `${cur} ${word}` : word;
    if ([...next].length <= max) cur = next;
    else {
      if (cur) lines.push(cur);
      cur = [...word].length > max ? fitText(word, maxWidth, scale) : word;
    }
  }
  if (cur) lines.push(cur);
  return lines;
}

/** Draws lines of text from (x, y) downwards; returns the y below the last line. */
export function textBlock(img: RgbaImage, lines: string[], x: number, y: number, c: Rgb, scale = 1, align: 'left' | 'center' = 'left', width = 0): number {
  for (const l of lines) {
    const lx = align === 'center' ? x + Math.floor((width - textWidth(l, scale)) / 2) : x;
    drawText(img, l, lx, y, c, scale);
    y += (GLYPH_H + 3) * scale;
  }
  return y;
}

/** Pastes `tile` with its top-left corner at (x, y). */
export function paste(img: RgbaImage, tile: RgbaImage, x: number, y: number): void {
  for (let ty = 0; ty < tile.height; ty++) {
    const py = y + ty;
    if (py < 0 || py >= img.height) continue;
    for (let tx = 0; tx < tile.width; tx++) {
      const px = x + tx;
      if (px < 0 || px >= img.width) continue;
      const s = (ty * tile.width + tx) * 4;
      img.data.set(tile.data.subarray(s, s + 3), (py * img.width + px) * 4);
    }
  }
}

/** Distinct line colours (readable on white), one per method; the random map is drawn in grey. */
export const SERIES_COLORS: Rgb[] = [
  [31, 119, 180], [214, 39, 40], [44, 160, 44], [255, 127, 14], [148, 103, 189], [140, 86, 75],
  [227, 119, 194], [23, 190, 207], [188, 189, 34], [0, 0, 128], [128, 0, 0], [0, 128, 128],
  [255, 0, 255], [85, 107, 47], [70, 130, 180], [210, 105, 30],
];
