// The Explain panel: one image, one model. Shows the top classes with their probabilities and, for the
// chosen class, the attribution map of the chosen method (computed on demand by the engine, then cached),
// over the image or beside it; saves the heatmap as PNG and the raw map as .npy through a save dialog.
// The webview (webview/explain.ts) holds the view state; this side holds the engine work. The maps and
// their cache are explainMaps.ts; saving is explainSave.ts.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { inputNote } from '../shared/format';
import {
  type ExplainPanelState,
  type ExplainViewOptions,
  type FromExplainView,
  type HeatmapView,
  type ModelBrief,
  parseExplainPanelState,
  parseFromExplainView,
  type Prediction,
  type ToExplainView,
  type ToTrustView,
} from '../shared/protocol';
import { EngineRequestError, isCancelled } from './engineClient';
import { heatmapView, MapCache } from './explainMaps';
import { saveTarget, writeMap } from './explainSave';
import { LensPanel, type PanelDeps, showUnrestorable } from './lensPanel';
import { modelDisplayName } from './modelPicker';
import { readSettings } from './settings';
import { type FromTrustView, parseFromTrustView } from '../shared/compareProtocol';
import { TrustController } from './trustController';
import { webviewOptions } from './webviewHtml';

/** A message from the explain panel's page: its own, or the Compare view's and Sanity check's. */
type FromExplainPage = { trust: FromTrustView } | { view: FromExplainView };

function parseFromExplainPage(raw: unknown): FromExplainPage | null {
  const trust = parseFromTrustView(raw);
  if (trust) return { trust };
  const view = parseFromExplainView(raw);
  return view ? { view } : null;
}

/** The colormap and opacity chosen last (in any explain panel): new panels start with them. */
const LAST_VIEW_KEY = 'cnnLens.explain.lastView';

export function defaultExplainOptions(method?: string, context?: vscode.ExtensionContext): ExplainViewOptions {
  const s = readSettings();
  const last = context?.globalState.get<{ colormap?: string; opacity?: number }>(LAST_VIEW_KEY) ?? {};
  return {
    method: method ?? s.defaultMethod,
    layer: null,
    colormap: typeof last.colormap === 'string' ? last.colormap : s.colormap,
    preprocess: s.preprocess,
    opacity: typeof last.opacity === 'number' && last.opacity >= 0 && last.opacity <= 1 ? last.opacity : 0.5,
    layout: 'overlay',
    classIndex: null,
  };
}

/** The panel's tab title: the image and the model ("Explain: jin.jpg · tm-bts-lookalike"). */
export function explainTitle(image: string, model: string): string {
  return `Explain: ${path.basename(image)} · ${modelDisplayName(model)}`;
}

export class ExplainPanel extends LensPanel<ToExplainView | ToTrustView, FromExplainPage> {
  static readonly viewType = 'cnnLens.explain';
  static readonly panels = new Set<ExplainPanel>();

  /** Opens a panel for the image and model, or reveals the open one and switches its method. */
  static open(deps: PanelDeps, image: string, model: string, method?: string): ExplainPanel {
    for (const p of ExplainPanel.panels) {
      if (p.state.image === image && p.state.model === model) {
        p.panel.reveal();
        if (method && method !== p.state.options.method) void p.handleMessage({ type: 'setOptions', options: { method } });
        return p;
      }
    }
    const panel = vscode.window.createWebviewPanel(ExplainPanel.viewType, explainTitle(image, model), vscode.ViewColumn.Active, ExplainPanel.options(deps, image));
    return new ExplainPanel(deps, panel, { image, model, options: defaultExplainOptions(method, deps.context) });
  }

  /** Brings a panel back after a window reload, from the state its webview saved. */
  static revive(deps: PanelDeps, panel: vscode.WebviewPanel, saved: unknown): ExplainPanel | undefined {
    const state = parseExplainPanelState(saved, defaultExplainOptions(undefined, deps.context));
    if (!state) {
      showUnrestorable(panel, 'run "CNN Lens: Explain with Grad-CAM" on the image again');
      return undefined;
    }
    panel.webview.options = ExplainPanel.options(deps, state.image);
    panel.title = explainTitle(state.image, state.model);
    return new ExplainPanel(deps, panel, state);
  }

  private static options(deps: PanelDeps, image: string) {
    return webviewOptions(deps.context.extensionUri, [vscode.Uri.file(path.dirname(image))]);
  }

  private brief: ModelBrief | null = null;
  private predictionList: Prediction[] | null = null;
  private note: string | null = null;
  private readonly maps = new MapCache();
  private loading: Promise<void> | null = null;
  private busy = 0;
  private busyMessage: string | null = null;
  private idleWaiters: (() => void)[] = [];
  /** The Compare view and Sanity check (their own messages, busy state and cancel). */
  readonly trust: TrustController;
  /** The heatmap on show (tests read it). */
  current: HeatmapView | null = null;
  lastError: string | null = null;
  /** The last error was the model's or the image's: nothing else works until another model or a retry. */
  lastErrorFatal = false;

  private constructor(
    deps: PanelDeps,
    panel: vscode.WebviewPanel,
    readonly state: ExplainPanelState,
  ) {
    super(deps, panel, { entry: 'explain', name: 'explain panel', parse: parseFromExplainPage, registry: ExplainPanel.panels });
    this.trust = new TrustController({ engine: deps.engine, log: deps.log, state, brief: () => this.brief, predictions: () => this.predictionList, post: (m) => this.post(m) });
    this.disposables.push(this.trust);
    // Start at once: the model loads while the page does.
    void this.load();
  }

  protected onMessage(m: FromExplainPage): Promise<void> {
    return 'trust' in m ? this.trust.handle(m.trust) : this.handleMessage(m.view);
  }

  /** The raw map behind the heatmap on show (unnormalized, not resized). */
  mapOnShow(): { map: Float32Array; shape: number[] } | null {
    const out = this.current ? this.maps.get(this.current.key) : undefined;
    return out ? { map: out.map, shape: out.shape } : null;
  }

  get predictions(): Prediction[] | null {
    return this.predictionList;
  }

  /** What the panel says about the image's way into the model (tests read it). */
  get inputNote(): string | null {
    return this.note;
  }

  /** Resolves when no engine work is running for this panel. */
  whenIdle(): Promise<void> {
    return this.busy === 0 ? Promise.resolve() : new Promise((r) => this.idleWaiters.push(r));
  }

  private enter(): void {
    this.busy++;
  }

  private leave(): void {
    this.busy--;
    if (this.busy === 0) {
      this.busyMessage = null;
      this.post({ type: 'idle' });
      const w = this.idleWaiters;
      this.idleWaiters = [];
      for (const r of w) r();
    }
  }

  private showBusy(message: string, done?: number, total?: number): void {
    this.busyMessage = message;
    this.post({ type: 'busy', message, done, total });
  }

  /** Runs engine work with busy/idle bookkeeping; reports errors to the panel (`fatal`: the model's or image's). */
  private async track<T>(message: string, f: () => Promise<T>, fatal = false): Promise<T | undefined> {
    this.enter();
    this.showBusy(message);
    try {
      return await f();
    } catch (e) {
      if (isCancelled(e)) {
        this.lastError = 'Cancelled.';
        this.lastErrorFatal = false;
        this.post({ type: 'error', message: 'Cancelled.' });
      } else {
        const msg = e instanceof EngineRequestError || e instanceof Error ? e.message : String(e);
        this.lastError = msg;
        this.lastErrorFatal = fatal;
        this.deps.log.error(`explain panel (${path.basename(this.state.image)}): ${msg}`);
        this.post({ type: 'error', message: msg, fatal });
      }
      return undefined;
    } finally {
      this.leave();
    }
  }

  async handleMessage(m: FromExplainView): Promise<void> {
    switch (m.type) {
      case 'ready':
        // The page was (re)loaded: a new panel, or a hidden one shown again. Send all we have; work in
        // progress posts the rest when it ends.
        this.sendInit();
        if (this.predictionList) this.post({ type: 'predictions', predictions: this.predictionList, inputNote: this.note });
        if (this.current) this.post({ type: 'heatmap', heatmap: this.current });
        this.trust.resend();
        if (this.busy > 0) this.post({ type: 'busy', message: this.busyMessage ?? 'Working…' });
        else if (this.lastError) this.post({ type: 'error', message: this.lastError, fatal: this.lastErrorFatal });
        return;
      case 'setOptions': {
        const before = this.state.options;
        const next = { ...before, ...m.options };
        this.state.options = next;
        this.post({ type: 'options', options: next });
        if (next.colormap !== before.colormap || next.opacity !== before.opacity) {
          void this.deps.context.globalState.update(LAST_VIEW_KEY, { colormap: next.colormap, opacity: next.opacity });
        }
        if (next.preprocess !== before.preprocess) {
          this.predictionList = null;
          await this.load();
          this.trust.optionsChanged();
        } else {
          if (next.layer !== before.layer || next.colormap !== before.colormap) this.trust.optionsChanged();
          if (next.method !== before.method || next.layer !== before.layer || next.colormap !== before.colormap || next.classIndex !== before.classIndex) await this.compute();
        }
        return;
      }
      case 'cancel':
        this.work?.cancel();
        return;
      case 'retry':
        this.lastError = null;
        if (!this.brief || !this.predictionList) await this.load();
        else await this.compute();
        return;
      case 'save':
        await this.save(m.format);
        return;
      case 'selectModel': {
        const file = await this.deps.models.pick({ remember: false, current: this.state.model, title: `CNN Lens: a model for ${path.basename(this.state.image)} (this panel only)` });
        if (file && file !== this.state.model) await this.useModel(file);
        return;
      }
    }
  }

  /** Explains the same image with another model, in this panel (the workspace's choice is untouched). */
  async useModel(file: string): Promise<void> {
    this.work?.cancel();
    this.state.model = file;
    this.brief = null;
    this.predictionList = null;
    this.note = null;
    this.current = null;
    this.lastError = null;
    this.lastErrorFatal = false;
    this.maps.clear();
    this.trust.reset();
    this.state.options = { ...this.state.options, layer: null, classIndex: null };
    this.panel.title = explainTitle(this.state.image, file);
    this.sendInit();
    await this.load();
    this.trust.optionsChanged();
  }

  private sendInit(): void {
    const b = this.brief;
    this.post({
      type: 'init',
      state: this.state,
      imageName: path.basename(this.state.image),
      imageUri: this.panel.webview.asWebviewUri(vscode.Uri.file(this.state.image)).toString(),
      modelName: vscode.workspace.asRelativePath(this.state.model),
      model: b
        ? { labels: b.labels, methods: b.methods, spatialLayers: b.spatialLayers, otherLayers: b.otherLayers, defaultLayer: b.defaultLayer, defaultLayerReason: b.defaultLayerReason, colormaps: b.colormaps, preprocessPresets: b.preprocessPresets, defaultPreprocess: b.defaultPreprocess, preprocessReason: b.preprocessReason, canExplain: b.canExplain, format: b.format, inputSize: b.inputSize }
        : { labels: [], methods: [], spatialLayers: [], otherLayers: [], defaultLayer: null, defaultLayerReason: null, colormaps: [], preprocessPresets: [], defaultPreprocess: '', preprocessReason: '', canExplain: false, format: '', inputSize: { height: 0, width: 0, channels: 0 } },
    });
  }

  /** Loads the model and predicts the classes, then computes the map of the chosen class. */
  private load(): Promise<void> {
    if (this.loading) return this.loading;
    this.enter(); // held until the first map is computed, so whenIdle() covers the whole start
    this.loading = (async () => {
      const engine = this.deps.engine;
      const model = this.state.model;
      const ok = await this.track(
        `Loading the model ${modelDisplayName(model)}…`,
        async () => {
          if (!this.brief) {
            this.brief = await engine.request({ type: 'loadModel', model });
            this.sendInit();
          }
          this.showBusy(`Reading ${path.basename(this.state.image)}…`);
          const r = await engine.request(
            { type: 'predict', model, image: this.state.image, preprocess: this.state.options.preprocess },
            { onProgress: (p) => p.message && this.showBusy(p.message, p.done, p.total) },
          );
          if (model !== this.state.model) return false;
          this.predictionList = r.predictions;
          this.note = r.input ? inputNote(r.input, this.brief.inputSize) : null;
          this.post({ type: 'predictions', predictions: r.predictions, inputNote: this.note });
          return true;
        },
        true,
      );
      this.loading = null;
      if (ok) await this.compute();
    })().finally(() => this.leave());
    return this.loading;
  }

  private classIndex(): number | null {
    const c = this.state.options.classIndex;
    if (c !== null && this.brief && c < this.brief.numClasses) return c;
    return this.predictionList?.[0]?.index ?? null;
  }

  private mapKey(): string | null {
    const c = this.classIndex();
    if (c === null || !this.brief) return null;
    return MapCache.key(this.brief, this.state.options, c);
  }

  /** Shows the map for the current options: from the cache, re-coloured, or computed by the engine. */
  private async compute(): Promise<void> {
    if (!this.brief || !this.predictionList) return;
    const o = this.state.options;
    const methodInfo = this.brief.methods.find((m) => m.name === o.method);
    if (!methodInfo) {
      this.post({ type: 'error', message: `Unknown method '${o.method}'.` });
      return;
    }
    if (!this.brief.canExplain) {
      this.post({ type: 'error', message: `${this.brief.format} models can only predict here: attribution methods need a layers model.` });
      return;
    }
    const key = this.mapKey();
    const classIndex = this.classIndex();
    if (key === null || classIndex === null) return;
    // A new choice supersedes the running one.
    this.work?.cancel();
    const cts = new vscode.CancellationTokenSource();
    this.work = cts;
    const label = this.brief.labels[classIndex] ?? String(classIndex);
    const doing = `${methodInfo.title} for '${label}'…`;
    await this.track(doing, async () => {
      const got = await this.maps.obtain(
        this.deps.engine,
        key,
        { model: this.state.model, image: this.state.image, options: o, classIndex },
        cts.token,
        (p) => this.showBusy(doing, p.done, p.total),
        (f) => this.superseded(cts, f),
      );
      if (!got) return;
      // Only show it if the options did not change meanwhile.
      if (this.mapKey() !== key || this.state.options.colormap !== o.colormap) return;
      this.current = heatmapView(key, got.out, o.colormap, got.image);
      this.post({ type: 'heatmap', heatmap: this.current });
    });
    if (this.work === cts) this.work = null;
    cts.dispose();
  }

  /**
   * Runs `f`; if it was cancelled because a newer choice replaced it, ends quietly with undefined. If the
   * user cancelled it, the choices go back to those of the map on show, so the controls match the picture.
   */
  private async superseded<T>(cts: vscode.CancellationTokenSource, f: () => Promise<T>): Promise<T | undefined> {
    try {
      return await f();
    } catch (e) {
      if (isCancelled(e) && this.work !== cts) return undefined;
      if (isCancelled(e) && this.current) {
        const c = this.current;
        const o = this.state.options;
        this.state.options = { ...o, method: c.method, layer: c.layerIsDefault ? null : c.layer, classIndex: o.classIndex === null ? null : c.classIndex, colormap: c.colormap };
        this.post({ type: 'options', options: this.state.options });
      }
      throw e;
    }
  }

  /** Saves what is on show: PNG (overlay or the map alone, as the layout shows it) or the raw map as .npy. */
  async save(format: 'png' | 'npy', target?: vscode.Uri): Promise<vscode.Uri | undefined> {
    const key = this.current?.key;
    const out = key ? this.maps.get(key) : undefined;
    if (!out || !this.current) {
      this.post({ type: 'error', message: 'Nothing to save yet.' });
      return undefined;
    }
    const o = this.state.options;
    const uri = await saveTarget(this.state.image, out, o, format, target);
    if (!uri) return undefined;
    const ok = await this.track(`Saving ${path.basename(uri.fsPath)}…`, async () => {
      await writeMap(this.deps.engine, this.state.image, out, o, format, uri);
      return true;
    });
    if (!ok) return undefined;
    this.post({ type: 'saved', file: uri.fsPath });
    vscode.window.setStatusBarMessage(`CNN Lens: saved ${vscode.workspace.asRelativePath(uri)}`, 5000);
    return uri;
  }

  protected override onDisposed(): void {
    const w = this.idleWaiters;
    this.idleWaiters = [];
    for (const r of w) r();
  }
}
