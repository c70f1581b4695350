// How alike two maps are: Spearman's rank correlation and SSIM (Wang et al. 2004), the two measures of
// the randomization sanity check (Adebayo et al. 2018).

/** Ranks 1…n, ties given the mean of the ranks they span. */
export function averageRanks(v: ArrayLike<number>): Float64Array {
  const n = v.length;
  const idx = Array.from({ length: n }, (_, i) => i).sort((a, b) => v[a] - v[b] || a - b);
  const ranks = new Float64Array(n);
  for (let i = 0; i < n; ) {
    let j = i;
    while (j + 1 < n && v[idx[j + 1]] === v[idx[i]]) j++;
    const r = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) ranks[idx[k]] = r;
    i = j + 1;
  }
  return ranks;
}

function pearson(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = a.length;
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < n; i++) {
    ma += a[i];
    mb += b[i];
  }
  ma /= n;
  mb /= n;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    const da = a[i] - ma;
    const db = b[i] - mb;
    sab += da * db;
    saa += da * da;
    sbb += db * db;
  }
  if (!(saa > 0 && sbb > 0)) return 0;
  return sab / Math.sqrt(saa * sbb);
}

/** Spearman's ρ: the Pearson correlation of the average ranks; 0 when either input is constant. */
export function spearman(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`spearman: ${a.length} vs ${b.length} values`);
  if (a.length < 2) return 0;
  return pearson(averageRanks(a), averageRanks(b));
}

export const SSIM_WINDOW = 7;

/**
 * Mean SSIM of two h×w maps with values in [0, 1] (data range 1: C1 = 0.01², C2 = 0.03²), over every
 * window of min(7, h, w) × min(7, h, w) pixels that fits (stride 1), with uniform weights and population
 * (co)variances. Window sums come from summed-area tables, so large maps cost O(h·w).
 */
export function ssim(a: ArrayLike<number>, b: ArrayLike<number>, h: number, w: number): number {
  if (a.length !== h * w || b.length !== h * w) throw new Error(`ssim: maps of ${a.length} and ${b.length} values for ${h}×${w}`);
  const s = Math.min(SSIM_WINDOW, h, w);
  const c1 = 0.01 ** 2;
  const c2 = 0.03 ** 2;
  // Summed-area tables of a, b, a², b², ab with a zero border row and column.
  const W1 = w + 1;
  const tables = Array.from({ length: 5 }, () => new Float64Array((h + 1) * W1));
  const [Sa, Sb, Saa, Sbb, Sab] = tables;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const va = a[y * w + x];
      const vb = b[y * w + x];
      const vals = [va, vb, va * va, vb * vb, va * vb];
      const o = (y + 1) * W1 + x + 1;
      for (let t = 0; t < 5; t++) tables[t][o] = vals[t] + tables[t][o - 1] + tables[t][o - W1] - tables[t][o - W1 - 1];
    }
  }
  const box = (T: Float64Array, y: number, x: number) => T[(y + s) * W1 + x + s] - T[y * W1 + x + s] - T[(y + s) * W1 + x] + T[y * W1 + x];
  const n = s * s;
  let total = 0;
  let count = 0;
  for (let y = 0; y + s <= h; y++) {
    for (let x = 0; x + s <= w; x++) {
      const ma = box(Sa, y, x) / n;
      const mb = box(Sb, y, x) / n;
      const va = box(Saa, y, x) / n - ma * ma;
      const vb = box(Sbb, y, x) / n - mb * mb;
      const cov = box(Sab, y, x) / n - ma * mb;
      total += ((2 * ma * mb + c1) * (2 * cov + c2)) / ((ma * ma + mb * mb + c1) * (va + vb + c2));
      count++;
    }
  }
  return total / count;
}
