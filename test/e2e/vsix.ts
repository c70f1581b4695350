// The packaged extension: with the .vsix installed into the test VS Code (no development path in the
// URL), the explain panel works from the context menu. Environment as for ui.ts.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { env, Harness } from './lib/harness';
import { explorerContextMenu, frameWith, launch } from './lib/workbench';

const origin = env('E2E_ORIGIN');
const workspace = env('E2E_WORKSPACE');
const shots = env('E2E_SHOTS');
const resultsFile = env('E2E_RESULTS');
const h = new Harness('vsix');

async function main(): Promise<void> {
  const browser = await launch();
  const { page } = browser;
  try {
    await page.goto(`${origin}/?folder=${encodeURIComponent(workspace)}`);
    await h.check('the installed .vsix activates (status bar item) without a development path', async () => {
      await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
      await page.locator('.statusbar-item', { hasText: 'CNN Lens' }).first().waitFor({ timeout: 60_000 });
      await page.locator('.explorer-folders-view .monaco-list-row').first().waitFor({ timeout: 30_000 });
    });
    const image = fs.readdirSync(workspace).filter((f) => /\.(png|jpe?g)$/i.test(f)).sort()[0];
    await h.check(`from the .vsix: Explain with Grad-CAM on ${image} renders a heatmap`, async () => {
      await explorerContextMenu(page, image);
      await page.getByRole('menuitem', { name: 'CNN Lens: Explain with Grad-CAM' }).click();
      const fr = await frameWith(page, '#heatmap', 60_000);
      await fr.waitForFunction(() => {
        const img = document.getElementById('heatmap') as HTMLImageElement | null;
        return !!img && !!img.dataset.key && img.complete && img.naturalWidth > 0;
      }, undefined, { timeout: 90_000 });
      await page.screenshot({ path: path.join(shots, '20-vsix-explain.png') });
      return (await fr.textContent('#caption')) ?? '';
    });
  } finally {
    await browser.close();
    h.write(resultsFile);
  }
}

const deadline = setTimeout(() => {
  h.results.push({ name: 'vsix suite finished within 3 minutes', ok: false, ms: 180_000 });
  h.write(resultsFile);
  process.exit(1);
}, 180_000);
main().then(
  () => {
    clearTimeout(deadline);
    process.exit(h.results.some((r) => !r.ok) ? 1 : 0);
  },
  (e) => {
    console.error(e);
    h.results.push({ name: 'vsix suite ran', ok: false, ms: 0, detail: String(e) });
    h.write(resultsFile);
    process.exit(1);
  },
);
