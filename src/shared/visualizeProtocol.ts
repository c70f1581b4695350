// host ↔ visualization panel (Deep Dream, filters, class visualization, inversion; postMessage).
import { isObject } from './guards';
import type { PngImage } from './engineProtocol';

/** One feature-visualization job: what a visualization panel runs (and is revived from). */
export type VisJob =
  | { kind: 'dream'; model: string; image: string; layers?: string[]; octaves?: number; steps?: number }
  | { kind: 'filters'; model: string; layer: string; first: number; last: number }
  | { kind: 'class'; model: string; classIndex: number; label: string }
  | { kind: 'invert'; model: string; image: string; layer: string; steps?: number };

/** Deep Dream's defaults as the panel offers them (the engine's DREAM_DEFAULTS use these). */
export const DREAM_DEFAULT_OCTAVES = 4;
export const DREAM_DEFAULT_STEPS = 20;
/** Feature inversion's default step count (the engine's DEFAULT_INVERT_STEPS). */
export const INVERT_DEFAULT_STEPS = 200;

/** What Deep Dream and Invert Features let the user choose in their panel. */
export interface VisChoices {
  /** The model's explainable (spatial) layers, deepest first, names without the shared prefix. */
  layers: { path: string; name: string; detail: string }[];
  prefix: string;
  /** Invert's default: the middle spatial layer (the last ones reconstruct to noise). */
  middleLayer: string | null;
}

/** Settings a panel's Run applies to its job before running it again. */
export interface VisSettings {
  layers?: string[];
  layer?: string;
  octaves?: number;
  steps?: number;
}

export type VisStatus = 'idle' | 'running' | 'done' | 'cancelled' | 'error';

export type ToVisualizeView =
  | { type: 'init'; job: VisJob; title: string; subtitle: string; imageUri: string | null; tileCount: number; choices?: VisChoices | null }
  /** `run` numbers the runs of this panel: the page ignores anything from an older run. */
  | { type: 'started'; run: number }
  /** Before the optimization starts: how long it will take (e.g. "about 40 s: … (timed on this model)"). */
  | { type: 'estimate'; run: number; text: string; ms: number }
  | { type: 'progress'; run: number; done: number; total: number; message?: string }
  | { type: 'frame'; run: number; image: PngImage; step: number; total: number; index: number }
  | { type: 'tile'; run: number; index: number; channel: number; image: PngImage; objective: number; note?: string | null }
  | { type: 'done'; run: number; description: string; image: PngImage | null; ms: number }
  | { type: 'cancelled'; run: number }
  | { type: 'error'; run: number; message: string };

export type FromVisualizeView = { type: 'ready' } | { type: 'run'; settings?: VisSettings } | { type: 'cancel' } | { type: 'save' };

const wholeIn = (v: unknown, lo: number, hi: number): v is number => typeof v === 'number' && Number.isInteger(v) && v >= lo && v <= hi;

export function parseFromVisualizeView(m: unknown): FromVisualizeView | null {
  if (!isObject(m)) return null;
  if (m.type === 'run' && isObject(m.settings)) {
    const s = m.settings;
    const out: VisSettings = {};
    if (Array.isArray(s.layers) && s.layers.length <= 16 && s.layers.every((l) => typeof l === 'string')) out.layers = s.layers as string[];
    if (typeof s.layer === 'string' && s.layer) out.layer = s.layer;
    if (wholeIn(s.octaves, 1, 12)) out.octaves = s.octaves;
    if (wholeIn(s.steps, 1, 2000)) out.steps = s.steps;
    return { type: 'run', settings: out };
  }
  return m.type === 'ready' || m.type === 'run' || m.type === 'cancel' || m.type === 'save' ? { type: m.type } : null;
}

/** Validates a revived visualization panel's job (it comes from the webview's state). */
export function parseVisJob(j: unknown): VisJob | null {
  if (!isObject(j) || typeof j.model !== 'string') return null;
  const str = (v: unknown) => typeof v === 'string';
  const int = (v: unknown) => typeof v === 'number' && Number.isInteger(v) && v >= 0;
  switch (j.kind) {
    case 'dream':
      return str(j.image) && (j.layers === undefined || (Array.isArray(j.layers) && j.layers.every(str)))
        ? { kind: 'dream', model: j.model, image: j.image as string, layers: j.layers as string[] | undefined, octaves: wholeIn(j.octaves, 1, 12) ? j.octaves : undefined, steps: wholeIn(j.steps, 1, 2000) ? j.steps : undefined }
        : null;
    case 'filters':
      return str(j.layer) && int(j.first) && int(j.last) && (j.last as number) >= (j.first as number) ? { kind: 'filters', model: j.model, layer: j.layer as string, first: j.first as number, last: j.last as number } : null;
    case 'class':
      return int(j.classIndex) && str(j.label) ? { kind: 'class', model: j.model, classIndex: j.classIndex as number, label: j.label as string } : null;
    case 'invert':
      return str(j.image) && str(j.layer) ? { kind: 'invert', model: j.model, image: j.image as string, layer: j.layer as string, steps: wholeIn(j.steps, 1, 2000) ? j.steps : undefined } : null;
    default:
      return null;
  }
}

