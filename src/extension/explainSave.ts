// Saving what the explain panel shows: the heatmap as PNG (over the image or alone, as the layout shows
// it, at the image's own size) or the raw map as .npy, through a save dialog beside the image.
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { ExplainOutput, ExplainViewOptions } from '../shared/protocol';
import type { EngineClient } from './engineClient';

function safeName(s: string): string {
  return s.replace(/[^A-Za-z0-9_-]+/g, '_').replace(/^_+|_+$/g, '') || 'class';
}

/** Asks where to save (unless `target` is given). */
export async function saveTarget(image: string, out: ExplainOutput, o: ExplainViewOptions, format: 'png' | 'npy', target?: vscode.Uri): Promise<vscode.Uri | undefined> {
  if (target) return target;
  const base = path.basename(image, path.extname(image));
  const name = `${base}.${o.method}.${safeName(out.label)}.${format}`;
  return vscode.window.showSaveDialog({
    defaultUri: vscode.Uri.file(path.join(path.dirname(image), name)),
    filters: format === 'png' ? { 'PNG image': ['png'] } : { 'NumPy array': ['npy'] },
    title: format === 'png' ? 'Save heatmap as PNG' : 'Save raw map as .npy',
  });
}

/** Renders (PNG) or encodes (.npy) the map and writes it. */
export async function writeMap(engine: EngineClient, image: string, out: ExplainOutput, o: ExplainViewOptions, format: 'png' | 'npy', uri: vscode.Uri): Promise<void> {
  const bytes =
    format === 'png'
      ? (await engine.request({ type: 'render', image, map: out.map, shape: out.shape, kind: out.kind, colormap: o.colormap, style: o.layout === 'overlay' ? 'overlay' : 'heatmap', alpha: o.opacity })).png
      : (await engine.request({ type: 'encodeNpy', map: out.map, shape: out.shape })).npy;
  await vscode.workspace.fs.writeFile(uri, bytes);
}
