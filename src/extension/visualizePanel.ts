// Feature-visualization panels: Deep Dream, filter visualization (activation maximization, tiles fill in
// one by one), class visualization and feature inversion. The engine streams frames and tiles while it
// optimizes; the panel shows them with the step count and progress, and can cancel, run again and save.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { layerChoices } from '../shared/format';
import { aboutDuration, estimateText, type RunEstimate } from '../shared/runEstimate';
import { dreamStepsText, stepLine, type DreamSteps } from '../shared/visProgress';
import {
  DREAM_DEFAULT_OCTAVES,
  DREAM_DEFAULT_STEPS,
  type FromVisualizeView,
  parseFromVisualizeView,
  parseVisJob,
  type PngImage,
  type ToVisualizeView,
  type VisChoices,
  type VisJob,
  type VisSettings,
  type VisStatus,
} from '../shared/protocol';
import { isCancelled } from './engineClient';
import { LensPanel, type PanelDeps, showUnrestorable } from './lensPanel';
import { modelDisplayName } from './modelPicker';
import { webviewOptions } from './webviewHtml';

function titleOf(job: VisJob): string {
  const m = modelDisplayName(job.model);
  switch (job.kind) {
    case 'dream':
      return `Deep Dream: ${path.basename(job.image)} · ${m}`;
    case 'filters':
      return `Filters: ${job.layer.split('/').at(-1)} · ${m}`;
    case 'class':
      return `Class: ${job.label} · ${m}`;
    case 'invert':
      return `Inversion: ${path.basename(job.image)} @ ${job.layer.split('/').at(-1)} · ${m}`;
  }
}

/** The middle one of the model's spatial layers: Invert Features' default (see VisChoices). */
export function middleLayer(spatial: readonly { path: string }[]): string | null {
  return spatial.length ? spatial[Math.floor((spatial.length - 1) / 2)].path : null;
}

/** Deep Dream's run as the engine reported it (dreamPlan event): what the subtitle says once it is known. */
export type DreamPlanView = DreamSteps & { layers: string[]; layersAreDefault: boolean };

function subtitleOf(job: VisJob, plan: DreamPlanView | null): string {
  const model = vscode.workspace.asRelativePath(job.model);
  switch (job.kind) {
    case 'dream': {
      // Until the engine says how it runs the job (the steps may be capped), the subtitle says what is asked.
      const layers = plan ? `, layer${plan.layers.length === 1 ? '' : 's'} ${plan.layers.join(', ')}${plan.layersAreDefault ? ' (default)' : ''}` : job.layers?.length ? `, layers ${job.layers.join(', ')}` : ', default layers';
      const steps = plan ? dreamStepsText(plan) : `${job.octaves ?? DREAM_DEFAULT_OCTAVES} octaves of ${job.steps ?? DREAM_DEFAULT_STEPS} steps asked`;
      return `DeepDream (Mordvintsev et al. 2015) on ${vscode.workspace.asRelativePath(job.image)} with ${model}${layers}, ${steps}`;
    }
    case 'filters':
      return `Activation maximization (Erhan et al. 2009; Olah et al. 2017) of channels ${job.first}–${job.last} of ${job.layer} in ${model}`;
    case 'class':
      return `An image that maximizes the logit of class '${job.label}' (Simonyan et al. 2014) in ${model}`;
    case 'invert':
      return `Feature inversion (Mahendran & Vedaldi 2015): an image whose ${job.layer} activations match ${vscode.workspace.asRelativePath(job.image)}'s, in ${model}`;
  }
}

export class VisualizePanel extends LensPanel<ToVisualizeView, FromVisualizeView> {
  static readonly viewType = 'cnnLens.visualize';
  static readonly panels = new Set<VisualizePanel>();

  static open(deps: PanelDeps, job: VisJob): VisualizePanel {
    const image = 'image' in job ? job.image : null;
    const panel = vscode.window.createWebviewPanel(VisualizePanel.viewType, titleOf(job), vscode.ViewColumn.Active, VisualizePanel.options(deps, image));
    const p = new VisualizePanel(deps, panel, job);
    void p.run();
    return p;
  }

  /** After a window reload: the job comes back ready to run again (frames are not kept). */
  static revive(deps: PanelDeps, panel: vscode.WebviewPanel, saved: unknown): VisualizePanel | undefined {
    const job = parseVisJob((saved as { job?: unknown } | undefined)?.job);
    if (!job) {
      showUnrestorable(panel, 'run its command again');
      return undefined;
    }
    panel.webview.options = VisualizePanel.options(deps, 'image' in job ? job.image : null);
    return new VisualizePanel(deps, panel, job);
  }

  private static options(deps: PanelDeps, image: string | null) {
    return webviewOptions(deps.context.extensionUri, image ? [vscode.Uri.file(path.dirname(image))] : []);
  }

  status: VisStatus = 'idle';
  /** Frames received in the current run (tests count them); only the last is kept for display. */
  frameCount = 0;
  lastFrame: { image: PngImage; step: number; total: number } | null = null;
  readonly tiles: { index: number; channel: number; image: PngImage; objective: number; note?: string | null }[] = [];
  result: { description: string; image: PngImage | null; ms: number } | null = null;
  lastError: string | null = null;
  /** Filters: the time the run was estimated to take before it started (timed steps on this model). */
  estimate: RunEstimate | null = null;
  /** Deep Dream: the run as the engine reported it (null until its dreamPlan event). */
  dreamPlan: DreamPlanView | null = null;
  /** The last progress line, as both the panel's status and the progress notification show it. */
  progressText: string | null = null;
  private progress: { done: number; total: number; message?: string } | null = null;
  private runNumber = 0;

  private constructor(
    deps: PanelDeps,
    panel: vscode.WebviewPanel,
    public job: VisJob,
  ) {
    super(deps, panel, { entry: 'visualize', name: 'visualization panel', parse: parseFromVisualizeView, registry: VisualizePanel.panels });
    if (job.kind === 'dream' || job.kind === 'invert') void this.loadChoices();
  }

  protected onMessage(m: FromVisualizeView): Promise<void> {
    return this.handleMessage(m);
  }

  private tileCount(): number {
    return this.job.kind === 'filters' ? this.job.last - this.job.first + 1 : 0;
  }

  /** The layers Deep Dream and Invert Features offer in the panel. */
  choices: VisChoices | null = null;

  private async loadChoices(): Promise<void> {
    try {
      const b = await this.deps.engine.request({ type: 'loadModel', model: this.job.model });
      const { prefix, choices } = layerChoices(b.spatialLayers.map((l) => ({ ...l, explainable: true })), null);
      this.choices = { layers: choices.map((c) => ({ path: c.value, name: c.name, detail: c.detail })), prefix, middleLayer: middleLayer(b.spatialLayers) };
      this.sendInit();
    } catch {
      /* the run reports the model's problem */
    }
  }

  private sendInit(): void {
    const image = 'image' in this.job ? this.panel.webview.asWebviewUri(vscode.Uri.file(this.job.image)).toString() : null;
    this.post({ type: 'init', job: this.job, title: titleOf(this.job), subtitle: subtitleOf(this.job, this.dreamPlan), imageUri: image, tileCount: this.tileCount(), choices: this.choices });
  }

  /** Applies what the panel's settings say to the job (the next run uses them). */
  private apply(s: VisSettings): void {
    const j = this.job;
    const known = new Set(this.choices?.layers.map((l) => l.path) ?? []);
    if (j.kind === 'dream') {
      const layers = s.layers?.filter((l) => known.has(l));
      this.job = { ...j, layers: layers?.length ? layers : undefined, octaves: s.octaves ?? j.octaves, steps: s.steps ?? j.steps };
    } else if (j.kind === 'invert') {
      this.job = { ...j, layer: s.layer && known.has(s.layer) ? s.layer : j.layer, steps: s.steps ?? j.steps };
    } else return;
    this.panel.title = titleOf(this.job);
    this.sendInit();
  }

  async handleMessage(m: FromVisualizeView): Promise<void> {
    switch (m.type) {
      case 'ready': {
        // A new page, or a hidden panel shown again: replay what this run has produced so far.
        this.sendInit();
        const run = this.runNumber;
        if (this.status !== 'idle') this.post({ type: 'started', run });
        if (this.estimate && this.status !== 'idle') this.post({ type: 'estimate', run, text: estimateText(this.estimate), ms: this.estimate.ms });
        for (const t of this.tiles) this.post({ type: 'tile', run, ...t });
        if (this.lastFrame) this.post({ type: 'frame', run, ...this.lastFrame, index: this.frameCount });
        if (this.progress && this.status === 'running') this.post({ type: 'progress', run, ...this.progress });
        if (this.status === 'done' && this.result) this.post({ type: 'done', run, ...this.result });
        else if (this.status === 'cancelled') this.post({ type: 'cancelled', run });
        else if (this.status === 'error' && this.lastError) this.post({ type: 'error', run, message: this.lastError });
        return;
      }
      case 'run':
        if (this.status === 'running') return;
        if (m.settings) this.apply(m.settings);
        await this.run();
        return;
      case 'cancel':
        this.work?.cancel();
        return;
      case 'save':
        await this.save();
        return;
    }
  }

  /** Runs the job, streaming frames or tiles to the page. */
  run(): Promise<void> {
    if (this.running) return this.running;
    const cts = new vscode.CancellationTokenSource();
    this.work = cts;
    this.status = 'running';
    this.frameCount = 0;
    this.lastFrame = null;
    this.tiles.length = 0;
    this.result = null;
    this.lastError = null;
    this.estimate = null;
    this.progress = null;
    this.progressText = null;
    this.dreamPlan = null;
    const run = ++this.runNumber;
    this.post({ type: 'started', run });
    const engine = this.deps.engine;
    const opts = {
      token: cts.token,
      onProgress: (p: { done: number; total: number; message?: string }) => {
        this.progressText = stepLine(p.done, p.total, this.dreamPlan);
        this.progress = { done: p.done, total: p.total, message: this.progressText };
        this.post({ type: 'progress', run, ...this.progress });
      },
      onEvent: (e: import('../shared/protocol').EngineEvent) => {
        if (e.type === 'dreamPlan') {
          this.dreamPlan = { octaves: e.octaves, steps: e.steps, stepsAsked: e.stepsAsked, layers: e.layers, layersAreDefault: e.layersAreDefault };
          this.sendInit();
        } else if (e.type === 'frame') {
          this.frameCount++;
          this.lastFrame = { image: e.image, step: e.step, total: e.total };
          this.post({ type: 'frame', run, ...this.lastFrame, index: this.frameCount });
        } else if (e.type === 'tile') {
          const t = { index: e.index, channel: e.channel, image: e.image, objective: e.objective, note: e.note ?? null };
          this.tiles.push(t);
          this.post({ type: 'tile', run, ...t });
        }
      },
    };
    const job = this.job;
    // The run shows in a progress notification too, whose Cancel stops it like the panel's.
    let report: (() => void) | null = null;
    let finished!: () => void;
    const ended = new Promise<void>((r) => (finished = r));
    void vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `CNN Lens: ${titleOf(job)}`, cancellable: true }, (progress, token) => {
      token.onCancellationRequested(() => cts.cancel());
      let last = 0;
      // The same line as the panel's status, from the same progress message.
      report = () => {
        const p = this.progress;
        if (!p) return;
        const pct = p.total ? (100 * p.done) / p.total : 0;
        const about = this.estimate ? ` (${aboutDuration(this.estimate.ms)} in all)` : '';
        progress.report({ increment: Math.max(0, pct - last), message: `${this.progressText ?? ''}${about}` });
        last = Math.max(last, pct);
      };
      report();
      return ended;
    });
    const onProgress = opts.onProgress;
    opts.onProgress = (p) => {
      onProgress(p);
      (report as (() => void) | null)?.();
    };
    this.running = (async () => {
      try {
        let result: { description: string; image: PngImage | null; ms: number };
        switch (job.kind) {
          case 'dream': {
            const r = await engine.request({ type: 'dream', model: job.model, image: job.image, layers: job.layers, octaves: job.octaves, steps: job.steps }, opts);
            result = { description: r.description, image: r.image, ms: r.ms };
            break;
          }
          case 'class': {
            const r = await engine.request({ type: 'maximizeClass', model: job.model, classIndex: job.classIndex }, opts);
            result = { description: r.description, image: r.image, ms: r.ms };
            break;
          }
          case 'invert': {
            const r = await engine.request({ type: 'invert', model: job.model, image: job.image, layer: job.layer, steps: job.steps }, opts);
            result = { description: r.description, image: r.image, ms: r.ms };
            break;
          }
          case 'filters': {
            // Said before the optimization starts: a few of its steps timed on this model (cached per model).
            const e = await engine.request({ type: 'estimateFilters', model: job.model, layer: job.layer, first: job.first, last: job.last }, { token: cts.token });
            this.estimate = e;
            this.deps.log.info(`${titleOf(job)}: estimated ${estimateText(e)}`);
            this.post({ type: 'estimate', run, text: estimateText(e), ms: e.ms });
            const r = await engine.request({ type: 'maximizeFilters', model: job.model, layer: job.layer, first: job.first, last: job.last }, opts);
            result = { description: `${r.tiles.length} channels of ${job.layer}`, image: null, ms: r.ms };
            break;
          }
        }
        this.result = result;
        this.status = 'done';
        this.post({ type: 'done', run, ...result });
      } catch (e) {
        if (isCancelled(e)) {
          this.status = 'cancelled';
          this.post({ type: 'cancelled', run });
        } else {
          this.status = 'error';
          this.lastError = (e as Error).message;
          this.deps.log.error(`${titleOf(job)}: ${this.lastError}`);
          this.post({ type: 'error', run, message: this.lastError });
        }
      } finally {
        finished();
        cts.dispose();
        if (this.work === cts) this.work = null;
        this.running = null;
      }
    })();
    return this.running;
  }

  /** Saves the result (or the last frame, or the tiles so far as a grid) as PNG. */
  async save(target?: vscode.Uri): Promise<vscode.Uri | undefined> {
    let bytes: Uint8Array | null = this.result?.image?.png ?? this.lastFrame?.image.png ?? null;
    if (!bytes && this.tiles.length) {
      const sorted = [...this.tiles].sort((a, b) => a.channel - b.channel);
      bytes = (await this.deps.engine.request({ type: 'tileGrid', tiles: sorted.map((t) => t.image.png), labels: sorted.map((t) => `#${t.channel}`) })).png;
    }
    if (!bytes) {
      this.post({ type: 'error', run: this.runNumber, message: 'Nothing to save yet.' });
      return undefined;
    }
    const base = titleOf(this.job).replace(/[^A-Za-z0-9_.-]+/g, '_').replace(/^_+|_+$/g, '');
    const dir = 'image' in this.job ? path.dirname(this.job.image) : path.dirname(this.job.model);
    const uri = target ?? (await vscode.window.showSaveDialog({ defaultUri: vscode.Uri.file(path.join(dir, `${base}.png`)), filters: { 'PNG image': ['png'] }, title: 'Save as PNG' }));
    if (!uri) return undefined;
    await vscode.workspace.fs.writeFile(uri, bytes);
    vscode.window.setStatusBarMessage(`CNN Lens: saved ${vscode.workspace.asRelativePath(uri)}`, 5000);
    return uri;
  }
}
