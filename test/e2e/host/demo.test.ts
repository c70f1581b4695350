// The bundled demo model (media/, copied into the e2e workspace) explains its own sample images.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { ExplainPanel } from '../../../src/extension/explainPanel';
import { api } from './util';

describe('demo model', function () {
  this.timeout(120_000);
  const ws = () => vscode.workspace.workspaceFolders![0].uri.fsPath;

  it('explains a sample image: predictions and a Grad-CAM heatmap', async function () {
    const demoDir = fs.readdirSync(ws()).find((d) => d !== 'models' && fs.existsSync(path.join(ws(), d, 'model.json')));
    if (!demoDir) {
      console.log('[host-tests] demo model: skipped — no demo model in media/ yet');
      return this.skip();
    }
    const model = path.join(ws(), demoDir, 'model.json');
    const images = fs.readdirSync(ws()).filter((n) => /\.(png|jpe?g|webp|bmp|gif)$/i.test(n) && n !== 'generated-disc.png').sort();
    assert.ok(images.length > 0, 'sample images are copied from media/');
    await api();
    const panel = (await vscode.commands.executeCommand('cnnLens.explain', vscode.Uri.file(path.join(ws(), images[0])), { model })) as ExplainPanel;
    try {
      await panel.whenIdle();
      assert.equal(panel.state.model, model);
      assert.ok(panel.predictions && panel.predictions.length >= 2, `predictions (${panel.lastError})`);
      assert.ok(panel.current, `heatmap (${panel.lastError})`);
      assert.equal(panel.current.classIndex, panel.predictions[0].index);
    } finally {
      panel.dispose();
    }
  });
});
