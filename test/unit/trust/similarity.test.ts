// Spearman and SSIM against small examples worked out by hand, and SSIM's window mean against a plain
// per-window loop (no summed-area tables).
import { strict as assert } from 'node:assert';
import { makeRng } from '../../../src/engine/random';
import { averageRanks, spearman, ssim } from '../../../src/engine/trust/similarity';

const close = (a: number, b: number, eps = 1e-9) => assert.ok(Math.abs(a - b) < eps, `${a} vs ${b}`);

describe('trust: Spearman and SSIM', () => {
  it('Spearman without ties is 1 − 6Σd²/(n(n²−1))', () => {
    // ranks [1,2,3,4] vs [2,1,4,3]: Σd² = 4, 1 − 24/60 = 0.6
    close(spearman([10, 20, 30, 40], [2, 1, 4, 3]), 0.6);
    close(spearman([1, 2, 3], [30, 20, 10]), -1);
  });

  it('Spearman with ties uses average ranks', () => {
    // b = [5,6,7,8,7] → ranks [1, 2, 3.5, 5, 3.5]; deviations from 3: a [−2,−1,0,1,2], b [−2,−1,0.5,2,0.5]
    // Σab = 4+1+0+2+1 = 8, Σa² = 10, Σb² = 9.5 → ρ = 8/√95
    assert.deepEqual(Array.from(averageRanks([5, 6, 7, 8, 7])), [1, 2, 3.5, 5, 3.5]);
    close(spearman([1, 2, 3, 4, 5], [5, 6, 7, 8, 7]), 8 / Math.sqrt(95));
  });

  it('Spearman of a constant map is 0', () => {
    assert.equal(spearman([0, 0, 0], [1, 2, 3]), 0);
  });

  it('SSIM of a 2×2 pair (one window) by hand', () => {
    // a = [0, .5, .5, 1], b = [0, 0, 1, 1]: μa = μb = .5, σa² = .125, σb² = .25, σab = .125
    // SSIM = (2·.25 + C1)(2·.125 + C2) / ((.25 + .25 + C1)(.125 + .25 + C2)), C1 = 1e-4, C2 = 9e-4
    const want = ((0.5 + 1e-4) * (0.25 + 9e-4)) / ((0.5 + 1e-4) * (0.375 + 9e-4));
    close(ssim([0, 0.5, 0.5, 1], [0, 0, 1, 1], 2, 2), want, 1e-12);
    close(ssim([0.2, 0.4, 0.9, 0.1], [0.2, 0.4, 0.9, 0.1], 2, 2), 1);
  });

  it('SSIM is the mean over every 7×7 window (plain loop)', () => {
    const h = 9;
    const w = 12;
    const rng = makeRng(4);
    const a = Array.from({ length: h * w }, () => rng());
    const b = a.map((v) => Math.min(1, Math.max(0, v + (rng() - 0.5) * 0.6)));
    let total = 0;
    let count = 0;
    for (let y = 0; y + 7 <= h; y++) {
      for (let x = 0; x + 7 <= w; x++) {
        const va: number[] = [];
        const vb: number[] = [];
        for (let dy = 0; dy < 7; dy++) for (let dx = 0; dx < 7; dx++) {
          va.push(a[(y + dy) * w + x + dx]);
          vb.push(b[(y + dy) * w + x + dx]);
        }
        const mean = (v: number[]) => v.reduce((s, t) => s + t, 0) / v.length;
        const ma = mean(va);
        const mb = mean(vb);
        const sa = mean(va.map((t) => (t - ma) ** 2));
        const sb = mean(vb.map((t) => (t - mb) ** 2));
        const sab = mean(va.map((t, i) => (t - ma) * (vb[i] - mb)));
        total += ((2 * ma * mb + 1e-4) * (2 * sab + 9e-4)) / ((ma * ma + mb * mb + 1e-4) * (sa + sb + 9e-4));
        count++;
      }
    }
    assert.equal(count, 3 * 6);
    close(ssim(a, b, h, w), total / count, 1e-9);
  });
});
