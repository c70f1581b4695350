// The messages that cross CNN Lens's two process boundaries, for both sides to import:
//   host ↔ engine  (the extension host and the engine child process, over Node IPC with structured clone)
//   host ↔ webview (the extension host and each panel's page, over postMessage)
// Plain data only: no vscode, DOM or tfjs imports. Every union is keyed by `type`.

// ─────────────────────────────── host ↔ engine ───────────────────────────────

export type BackendPreference = 'auto' | 'native' | 'wasm' | 'cpu';
export const BACKEND_PREFERENCES: readonly BackendPreference[] = ['auto', 'native', 'wasm', 'cpu'];

export interface EngineInfo {
  pid: number;
  node: string;
  /** The backend that runs, after `auto` was resolved. */
  backend: 'native' | 'wasm' | 'cpu';
  versions: Record<string, string>;
  uptimeMs: number;
  memoryMB: number;
}

/** Each request kind: its parameters and its result. */
export interface EngineCalls {
  ping: { params: Record<never, never>; result: { pid: number; uptimeMs: number } };
  info: { params: Record<never, never>; result: EngineInfo };
  /**
   * Sleeps `steps` times `ms` ms, checking for cancel between steps (or never, with `ignoreCancel`):
   * exercises queueing, progress, cancel, time limits and restarts without a model.
   */
  debugSleep: { params: { ms: number; steps: number; ignoreCancel?: boolean }; result: { steps: number } };
}

export type EngineRequestType = keyof EngineCalls;
export type EngineRequest = { [K in EngineRequestType]: { type: K } & EngineCalls[K]['params'] }[EngineRequestType];
export type EngineRequestOf<K extends EngineRequestType> = Extract<EngineRequest, { type: K }>;
export type EngineResult<K extends EngineRequestType> = EngineCalls[K]['result'];

/** Streamed while a request runs (tiles, frames) — none yet. */
export type EngineEvent = { type: 'note'; message: string };

export type HostToEngine =
  | { type: 'request'; id: number; request: EngineRequest }
  | { type: 'cancel'; id: number };

export type EngineToHost =
  /** Sent once when the message loop listens. */
  | { type: 'ready'; pid: number }
  | { type: 'result'; id: number; result: unknown }
  /** `user`: a problem with the user's input (one line, no stack); otherwise an internal fault. */
  | { type: 'error'; id: number; message: string; user: boolean; stack?: string }
  | { type: 'cancelled'; id: number }
  | { type: 'progress'; id: number; done: number; total: number; message?: string }
  | { type: 'event'; id: number; event: EngineEvent }
  | { type: 'log'; level: 'info' | 'warn' | 'error'; message: string };

/** What the status bar shows. */
export type EngineState =
  | { type: 'stopped' }
  | { type: 'starting' }
  | { type: 'idle'; backend: string; pid: number }
  | { type: 'busy'; backend: string; pid: number; pending: number }
  | { type: 'crashed'; reason: string };

// ─────────────────────────────── helpers ───────────────────────────────

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Validates a message from the engine before use (it crosses a process boundary). */
export function parseEngineMessage(m: unknown): EngineToHost | null {
  if (!isObject(m) || typeof m.type !== 'string') return null;
  const id = m.id;
  switch (m.type) {
    case 'ready':
      return typeof m.pid === 'number' ? (m as EngineToHost) : null;
    case 'result':
      return typeof id === 'number' ? (m as EngineToHost) : null;
    case 'error':
      return typeof id === 'number' && typeof m.message === 'string' ? { type: 'error', id, message: m.message, user: m.user === true, stack: typeof m.stack === 'string' ? m.stack : undefined } : null;
    case 'cancelled':
      return typeof id === 'number' ? { type: 'cancelled', id } : null;
    case 'progress':
      return typeof id === 'number' && typeof m.done === 'number' && typeof m.total === 'number' ? (m as EngineToHost) : null;
    case 'event':
      return typeof id === 'number' && isObject(m.event) ? (m as EngineToHost) : null;
    case 'log':
      return typeof m.message === 'string' && (m.level === 'info' || m.level === 'warn' || m.level === 'error') ? (m as EngineToHost) : null;
    default:
      return null;
  }
}
