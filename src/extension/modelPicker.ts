// Which model the commands use: the `cnnLens.model` setting, else the one picked for this workspace
// (remembered in workspace state), else a quick pick of the workspace's model files — with the bundled
// demo model offered when the workspace has none.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { readSettings } from './settings';

const STATE_KEY = 'cnnLens.model';
export const MODEL_GLOB = '**/{model.json,*.h5,*.keras}';

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

export class ModelPicker {
  constructor(private readonly ctx: vscode.ExtensionContext) {}

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
  async pick(): Promise<string | undefined> {
    const found = await vscode.workspace.findFiles(MODEL_GLOB, '**/node_modules/**', 500);
    type Item = vscode.QuickPickItem & { file?: string; browse?: boolean };
    const items: Item[] = found
      .map((u) => u.fsPath)
      .sort()
      .map((f) => ({ label: path.basename(path.dirname(f)) + path.sep + path.basename(f), description: vscode.workspace.asRelativePath(f), file: f }));
    if (items.length === 0) {
      for (const f of demoModels(this.ctx.extensionPath)) items.push({ label: `$(beaker) Demo model: ${path.basename(path.dirname(f))}`, description: 'bundled with CNN Lens', file: f });
    }
    items.push({ label: '$(folder-opened) Browse…', description: 'a model.json, .h5 or .keras file', browse: true });
    const setting = modelFromSetting();
    const choice = await vscode.window.showQuickPick(items, {
      title: 'CNN Lens: Select Model',
      placeHolder: setting ? `The cnnLens.model setting (${setting}) takes precedence over this choice` : 'The model to explain with (remembered for this workspace)',
      matchOnDescription: true,
    });
    if (!choice) return undefined;
    let file = choice.file;
    if (choice.browse) {
      const picked = await vscode.window.showOpenDialog({ canSelectMany: false, openLabel: 'Use this model', filters: { Models: ['json', 'h5', 'keras'] } });
      file = picked?.[0]?.fsPath;
    }
    if (!file) return undefined;
    await this.remember(file);
    return file;
  }
}
