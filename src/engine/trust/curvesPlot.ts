// The --plot PNG of `cnn-lens evaluate`: the deletion and the insertion curves of every method (and the
// random map, dashed grey) in two panels with axes, ticks, titles and a legend with the AUCs.
import type { EvaluationRecord, MethodFaithfulness } from '../../shared/trustRecords';
import { isSkipped } from '../../shared/trustRecords';
import { methodTitle } from '../../shared/methods';
import type { RgbaImage } from '../image/decode';
import { drawText, GLYPH_H, textWidth } from '../image/font';
import { canvas, line, SERIES_COLORS, textBlock, wrapText, type Rgb } from './canvas';

const INK: Rgb = [30, 30, 30];
const GRID: Rgb = [225, 225, 225];
const RANDOM: Rgb = [140, 140, 140];

interface Series {
  name: string;
  color: Rgb;
  dashed: boolean;
  deletion: number[];
  insertion: number[];
  aucs: string;
}

function panel(img: RgbaImage, x0: number, y0: number, w: number, h: number, title: string, xLabel: string, yLabel: string, series: Series[], which: 'deletion' | 'insertion'): void {
  const s = 2;
  const left = 84;
  const bottom = 52;
  const top = 34;
  const px = x0 + left;
  const py = y0 + top;
  const pw = w - left - 36;
  const ph = h - top - bottom;
  drawText(img, title, x0 + left + Math.floor((pw - textWidth(title, s)) / 2), y0 + 4, INK, s);
  for (let i = 0; i <= 4; i++) {
    const v = i / 4;
    const gx = px + Math.round(v * pw);
    const gy = py + ph - Math.round(v * ph);
    line(img, gx, py, gx, py + ph, GRID);
    line(img, px, gy, px + pw, gy, GRID);
    const label = String(v);
    drawText(img, label, gx - Math.floor(textWidth(label, s) / 2), py + ph + 6, INK, s);
    drawText(img, label, px - 8 - textWidth(label, s), gy - GLYPH_H, INK, s);
  }
  line(img, px, py, px, py + ph, INK, 2);
  line(img, px, py + ph, px + pw, py + ph, INK, 2);
  drawText(img, xLabel, px + Math.floor((pw - textWidth(xLabel, s)) / 2), py + ph + 6 + (GLYPH_H + 4) * s, INK, s);
  // The y label, letter by letter down the left edge (the font has no rotation).
  const yl = [...yLabel];
  const ly0 = py + Math.floor((ph - yl.length * (GLYPH_H + 1) * 1.5) / 2);
  yl.forEach((ch, i) => drawText(img, ch, x0 + 12, ly0 + Math.round(i * (GLYPH_H + 1) * 1.5), INK, 1));
  // Random first, so the methods are drawn over it.
  for (const ser of [...series].reverse()) {
    const c = ser[which];
    const n = c.length - 1;
    let offset = 0;
    for (let k = 0; k < n; k++) {
      const xa = px + (k / n) * pw;
      const xb = px + ((k + 1) / n) * pw;
      const ya = py + ph - Math.max(0, Math.min(1, c[k])) * ph;
      const yb = py + ph - Math.max(0, Math.min(1, c[k + 1])) * ph;
      offset = line(img, xa, ya, xb, yb, ser.color, 3, ser.dashed ? [8, 6] : undefined, offset);
    }
  }
}

/** Both panels, a title and the legend, for one evaluation record. */
export function renderCurvesPlot(r: EvaluationRecord): RgbaImage {
  const ran = r.methods.filter((m): m is MethodFaithfulness => !isSkipped(m));
  const series: Series[] = ran.map((m, i) => ({
    name: methodTitle(m.method),
    color: SERIES_COLORS[i % SERIES_COLORS.length],
    dashed: i >= SERIES_COLORS.length,
    deletion: m.deletion.curve,
    insertion: m.insertion.curve,
    aucs: `deletion AUC ${m.deletion.auc.toFixed(3)}, insertion AUC ${m.insertion.auc.toFixed(3)}`,
  }));
  series.push({ name: `random map (seed ${r.random.seed})`, color: RANDOM, dashed: true, deletion: r.random.deletion.curve, insertion: r.random.insertion.curve, aucs: `deletion AUC ${r.random.deletion.auc.toFixed(3)}, insertion AUC ${r.random.insertion.auc.toFixed(3)}` });
  const W = 1200;
  const s = 2;
  const lineH = (GLYPH_H + 3) * s;
  const title = `Faithfulness of the maps for '${r.class.label}' (p = ${r.class.probability.toFixed(3)}) on ${r.image.split(/[\\/]/).pop()}`;
  const subtitle = `${r.steps} steps, deleted pixels become the ${r.baseline} baseline. Deletion: lower AUC is better, insertion: higher AUC is better.`;
  const titleLines = wrapText(title, W - 40, s);
  const subLines = wrapText(subtitle, W - 40, 1);
  const skipped = r.methods.filter(isSkipped).map((m) => `${methodTitle(m.method)} skipped: ${m.skipped}`);
  const skippedLines = skipped.flatMap((t) => wrapText(t, W - 40, 1));
  const headerH = 12 + titleLines.length * lineH + subLines.length * (GLYPH_H + 3) + 10;
  const panelH = 460;
  const legendCols = 2;
  const legendRows = Math.ceil(series.length / legendCols);
  const legendH = 16 + legendRows * (lineH + 4) + skippedLines.length * (GLYPH_H + 3) + 10;
  const img = canvas(W, headerH + panelH + legendH, [255, 255, 255]);
  let y = textBlock(img, titleLines, 20, 12, INK, s, 'center', W - 40);
  textBlock(img, subLines, 20, y, [80, 80, 80], 1, 'center', W - 40);
  const label = `probability of '${r.class.label}'`;
  panel(img, 0, headerH, W / 2, panelH, 'Deletion', 'fraction of pixels deleted', label, series, 'deletion');
  panel(img, W / 2, headerH, W / 2, panelH, 'Insertion', 'fraction of pixels inserted', label, series, 'insertion');
  y = headerH + panelH + 12;
  const colW = (W - 40) / legendCols;
  series.forEach((ser, i) => {
    const lx = 20 + (i % legendCols) * colW;
    const ly = y + Math.floor(i / legendCols) * (lineH + 4);
    line(img, lx, ly + lineH / 2 - 2, lx + 36, ly + lineH / 2 - 2, ser.color, 4, ser.dashed ? [8, 6] : undefined);
    drawText(img, ser.name, lx + 44, ly, INK, s);
    drawText(img, ser.aucs, lx + 44 + textWidth(ser.name, s) + 10, ly + 4, [80, 80, 80], 1);
  });
  textBlock(img, skippedLines, 20, y + legendRows * (lineH + 4) + 4, [150, 60, 0], 1);
  return img;
}
