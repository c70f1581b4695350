// A method's map as one importance value per input pixel, and the order in which pixels are perturbed.
// The protocol (README, "Which map to trust"): layer maps [h, w] are resized bilinearly with half-pixel
// centres to the input's H×W; [H, W, C] maps become Σ_c |value|; [H, W] maps are taken as they are.
import { resizeBilinear } from '../image/resize';

/** The kinds of map the methods return (AttributionMethod.output). */
export type MapKind = 'layer-map' | 'input-map' | 'input-channels';

/** Per-pixel importance [H·W], row-major, at the model's input size. */
export function pixelImportance(map: Float32Array, shape: number[], kind: MapKind, height: number, width: number): Float32Array {
  const expected = shape.reduce((a, b) => a * b, 1);
  if (map.length !== expected) throw new Error(`importance: the map has ${map.length} values but its shape ${JSON.stringify(shape)} needs ${expected}`);
  if (kind === 'input-channels') {
    const [h, w, c = 1] = shape;
    if (h !== height || w !== width) throw new Error(`importance: an input map of ${h}×${w} for an input of ${height}×${width}`);
    const out = new Float32Array(h * w);
    for (let p = 0; p < h * w; p++) {
      let s = 0;
      for (let k = 0; k < c; k++) s += Math.abs(map[p * c + k]);
      out[p] = s;
    }
    return out;
  }
  const [h, w] = shape;
  if (kind === 'input-map' && (h !== height || w !== width)) throw new Error(`importance: an input map of ${h}×${w} for an input of ${height}×${width}`);
  return resizeBilinear(map, h, w, 1, height, width);
}

/**
 * Pixel indices by importance, descending; ties (and NaN, ranked last) by index, ascending. Returned as
 * an Int32Array of all H·W indices.
 */
export function rankPixels(importance: Float32Array): Int32Array {
  const n = importance.length;
  const idx = Array.from({ length: n }, (_, i) => i);
  const key = (i: number) => (Number.isNaN(importance[i]) ? -Infinity : importance[i]);
  idx.sort((a, b) => {
    const d = key(b) - key(a);
    return d > 0 ? 1 : d < 0 ? -1 : a - b;
  });
  return Int32Array.from(idx);
}

/** The number of pixels perturbed at step k of N: round(k·P/N). */
export function pixelsAtStep(k: number, steps: number, pixels: number): number {
  return Math.round((k * pixels) / steps);
}

/** Min-max normalized to [0, 1]; a constant map becomes all zeros. */
export function normalize01(values: Float32Array): Float32Array {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const out = new Float32Array(values.length);
  const spread = hi - lo;
  if (!(spread > 0) || !Number.isFinite(spread)) return out;
  for (let i = 0; i < values.length; i++) out[i] = (values[i] - lo) / spread;
  return out;
}
