// The HTML shell every CNN Lens webview starts from: a strict Content Security Policy (nothing by
// default; scripts and styles only from the extension's dist/webview folder, by nonce; images from the
// webview's own sources, blob: and data:), the panel's bundled script and stylesheet, and a root element.
import * as crypto from 'node:crypto';
import * as vscode from 'vscode';

export function makeNonce(): string {
  return crypto.randomBytes(18).toString('base64');
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** Where a panel's webview may load files from: the bundles, plus any folders the panel shows files of. */
export function webviewOptions(extensionUri: vscode.Uri, extraRoots: vscode.Uri[] = []): vscode.WebviewOptions & vscode.WebviewPanelOptions {
  return {
    enableScripts: true,
    localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'dist', 'webview'), ...extraRoots],
  };
}

/**
 * The page for panel kind `entry` (dist/webview/<entry>.js and .css). `title` is the document title;
 * the script builds the UI inside #app and asks the host for data with a `ready` message.
 */
export function webviewHtml(webview: vscode.Webview, extensionUri: vscode.Uri, entry: string, title: string): string {
  const nonce = makeNonce();
  const asset = (f: string) => webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'dist', 'webview', f)).toString();
  const csp = [
    "default-src 'none'",
    `img-src ${webview.cspSource} blob: data:`,
    // The toolkit (FAST) inserts an empty <style> element; the hash of the empty string allows that one
    // and no other inline style.
    `style-src ${webview.cspSource} 'nonce-${nonce}' 'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='`,
    `font-src ${webview.cspSource}`,
    `script-src 'nonce-${nonce}'`,
  ].join('; ');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" nonce="${nonce}" href="${asset(`${entry}.css`)}">
<title>${escapeHtml(title)}</title>
</head>
<body>
<div id="app" data-entry="${escapeHtml(entry)}"></div>
<script nonce="${nonce}" src="${asset(`${entry}.js`)}"></script>
</body>
</html>`;
}

/**
 * Listens to a panel's page: each message is parsed at the boundary (webview messages are untrusted) and handed
 * on; a malformed one is logged and dropped. `name` says which panel in the log.
 */
export function onPanelMessage<M>(
  webview: vscode.Webview,
  name: string,
  parse: (raw: unknown) => M | null,
  handle: (m: M) => Promise<void> | void,
  log: Pick<vscode.LogOutputChannel, 'warn'>,
): vscode.Disposable {
  return webview.onDidReceiveMessage((raw) => {
    const m = parse(raw);
    if (m) void handle(m);
    else log.warn(`${name}: ignored a malformed message ${JSON.stringify(raw)?.slice(0, 200)}`);
  });
}
