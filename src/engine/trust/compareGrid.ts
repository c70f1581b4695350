// The explain panel's Compare grid as one PNG: classes in rows, methods in columns, each cell's heatmap
// under its caption (time, AUCs), the best cell of a row framed. The panel shows the same cells live.
import type { RgbaImage } from '../image/decode';
import { resizeRgba } from '../image/resize';
import { drawText, GLYPH_H, textWidth } from '../image/font';
import { canvas, fillRect, paste, textBlock, wrapText, type Rgb } from './canvas';

export interface GridCell {
  image: RgbaImage;
  caption: string;
  best: boolean;
}

const MIN_TILE = 192;
const INK: Rgb = [235, 235, 235];
const MUTED: Rgb = [170, 170, 170];
const BEST: Rgb = [255, 196, 0];

export function renderCompareGrid(title: string, rowLabels: string[], colLabels: string[], cells: (GridCell | null)[]): RgbaImage {
  const rows = rowLabels.length;
  const cols = colLabels.length;
  if (rows === 0 || cols === 0) throw new Error('compare grid: no rows or no columns');
  if (cells.length !== rows * cols) throw new Error(`compare grid: ${cells.length} cells for ${rows}×${cols}`);
  // Small images (a 64-pixel sample) are enlarged so that every cell is at least MIN_TILE on its longer side.
  cells = cells.map((c) => {
    if (!c) return c;
    const side = Math.max(c.image.width, c.image.height);
    if (side >= MIN_TILE) return c;
    const k = MIN_TILE / side;
    return { ...c, image: resizeRgba(c.image, Math.round(c.image.width * k), Math.round(c.image.height * k)) };
  });
  const present = cells.filter((c): c is GridCell => c !== null);
  const tileW = Math.max(96, ...present.map((c) => c.image.width));
  const tileH = Math.max(96, ...present.map((c) => c.image.height));
  const pad = 12;
  const labelW = 120;
  const lineH = GLYPH_H + 3;
  const captionLines = Math.max(1, ...present.map((c) => wrapText(c.caption, tileW, 1).length));
  const cellH = tileH + 4 + captionLines * lineH;
  const W = pad + labelW + cols * (tileW + pad);
  const titleLines = wrapText(title, W - 2 * pad, 1);
  const headerH = pad + titleLines.length * lineH + 6 + 2 * lineH;
  const img = canvas(W, headerH + rows * (cellH + pad) + pad, [24, 24, 24]);
  textBlock(img, titleLines, pad, pad, INK);
  colLabels.forEach((l, c) => {
    const x = pad + labelW + c * (tileW + pad);
    const lines = wrapText(l, tileW, 1).slice(0, 2);
    textBlock(img, lines, x, headerH - 2 * lineH - 2, INK, 1, 'center', tileW);
  });
  rowLabels.forEach((l, r) => {
    const y = headerH + r * (cellH + pad);
    textBlock(img, wrapText(l, labelW - 8, 1).slice(0, 4), pad, y + Math.floor(tileH / 2) - lineH, INK);
    for (let c = 0; c < cols; c++) {
      const cell = cells[r * cols + c];
      const x = pad + labelW + c * (tileW + pad);
      if (!cell) {
        const t = 'not computed';
        drawText(img, t, x + Math.floor((tileW - textWidth(t)) / 2), y + Math.floor(tileH / 2), MUTED);
        continue;
      }
      if (cell.best) fillRect(img, x - 4, y - 4, tileW + 8, tileH + 8, BEST);
      fillRect(img, x, y, tileW, tileH, [24, 24, 24]);
      paste(img, cell.image, x + Math.floor((tileW - cell.image.width) / 2), y + Math.floor((tileH - cell.image.height) / 2));
      textBlock(img, wrapText(cell.caption, tileW, 1), x, y + tileH + 6, cell.best ? BEST : MUTED);
    }
  });
  return img;
}
