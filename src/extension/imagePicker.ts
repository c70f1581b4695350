// The one image picker every command uses: an image given as argument, else the image in the active
// editor tab, else a quick pick of the workspace's images (sorted by path) with "Browse…" last.
import * as path from 'node:path';
import * as vscode from 'vscode';

export const IMAGE_EXTENSIONS = ['png', 'jpg', 'jpeg', 'webp', 'bmp', 'gif'];
const IMAGE_GLOB = `**/*.{${IMAGE_EXTENSIONS.join(',')}}`;

export function isImageFile(file: string): boolean {
  return IMAGE_EXTENSIONS.includes(path.extname(file).slice(1).toLowerCase());
}

/** The image in the active editor tab, if it shows one. */
function activeTabImage(): string | undefined {
  const input = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
  const uri = input instanceof vscode.TabInputCustom || input instanceof vscode.TabInputText ? input.uri : undefined;
  return uri && isImageFile(uri.fsPath) ? uri.fsPath : undefined;
}

/** Asks for an image: the workspace's images first, "Browse…" last. Undefined when dismissed. */
export async function askForImage(title: string): Promise<string | undefined> {
  const found = await vscode.workspace.findFiles(IMAGE_GLOB, '**/{node_modules,.git}/**', 2000);
  type Item = vscode.QuickPickItem & { file?: string };
  const items: Item[] = found
    .map((u) => u.fsPath)
    .sort((a, b) => vscode.workspace.asRelativePath(a).localeCompare(vscode.workspace.asRelativePath(b)))
    .map((f) => ({ label: `$(file-media) ${path.basename(f)}`, description: path.dirname(vscode.workspace.asRelativePath(f)) === '.' ? '' : path.dirname(vscode.workspace.asRelativePath(f)), file: f }));
  items.push({ label: '$(folder-opened) Browse…', description: 'an image file anywhere' });
  const choice = await vscode.window.showQuickPick(items, { title, placeHolder: found.length ? 'An image of this workspace, or Browse…' : 'No images in this workspace: Browse…', matchOnDescription: true });
  if (!choice) return undefined;
  if (choice.file) return choice.file;
  const picked = await vscode.window.showOpenDialog({ canSelectMany: false, openLabel: 'Use this image', title, filters: { Images: IMAGE_EXTENSIONS } });
  return picked?.[0]?.fsPath;
}

/** The image: a Uri argument, the image in the active editor tab, or one picked (askForImage). */
export async function pickImage(arg: unknown, title = 'CNN Lens: choose an image'): Promise<string | undefined> {
  if (arg instanceof vscode.Uri) return arg.fsPath;
  return activeTabImage() ?? (await askForImage(title));
}
