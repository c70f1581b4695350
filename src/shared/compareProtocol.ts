// host ↔ explain panel, the trust part: the Compare view (top-K classes × ticked methods, faithfulness
// scores) and the Sanity check. A section of the explain panel with messages of its own, parsed here;
// the rest of the panel's messages are in explainProtocol.ts. Plain data only.
import { isObject } from './guards';
import type { PngImage } from './engineProtocol';
import type { HeatmapView } from './explainProtocol';
import type { SanityRecord, SanityStage } from './trustRecords';

/** The Compare view's choices, kept with the panel's state (hide/show and reload). */
export interface CompareViewState {
  tab: 'single' | 'compare';
  /** Rows: the top-K classes. */
  topK: number;
  /** Columns: the ticked methods, in the model's method order. */
  methods: string[];
}

export const MAX_COMPARE_CLASSES = 10;
export const DEFAULT_COMPARE_METHODS = ['gradcam', 'gradcam++', 'saliency'];

export function defaultCompareState(): CompareViewState {
  return { tab: 'single', topK: 3, methods: [...DEFAULT_COMPARE_METHODS] };
}

/** Deletion and insertion AUCs of one map (lower deletion, higher insertion is better). */
export interface CellScores {
  deletion: number;
  insertion: number;
}

/**
 * One cell of the grid: a map as the single view shows it (key: model|method|layer|preprocess|class; image: the map
 * alone, coloured, which the page lays over the image at the panel's opacity), with its faithfulness scores.
 */
export type CompareCellView = Pick<HeatmapView, 'key' | 'classIndex' | 'label' | 'probability' | 'method' | 'layer' | 'kind' | 'ms' | 'image'> & {
  scores: CellScores | null;
};

/** The cell of a row that is best on both curves together: the largest insertion AUC − deletion AUC. */
export function bestInRow<T extends { scores: CellScores | null }>(cells: T[]): T | null {
  let best: T | null = null;
  for (const c of cells) {
    if (!c.scores) continue;
    if (!best || c.scores.insertion - c.scores.deletion > best.scores!.insertion - best.scores!.deletion) best = c;
  }
  return best;
}

export type ToTrustView =
  /** One computed (or newly scored) cell; the page replaces the cell with the same method and class. */
  | { type: 'compare.cell'; cell: CompareCellView }
  /** The random map's AUCs for a class, shown in the row header for context. */
  | { type: 'compare.random'; classIndex: number; scores: CellScores }
  /** Forget the cells on show (the layer, colormap or preprocessing changed). */
  | { type: 'compare.clear' }
  | { type: 'trust.busy'; message: string; done?: number; total?: number }
  | { type: 'trust.idle' }
  | { type: 'trust.error'; message: string }
  | { type: 'trust.saved'; file: string }
  /** Hide the last sanity check (the panel switched models). */
  | { type: 'sanity.clear' }
  | { type: 'sanity.start'; method: string; label: string }
  | { type: 'sanity.stage'; index: number; total: number; stage: SanityStage | null; layer: string | null; image: PngImage }
  | { type: 'sanity.done'; record: SanityRecord; passed: boolean; sentence: string };

export type FromTrustView =
  | { type: 'compare.setView'; view: Partial<CompareViewState> }
  /** Compute the cells of the current grid that are not cached. */
  | { type: 'compare.compute' }
  /** Score every computed cell (deletion/insertion AUCs) and each row's random map. */
  | { type: 'compare.score' }
  | { type: 'compare.save' }
  /** The sanity check of the single view's method, class and layer. */
  | { type: 'sanity.run' }
  | { type: 'trust.cancel' };

/** Validated compare choices (from the page or from a revived state); unknown fields dropped. */
export function parseCompareView(v: unknown): Partial<CompareViewState> | null {
  if (!isObject(v)) return null;
  const out: Partial<CompareViewState> = {};
  if (v.tab === 'single' || v.tab === 'compare') out.tab = v.tab;
  if (typeof v.topK === 'number' && Number.isInteger(v.topK) && v.topK >= 1 && v.topK <= MAX_COMPARE_CLASSES) out.topK = v.topK;
  if (Array.isArray(v.methods) && v.methods.length <= 64 && v.methods.every((m) => typeof m === 'string' && m.length <= 64)) out.methods = [...new Set(v.methods as string[])];
  return out;
}

/** Validates a trust message from the explain panel (webview messages are untrusted input); null if it is none. */
export function parseFromTrustView(m: unknown): FromTrustView | null {
  if (!isObject(m) || typeof m.type !== 'string') return null;
  switch (m.type) {
    case 'compare.compute':
    case 'compare.score':
    case 'compare.save':
    case 'sanity.run':
    case 'trust.cancel':
      return { type: m.type };
    case 'compare.setView': {
      const view = parseCompareView(m.view);
      return view ? { type: 'compare.setView', view } : null;
    }
    default:
      return null;
  }
}
