// The model browser: a read-only custom editor for model files (model.json, .h5, .keras, .onnx). Shows the
// model's summary (inputs, outputs, parameters, backend) and its layer tree with output shapes and
// parameter counts, nested models expandable. The text editor stays available through "Reopen With".
import * as path from 'node:path';
import * as vscode from 'vscode';
import { type FromModelBrowser, type LayerAction, type LayerImageKind, type ModelSummaryView, parseFromModelBrowser, type ToModelBrowser } from '../shared/protocol';
import { isCancelled } from './engineClient';
import type { PanelDeps } from './explainPanel';
import { askForImage } from './imagePicker';
import { modelDisplayName } from './modelPicker';
import { onPanelMessage, webviewHtml, webviewOptions } from './webviewHtml';

export class ModelBrowser implements vscode.Disposable {
  static readonly viewType = 'cnnLens.modelBrowser';
  static readonly open = new Set<ModelBrowser>();

  static register(deps: PanelDeps): vscode.Disposable {
    const provider: vscode.CustomReadonlyEditorProvider = {
      openCustomDocument: (uri) => ({ uri, dispose: () => undefined }),
      resolveCustomEditor: (doc, panel) => {
        new ModelBrowser(deps, panel, doc.uri.fsPath);
      },
    };
    return vscode.window.registerCustomEditorProvider(ModelBrowser.viewType, provider, { supportsMultipleEditorsPerDocument: true });
  }

  summary: ModelSummaryView | null = null;
  lastError: string | null = null;
  private loading: Promise<void> | null = null;
  private readonly disposables: vscode.Disposable[] = [];
  private disposed = false;

  private constructor(
    private readonly deps: PanelDeps,
    readonly panel: vscode.WebviewPanel,
    readonly file: string,
  ) {
    ModelBrowser.open.add(this);
    panel.webview.options = webviewOptions(deps.context.extensionUri);
    panel.webview.html = webviewHtml(panel.webview, deps.context.extensionUri, 'modelBrowser', `Model: ${path.basename(file)}`);
    this.disposables.push(
      onPanelMessage(panel.webview, 'model browser', parseFromModelBrowser, (m) => this.handleMessage(m), deps.log),
      panel.onDidDispose(() => this.dispose()),
    );
    void this.load();
  }

  /** Resolves when the summary (or an error) is in. */
  whenLoaded(): Promise<void> {
    return this.loading ?? Promise.resolve();
  }

  private post(m: ToModelBrowser): void {
    if (!this.disposed) void this.panel.webview.postMessage(m);
  }

  private sendSummary(): void {
    if (this.summary) this.post({ type: 'summary', summary: this.summary, backend: this.deps.engine.engineInfo?.backend ?? null, fileName: vscode.workspace.asRelativePath(this.file) });
  }

  private load(): Promise<void> {
    this.loading ??= (async () => {
      this.post({ type: 'busy', message: `Reading the model ${modelDisplayName(this.file)}…` });
      try {
        this.summary = await this.deps.engine.request({ type: 'summary', model: this.file });
        this.lastError = null;
        this.sendSummary();
      } catch (e) {
        this.lastError = isCancelled(e) ? 'Cancelled.' : (e as Error).message;
        this.post({ type: 'error', message: this.lastError });
      } finally {
        this.post({ type: 'idle' });
      }
    })();
    return this.loading;
  }

  async handleMessage(m: FromModelBrowser): Promise<void> {
    switch (m.type) {
      case 'ready':
        if (this.summary) this.sendSummary();
        else if (this.lastError) this.post({ type: 'error', message: this.lastError });
        else this.post({ type: 'busy', message: `Reading the model ${modelDisplayName(this.file)}…` });
        return;
      case 'retry':
        this.loading = null;
        await this.load();
        return;
      case 'openAsText':
        await vscode.commands.executeCommand('vscode.openWith', vscode.Uri.file(this.file), 'default');
        return;
      case 'selectLayer':
        return;
      case 'layerAction':
        await this.layerAction(m.path, m.action);
        return;
    }
  }

  /** What the last layer picture request produced (tests read it). */
  lastLayerImage: { path: string; what: LayerImageKind; description: string; width: number } | null = null;

  async layerAction(layer: string, action: LayerAction, image?: string): Promise<void> {
    const engine = this.deps.engine;
    try {
      switch (action) {
        case 'weights': {
          this.post({ type: 'busy', message: `Reading the filters of ${layer}…` });
          const r = await engine.request({ type: 'filterWeights', model: this.file, layer });
          this.lastLayerImage = { path: layer, what: 'weights', description: r.description, width: r.image.width };
          this.post({ type: 'layerImage', path: layer, what: 'weights', image: r.image, description: r.description, tiles: r.tiles });
          return;
        }
        case 'activations': {
          const file = image ?? (await askForImage(`Feature maps of ${layer.split('/').at(-1)}: choose an image`));
          if (!file) return;
          this.post({ type: 'busy', message: `Feature maps of ${layer} for ${path.basename(file)}…` });
          const r = await engine.request({ type: 'activations', model: this.file, layer, image: file });
          const description = `${r.shape[2]} feature maps of ${r.shape[0]}×${r.shape[1]} for ${vscode.workspace.asRelativePath(file)}${r.shape[2] > 64 ? ' (first 64)' : ''}`;
          this.lastLayerImage = { path: layer, what: 'activations', description, width: r.image.width };
          this.post({ type: 'layerImage', path: layer, what: 'activations', image: r.image, description, tiles: r.tiles });
          return;
        }
        case 'visualizeFilters':
          await vscode.commands.executeCommand('cnnLens.visualizeFilters', { model: this.file, layer });
          return;
        case 'visualizeClass':
          await vscode.commands.executeCommand('cnnLens.visualizeClass', { model: this.file });
          return;
      }
    } catch (e) {
      this.lastError = isCancelled(e) ? 'Cancelled.' : (e as Error).message;
      this.post({ type: 'error', message: this.lastError });
    } finally {
      this.post({ type: 'idle' });
    }
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    ModelBrowser.open.delete(this);
    for (const d of this.disposables) d.dispose();
  }
}
