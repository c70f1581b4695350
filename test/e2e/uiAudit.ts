// The UI suite's Audit checks: right-click the samples-by-class folder → CNN Lens → Audit Folder… with
// the demo model; the panel shows the confusion matrix and at least one mistake with its heatmaps; a
// matrix cell shows its images; a mistake's link opens the explain panel. Run last by test/e2e/ui.ts (it
// points cnnLens.model at the demo model for the time of the checks).
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Frame, Page } from 'playwright-core';
import { type Harness, sleep } from './lib/harness';
import { clickSubmenuItem, explorerContextMenu, frameWith, runCommand } from './lib/workbench';

export async function auditChecks(h: Harness, page: Page, workspace: string, shot: (n: string) => Promise<unknown>): Promise<void> {
  const folder = 'samples-by-class';
  if (!fs.existsSync(path.join(workspace, folder)) || !fs.existsSync(path.join(workspace, 'demo', 'model.json'))) {
    h.skip('audit panel checks', `no ${folder} folder or demo model in the e2e workspace`);
    return;
  }
  const settingsFile = path.join(workspace, '.vscode', 'settings.json');
  const saved = fs.readFileSync(settingsFile, 'utf8');
  fs.writeFileSync(settingsFile, JSON.stringify({ ...JSON.parse(saved), 'cnnLens.model': 'demo/model.json' }, null, 2));
  await sleep(1500); // the configuration watcher picks the change up
  // A command uses the model of the panel in front: close the model browsers and panels the checks before
  // left open, so Audit Folder… takes the workspace's model (the demo model set above).
  await runCommand(page, 'View: Close All Editors');
  await sleep(800);
  try {
    let frame: Frame | null = null;
    await h.check(`context menu on ${folder}/ → CNN Lens → Audit Folder… shows the confusion matrix and a mistake with its heatmaps`, async () => {
      const items = await explorerContextMenu(page, folder);
      if (!items.includes('CNN Lens')) throw new Error(`no CNN Lens submenu in ${JSON.stringify(items)}`);
      await clickSubmenuItem(page, /^CNN Lens$/, 'Audit Folder…');
      const fr = await frameWith(page, '#report table.matrix', 60_000);
      frame = fr;
      await fr.waitForFunction(() => document.getElementById('status')?.textContent === 'Done.', undefined, { timeout: 60_000 });
      await fr.waitForFunction(() => {
        const imgs = [...document.querySelectorAll('.card.mistake img')] as HTMLImageElement[];
        return imgs.length >= 3 && imgs.every((i) => i.complete && i.naturalWidth > 0);
      }, undefined, { timeout: 30_000 });
      const cells = await fr.locator('table.matrix td a').count();
      const mistakes = await fr.locator('.card.mistake').count();
      const accuracy = (await fr.locator('.stat b').first().textContent()) ?? '';
      if (mistakes < 1) throw new Error('no mistake shown');
      const off = fr.locator('table.matrix td.off a').first();
      await off.click();
      await fr.locator('.cell.shown').waitFor({ timeout: 5000 });
      await fr.locator('table.matrix').scrollIntoViewIfNeeded();
      await shot('20-audit-panel.png');
      await fr.locator('#mistakes').scrollIntoViewIfNeeded();
      await shot('20b-audit-mistakes.png');
      return `accuracy ${accuracy}, ${cells} non-empty cells, ${mistakes} mistakes shown`;
    });
    if (!frame) return;
    const fr: Frame = frame;
    await h.check('a mistake\'s "explain" link opens the explain panel on that image', async () => {
      const link = fr.locator('.card.mistake a.explain').first();
      const image = (await link.getAttribute('data-explain')) ?? '';
      await link.click();
      const name = path.basename(image);
      await page.locator('.tab', { hasText: `Explain: ${name}` }).first().waitFor({ timeout: 30_000 });
      const ex = await frameWith(page, '#heatmap', 60_000);
      await ex.waitForFunction(() => {
        const img = document.getElementById('heatmap') as HTMLImageElement | null;
        return !!img && !!img.dataset.key && img.complete && img.naturalWidth > 0;
      }, undefined, { timeout: 60_000 });
      await shot('21-audit-explain.png');
      return `explain panel on ${image}`;
    });
  } finally {
    fs.writeFileSync(settingsFile, saved);
  }
}
