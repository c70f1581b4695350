// How an explanation map is drawn for people, the same in the CLI and the extension's panels.
import type { ColormapName } from './image/colormap';
import type { RgbaImage } from './image/decode';
import { absPercentile, heatmapOverlay, renderSignedOrRgb } from './image/render';
import { METHODS, type MethodName } from './methods';

export interface RenderOptions {
  colormap?: ColormapName;
  /** Heatmap opacity over the image, 0..1. */
  alpha?: number;
}

/**
 * Layer maps (CAM family) are drawn over the original image at its own resolution. Input-resolution
 * maps (saliency, SmoothGrad) are too, but scaled to their 99.5th percentile: a few extreme pixels
 * would otherwise leave the rest invisible. [H, W, C] gradient maps are drawn as images.
 */
export function renderExplanation(method: MethodName, map: Float32Array, shape: number[], original: RgbaImage, opts: RenderOptions = {}): RgbaImage {
  const kind = METHODS[method].output;
  if (kind === 'input-channels') return renderSignedOrRgb(map, shape[0], shape[1], shape[2]);
  const overlay = { colormap: opts.colormap ?? 'viridis', alpha: opts.alpha ?? 0.5 } as const;
  if (kind === 'input-map') {
    let lo = Infinity;
    for (const v of map) if (v < lo) lo = v;
    const hi = absPercentile(map, 99.5);
    if (hi > lo) return heatmapOverlay(map, shape[0], shape[1], original, { ...overlay, range: [lo, hi] });
  }
  return heatmapOverlay(map, shape[0], shape[1], original, overlay);
}
