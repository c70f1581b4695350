// The Audit panel: a labelled folder classified by the selected model, with the same content as
// `cnn-lens audit`'s report (accuracy, confusion matrix, per-class numbers, mistakes with heatmaps),
// filling in live while the engine runs; Cancel keeps a partial report; a mistake opens the explain
// panel on that image and class; "Export report…" writes the HTML report through a save dialog.
// The engine writes the report's pictures into a folder of this panel's own (under the extension's
// storage), which the webview may read and which goes when the panel closes.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { type AuditPanelState, type AuditRunState, type FromAuditView, parseAuditPanelState, parseFromAuditView, type ToAuditView } from '../shared/auditProtocol';
import type { AuditReport } from '../shared/auditRecords';
import { renderAuditPage } from '../shared/auditView';
import { isCancelled } from './engineClient';
import { ExplainPanel } from './explainPanel';
import { LensPanel, type PanelDeps, showUnrestorable } from './lensPanel';
import { readSettings } from './settings';
import { webviewOptions } from './webviewHtml';

function reportRoot(deps: PanelDeps): string {
  const base = deps.context.globalStorageUri?.fsPath ?? path.join(os.tmpdir(), 'cnn-lens');
  return path.join(base, 'audits');
}

export class AuditPanel extends LensPanel<ToAuditView, FromAuditView> {
  static readonly viewType = 'cnnLens.audit';
  static readonly panels = new Set<AuditPanel>();

  static open(deps: PanelDeps, folder: string, model: string): AuditPanel {
    for (const p of AuditPanel.panels) {
      if (p.state.folder === folder && p.state.model === model) {
        p.panel.reveal();
        if (p.runState !== 'running') void p.run();
        return p;
      }
    }
    const reportDir = path.join(reportRoot(deps), crypto.randomBytes(6).toString('hex'));
    const panel = vscode.window.createWebviewPanel(AuditPanel.viewType, `Audit: ${path.basename(folder)}`, vscode.ViewColumn.Active, AuditPanel.options(deps, reportDir));
    const p = new AuditPanel(deps, panel, { folder, model }, reportDir);
    void p.run();
    return p;
  }

  /** After a window reload: the panel comes back and audits again (reports are not kept across reloads). */
  static revive(deps: PanelDeps, panel: vscode.WebviewPanel, saved: unknown): AuditPanel | undefined {
    const state = parseAuditPanelState(saved);
    if (!state) {
      showUnrestorable(panel, 'run "CNN Lens: Audit Folder…" again');
      return undefined;
    }
    const reportDir = path.join(reportRoot(deps), crypto.randomBytes(6).toString('hex'));
    panel.webview.options = AuditPanel.options(deps, reportDir);
    const p = new AuditPanel(deps, panel, state, reportDir);
    void p.run();
    return p;
  }

  private static options(deps: PanelDeps, reportDir: string) {
    return webviewOptions(deps.context.extensionUri, [vscode.Uri.file(reportDir)]);
  }

  /** The report on show (tests read it). */
  report: AuditReport | null = null;
  runState: AuditRunState = 'running';
  lastError: string | null = null;
  private progress: { done: number; total: number; message: string } | null = null;

  private constructor(
    deps: PanelDeps,
    panel: vscode.WebviewPanel,
    readonly state: AuditPanelState,
    readonly reportDir: string,
  ) {
    super(deps, panel, { entry: 'audit', name: 'audit panel', parse: parseFromAuditView, registry: AuditPanel.panels });
  }

  protected onMessage(m: FromAuditView): Promise<void> {
    return this.handleMessage(m);
  }

  private sendReport(): void {
    if (this.report) this.post({ type: 'report', report: this.report, imageBase: this.panel.webview.asWebviewUri(vscode.Uri.file(this.reportDir)).toString() });
  }

  private setState(state: AuditRunState, message?: string): void {
    this.runState = state;
    this.post({ type: 'state', state, message });
  }

  async handleMessage(m: FromAuditView): Promise<void> {
    switch (m.type) {
      case 'ready':
        this.post({ type: 'init', folder: this.state.folder, model: this.state.model, title: `Audit of ${vscode.workspace.asRelativePath(this.state.folder)}` });
        this.sendReport();
        if (this.progress && this.runState === 'running') this.post({ type: 'progress', ...this.progress });
        this.post({ type: 'state', state: this.runState, message: this.lastError ?? undefined });
        return;
      case 'cancel':
        this.work?.cancel();
        return;
      case 'run':
        if (this.runState !== 'running') await this.run();
        return;
      case 'export':
        await this.exportReport();
        return;
      case 'explain': {
        const image = path.resolve(this.state.folder, ...m.image.split('/'));
        if (!image.startsWith(path.resolve(this.state.folder) + path.sep)) return;
        const explain = ExplainPanel.open(this.deps, image, this.state.model);
        await explain.handleMessage({ type: 'setOptions', options: { classIndex: m.classIndex } });
        return;
      }
    }
  }

  run(): Promise<void> {
    if (this.running) return this.running;
    const cts = new vscode.CancellationTokenSource();
    this.work = cts;
    this.lastError = null;
    this.progress = null;
    this.setState('running');
    const s = readSettings();
    this.running = (async () => {
      try {
        const r = await this.deps.engine.request(
          { type: 'audit', model: this.state.model, folder: this.state.folder, reportDir: this.reportDir, method: s.defaultMethod, preprocess: s.preprocess },
          {
            token: cts.token,
            onProgress: (p) => {
              this.progress = { done: p.done, total: p.total, message: p.message ?? '' };
              this.post({ type: 'progress', ...this.progress });
            },
            onEvent: (e) => {
              if (e.type !== 'audit') return;
              this.report = e.report;
              this.sendReport();
            },
          },
        );
        this.report = r;
        this.sendReport();
        this.setState('done');
      } catch (e) {
        if (isCancelled(e)) this.setState('cancelled', this.report ? 'Cancelled: the report covers the images done.' : 'Cancelled.');
        else {
          this.lastError = (e as Error).message;
          this.deps.log.error(`audit panel (${this.state.folder}): ${this.lastError}`);
          this.setState('error', this.lastError);
        }
      } finally {
        this.work = null;
        this.running = null;
        cts.dispose();
      }
    })();
    return this.running;
  }

  /**
   * Writes the report as NAME.html with its pictures in NAME_files/ beside it (the same page as
   * `cnn-lens audit` writes). Returns the file written, or undefined.
   */
  async exportReport(target?: vscode.Uri): Promise<string | undefined> {
    const report = this.report;
    if (!report) {
      void vscode.window.showWarningMessage('CNN Lens: nothing to export yet.');
      return undefined;
    }
    const uri =
      target ??
      (await vscode.window.showSaveDialog({
        defaultUri: vscode.Uri.file(path.join(path.dirname(this.state.folder), `${path.basename(this.state.folder)}-audit.html`)),
        filters: { 'HTML report': ['html'] },
        title: 'Export the audit report',
      }));
    if (!uri) return undefined;
    const file = uri.fsPath;
    const filesDir = `${path.basename(file, path.extname(file))}_files`;
    try {
      const copies = new Map<string, string>();
      for (const g of [...report.gallery, ...report.leastConfident]) {
        for (const f of Object.values(g.files)) if (f) copies.set(f, `${filesDir}/${path.basename(f)}`);
      }
      // Pictures first (each through a temporary name), then the page: a failure leaves no page that links missing files.
      const finalDir = path.join(path.dirname(file), filesDir);
      fs.mkdirSync(finalDir, { recursive: true });
      for (const [from, to] of copies) {
        const dest = path.join(path.dirname(file), ...to.split('/'));
        fs.copyFileSync(path.join(this.reportDir, ...from.split('/')), `${dest}.tmp-${process.pid}`);
        fs.renameSync(`${dest}.tmp-${process.pid}`, dest);
      }
      const html = renderAuditPage({ ...report, out: null }, (f) => (copies.get(f) ?? f).split('/').map(encodeURIComponent).join('/'));
      const tmpHtml = `${file}.tmp-${process.pid}`;
      fs.writeFileSync(tmpHtml, html);
      fs.renameSync(tmpHtml, file);
      vscode.window.setStatusBarMessage(`CNN Lens: audit report written to ${vscode.workspace.asRelativePath(file)}`, 5000);
      return file;
    } catch (e) {
      void vscode.window.showErrorMessage(`CNN Lens: could not write ${file}: ${(e as Error).message}`);
      return undefined;
    }
  }

  protected override onDisposed(): void {
    // The pictures go with the panel (after the engine has stopped writing them).
    void this.whenDone().finally(() => fs.rmSync(this.reportDir, { recursive: true, force: true }));
  }
}
