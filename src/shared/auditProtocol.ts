// host ↔ Audit panel (postMessage), and the audit request the host sends the engine. Plain data only;
// messages from the webview are untrusted and parsed here.
import type { AuditReport } from './auditRecords';
import { isObject } from './guards';

/** The engine's `audit` request: classify FOLDER, write the report's pictures (and at the end summary.json and index.html) into `reportDir`. */
export interface AuditParams {
  model: string;
  folder: string;
  /** A folder the host owns; created if missing, its contents replaced. */
  reportDir: string;
  method?: string;
  layer?: string;
  preprocess?: string;
  top?: number;
}

export type AuditRunState = 'running' | 'done' | 'cancelled' | 'error';

export type ToAuditView =
  | { type: 'init'; folder: string; model: string; title: string }
  /** The report so far; `imageBase` is the webview URI of the report folder (report files are relative to it). */
  | { type: 'report'; report: AuditReport; imageBase: string }
  | { type: 'progress'; done: number; total: number; message: string }
  | { type: 'state'; state: AuditRunState; message?: string };

export type FromAuditView =
  | { type: 'ready' }
  | { type: 'cancel' }
  | { type: 'run' }
  | { type: 'export' }
  /** Open the explain panel on an image of the report (relative to the folder) for one class. */
  | { type: 'explain'; image: string; classIndex: number };

export function parseFromAuditView(m: unknown): FromAuditView | null {
  if (!isObject(m)) return null;
  switch (m.type) {
    case 'ready':
    case 'cancel':
    case 'run':
    case 'export':
      return { type: m.type };
    case 'explain':
      return typeof m.image === 'string' && typeof m.classIndex === 'number' && Number.isInteger(m.classIndex) && m.classIndex >= 0 ? { type: 'explain', image: m.image, classIndex: m.classIndex } : null;
    default:
      return null;
  }
}

/** The panel state a reload revives it from. */
export interface AuditPanelState {
  folder: string;
  model: string;
}

export function parseAuditPanelState(s: unknown): AuditPanelState | null {
  return isObject(s) && typeof s.folder === 'string' && typeof s.model === 'string' ? { folder: s.folder, model: s.model } : null;
}
