// The trust PNGs are views of the records: every method's curve is drawn in its colour, the strip has one
// tile per stage, and the grid frames exactly the best cell of each row. (The pictures themselves were
// looked at; these checks keep them from losing parts.)
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import { encodePng } from '../../../src/engine/image/png';
import type { RgbaImage } from '../../../src/engine/image/decode';
import { renderCompareGrid, renderCurvesPlot, renderSanityStrip } from '../../../src/engine/trust';
import { SERIES_COLORS } from '../../../src/engine/trust/canvas';
import type { EvaluationRecord, SanityRecord } from '../../../src/shared/trustRecords';

function count(img: RgbaImage, rgb: number[]): number {
  let n = 0;
  for (let i = 0; i < img.data.length; i += 4) if (img.data[i] === rgb[0] && img.data[i + 1] === rgb[1] && img.data[i + 2] === rgb[2]) n++;
  return n;
}

function solid(w: number, h: number, rgb: number[]): RgbaImage {
  const data = new Uint8ClampedArray(w * h * 4);
  for (let i = 0; i < w * h; i++) data.set([...rgb, 255], i * 4);
  return { width: w, height: h, data };
}

const save = (name: string, img: RgbaImage) => {
  if (process.env.CNN_LENS_TEST_PICTURES) fs.writeFileSync(`${process.env.CNN_LENS_TEST_PICTURES}/${name}`, encodePng(img));
};

describe('trust: the pictures', () => {
  it('the curves plot draws each method in its own colour, in both panels', () => {
    const curve = (f: (t: number) => number) => ({ auc: 0.5, curve: Array.from({ length: 11 }, (_, k) => f(k / 10)) });
    const r: EvaluationRecord = {
      model: 'm.json', image: '/x/img.png', class: { index: 1, label: 'cat', probability: 0.9 }, steps: 10, baseline: 'black',
      methods: [
        { method: 'gradcam', layer: 'conv', ms: 5, deletion: curve((t) => 0.9 * (1 - t) ** 3), insertion: curve((t) => 0.9 * Math.sqrt(t)) },
        { method: 'saliency', layer: null, ms: 5, deletion: curve((t) => 0.9 * (1 - t)), insertion: curve((t) => 0.9 * t) },
        { method: 'cam', skipped: 'no global average pooling' },
      ],
      random: { seed: 0, deletion: curve((t) => 0.9 - 0.5 * t), insertion: curve((t) => 0.4 * t) },
    };
    const img = renderCurvesPlot(r);
    save('curves.png', img);
    for (const c of SERIES_COLORS.slice(0, 2)) assert.ok(count(img, c) > 400, `colour ${c}`);
    assert.equal(count(img, SERIES_COLORS[2]), 0, 'a skipped method has no curve');
  });

  it('the sanity strip has the original and one tile per stage', () => {
    const r: SanityRecord = { model: 'm', image: 'i', method: 'gradcam', layer: 'conv', class: { index: 0, label: 'cat' }, seed: 0, stages: [1, 2, 3].map((i) => ({ layer: `block_${i}/conv`, spearman: 0.9 - 0.3 * i, ssim: 0.5 })) };
    const maps = Array.from({ length: 4 }, (_, k) => Float32Array.from({ length: 64 }, (_, i) => ((i * (k + 1)) % 64) / 63));
    const img = renderSanityStrip(r, maps, 8, 8, { tile: 64, perRow: 10 });
    save('strip.png', img);
    assert.ok(img.width >= 4 * 64, `width ${img.width}`);
  });

  it('the compare grid frames exactly the best cells and enlarges small tiles', () => {
    const cell = (best: boolean) => ({ image: solid(64, 64, [0, 90, 200]), caption: best ? '5 ms, del 0.1, ins 0.9, best' : '5 ms', best });
    const img = renderCompareGrid('img.png: top 2 classes x 2 methods', ['cat (90%)', 'dog (5%)'], ['Grad-CAM', 'Saliency'], [cell(true), cell(false), null, cell(true)]);
    save('grid.png', img);
    // A best cell's frame is 4 pixels around a 192-pixel tile.
    const frame = count(img, [255, 196, 0]);
    assert.ok(frame >= 2 * 4 * (4 * 192) && frame < 2 * 4 * (4 * 200 + 64) + 4000, `frame pixels ${frame}`);
    assert.ok(count(img, [0, 90, 200]) >= 3 * 190 * 190, 'three tiles enlarged to 192');
  });
});
