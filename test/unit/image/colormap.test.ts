import assert from 'node:assert/strict';
import { colormapLut, COLORMAPS, DEFAULT_COLORMAP, type ColormapName } from '../../../src/engine/image/colormap';

/** CIE L* of an sRGB colour (IEC 61966-2-1 transfer curve, Rec. 709 luminance weights, D65). */
function lightness(r: number, g: number, b: number): number {
  const lin = (v: number) => {
    const c = v / 255;
    return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  };
  const y = 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
  return y > (6 / 29) ** 3 ? 116 * Math.cbrt(y) - 16 : (116 * y) / (3 * (6 / 29) ** 2);
}

function entry(name: ColormapName, i: number): number[] {
  const lut = colormapLut(name);
  return Array.from(lut.subarray(i * 3, i * 3 + 3));
}

function near(got: number[], want: number[], tol: number, what: string): void {
  assert.ok(got.every((v, k) => Math.abs(v - want[k]) <= tol), `${what}: got ${got}, published ${want}`);
}

describe('image/colormap', () => {
  it('has 256 RGB entries per map and viridis as the default', () => {
    assert.equal(DEFAULT_COLORMAP, 'viridis');
    assert.equal(COLORMAPS[0], 'viridis');
    for (const name of COLORMAPS) assert.equal(colormapLut(name).length, 768);
    assert.throws(() => colormapLut('rainbow' as ColormapName), /unknown colormap "rainbow"/);
  });

  it('matches the published colours at the ends and the middle (within 3 of 255)', () => {
    // Entries 0, 128 and 255 of matplotlib's viridis/inferno tables and of Google's Turbo table.
    near(entry('viridis', 0), [68, 1, 84], 3, 'viridis 0 (#440154)');
    near(entry('viridis', 128), [33, 145, 140], 3, 'viridis 128 (#21918c)');
    near(entry('viridis', 255), [253, 231, 37], 3, 'viridis 255 (#fde725)');
    near(entry('inferno', 0), [0, 0, 4], 3, 'inferno 0 (#000004)');
    near(entry('inferno', 128), [188, 55, 84], 3, 'inferno 128 (#bc3754)');
    near(entry('inferno', 255), [252, 255, 164], 3, 'inferno 255 (#fcffa4)');
    near(entry('turbo', 0), [48, 18, 59], 3, 'turbo 0');
    near(entry('turbo', 128), [164, 252, 60], 3, 'turbo 128');
    near(entry('turbo', 255), [122, 4, 3], 3, 'turbo 255');
  });

  it('jet and gray follow their definitions exactly', () => {
    assert.deepEqual(entry('jet', 0), [0, 0, 128]);
    assert.deepEqual(entry('jet', 255), [128, 0, 0]);
    // t = 128/255: r = 1.5 - |4t - 3|, g = 1.5 - |4t - 2| (clamped), b = 1.5 - |4t - 1|
    const t = 128 / 255;
    const f = (v: number) => Math.round(Math.min(1, Math.max(0, v)) * 255);
    assert.deepEqual(entry('jet', 128), [f(1.5 - Math.abs(4 * t - 3)), f(1.5 - Math.abs(4 * t - 2)), f(1.5 - Math.abs(4 * t - 1))]);
    for (let i = 0; i < 256; i++) assert.deepEqual(entry('gray', i), [i, i, i]);
  });

  for (const name of ['viridis', 'inferno', 'gray'] as const) {
    it(`${name} gets lighter monotonically (CIE L*)`, () => {
      const L = Array.from({ length: 256 }, (_, i) => lightness(...(entry(name, i) as [number, number, number])));
      for (let i = 1; i < 256; i++) {
        // 8-bit rounding may leave two neighbours equally light, never visibly darker
        assert.ok(L[i] >= L[i - 1] - 0.05, `${name}: L*[${i}] = ${L[i].toFixed(2)} < L*[${i - 1}] = ${L[i - 1].toFixed(2)}`);
      }
      for (let i = 8; i < 256; i += 8) assert.ok(L[i] > L[i - 8], `${name}: L* rises from ${i - 8} to ${i}`);
      assert.ok(L[255] - L[0] > 60, `${name}: spans ${L[0].toFixed(1)}..${L[255].toFixed(1)}`);
    });
  }
});
