// Shared helpers for the tests that run inside the extension host.
import * as vscode from 'vscode';
import type { CnnLensApi } from '../../../src/extension/extension';

export const EXTENSION_ID = 'cnn-lens.cnn-lens';

export async function api(): Promise<CnnLensApi> {
  const ext = vscode.extensions.getExtension<CnnLensApi>(EXTENSION_ID);
  if (!ext) throw new Error(`extension ${EXTENSION_ID} is not loaded`);
  return ext.isActive ? ext.exports : await ext.activate();
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Resolves with how the promise ended: its value, or the error's `reason`/message. */
export async function outcome<T>(p: Promise<T>): Promise<{ ok: true; value: T } | { ok: false; reason: string; message: string }> {
  try {
    return { ok: true, value: await p };
  } catch (e) {
    const err = e as { reason?: string; message?: string };
    return { ok: false, reason: err.reason ?? 'thrown', message: err.message ?? String(e) };
  }
}

export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export async function waitFor<T>(what: string, f: () => T | undefined | null | false | Promise<T | undefined | null | false>, timeoutMs = 20_000): Promise<T> {
  const t0 = Date.now();
  while (Date.now() - t0 < timeoutMs) {
    const v = await f();
    if (v) return v as T;
    await sleep(100);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}
