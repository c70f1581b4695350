// The explain panel's Compare grid from the extension host: cells computed and cached, scored with
// AUCs in [0, 1], and saved as one PNG through the same path the Save button takes.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { ExplainPanel } from '../../../src/extension/explainPanel';
import { api } from './util';

function firstImage(): string {
  const dir = vscode.workspace.workspaceFolders![0].uri.fsPath;
  return path.join(dir, fs.readdirSync(dir).filter((n) => /\.(png|jpe?g)$/i.test(n)).sort()[0]);
}

describe('explain panel: Compare grid', function () {
  this.timeout(300_000);
  let panel: ExplainPanel;

  before(async function () {
    await api();
    if (!vscode.workspace.getConfiguration('cnnLens').get<string>('model')) this.skip();
    panel = (await vscode.commands.executeCommand('cnnLens.explain', vscode.Uri.file(firstImage()))) as ExplainPanel;
    await panel.whenIdle();
  });
  after(() => panel?.dispose());

  it('computes top-2 × 3 methods once (cached), scores them, and saves the grid as one PNG', async () => {
    await panel.trust.handle({ type: 'compare.setView', view: { topK: 2, methods: ['gradcam', 'gradcam++', 'saliency'] } });
    await panel.trust.compute();
    assert.equal(panel.trust.shown.size, 6, `cells: ${[...panel.trust.shown.keys()].join(', ')} (error: ${panel.trust.lastError})`);
    const first = [...panel.trust.shown.values()][0];
    await panel.trust.compute(); // cached: the same cell objects' images come back without new maps
    assert.equal([...panel.trust.shown.values()][0].image, first.image);
    await panel.trust.score();
    for (const c of panel.trust.shown.values()) {
      assert.ok(c.scores, `${c.key} scored`);
      for (const v of [c.scores.deletion, c.scores.insertion]) assert.ok(v >= 0 && v <= 1, `${c.key}: ${v}`);
    }
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'cnn-lens-compare-')), 'grid.png');
    const saved = await panel.trust.saveGrid(vscode.Uri.file(file));
    assert.ok(saved, `saved (error: ${panel.trust.lastError})`);
    const bytes = fs.readFileSync(file);
    assert.equal(bytes.toString('latin1', 1, 4), 'PNG');
    const width = bytes.readUInt32BE(16);
    assert.ok(width > 3 * 150, `grid width ${width}`);
  });
});
