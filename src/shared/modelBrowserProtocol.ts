// host ↔ model browser (the custom editor's webview, postMessage). Plain data; messages from the webview are parsed here.
import { isObject } from './guards';
import type { LayerTile, PngImage, ModelSummaryView } from './engineProtocol';

export interface ModelBrowserState {
  /** Paths of expanded containers. */
  expanded: string[];
  selected: string | null;
}

export type ToModelBrowser =
  | { type: 'summary'; summary: ModelSummaryView; backend: string | null; fileName: string }
  | { type: 'busy'; message: string }
  | { type: 'idle' }
  | { type: 'error'; message: string }
  /** A picture of the selected layer: its filter weights, or its feature maps for an image (as one grid, and tile by tile). */
  | { type: 'layerImage'; path: string; what: LayerImageKind; image: PngImage; description: string; tiles?: LayerTile[] };

export type LayerImageKind = 'weights' | 'activations';
export type LayerAction = LayerImageKind | 'visualizeFilters' | 'visualizeClass';
const LAYER_ACTIONS: readonly string[] = ['weights', 'activations', 'visualizeFilters', 'visualizeClass'];

export type FromModelBrowser =
  | { type: 'ready' }
  | { type: 'retry' }
  | { type: 'openAsText' }
  | { type: 'selectLayer'; path: string | null }
  | { type: 'layerAction'; path: string; action: LayerAction };

export function parseFromModelBrowser(m: unknown): FromModelBrowser | null {
  if (!isObject(m) || typeof m.type !== 'string') return null;
  switch (m.type) {
    case 'ready':
    case 'retry':
    case 'openAsText':
      return { type: m.type };
    case 'selectLayer':
      return m.path === null || typeof m.path === 'string' ? { type: 'selectLayer', path: m.path } : null;
    case 'layerAction':
      return typeof m.path === 'string' && typeof m.action === 'string' && LAYER_ACTIONS.includes(m.action) ? { type: 'layerAction', path: m.path, action: m.action as LayerAction } : null;
    default:
      return null;
  }
}

