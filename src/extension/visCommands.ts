// The feature-visualization commands: Deep Dream…, Visualize Filters…, Visualize Class…, Invert Features….
// Each asks for what it needs (image, model, layer, channels, class) unless given it, then opens a
// visualization panel. Arguments (for other commands, the model browser and tests) skip the prompts.
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { LayerNode, ModelSummaryView } from '../shared/protocol';
import { estimateText } from '../shared/runEstimate';
import type { PanelDeps } from './lensPanel';
import { IMAGE_EXTENSIONS, pickImage } from './imagePicker';
import { middleLayer, VisualizePanel } from './visualizePanel';

export { IMAGE_EXTENSIONS, pickImage } from './imagePicker';

export interface VisArgs {
  model?: string;
  image?: string;
  layer?: string;
  layers?: string[];
  first?: number;
  last?: number;
  classIndex?: number;
}

function flatten(layers: LayerNode[]): LayerNode[] {
  return layers.flatMap((l) => (l.children ? flatten(l.children) : [l]));
}

async function summaryOf(deps: PanelDeps, model: string): Promise<ModelSummaryView | undefined> {
  try {
    return await vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: `CNN Lens: reading ${path.basename(model)}` }, () => deps.engine.request({ type: 'summary', model }));
  } catch (e) {
    vscode.window.showErrorMessage(`CNN Lens: ${(e as Error).message}`);
    return undefined;
  }
}

/** A spatial layer, picked from the model's layers (deepest first: the most interesting). */
async function pickLayer(s: ModelSummaryView, title: string, filter: (l: LayerNode) => boolean = (l) => l.spatial): Promise<string | undefined> {
  const layers = flatten(s.layers).filter(filter);
  if (!layers.length) {
    vscode.window.showErrorMessage(`CNN Lens: ${path.basename(s.file)} has no layer with a spatial 4-D output`);
    return undefined;
  }
  const items = layers.reverse().map((l) => ({ label: l.name, description: `${l.className} ${JSON.stringify(l.outputShape)}`, detail: l.path, path: l.path }));
  const choice = await vscode.window.showQuickPick(items, { title, placeHolder: 'Layer', matchOnDetail: true });
  return choice?.path;
}

function channelsOf(s: ModelSummaryView, layer: string): number {
  const l = flatten(s.layers).find((x) => x.path === layer);
  return Number(l?.outputShape?.at(-1) ?? 0);
}

export function registerVisCommands(deps: PanelDeps, resolveModel: () => Promise<string | undefined>): vscode.Disposable[] {
  const reg = (id: string, f: (...a: any[]) => unknown) => vscode.commands.registerCommand(id, f);
  const argsOf = (a: unknown): VisArgs => (a && typeof a === 'object' && !(a instanceof vscode.Uri) ? (a as VisArgs) : {});
  return [
    reg('cnnLens.deepDream', async (arg?: unknown, opts?: unknown) => {
      // From the explorer the second argument is the list of selected files, not options.
      const o = { ...argsOf(arg), ...(Array.isArray(opts) ? {} : argsOf(opts)) };
      const image = o.image ?? (await pickImage(arg, 'Deep Dream: choose an image'));
      const model = image && (o.model ?? (await resolveModel()));
      if (!image || !model) return undefined;
      return VisualizePanel.open(deps, { kind: 'dream', model, image, layers: o.layers });
    }),
    reg('cnnLens.visualizeFilters', async (arg?: unknown) => {
      const o = argsOf(arg);
      const model = o.model ?? (arg instanceof vscode.Uri && !IMAGE_EXTENSIONS.includes(path.extname(arg.fsPath).slice(1)) ? arg.fsPath : await resolveModel());
      if (!model) return undefined;
      let { layer, first, last } = o;
      if (!layer || first === undefined || last === undefined) {
        const s = await summaryOf(deps, model);
        if (!s) return undefined;
        layer ??= await pickLayer(s, 'Visualize Filters: choose a layer');
        if (!layer) return undefined;
        const n = channelsOf(s, layer);
        if (first === undefined || last === undefined) {
          const chosenLayer = layer;
          const range = await vscode.window.showInputBox({
            title: `Visualize Filters: channels of ${layer} (0–${n - 1})`,
            value: `0-${Math.min(n, 16) - 1}`,
            prompt: 'A channel or a range, e.g. 0-15',
            validateInput: async (v) => {
              const m = /^\s*(\d+)\s*(?:-\s*(\d+))?\s*$/.exec(v);
              if (!m) return 'A channel or a range, e.g. 0-15';
              const a = Number(m[1]);
              const b = Number(m[2] ?? m[1]);
              if (a > b || b >= n) return `Channels run from 0 to ${n - 1}`;
              if (b - a >= 64) return 'At most 64 channels at a time';
              // Before anything runs: how long this range will take, from a few of its steps timed on this model.
              try {
                const e = await deps.engine.request({ type: 'estimateFilters', model, layer: chosenLayer, first: a, last: b });
                return { message: `${b - a + 1} channel${b === a ? '' : 's'}: ${estimateText(e)}`, severity: vscode.InputBoxValidationSeverity.Info };
              } catch {
                return undefined;
              }
            },
          });
          if (!range) return undefined;
          const m = /(\d+)\s*(?:-\s*(\d+))?/.exec(range)!;
          first = Number(m[1]);
          last = Number(m[2] ?? m[1]);
        }
      }
      return VisualizePanel.open(deps, { kind: 'filters', model, layer, first, last });
    }),
    reg('cnnLens.visualizeClass', async (arg?: unknown) => {
      const o = argsOf(arg);
      const model = o.model ?? (await resolveModel());
      if (!model) return undefined;
      let classIndex = o.classIndex;
      let label = classIndex !== undefined ? String(classIndex) : '';
      try {
        const brief = await deps.engine.request({ type: 'loadModel', model });
        if (classIndex === undefined) {
          const pick = await vscode.window.showQuickPick(brief.labels.map((l, i) => ({ label: l, description: `class ${i}`, index: i })), { title: 'Visualize Class: choose a class' });
          if (!pick) return undefined;
          classIndex = pick.index;
        }
        label = brief.labels[classIndex] ?? label;
      } catch (e) {
        vscode.window.showErrorMessage(`CNN Lens: ${(e as Error).message}`);
        return undefined;
      }
      return VisualizePanel.open(deps, { kind: 'class', model, classIndex, label });
    }),
    reg('cnnLens.invertFeatures', async (arg?: unknown) => {
      const o = argsOf(arg);
      const image = o.image ?? (await pickImage(arg, 'Invert Features: choose an image'));
      const model = image && (o.model ?? (await resolveModel()));
      if (!image || !model) return undefined;
      // No question: the panel starts at the middle layer (the last ones reconstruct to noise) and offers the others.
      let layer = o.layer;
      if (!layer) {
        try {
          const b = await deps.engine.request({ type: 'loadModel', model });
          layer = middleLayer(b.spatialLayers) ?? undefined;
        } catch (e) {
          vscode.window.showErrorMessage(`CNN Lens: ${(e as Error).message}`);
          return undefined;
        }
        if (!layer) {
          vscode.window.showErrorMessage(`CNN Lens: ${path.basename(model)} has no layer with a spatial 4-D output to invert`);
          return undefined;
        }
      }
      return VisualizePanel.open(deps, { kind: 'invert', model, image, layer });
    }),
  ];
}
