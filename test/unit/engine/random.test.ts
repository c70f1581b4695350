// The seeded normal noise (src/engine/random.ts, a ziggurat) against the normal distribution: its empirical CDF
// against Φ computed here from an erf series, the tails beyond the ziggurat's last layer, moments, the scale,
// and the same numbers for the same seed.
import { strict as assert } from 'node:assert';
import { makeRng, normalNoise } from '../../../src/engine/random';

/** Φ(z) = (1 + erf(z/√2)) / 2, erf by its Maclaurin series (exact to rounding for |z| ≤ 6 with 120 terms). */
function phi(z: number): number {
  const x = z / Math.SQRT2;
  let term = x;
  let sum = x;
  for (let n = 1; n < 120; n++) {
    term *= (-x * x) / n;
    sum += term / (2 * n + 1);
  }
  return 0.5 * (1 + (2 / Math.sqrt(Math.PI)) * sum);
}

describe('seeded normal noise', () => {
  const N = 400_000;
  const x = normalNoise(N, 1, makeRng(17));

  it('follows the normal CDF at 61 points from −3 to 3 (within 3 standard errors)', () => {
    const sorted = Float64Array.from(x).sort();
    for (let k = 0; k <= 60; k++) {
      const z = -3 + k * 0.1;
      // Samples ≤ z, by binary search.
      let lo = 0;
      let hi = N;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (sorted[mid] <= z) lo = mid + 1;
        else hi = mid;
      }
      const p = phi(z);
      const se = Math.sqrt((p * (1 - p)) / N);
      assert.ok(Math.abs(lo / N - p) < 3 * se + 1e-6, `F(${z.toFixed(1)}) = ${lo / N} against Φ = ${p.toFixed(5)}`);
    }
  });

  it('has the tails beyond the last layer (|z| > 3.44, > 4), mean 0, variance 1', () => {
    let beyondR = 0;
    let beyond4 = 0;
    let sum = 0;
    let sq = 0;
    for (const v of x) {
      if (Math.abs(v) > 3.442619855899) beyondR++;
      if (Math.abs(v) > 4) beyond4++;
      sum += v;
      sq += v * v;
    }
    const pR = 2 * (1 - phi(3.442619855899));
    const p4 = 2 * (1 - phi(4));
    assert.ok(Math.abs(beyondR - pR * N) < 4 * Math.sqrt(pR * N), `${beyondR} beyond R, expected ${(pR * N).toFixed(1)}`);
    assert.ok(Math.abs(beyond4 - p4 * N) < 4 * Math.sqrt(p4 * N) + 2, `${beyond4} beyond 4, expected ${(p4 * N).toFixed(1)}`);
    assert.ok(Math.abs(sum / N) < 4 / Math.sqrt(N), `mean ${sum / N}`);
    assert.ok(Math.abs(sq / N - 1) < 4 * Math.sqrt(2 / N), `variance ${sq / N}`);
  });

  it('scales by std, and a seed gives the same numbers every time (another seed others)', () => {
    const a = normalNoise(1001, 0.25, makeRng(5));
    const b = normalNoise(1001, 1, makeRng(5));
    assert.deepEqual(Array.from(a), Array.from(b, (v) => Math.fround(v * 0.25)));
    assert.deepEqual(Array.from(normalNoise(1001, 0.25, makeRng(5))), Array.from(a));
    assert.notDeepEqual(Array.from(normalNoise(1001, 0.25, makeRng(6))), Array.from(a));
  });
});
