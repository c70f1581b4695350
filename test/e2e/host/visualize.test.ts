// Feature visualization through the extension: filter tiles stream in and finish, Deep Dream streams
// frames and stops on cancel, class visualization and inversion finish with an image, saving writes PNG.
// The e2e run caps optimization steps (CNN_LENS_MAX_STEPS) to keep this quick.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { LayerNode } from '../../../src/shared/protocol';
import type { VisualizePanel } from '../../../src/extension/visualizePanel';
import { api, waitFor } from './util';

const PNG = '\x89PNG\r\n\x1a\n';
const isPng = (b: Uint8Array) => Buffer.from(b.subarray(0, 8)).toString('latin1') === PNG;

describe('feature visualization', function () {
  this.timeout(180_000);
  const ws = () => vscode.workspace.workspaceFolders![0].uri.fsPath;
  let model = '';
  let image = '';
  let convLayers: LayerNode[] = [];

  before(async function () {
    const m = vscode.workspace.getConfiguration('cnnLens').get<string>('model');
    if (!m) {
      console.log('[host-tests] feature visualization: skipped — the e2e workspace has no model');
      this.skip();
    }
    model = path.join(ws(), m!);
    image = path.join(ws(), fs.readdirSync(ws()).filter((n) => /\.(png|jpe?g)$/i.test(n)).sort()[0]);
    const s = await (await api()).engine.request({ type: 'summary', model });
    const flat = (ls: LayerNode[]): LayerNode[] => ls.flatMap((l) => (l.children ? flat(l.children) : [l]));
    convLayers = flat(s.layers).filter((l) => l.spatial && l.kind === 'conv');
    assert.ok(convLayers.length >= 2, 'the model has conv layers');
  });

  after(async () => {
    for (const p of (await api()).visualizePanels) p.dispose();
  });

  it('Visualize Filters streams one tile per channel, in order, then finishes', async () => {
    const layer = convLayers[Math.floor(convLayers.length / 3)].path;
    const panel = (await vscode.commands.executeCommand('cnnLens.visualizeFilters', { model, layer, first: 2, last: 4 })) as VisualizePanel;
    await panel.whenDone();
    assert.equal(panel.status, 'done', `status ${panel.status}: ${panel.lastError}`);
    assert.deepEqual(panel.tiles.map((t) => t.channel), [2, 3, 4]);
    // The estimate said before the run: 3 channels in one batch, the run's steps (capped by CNN_LENS_MAX_STEPS), a measured pace.
    const e = panel.estimate;
    assert.ok(e, 'no estimate before the run');
    assert.deepEqual([e.channels, e.batch, e.batches], [3, 3, 1]);
    const cap = Number(process.env.CNN_LENS_MAX_STEPS);
    if (Number.isFinite(cap) && cap >= 1) assert.ok(e.steps <= cap, `${e.steps} steps, capped at ${cap}`);
    assert.ok(e.msPerStep > 0 && Math.abs(e.ms - e.msPerStep * e.steps) < 1e-6 * e.ms, JSON.stringify(e));
    for (const t of panel.tiles) {
      assert.ok(isPng(t.image.png) && t.image.width > 8, `tile ${t.channel} is a picture`);
      assert.ok(Number.isFinite(t.objective));
    }
    const out = path.join(fs.mkdtempSync(path.join(ws(), 'vis-')), 'filters.png');
    const saved = await panel.save(vscode.Uri.file(out));
    assert.ok(saved && isPng(new Uint8Array(fs.readFileSync(out))), 'the tiles are saved as one PNG');
  });

  it('Deep Dream streams frames that change, and Cancel stops it', async () => {
    const panel = (await vscode.commands.executeCommand('cnnLens.deepDream', vscode.Uri.file(image), { model })) as VisualizePanel;
    const seen: Buffer[] = [];
    await waitFor('three frames', () => {
      if (panel.lastFrame && !seen.some((b) => b.equals(Buffer.from(panel.lastFrame!.image.png)))) seen.push(Buffer.from(panel.lastFrame.image.png));
      return panel.frameCount >= 3 || panel.status !== 'running';
    }, 120_000);
    assert.equal(panel.status, 'running', `still running after 3 frames (${panel.status}: ${panel.lastError})`);
    assert.ok(seen.length >= 2, 'frames differ as the image is optimized');
    const t0 = Date.now();
    await panel.handleMessage({ type: 'cancel' });
    await panel.whenDone();
    assert.equal(panel.status, 'cancelled');
    assert.ok(Date.now() - t0 < 10_000, `cancel took ${Date.now() - t0} ms`);
  });

  it('Visualize Class makes an image for a class', async () => {
    const panel = (await vscode.commands.executeCommand('cnnLens.visualizeClass', { model, classIndex: 1 })) as VisualizePanel;
    await panel.whenDone();
    assert.equal(panel.status, 'done', `status ${panel.status}: ${panel.lastError}`);
    assert.ok(panel.result?.image && isPng(panel.result.image.png));
    assert.match(panel.result.description, /class 1/);
  });

  it('Invert Features reconstructs an image from a layer', async () => {
    const layer = convLayers[1].path;
    const panel = (await vscode.commands.executeCommand('cnnLens.invertFeatures', { model, image, layer })) as VisualizePanel;
    await panel.whenDone();
    assert.equal(panel.status, 'done', `status ${panel.status}: ${panel.lastError}`);
    assert.ok(panel.result?.image && isPng(panel.result.image.png));
    assert.match(panel.result.description, /relative distance/);
  });
});
