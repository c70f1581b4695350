// Colormaps as 256-entry RGB lookup tables, generated at first use from formulas (no pasted tables).
//
// viridis and inferno (matplotlib, by Nathaniel Smith and Stefan van der Walt, released CC0) and turbo (Anton
// Mikhailov, Google, Apache-2.0) are represented by Chebyshev series in 2t-1 that we fitted ourselves by least
// squares to 33 evenly spaced samples of the published tables (every 8th entry and the last). Largest error at the
// samples, in 8-bit units: viridis (degree 12) 0.6, inferno (degree 14) 1.8, turbo (degree 16) 1.1. The fitted
// viridis and inferno keep strictly increasing CIE L* (checked in test/unit/image/colormap.test.ts).
// jet is MATLAB's piecewise-linear definition; gray is the identity ramp.

export type ColormapName = 'viridis' | 'inferno' | 'turbo' | 'jet' | 'gray';
/** viridis first: the default (perceptually uniform, readable in gray and by colour-blind readers). */
export const COLORMAPS: readonly ColormapName[] = ['viridis', 'inferno', 'turbo', 'jet', 'gray'];
export const DEFAULT_COLORMAP: ColormapName = 'viridis';

export function isColormapName(s: string): s is ColormapName {
  return (COLORMAPS as readonly string[]).includes(s);
}

// Chebyshev coefficients c0..cn per channel (R, G, B); value(t) = sum c_i T_i(2t - 1), in 0..1.
const CHEBYSHEV: Record<'viridis' | 'inferno' | 'turbo', number[][]> = {
  viridis: [
    [0.408617, 0.298156, 0.254844, 0.080077, -0.0332698, -0.0197918, -0.00185092, 0.00649831, 0.00208034, -0.00362625, -0.00134498, 0.00197607, 0.00115671],
    [0.518831, 0.454424, -0.0571666, -0.00506378, -0.00831093, 0.000599948, 0.00223163, 0.000772389, -0.000316438, 0.000131957, 0.000113351, -0.000192569, 0.000123001],
    [0.375836, -0.147047, -0.170765, 0.0208376, 0.014723, 0.0285639, 0.0145807, 0.00470385, 0.0040667, 0.00116878, -0.000711194, -0.00074268, -0.000937204],
  ],
  inferno: [
    [0.590638, 0.531974, -0.132518, -0.0504209, 0.020106, 0.0086197, 0.0137137, 0.00116966, 0.00336484, 0.00267016, -0.000198388, 0.000134201, -0.000222692, -0.00065791, 4.82607e-05],
    [0.377187, 0.499717, 0.146218, 0.00627433, -0.0188883, -0.00665389, -0.00592096, 0.00378691, -0.000930165, -0.00438457, 0.00353695, -0.00126006, -0.000356389, 0.00138209, -0.00144346],
    [0.281744, 0.107905, 0.00808953, 0.230887, 0.0517264, -0.00241416, -0.00946759, -0.0232332, 0.00201983, 0.00446454, 0.00257253, 0.00254882, -0.00554875, -0.00472095, -0.00193251],
  ],
  turbo: [
    [0.505339, 0.30853, -0.120155, -0.233384, -0.0466596, 0.0960782, -0.0162249, -0.0358197, 0.0238692, 0.00276383, -0.0150052, 0.00930488, 0.00447752, -0.00723452, 5.74865e-05, 0.00462844, -0.000912669],
    [0.436781, -0.0965679, -0.461918, 0.068089, 0.0805556, 0.00408287, -0.0119976, -0.00317734, -0.00315227, 8.64925e-05, 0.00232646, 0.000875356, 0.00163632, -0.000825653, -0.00224635, -0.000544777, 0.0018055],
    [0.354461, -0.358294, -0.120283, 0.226526, -0.145641, 0.0420547, 0.0465583, -0.0227009, -0.0180518, 0.00124095, 0.010646, 0.00636112, -0.00862549, -0.00513752, 0.00557919, -0.000924082, -0.00329315],
  ],
};

/** Clenshaw's recurrence for sum c_i T_i(x). */
function chebyshev(c: number[], x: number): number {
  let b1 = 0;
  let b2 = 0;
  for (let i = c.length - 1; i >= 1; i--) {
    const b0 = 2 * x * b1 - b2 + c[i];
    b2 = b1;
    b1 = b0;
  }
  return x * b1 - b2 + c[0];
}

const clamp01 = (v: number) => (v < 0 ? 0 : v > 1 ? 1 : v);

/** The colour of t in 0..1 as [r, g, b] in 0..1. */
export function colormapValue(name: ColormapName, t: number): [number, number, number] {
  t = clamp01(t);
  switch (name) {
    case 'gray':
      return [t, t, t];
    case 'jet':
      // MATLAB jet: each channel a trapezoid, blue -> cyan -> yellow -> red.
      return [clamp01(1.5 - Math.abs(4 * t - 3)), clamp01(1.5 - Math.abs(4 * t - 2)), clamp01(1.5 - Math.abs(4 * t - 1))];
    default: {
      const c = CHEBYSHEV[name];
      const x = 2 * t - 1;
      return [clamp01(chebyshev(c[0], x)), clamp01(chebyshev(c[1], x)), clamp01(chebyshev(c[2], x))];
    }
  }
}

const cache = new Map<ColormapName, Uint8Array>();

/** 256 x 3 bytes: entry i is the colour of t = i / 255. Shared: do not modify. */
export function colormapLut(name: ColormapName): Uint8Array {
  if (!isColormapName(name)) throw new Error(`unknown colormap "${name}" (expected ${COLORMAPS.join(', ')})`);
  let lut = cache.get(name);
  if (!lut) {
    lut = new Uint8Array(256 * 3);
    for (let i = 0; i < 256; i++) {
      const [r, g, b] = colormapValue(name, i / 255);
      lut[i * 3] = Math.round(r * 255);
      lut[i * 3 + 1] = Math.round(g * 255);
      lut[i * 3 + 2] = Math.round(b * 255);
    }
    cache.set(name, lut);
  }
  return lut;
}
