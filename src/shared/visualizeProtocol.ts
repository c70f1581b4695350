// host ↔ visualization panel (Deep Dream, filters, class visualization, inversion; postMessage).
import { isObject } from './guards';
import type { PngImage } from './engineProtocol';

/** One feature-visualization job: what a visualization panel runs (and is revived from). */
export type VisJob =
  | { kind: 'dream'; model: string; image: string; layers?: string[] }
  | { kind: 'filters'; model: string; layer: string; first: number; last: number }
  | { kind: 'class'; model: string; classIndex: number; label: string }
  | { kind: 'invert'; model: string; image: string; layer: string };

export type VisStatus = 'idle' | 'running' | 'done' | 'cancelled' | 'error';

export type ToVisualizeView =
  | { type: 'init'; job: VisJob; title: string; subtitle: string; imageUri: string | null; tileCount: number }
  /** `run` numbers the runs of this panel: the page ignores anything from an older run. */
  | { type: 'started'; run: number }
  | { type: 'progress'; run: number; done: number; total: number; message?: string }
  | { type: 'frame'; run: number; image: PngImage; step: number; total: number; index: number }
  | { type: 'tile'; run: number; index: number; channel: number; image: PngImage; objective: number; note?: string | null }
  | { type: 'done'; run: number; description: string; image: PngImage | null; ms: number }
  | { type: 'cancelled'; run: number }
  | { type: 'error'; run: number; message: string };

export type FromVisualizeView = { type: 'ready' } | { type: 'run' } | { type: 'cancel' } | { type: 'save' };

export function parseFromVisualizeView(m: unknown): FromVisualizeView | null {
  if (!isObject(m)) return null;
  return m.type === 'ready' || m.type === 'run' || m.type === 'cancel' || m.type === 'save' ? { type: m.type } : null;
}

/** Validates a revived visualization panel's job (it comes from the webview's state). */
export function parseVisJob(j: unknown): VisJob | null {
  if (!isObject(j) || typeof j.model !== 'string') return null;
  const str = (v: unknown) => typeof v === 'string';
  const int = (v: unknown) => typeof v === 'number' && Number.isInteger(v) && v >= 0;
  switch (j.kind) {
    case 'dream':
      return str(j.image) && (j.layers === undefined || (Array.isArray(j.layers) && j.layers.every(str))) ? { kind: 'dream', model: j.model, image: j.image as string, layers: j.layers as string[] | undefined } : null;
    case 'filters':
      return str(j.layer) && int(j.first) && int(j.last) && (j.last as number) >= (j.first as number) ? { kind: 'filters', model: j.model, layer: j.layer as string, first: j.first as number, last: j.last as number } : null;
    case 'class':
      return int(j.classIndex) && str(j.label) ? { kind: 'class', model: j.model, classIndex: j.classIndex as number, label: j.label as string } : null;
    case 'invert':
      return str(j.image) && str(j.layer) ? { kind: 'invert', model: j.model, image: j.image as string, layer: j.layer as string } : null;
    default:
      return null;
  }
}

