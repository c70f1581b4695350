// The extension's settings (contributes.configuration in package.json), read with their defaults.
import * as vscode from 'vscode';
import { BACKEND_PREFERENCES, type BackendPreference } from '../shared/protocol';

export interface Settings {
  /** Model file; empty: picked from the workspace and remembered. */
  model: string;
  preprocess: string;
  colormap: string;
  defaultMethod: string;
  backend: BackendPreference;
  requestTimeoutSeconds: number;
  engineMemoryMB: number;
}

export function readSettings(): Settings {
  const c = vscode.workspace.getConfiguration('cnnLens');
  const backend = c.get<string>('backend', 'auto');
  return {
    model: c.get<string>('model', '').trim(),
    preprocess: c.get<string>('preprocess', 'auto'),
    colormap: c.get<string>('colormap', 'viridis'),
    defaultMethod: c.get<string>('defaultMethod', 'gradcam'),
    backend: (BACKEND_PREFERENCES as readonly string[]).includes(backend) ? (backend as BackendPreference) : 'auto',
    requestTimeoutSeconds: Math.max(5, c.get<number>('requestTimeoutSeconds', 1800)),
    engineMemoryMB: Math.max(256, c.get<number>('engineMemoryMB', 4096)),
  };
}
