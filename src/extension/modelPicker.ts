// Which model the commands use: the model of the active model browser or explain panel, else the
// `cnnLens.model` setting, else the one picked for this workspace (remembered in workspace state), else
// a quick pick of the workspace's model files — with the bundled demo model offered when the workspace
// has none. A panel's own "use another model" (⇄) asks with the same pick but remembers nothing.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { readSettings } from './settings';

const STATE_KEY = 'cnnLens.model';
export const MODEL_GLOB = '**/{model.json,*.h5,*.keras,*.onnx}';

/** Bundled demo models: every model.json under the extension's media/ folder (two levels deep). */
export function demoModels(extensionPath: string): string[] {
  const media = path.join(extensionPath, 'media');
  const out: string[] = [];
  const walk = (dir: string, depth: number) => {
    let names: string[];
    try {
      names = fs.readdirSync(dir);
    } catch {
      return;
    }
    for (const n of names) {
      const p = path.join(dir, n);
      if (n === 'model.json') out.push(p);
      else if (depth > 0 && !n.startsWith('.')) {
        try {
          if (fs.statSync(p).isDirectory()) walk(p, depth - 1);
        } catch {
          /* unreadable */
        }
      }
    }
  };
  walk(media, 2);
  return out.sort();
}

/** The setting's path, resolved against the first workspace folder when relative. */
function modelFromSetting(): string | null {
  let m = readSettings().model;
  if (!m) return null;
  const ws = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  m = m.replace(/\$\{workspaceFolder\}/g, ws ?? '');
  if (!path.isAbsolute(m)) {
    if (!ws) return null;
    m = path.join(ws, m);
  }
  return m;
}

/** How a model is named in titles: its folder for a model.json ("tm-waste-12"), else the file's name without extension. */
export function modelDisplayName(file: string): string {
  const base = path.basename(file);
  return base === 'model.json' ? path.basename(path.dirname(file)) : base.replace(/\.(h5|keras|json|onnx)$/i, '');
}

export interface PickOptions {
  /** Keep the choice for the workspace (Select Model); a panel's ⇄ does not. */
  remember?: boolean;
  /** The model in use, marked and preselected. */
  current?: string | null;
  title?: string;
}

export class ModelPicker {
  /** The model of the active panel (model browser, explain or visualization panel), if one is active. */
  activeModel: () => string | null = () => null;

  constructor(private readonly ctx: vscode.ExtensionContext) {}

  /** The model a palette command uses: the active panel's, else the workspace's, else asked for. */
  async forCommand(): Promise<string | undefined> {
    return this.activeModel() ?? (await this.resolve());
  }

  /** The model to use without asking, or null when the user must pick. */
  current(): string | null {
    const fromSetting = modelFromSetting();
    if (fromSetting) return fromSetting;
    const remembered = this.ctx.workspaceState.get<string>(STATE_KEY);
    if (remembered && fs.existsSync(remembered)) return remembered;
    return null;
  }

  /** The model to use, asking once when nothing is set. Undefined when the user dismissed the pick. */
  async resolve(): Promise<string | undefined> {
    return this.current() ?? (await this.pick());
  }

  async remember(file: string): Promise<void> {
    await this.ctx.workspaceState.update(STATE_KEY, file);
  }

  /** Asks for a model: workspace model files, the demo model when there are none, or a file dialog. */
  async pick(opts: PickOptions = {}): Promise<string | undefined> {
    const remember = opts.remember ?? true;
    const current = opts.current === undefined ? this.current() : opts.current;
    const found = await vscode.workspace.findFiles(MODEL_GLOB, '**/node_modules/**', 500);
    type Item = vscode.QuickPickItem & { file?: string; browse?: boolean };
    const mark = (f: string) => (current && path.resolve(f) === path.resolve(current) ? '$(check) ' : '');
    const items: Item[] = found
      .map((u) => u.fsPath)
      .sort()
      .map((f) => ({ label: `${mark(f)}${path.basename(path.dirname(f))}${path.sep}${path.basename(f)}`, description: `${vscode.workspace.asRelativePath(f)}${mark(f) ? ' · in use' : ''}`, file: f }));
    if (items.length === 0) {
      for (const f of demoModels(this.ctx.extensionPath)) items.push({ label: `${mark(f)}$(beaker) Demo model: ${path.basename(path.dirname(f))}`, description: `bundled with CNN Lens${mark(f) ? ' · in use' : ''}`, file: f });
    }
    if (current && !items.some((i) => i.file && path.resolve(i.file) === path.resolve(current))) {
      items.unshift({ label: `$(check) ${path.basename(path.dirname(current))}${path.sep}${path.basename(current)}`, description: `${vscode.workspace.asRelativePath(current)} · in use`, file: current });
    }
    items.push({ label: '$(folder-opened) Browse…', description: 'a model.json, .h5, .keras or .onnx file', browse: true });
    const setting = modelFromSetting();
    const qp = vscode.window.createQuickPick<Item>();
    qp.items = items;
    qp.title = opts.title ?? 'CNN Lens: Select Model';
    qp.placeholder = !remember
      ? 'The model for this panel only'
      : setting
        ? `The cnnLens.model setting (${setting}) takes precedence over this choice`
        : 'The model palette commands use when no model browser or explain panel is active (remembered for this workspace)';
    qp.matchOnDescription = true;
    // The model in use is preselected, not whatever sorts first.
    const inUse = items.find((i) => i.label.startsWith('$(check)'));
    if (inUse) qp.activeItems = [inUse];
    const choice = await new Promise<Item | undefined>((resolve) => {
      qp.onDidAccept(() => {
        resolve(qp.selectedItems[0] ?? qp.activeItems[0]);
        qp.hide();
      });
      qp.onDidHide(() => resolve(undefined));
      qp.show();
    });
    qp.dispose();
    if (!choice) return undefined;
    let file = choice.file;
    if (choice.browse) {
      const picked = await vscode.window.showOpenDialog({ canSelectMany: false, openLabel: 'Use this model', filters: { Models: ['json', 'h5', 'keras', 'onnx'] } });
      file = picked?.[0]?.fsPath;
    }
    if (!file) return undefined;
    if (remember) await this.remember(file);
    return file;
  }
}
