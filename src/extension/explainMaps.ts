// The explain panel's maps: computed by the engine once per method|layer|preprocessing|class, kept with
// their renderings per colormap, and turned into what the page shows (HeatmapView).
import type * as vscode from 'vscode';
import type { ExplainOutput, ExplainViewOptions, HeatmapView, ModelBrief, PngImage } from '../shared/protocol';
import type { EngineClient } from './engineClient';

/** Longest side of the heatmaps the panel shows (saving renders at the image's own size). */
export const VIEW_SIZE = 512;

export interface MapRequest {
  model: string;
  image: string;
  options: ExplainViewOptions;
  classIndex: number;
}

export class MapCache {
  /** Maps by method|layer|preprocess|class, and their renderings by that key + colormap. */
  private readonly maps = new Map<string, ExplainOutput>();
  private readonly renders = new Map<string, PngImage>();

  static key(brief: ModelBrief, o: ExplainViewOptions, classIndex: number): string | null {
    const method = brief.methods.find((m) => m.name === o.method);
    if (!method) return null;
    return [o.method, method.usesLayer ? (o.layer ?? '(default)') : '-', o.preprocess, classIndex].join('|');
  }

  get(key: string): ExplainOutput | undefined {
    return this.maps.get(key);
  }

  clear(): void {
    this.maps.clear();
    this.renders.clear();
  }

  /**
   * The map for `key` and its rendering in the chosen colormap: from the cache, re-coloured, or computed
   * by the engine (with progress). Undefined when a request ended without a result (superseded).
   */
  async obtain(
    engine: EngineClient,
    key: string,
    r: MapRequest,
    token: vscode.CancellationToken,
    onProgress: (p: { done: number; total: number; message?: string }) => void,
    guard: <T>(f: () => Promise<T>) => Promise<T | undefined>,
  ): Promise<{ out: ExplainOutput; image: PngImage } | undefined> {
    const o = r.options;
    let out = this.maps.get(key);
    if (!out) {
      out = await guard(() =>
        engine.request(
          { type: 'explain', model: r.model, image: r.image, method: o.method, classIndex: r.classIndex, layer: o.layer ?? undefined, preprocess: o.preprocess, colormap: o.colormap, maxSize: VIEW_SIZE },
          { token, onProgress },
        ),
      );
      if (!out) return undefined;
      this.maps.set(key, out);
      this.renders.set(`${key}|${o.colormap}`, out.heatmap);
    }
    let image = this.renders.get(`${key}|${o.colormap}`);
    if (!image) {
      const map = out;
      image = await guard(() =>
        engine.request({ type: 'render', image: r.image, map: map.map, shape: map.shape, kind: map.kind, colormap: o.colormap, style: 'heatmap', alpha: 1, maxSize: VIEW_SIZE }, { token }),
      );
      if (!image) return undefined;
      this.renders.set(`${key}|${o.colormap}`, image);
    }
    return { out, image };
  }
}

export function heatmapView(key: string, out: ExplainOutput, colormap: string, image: PngImage): HeatmapView {
  return {
    key,
    classIndex: out.classIndex,
    label: out.label,
    probability: out.probability,
    method: out.method,
    layer: out.layer,
    layerIsDefault: out.layerIsDefault,
    kind: out.kind,
    colormap,
    image,
    min: out.min,
    max: out.max,
    ms: out.ms,
    ...(out.empty ? { empty: out.empty.advice } : {}),
  };
}
