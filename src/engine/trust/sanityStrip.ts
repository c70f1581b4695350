// The --out PNG of `cnn-lens sanity`: the original map and the map after each randomization stage in a
// strip, each under its layer name with Spearman and SSIM, and the verdict sentence above.
import { sanityVerdict, type SanityRecord } from '../../shared/trustRecords';
import { methodTitle } from '../../shared/methods';
import type { RgbaImage } from '../image/decode';
import { fitText, GLYPH_H } from '../image/font';
import { heatmapImage } from '../image/render';
import type { ColormapName } from '../image/colormap';
import { canvas, paste, textBlock, wrapText, type Rgb } from './canvas';

const INK: Rgb = [235, 235, 235];

/** `maps`: the original and then one map per stage, each normalized to [0, 1] at height×width. */
export function renderSanityStrip(r: SanityRecord, maps: Float32Array[], height: number, width: number, opts: { tile?: number; perRow?: number; colormap?: ColormapName } = {}): RgbaImage {
  const tile = opts.tile ?? 128;
  const perRow = opts.perRow ?? 6;
  const th = Math.max(1, Math.round((tile * height) / Math.max(height, width)));
  const tw = Math.max(1, Math.round((tile * width) / Math.max(height, width)));
  const pad = 10;
  const labelH = 3 * (GLYPH_H + 3) + 4;
  const cols = Math.min(perRow, maps.length);
  const rows = Math.ceil(maps.length / cols);
  const cellW = Math.max(tw, 128);
  const W = pad + cols * (cellW + pad);
  const verdict = sanityVerdict(r);
  const header = [`Sanity check of ${methodTitle(r.method)}${r.layer ? ` at ${r.layer}` : ''} for '${r.class.label}': cascading randomization, output layer first (seed ${r.seed})`];
  const headerLines = header.flatMap((h) => wrapText(h, W - 2 * pad, 1));
  const verdictLines = wrapText(verdict.sentence, W - 2 * pad, 1);
  const headerH = pad + (headerLines.length + verdictLines.length) * (GLYPH_H + 3) + pad;
  const img = canvas(W, headerH + rows * (th + labelH + pad) + pad, [24, 24, 24]);
  let y = textBlock(img, headerLines, pad, pad, INK);
  textBlock(img, verdictLines, pad, y, verdict.passed ? [120, 220, 120] : [255, 140, 90]);
  maps.forEach((m, i) => {
    const cx = pad + (i % cols) * (cellW + pad);
    const cy = headerH + Math.floor(i / cols) * (th + labelH + pad);
    paste(img, heatmapImage(m, height, width, { colormap: opts.colormap ?? 'viridis', range: [0, 1], outW: tw, outH: th }), cx + Math.floor((cellW - tw) / 2), cy);
    const stage = i > 0 ? r.stages[i - 1] : null;
    const lines = stage
      ? [`${i}. ${stage.layer.split('/').pop()}`, `Spearman ${stage.spearman.toFixed(2)}`, `SSIM ${stage.ssim.toFixed(2)}`]
      : ['original', 'weights as trained'];
    y = cy + th + 3;
    for (const l of lines) y = textBlock(img, [fitText(l, cellW, 1)], cx, y, INK, 1);
  });
  return img;
}
