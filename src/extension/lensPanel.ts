// What every CNN Lens panel shares (explain, visualization, audit, the model browser): its page (the
// bundled webview for its kind, the CNN Lens icon), its messages parsed at the boundary and handed to the
// panel, posting that stops once the panel is gone, the set of open panels of its kind, the engine work
// it may be running (whenDone, cancelled on close) and one dispose. Each panel adds only what it shows.
import * as vscode from 'vscode';
import type { EngineClient } from './engineClient';
import type { ModelPicker } from './modelPicker';
import { onPanelMessage, webviewHtml } from './webviewHtml';

export interface PanelDeps {
  context: vscode.ExtensionContext;
  engine: EngineClient;
  models: ModelPicker;
  log: vscode.LogOutputChannel;
}

/** How a panel's page is made and heard. */
export interface PanelPage<To, From> {
  /** The webview bundle: dist/webview/<entry>.js and .css. */
  entry: string;
  /** The panel in the log ("audit panel: ignored a malformed message …"). */
  name: string;
  /** Validates a message from the page (untrusted); null drops it with a warning. */
  parse(raw: unknown): From | null;
  /** The open panels of this kind: the panel is in it until disposed. */
  registry: Set<LensPanel<To, From>>;
  /** The page's document title (default: the panel's title). */
  title?: string;
  /** The tab's icon: false for custom editors, whose tab shows the file's own. Default true. */
  icon?: boolean;
}

/** A revived panel whose saved state is unusable: a page that says what to do instead. */
export function showUnrestorable(panel: vscode.WebviewPanel, what: string): void {
  panel.webview.html = `<!DOCTYPE html><html><body><p>This CNN Lens panel could not be restored${what ? `; ${what}` : ''}.</p></body></html>`;
}

export abstract class LensPanel<To, From> implements vscode.Disposable {
  protected readonly disposables: vscode.Disposable[] = [];
  protected disposed = false;
  /** The engine work in progress (cancelled when the panel closes). */
  protected work: vscode.CancellationTokenSource | null = null;
  /** The current run, for whenDone. */
  protected running: Promise<void> | null = null;
  private readonly registry: Set<LensPanel<To, From>>;

  protected constructor(
    protected readonly deps: PanelDeps,
    readonly panel: vscode.WebviewPanel,
    page: PanelPage<To, From>,
  ) {
    this.registry = page.registry;
    this.registry.add(this);
    if (page.icon !== false) panel.iconPath = vscode.Uri.joinPath(deps.context.extensionUri, 'media', 'icons', 'cnn-lens.svg');
    panel.webview.html = webviewHtml(panel.webview, deps.context.extensionUri, page.entry, page.title ?? panel.title);
    this.disposables.push(
      onPanelMessage(panel.webview, page.name, (raw) => page.parse(raw), (m) => this.onMessage(m), deps.log),
      panel.onDidDispose(() => this.dispose()),
    );
  }

  /** A message from the page, already validated. */
  protected abstract onMessage(m: From): Promise<void> | void;

  /** Resolves when the current run (if any) has ended. */
  whenDone(): Promise<void> {
    return this.running ?? Promise.resolve();
  }

  /** To the page, unless the panel is gone. */
  protected post(m: To): void {
    if (!this.disposed) void this.panel.webview.postMessage(m);
  }

  /** What a panel releases beyond the shared parts (called once, after the webview panel is disposed). */
  protected onDisposed(): void {}

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.registry.delete(this);
    this.work?.cancel();
    for (const d of this.disposables) d.dispose();
    this.panel.dispose();
    this.onDisposed();
  }
}
