// The model browser: a read-only custom editor for model files (model.json, .h5, .keras, .onnx). Shows the
// model's summary (inputs, outputs, parameters, backend) and its layer tree with output shapes and
// parameter counts, nested models expandable. The text editor stays available through "Reopen With".
import * as path from 'node:path';
import * as vscode from 'vscode';
import { type FromModelBrowser, type LayerAction, type LayerImageKind, type ModelSummaryView, parseFromModelBrowser, type ToModelBrowser } from '../shared/protocol';
import { isCancelled } from './engineClient';
import { askForImage } from './imagePicker';
import { LensPanel, type PanelDeps } from './lensPanel';
import { modelDisplayName } from './modelPicker';
import { webviewOptions } from './webviewHtml';

export class ModelBrowser extends LensPanel<ToModelBrowser, FromModelBrowser> {
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

  private constructor(
    deps: PanelDeps,
    panel: vscode.WebviewPanel,
    readonly file: string,
  ) {
    // A custom editor: VS Code made the panel (options are set here) and its tab shows the file's icon.
    panel.webview.options = webviewOptions(deps.context.extensionUri);
    super(deps, panel, { entry: 'modelBrowser', name: 'model browser', parse: parseFromModelBrowser, registry: ModelBrowser.open, title: `Model: ${path.basename(file)}`, icon: false });
    void this.load();
  }

  protected onMessage(m: FromModelBrowser): Promise<void> {
    return this.handleMessage(m);
  }

  /** Resolves when the summary (or an error) is in. */
  whenLoaded(): Promise<void> {
    return this.loading ?? Promise.resolve();
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
}
