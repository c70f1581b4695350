// The Audit panel driven from the extension host: the demo model on the demo samples in class
// subfolders (made by scripts/e2e/make-workspace.mjs). The report fills in, its numbers agree with a
// recount from its own matrix, the mistakes have their heatmap files, a mistake opens the explain panel
// on that image and class, and Export writes an HTML page whose pictures exist.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { AuditPanel } from '../../../src/extension/auditPanel';
import { api, waitFor } from './util';

describe('audit panel', function () {
  this.timeout(120_000);
  const ws = () => vscode.workspace.workspaceFolders![0].uri.fsPath;
  let panel: AuditPanel;
  let folder = '';

  before(async function () {
    await api();
    folder = path.join(ws(), 'samples-by-class');
    const model = path.join(ws(), 'demo', 'model.json');
    if (!fs.existsSync(folder) || !fs.existsSync(model)) {
      console.log('[host-tests] audit panel: skipped — no samples-by-class folder or demo model in the e2e workspace');
      this.skip();
    }
    panel = (await vscode.commands.executeCommand('cnnLens.auditFolder', vscode.Uri.file(folder), { model })) as AuditPanel;
    assert.ok(panel, 'the command returns the panel');
    await panel.whenDone();
  });

  after(async () => {
    for (const p of (await api()).auditPanels) p.dispose();
  });

  it('audits every sample: the matrix sums to the images and accuracy is its diagonal', () => {
    assert.equal(panel.runState, 'done', panel.lastError ?? '');
    const r = panel.report!;
    const samples = fs.readdirSync(folder).flatMap((d) => fs.readdirSync(path.join(folder, d)));
    assert.equal(r.images, samples.length);
    assert.equal(r.partial, false);
    const total = r.confusion.flat().reduce((a, b) => a + b, 0);
    const diag = r.confusion.reduce((a, row, i) => a + row[i], 0);
    assert.equal(total, r.images);
    assert.equal(r.accuracy, diag / total);
    assert.ok(r.misclassified.length >= 1, 'at least one mistake (the two-object scenes)');
  });

  it('shows each mistake with the heatmaps for the predicted and the true class', () => {
    for (const g of panel.report!.gallery) {
      for (const f of [g.files.thumb, g.files.predicted, g.files.truth]) assert.ok(f && fs.existsSync(path.join(panel.reportDir, f)), `${g.image}: ${f}`);
    }
  });

  it('a mistake opens the explain panel on that image and its true class', async () => {
    const g = panel.report!.gallery[0];
    const before = new Set((await api()).explainPanels);
    await panel.handleMessage({ type: 'explain', image: g.image, classIndex: g.truth });
    const explain = await waitFor('an explain panel', async () => [...(await api()).explainPanels].find((p) => !before.has(p)));
    assert.equal(explain.state.image, path.join(folder, ...g.image.split('/')));
    await waitFor('the heatmap for the true class', () => explain.current?.classIndex === g.truth, 60_000);
    explain.dispose();
  });

  it('Export writes the report page and its pictures', async () => {
    const dir = fs.mkdtempSync(path.join(ws(), 'audit-export-'));
    const file = await panel.exportReport(vscode.Uri.file(path.join(dir, 'report.html')));
    assert.equal(file, path.join(dir, 'report.html'));
    const html = fs.readFileSync(file!, 'utf8');
    assert.ok(!/http/i.test(html), 'no network reference');
    const links = [...html.matchAll(/src="([^"]*)"/g)].map((m) => decodeURIComponent(m[1]));
    assert.ok(links.length >= 3, `${links.length} pictures`);
    for (const l of links) assert.ok(fs.existsSync(path.join(dir, l)), `${l} exists`);
  });
});
