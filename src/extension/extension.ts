// CNN Lens in VS Code: commands, the model browser custom editor, panels and the engine client.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { AuditPanel } from './auditPanel';
import { EngineClient, isCancelled } from './engineClient';
import { METHOD_INFO } from '../shared/methods';
import { ExplainPanel } from './explainPanel';
import type { PanelDeps } from './lensPanel';
import { ModelBrowser } from './modelBrowser';
import { ModelPicker } from './modelPicker';
import { readSettings } from './settings';
import { EngineStatusBar } from './statusBar';
import { pickImage, registerVisCommands } from './visCommands';
import { VisualizePanel } from './visualizePanel';

/** Explain commands: command id → attribution method (from the registry, src/shared/methods.ts). */
export const EXPLAIN_COMMANDS: Record<string, string> = Object.fromEntries(METHOD_INFO.map((m) => [m.command, m.id]));

/** What activate() returns: used by the tests inside the extension host. */
export interface CnnLensApi {
  engine: EngineClient;
  models: ModelPicker;
  log: vscode.LogOutputChannel;
  explainPanels: ReadonlySet<ExplainPanel>;
  modelBrowsers: ReadonlySet<ModelBrowser>;
  visualizePanels: ReadonlySet<VisualizePanel>;
  auditPanels: ReadonlySet<AuditPanel>;
}

export function activate(context: vscode.ExtensionContext): CnnLensApi {
  const log = vscode.window.createOutputChannel('CNN Lens', { log: true });
  context.subscriptions.push(log);

  const engine = new EngineClient({
    enginePath: path.join(context.extensionPath, 'dist', 'engine.js'),
    env: () => ({ CNN_LENS_BACKEND: readSettings().backend }),
    execArgv: () => [`--max-old-space-size=${readSettings().engineMemoryMB}`],
    timeoutMs: () => readSettings().requestTimeoutSeconds * 1000,
    log: (line) => log.info(line),
  });
  context.subscriptions.push(engine);

  const status = new EngineStatusBar();
  context.subscriptions.push(status, engine.onDidChangeState((s) => status.show(s)));
  context.subscriptions.push(
    engine.onDidCrash(async (reason) => {
      const choice = await vscode.window.showErrorMessage(`CNN Lens: ${reason}. Pending requests were stopped.`, 'Restart Engine', 'Show Log');
      if (choice === 'Restart Engine') await vscode.commands.executeCommand('cnnLens.restartEngine');
      else if (choice === 'Show Log') log.show(true);
    }),
  );

  const models = new ModelPicker(context);
  // Palette commands use the model of the panel in front (model browser, explain or visualization panel).
  models.activeModel = () =>
    [...ModelBrowser.open].find((b) => b.panel.active)?.file ??
    [...ExplainPanel.panels].find((p) => p.panel.active)?.state.model ??
    [...VisualizePanel.panels].find((p) => p.panel.active)?.job.model ??
    null;
  const deps: PanelDeps = { context, engine, models, log };
  context.subscriptions.push(
    vscode.window.registerWebviewPanelSerializer(ExplainPanel.viewType, {
      async deserializeWebviewPanel(panel, state) {
        ExplainPanel.revive(deps, panel, state);
      },
    }),
    { dispose: () => [...ExplainPanel.panels].forEach((p) => p.dispose()) },
    ModelBrowser.register(deps),
    vscode.window.registerWebviewPanelSerializer(VisualizePanel.viewType, {
      async deserializeWebviewPanel(panel, state) {
        VisualizePanel.revive(deps, panel, state);
      },
    }),
    { dispose: () => [...VisualizePanel.panels].forEach((p) => p.dispose()) },
    ...registerVisCommands(deps, () => models.forCommand()),
    vscode.window.registerWebviewPanelSerializer(AuditPanel.viewType, {
      async deserializeWebviewPanel(panel, state) {
        AuditPanel.revive(deps, panel, state);
      },
    }),
    { dispose: () => [...AuditPanel.panels].forEach((p) => p.dispose()) },
  );
  const command = (id: string, f: (...args: any[]) => unknown) => context.subscriptions.push(vscode.commands.registerCommand(id, f));

  command('cnnLens.showEngineLog', () => log.show(true));
  command('cnnLens.restartEngine', async () => {
    try {
      const info = await engine.restart();
      vscode.window.setStatusBarMessage(`CNN Lens engine restarted (backend ${info.backend})`, 4000);
      return info;
    } catch (e) {
      if (!isCancelled(e)) vscode.window.showErrorMessage(`CNN Lens: could not start the engine: ${(e as Error).message}`);
      return undefined;
    }
  });
  command('cnnLens.openModelBrowser', async (arg?: unknown) => {
    const uri = arg instanceof vscode.Uri ? arg : await models.forCommand().then((f) => (f ? vscode.Uri.file(f) : undefined));
    if (uri) await vscode.commands.executeCommand('vscode.openWith', uri, ModelBrowser.viewType);
    return uri;
  });
  command('cnnLens.selectModel', async () => {
    const file = await models.pick();
    if (file) vscode.window.setStatusBarMessage(`CNN Lens model: ${vscode.workspace.asRelativePath(file)}`, 4000);
    return file;
  });
  for (const [id, method] of Object.entries(EXPLAIN_COMMANDS)) {
    command(id, async (arg?: unknown, opts?: unknown) => {
      const image = await pickImage(arg, 'Explain: choose an image');
      if (!image) return undefined;
      // A second argument { model } picks the model (from the explorer it is the list of selected files).
      const given = opts && typeof opts === 'object' && !Array.isArray(opts) ? (opts as { model?: unknown }).model : undefined;
      const model = typeof given === 'string' ? given : await models.forCommand();
      if (!model) return undefined;
      log.info(`explain ${image} with ${method} using ${model}`);
      return ExplainPanel.open(deps, image, model, method);
    });
  }

  // The menus' entry for Grad-CAM: a menu shows a command's title without its category, so the Explorer's and
  // the editor title's item is this alias titled "CNN Lens: Explain with Grad-CAM" (hidden from the palette).
  command('cnnLens.explainFromMenu', (...args: unknown[]) => vscode.commands.executeCommand('cnnLens.explain', ...args));

  // A folder of class subfolders (from the Explorer, or chosen) audited with the selected model; { model } picks another.
  command('cnnLens.auditFolder', async (arg?: unknown, opts?: unknown) => {
    const folder = arg instanceof vscode.Uri ? arg : (await vscode.window.showOpenDialog({ canSelectFolders: true, canSelectFiles: false, openLabel: 'Audit', title: 'Audit: choose a folder with one subfolder per class' }))?.[0];
    if (!folder) return undefined;
    const given = opts && typeof opts === 'object' && !Array.isArray(opts) ? (opts as { model?: unknown }).model : undefined;
    const model = typeof given === 'string' ? given : await models.forCommand();
    if (!model) return undefined;
    log.info(`audit ${folder.fsPath} using ${model}`);
    return AuditPanel.open(deps, folder.fsPath, model);
  });

  context.subscriptions.push(
    vscode.workspace.onDidChangeConfiguration((e) => {
      if ((e.affectsConfiguration('cnnLens.backend') || e.affectsConfiguration('cnnLens.engineMemoryMB')) && engine.state.type !== 'stopped') {
        log.info('engine settings changed: restarting the engine');
        void vscode.commands.executeCommand('cnnLens.restartEngine');
      }
    }),
  );

  log.info(`CNN Lens activated (extension ${context.extension.packageJSON.version}, VS Code ${vscode.version})`);
  return { engine, models, log, explainPanels: ExplainPanel.panels, modelBrowsers: ModelBrowser.open, visualizePanels: VisualizePanel.panels, auditPanels: AuditPanel.panels };
}

export function deactivate(): void {
  /* everything is in context.subscriptions */
}
