// The explain panel's trust part on the host side: the Compare grid (top-K classes × ticked methods, each
// cell an engine `explain`, cached), its faithfulness scores (engine `faithfulness`, cached), the grid as
// one PNG (engine `render` per cell + `compareGrid`), and the Sanity check (engine `sanity`, stages
// streamed). ExplainPanel owns the panel and hands this class the trust messages; it has its own busy
// state, progress and cancel, so the single view's work and this one do not cancel each other.
import * as path from 'node:path';
import * as vscode from 'vscode';
import {
  bestInRow,
  type CellScores,
  type CompareCellView,
  type CompareViewState,
  defaultCompareState,
  type ExplainOutput,
  type ExplainPanelState,
  type FromTrustView,
  type ModelBrief,
  type PngImage,
  type Prediction,
  sanityVerdict,
  type ToTrustView,
} from '../shared/protocol';
import { percent } from '../shared/format';
import { type EngineClient, EngineRequestError, isCancelled } from './engineClient';

export interface TrustHost {
  engine: EngineClient;
  log: vscode.LogOutputChannel;
  state: ExplainPanelState;
  brief(): ModelBrief | null;
  predictions(): Prediction[] | null;
  post(m: ToTrustView): void;
}

/** Longest side of a Compare cell's heatmap, in the panel and in the saved grid. */
const CELL_SIZE = 192;

type SanityMessage = Extract<ToTrustView, { type: 'sanity.start' | 'sanity.stage' | 'sanity.done' }>;

export class TrustController implements vscode.Disposable {
  private readonly maps = new Map<string, ExplainOutput>();
  private readonly images = new Map<string, PngImage>();
  private readonly scores = new Map<string, CellScores>();
  private readonly randomScores = new Map<string, CellScores>();
  private work: vscode.CancellationTokenSource | null = null;
  private busy = false;
  private lastSanity: SanityMessage[] = [];
  /** Cells posted to the page (tests read them). */
  readonly shown = new Map<string, CompareCellView>();
  lastError: string | null = null;

  constructor(private readonly host: TrustHost) {}

  get view(): CompareViewState {
    return (this.host.state.compare ??= defaultCompareState());
  }

  /** The keys the grid shows now: top-K classes × the ticked methods the model has. */
  private grid(): { classes: Prediction[]; methods: string[] } {
    const brief = this.host.brief();
    const preds = this.host.predictions() ?? [];
    const known = brief?.methods.map((m) => m.name) ?? [];
    return { classes: preds.slice(0, this.view.topK), methods: known.filter((m) => this.view.methods.includes(m)) };
  }

  private keyOf(method: string, classIndex: number): string {
    const o = this.host.state.options;
    const usesLayer = this.host.brief()?.methods.find((m) => m.name === method)?.usesLayer ?? false;
    return [this.host.state.model, method, usesLayer ? (o.layer ?? '(default)') : '-', o.preprocess, classIndex].join('|');
  }

  private cellView(key: string): CompareCellView | null {
    const out = this.maps.get(key);
    const image = this.images.get(`${key}|${this.host.state.options.colormap}`);
    if (!out || !image) return null;
    return { key, classIndex: out.classIndex, label: out.label, probability: out.probability, method: out.method, layer: out.layer, kind: out.kind, ms: out.ms, image, scores: this.scores.get(key) ?? null };
  }

  private postCell(key: string): void {
    const cell = this.cellView(key);
    if (!cell) return;
    this.shown.set(key, cell);
    this.host.post({ type: 'compare.cell', cell });
  }

  /** After the page (re)loads: the cells of the current grid, the random scores and the last sanity check. */
  resend(): void {
    this.host.post({ type: 'compare.clear' });
    const { classes, methods } = this.grid();
    for (const c of classes) {
      for (const m of methods) this.postCell(this.keyOf(m, c.index));
      const r = this.randomScores.get(this.randomKey(c.index));
      if (r) this.host.post({ type: 'compare.random', classIndex: c.index, scores: r });
    }
    for (const m of this.lastSanity) this.host.post(m);
    if (this.busy) this.host.post({ type: 'trust.busy', message: 'Working…' });
    else if (this.lastError) this.host.post({ type: 'trust.error', message: this.lastError });
  }

  /** The single view's layer, colormap or preprocessing changed: the grid shows other maps now. */
  optionsChanged(): void {
    if (this.view.tab === 'compare') void this.compute();
    else this.resend();
  }

  /** The panel switched to another model: nothing computed so far applies. */
  reset(): void {
    this.work?.cancel();
    this.maps.clear();
    this.images.clear();
    this.scores.clear();
    this.randomScores.clear();
    this.shown.clear();
    this.lastSanity = [];
    this.lastError = null;
    this.host.post({ type: 'compare.clear' });
    this.host.post({ type: 'sanity.clear' });
  }

  async handle(m: FromTrustView): Promise<void> {
    switch (m.type) {
      case 'compare.setView':
        Object.assign(this.view, m.view);
        if (this.view.tab === 'compare') await this.compute();
        return;
      case 'compare.compute':
        await this.compute();
        return;
      case 'compare.score':
        await this.score();
        return;
      case 'compare.save':
        await this.saveGrid();
        return;
      case 'sanity.run':
        await this.sanity();
        return;
      case 'trust.cancel':
        this.work?.cancel();
        return;
    }
  }

  /** Runs one job at a time (a new one replaces the running one), with progress, cancel and errors. */
  private async run(message: string, f: (token: vscode.CancellationToken, progress: (done: number, total: number, msg?: string) => void) => Promise<void>): Promise<boolean> {
    this.work?.cancel();
    const cts = new vscode.CancellationTokenSource();
    this.work = cts;
    this.busy = true;
    this.lastError = null;
    this.host.post({ type: 'trust.busy', message });
    try {
      await f(cts.token, (done, total, msg) => this.host.post({ type: 'trust.busy', message: msg ?? message, done, total }));
      return true;
    } catch (e) {
      if (isCancelled(e) && this.work !== cts) return false; // replaced by a newer job
      const msg = isCancelled(e) ? 'Cancelled.' : e instanceof EngineRequestError || e instanceof Error ? e.message : String(e);
      this.lastError = msg;
      if (!isCancelled(e)) this.host.log.error(`explain panel, ${message} ${msg}`);
      this.host.post({ type: 'trust.error', message: msg });
      return false;
    } finally {
      if (this.work === cts) {
        this.work = null;
        this.busy = false;
        this.host.post({ type: 'trust.idle' });
      }
      cts.dispose();
    }
  }

  private checkReady(): string | null {
    const brief = this.host.brief();
    if (!brief || !this.host.predictions()) return 'The model is still loading.';
    if (!brief.canExplain) return `${brief.format} models can only predict here: attribution methods need a layers model.`;
    return null;
  }

  /** Computes the grid's missing cells, one engine request each, posting each cell as it arrives. */
  async compute(): Promise<void> {
    const problem = this.checkReady();
    if (problem) {
      this.host.post({ type: 'trust.error', message: problem });
      return;
    }
    this.resend();
    const { classes, methods } = this.grid();
    if (methods.length === 0) {
      this.host.post({ type: 'trust.error', message: 'Tick at least one method to compare.' });
      return;
    }
    const o = { ...this.host.state.options };
    const todo = classes.flatMap((c) => methods.map((m) => ({ c, m, key: this.keyOf(m, c.index) }))).filter((t) => !this.cellView(t.key));
    if (todo.length === 0) return;
    await this.run(`Computing ${todo.length} cell${todo.length === 1 ? '' : 's'}…`, async (token, progress) => {
      for (let i = 0; i < todo.length; i++) {
        const { c, m, key } = todo[i];
        progress(i, todo.length, `${m} for '${c.label}' (${i + 1} of ${todo.length})`);
        let out = this.maps.get(key);
        if (!out) {
          out = await this.host.engine.request(
            { type: 'explain', model: this.host.state.model, image: this.host.state.image, method: m, classIndex: c.index, layer: o.layer ?? undefined, preprocess: o.preprocess, colormap: o.colormap, maxSize: CELL_SIZE },
            { token },
          );
          this.maps.set(key, out);
          this.images.set(`${key}|${o.colormap}`, out.heatmap);
        } else {
          const map = out;
          const img = await this.host.engine.request({ type: 'render', image: this.host.state.image, map: map.map, shape: map.shape, kind: map.kind, colormap: o.colormap, style: 'heatmap', alpha: 1, maxSize: CELL_SIZE }, { token });
          this.images.set(`${key}|${o.colormap}`, img);
        }
        this.postCell(key);
      }
      progress(todo.length, todo.length);
    });
  }

  private randomKey(classIndex: number): string {
    return `${this.host.state.model}|${this.host.state.options.preprocess}|${classIndex}`;
  }

  /** Deletion/insertion AUCs of every computed cell of the grid, and the random map's per row. */
  async score(): Promise<void> {
    const problem = this.checkReady();
    if (problem) {
      this.host.post({ type: 'trust.error', message: problem });
      return;
    }
    const { classes, methods } = this.grid();
    const cells = classes.flatMap((c) => methods.map((m) => this.keyOf(m, c.index))).filter((k) => this.maps.has(k) && !this.scores.has(k));
    const rows = classes.filter((c) => !this.randomScores.has(this.randomKey(c.index)));
    if (this.shown.size === 0 && cells.length === 0) {
      this.host.post({ type: 'trust.error', message: 'No cells to score yet: compute the grid first.' });
      return;
    }
    const total = cells.length + rows.length;
    if (total === 0) return;
    const o = { ...this.host.state.options };
    await this.run('Scoring faithfulness…', async (token, progress) => {
      let done = 0;
      for (const c of rows) {
        progress(done, total, `random map for '${c.label}'`);
        const r = await this.host.engine.request({ type: 'faithfulness', model: this.host.state.model, image: this.host.state.image, preprocess: o.preprocess, classIndex: c.index, seed: 0 }, { token });
        const scores = { deletion: r.deletion.auc, insertion: r.insertion.auc };
        this.randomScores.set(this.randomKey(c.index), scores);
        this.host.post({ type: 'compare.random', classIndex: c.index, scores });
        done++;
      }
      for (const key of cells) {
        const out = this.maps.get(key)!;
        progress(done, total, `deletion and insertion curves: ${out.method} for '${out.label}'`);
        const r = await this.host.engine.request(
          { type: 'faithfulness', model: this.host.state.model, image: this.host.state.image, preprocess: o.preprocess, classIndex: out.classIndex, map: { map: out.map, shape: out.shape, kind: out.kind } },
          { token, onProgress: (p) => progress(done + p.done / Math.max(1, p.total), total, `deletion and insertion curves: ${out.method} for '${out.label}'`) },
        );
        this.scores.set(key, { deletion: r.deletion.auc, insertion: r.insertion.auc });
        this.postCell(key);
        done++;
      }
      progress(total, total);
    });
  }

  /** The grid as one PNG (each cell over the image, as on screen) through a save dialog. */
  async saveGrid(target?: vscode.Uri): Promise<vscode.Uri | undefined> {
    const { classes, methods } = this.grid();
    const keys = classes.map((c) => methods.map((m) => this.keyOf(m, c.index)));
    if (!keys.flat().some((k) => this.maps.has(k))) {
      this.host.post({ type: 'trust.error', message: 'Nothing to save yet: compute the grid first.' });
      return undefined;
    }
    const base = path.basename(this.host.state.image, path.extname(this.host.state.image));
    const uri =
      target ??
      (await vscode.window.showSaveDialog({
        defaultUri: vscode.Uri.file(path.join(path.dirname(this.host.state.image), `${base}.compare.png`)),
        filters: { 'PNG image': ['png'] },
        title: 'Save the Compare grid as PNG',
      }));
    if (!uri) return undefined;
    const o = { ...this.host.state.options };
    const brief = this.host.brief();
    const ok = await this.run(`Saving ${path.basename(uri.fsPath)}…`, async (token, progress) => {
      const cells: ({ png: Uint8Array; caption: string; best: boolean } | null)[] = [];
      let i = 0;
      for (const row of keys) {
        const best = bestInRow(row.map((k) => ({ key: k, scores: this.scores.get(k) ?? null })));
        for (const key of row) {
          progress(i++, keys.flat().length);
          const out = this.maps.get(key);
          if (!out) {
            cells.push(null);
            continue;
          }
          const img = await this.host.engine.request(
            { type: 'render', image: this.host.state.image, map: out.map, shape: out.shape, kind: out.kind, colormap: o.colormap, style: 'overlay', alpha: o.opacity, maxSize: CELL_SIZE },
            { token },
          );
          const s = this.scores.get(key);
          const caption = `${Math.round(out.ms)} ms` + (s ? `, del ${s.deletion.toFixed(3)}, ins ${s.insertion.toFixed(3)}${best?.key === key ? ', best' : ''}` : '');
          cells.push({ png: img.png, caption, best: best?.key === key });
        }
      }
      const grid = await this.host.engine.request(
        {
          type: 'compareGrid',
          title: `${path.basename(this.host.state.image)}, ${vscode.workspace.asRelativePath(this.host.state.model)}: top ${classes.length} classes x ${methods.length} methods${this.scores.size ? '. AUCs: deletion (lower is better), insertion (higher is better); framed: the best of its row (highest insertion - deletion)' : ''}`,
          rowLabels: classes.map((c) => {
            const r = this.randomScores.get(this.randomKey(c.index));
            return `${c.label} (${percent(c.probability)})${r ? ` random: del ${r.deletion.toFixed(3)}, ins ${r.insertion.toFixed(3)}` : ''}`;
          }),
          colLabels: methods.map((m) => brief?.methods.find((x) => x.name === m)?.title ?? m),
          cells,
        },
        { token },
      );
      await vscode.workspace.fs.writeFile(uri, grid.png);
    });
    if (!ok) return undefined;
    this.host.post({ type: 'trust.saved', file: uri.fsPath });
    vscode.window.setStatusBarMessage(`CNN Lens: saved ${vscode.workspace.asRelativePath(uri)}`, 5000);
    return uri;
  }

  /** The sanity check of the single view's method, class and layer; the strip fills in stage by stage. */
  async sanity(): Promise<void> {
    const problem = this.checkReady();
    if (problem) {
      this.host.post({ type: 'trust.error', message: problem });
      return;
    }
    const o = { ...this.host.state.options };
    const classIndex = o.classIndex ?? this.host.predictions()![0].index;
    const label = this.host.brief()!.labels[classIndex] ?? String(classIndex);
    const start: SanityMessage = { type: 'sanity.start', method: o.method, label };
    this.lastSanity = [start];
    this.host.post(start);
    await this.run(`Sanity check of ${o.method} for '${label}'…`, async (token, progress) => {
      const record = await this.host.engine.request(
        { type: 'sanity', model: this.host.state.model, image: this.host.state.image, preprocess: o.preprocess, method: o.method, classIndex, layer: o.layer ?? undefined, colormap: o.colormap },
        {
          token,
          onProgress: (p) => progress(p.done, p.total, `Sanity check of ${o.method}: ${p.message ?? ''}`),
          onEvent: (e) => {
            if (e.type !== 'sanityStage') return;
            const m: SanityMessage = { type: 'sanity.stage', index: e.index, total: e.total, stage: e.stage, layer: e.layer, image: e.image };
            this.lastSanity.push(m);
            this.host.post(m);
          },
        },
      );
      const v = sanityVerdict(record);
      const done: SanityMessage = { type: 'sanity.done', record, passed: v.passed, sentence: v.sentence };
      this.lastSanity.push(done);
      this.host.post(done);
    });
  }

  dispose(): void {
    this.work?.cancel();
  }
}
