// The model browser on a real model file: opened as the default editor of model.json, its summary and
// layer tree checked against the file itself (weights manifest, layer names in the topology).
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { api, waitFor } from './util';

/** Names of the non-container layers in a Keras/tfjs topology, read straight from the JSON. */
function leafNames(layer: any, out: string[] = []): string[] {
  const cfg = layer?.config;
  const children = Array.isArray(cfg) ? cfg : Array.isArray(cfg?.layers) ? cfg.layers : null;
  if (children) for (const c of children) leafNames(c, out);
  else if (typeof cfg?.name === 'string') out.push(cfg.name);
  return out;
}

describe('model browser', function () {
  this.timeout(90_000);
  const ws = () => vscode.workspace.workspaceFolders![0].uri.fsPath;
  const modelFile = () => {
    const m = vscode.workspace.getConfiguration('cnnLens').get<string>('model');
    return m ? path.join(ws(), m) : null;
  };

  before(function () {
    if (!modelFile() || !modelFile()!.endsWith('model.json')) {
      console.log('[host-tests] model browser: skipped — the e2e workspace has no model.json');
      this.skip();
    }
  });

  it('opens model.json as its default editor and lists every layer of the file with parameter totals from the weights manifest', async () => {
    const a = await api();
    const file = modelFile()!;
    await vscode.commands.executeCommand('vscode.open', vscode.Uri.file(file));
    const browser = await waitFor('a model browser for the file', () => [...a.modelBrowsers].find((b) => b.file === file), 20_000);
    await browser.whenLoaded();
    const s = browser.summary;
    assert.ok(s, `summary (error: ${browser.lastError})`);
    const json = JSON.parse(fs.readFileSync(file, 'utf8'));
    // Parameters: the product of every weight's shape in the manifest.
    const total = json.weightsManifest.flatMap((g: any) => g.weights).reduce((n: number, w: any) => n + w.shape.reduce((x: number, y: number) => x * y, 1), 0);
    assert.equal(s.params.total, total);
    // Layers: every layer named in the topology appears in the tree.
    const names = new Set<string>();
    const walk = (ls: typeof s.layers) => ls.forEach((l) => (names.add(l.name), l.children && walk(l.children)));
    walk(s.layers);
    const want = leafNames(json.modelTopology.model_config ?? json.modelTopology).filter((n) => !/^input/.test(n));
    const missing = want.filter((n) => !names.has(n));
    assert.deepEqual(missing, [], 'layers in the file but not in the tree');
    assert.ok(s.defaultLayer && names.has(s.defaultLayer.split('/').at(-1)!), `default layer ${s.defaultLayer}`);

    // A conv layer's filter weights: one tile per output filter, as the kernel shape says.
    const flat = (ls: typeof s.layers): typeof s.layers => ls.flatMap((l) => (l.children ? flat(l.children) : [l]));
    const conv = flat(s.layers).find((l) => l.className === 'Conv2D' && l.kernelShape)!;
    await browser.layerAction(conv.path, 'weights');
    assert.equal(browser.lastLayerImage?.what, 'weights', `weights (${browser.lastError})`);
    assert.match(browser.lastLayerImage!.description, new RegExp(`^${conv.kernelShape!.at(-1)} filters`));
    // Feature maps for an image.
    const image = path.join(ws(), fs.readdirSync(ws()).filter((n) => /\.(png|jpe?g)$/i.test(n)).sort()[0]);
    await browser.layerAction(conv.path, 'activations', image);
    assert.equal(browser.lastLayerImage?.what, 'activations');
    assert.match(browser.lastLayerImage!.description, new RegExp(`^${conv.outputShape!.at(-1)} feature maps of ${conv.outputShape![1]}×${conv.outputShape![2]}`));
    browser.panel.dispose();
  });

  it('opens a Keras 3 .keras file too', async function () {
    const dir = path.join(ws(), 'models', 'keras3-mnist');
    const file = fs.existsSync(dir) ? fs.readdirSync(dir).find((f) => f.endsWith('.keras')) : undefined;
    if (!file) {
      console.log('[host-tests] .keras: skipped — no Keras fixture in the workspace');
      return this.skip();
    }
    const a = await api();
    const full = path.join(dir, file);
    await vscode.commands.executeCommand('vscode.open', vscode.Uri.file(full));
    const browser = await waitFor('a model browser for the .keras file', () => [...a.modelBrowsers].find((b) => b.file === full), 20_000);
    await browser.whenLoaded();
    assert.ok(browser.summary, `summary (error: ${browser.lastError})`);
    assert.equal(browser.summary.numClasses, 10, 'an MNIST classifier');
    assert.equal(browser.summary.input.channels, 1);
    assert.ok(browser.summary.layers.some((l) => l.className === 'Conv2D'));
    browser.panel.dispose();
  });

  it('a broken model file shows one clear error instead of a tree', async () => {
    const a = await api();
    const dir = fs.mkdtempSync(path.join(ws(), 'broken-'));
    const file = path.join(dir, 'model.json');
    fs.writeFileSync(file, '{"modelTopology": ');
    await vscode.commands.executeCommand('vscode.openWith', vscode.Uri.file(file), 'cnnLens.modelBrowser');
    const browser = await waitFor('a model browser for the broken file', () => [...a.modelBrowsers].find((b) => b.file === file), 20_000);
    await browser.whenLoaded();
    assert.equal(browser.summary, null);
    assert.match(browser.lastError ?? '', /model\.json: not valid JSON/);
    browser.panel.dispose();
  });
});
