// host ↔ explain panel (postMessage). Plain data only; every union is keyed by `type`; messages from the
// webview are untrusted and parsed here.
import { type CompareViewState, defaultCompareState, parseCompareView } from './compareProtocol';
import { isObject } from './guards';
import type { MapKind, ModelBrief, Prediction, PngImage } from './engineProtocol';

export type ExplainLayout = 'overlay' | 'side-by-side';

/** The panel's choices; kept in the webview's state and sent back on every change. */
export interface ExplainViewOptions {
  method: string;
  /** null: the model's default layer. */
  layer: string | null;
  colormap: string;
  /** 'auto': the model's own. */
  preprocess: string;
  opacity: number;
  layout: ExplainLayout;
  /** null: the top-1 class. */
  classIndex: number | null;
}

/** What the panel keeps with setState, and what a reload revives it from. */
export interface ExplainPanelState {
  image: string;
  model: string;
  options: ExplainViewOptions;
  /** The Compare view's choices (src/shared/compareProtocol.ts). */
  compare?: CompareViewState;
}

export interface HeatmapView {
  key: string;
  classIndex: number;
  label: string;
  probability: number;
  method: string;
  layer: string | null;
  layerIsDefault: boolean;
  kind: MapKind;
  colormap: string;
  image: PngImage;
  min: number;
  max: number;
  ms: number;
  /** The map is zero everywhere: what shows more (src/shared/methods.ts emptyMapAdvice). */
  empty?: string;
}

export type ToExplainView =
  | {
      type: 'init';
      state: ExplainPanelState;
      imageName: string;
      /** webview URI of the image file. */
      imageUri: string;
      modelName: string;
      model: Pick<ModelBrief, 'labels' | 'methods' | 'spatialLayers' | 'otherLayers' | 'defaultLayer' | 'defaultLayerReason' | 'colormaps' | 'preprocessPresets' | 'defaultPreprocess' | 'preprocessReason' | 'canExplain' | 'format' | 'inputSize'>;
    }
  /** `inputNote`: what happened to the image on its way into the model ("8×8 upscaled to 224×224"), if notable. */
  | { type: 'predictions'; predictions: Prediction[]; inputNote?: string | null }
  /** The options as the host holds them (after a change from either side). */
  | { type: 'options'; options: ExplainViewOptions }
  | { type: 'heatmap'; heatmap: HeatmapView }
  | { type: 'busy'; message: string; done?: number; total?: number }
  | { type: 'idle' }
  /** `fatal`: the model or the image could not be loaded; the panel offers another model and Retry. */
  | { type: 'error'; message: string; fatal?: boolean }
  | { type: 'saved'; file: string };

export type FromExplainView =
  | { type: 'ready' }
  | { type: 'setOptions'; options: Partial<ExplainViewOptions> }
  | { type: 'save'; format: 'png' | 'npy' }
  | { type: 'cancel' }
  | { type: 'retry' }
  | { type: 'selectModel' };

const LAYOUTS: readonly string[] = ['overlay', 'side-by-side'];

/** Validates a message from the explain panel (webview messages are untrusted input). */
export function parseFromExplainView(m: unknown): FromExplainView | null {
  if (!isObject(m) || typeof m.type !== 'string') return null;
  switch (m.type) {
    case 'ready':
    case 'cancel':
    case 'retry':
    case 'selectModel':
      return { type: m.type };
    case 'save':
      return m.format === 'png' || m.format === 'npy' ? { type: 'save', format: m.format } : null;
    case 'setOptions': {
      const o = m.options;
      if (!isObject(o)) return null;
      const out: Partial<ExplainViewOptions> = {};
      if (typeof o.method === 'string') out.method = o.method;
      if (o.layer === null || typeof o.layer === 'string') out.layer = o.layer;
      if (typeof o.colormap === 'string') out.colormap = o.colormap;
      if (typeof o.preprocess === 'string') out.preprocess = o.preprocess;
      if (typeof o.opacity === 'number' && o.opacity >= 0 && o.opacity <= 1) out.opacity = o.opacity;
      if (typeof o.layout === 'string' && LAYOUTS.includes(o.layout)) out.layout = o.layout as ExplainLayout;
      if (o.classIndex === null || (typeof o.classIndex === 'number' && Number.isInteger(o.classIndex) && o.classIndex >= 0)) out.classIndex = o.classIndex;
      return { type: 'setOptions', options: out };
    }
    default:
      return null;
  }
}

/** Validates a revived panel's state (it comes from the webview). */
export function parseExplainPanelState(s: unknown, defaults: ExplainViewOptions): ExplainPanelState | null {
  if (!isObject(s) || typeof s.image !== 'string' || typeof s.model !== 'string') return null;
  const parsed = parseFromExplainView({ type: 'setOptions', options: s.options ?? {} });
  const options = { ...defaults, ...(parsed && parsed.type === 'setOptions' ? parsed.options : {}) };
  const compare = s.compare === undefined ? {} : { compare: { ...defaultCompareState(), ...parseCompareView(s.compare) } };
  return { image: s.image, model: s.model, options, ...compare };
}

