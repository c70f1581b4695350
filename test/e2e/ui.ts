// The UI suite: drives CNN Lens in a real VS Code (code-server) with Playwright in Chromium.
// Started by scripts/e2e/run.sh, which sets the environment below and starts the server.
//   E2E_ORIGIN      http://127.0.0.1:PORT of the running code-server
//   E2E_WORKSPACE   the workspace folder (sample images, models)
//   E2E_EXT         the extension's folder (the repository)
//   E2E_SERVER_PID  code-server's pid (to find the engine processes it started)
//   E2E_SHOTS       where screenshots go; E2E_RESULTS: the results file
import * as fs from 'node:fs';
import * as path from 'node:path';
import { env, Harness, sleep, waitFor } from './lib/harness';
import { enginePids, explorerContextMenu, launch, paletteEntries, runCommand, statusText, workbenchUrl } from './lib/workbench';

const origin = env('E2E_ORIGIN');
const workspace = env('E2E_WORKSPACE');
const extPath = env('E2E_EXT');
const serverPid = Number(env('E2E_SERVER_PID'));
const shots = env('E2E_SHOTS');
const resultsFile = env('E2E_RESULTS');
const enginePath = path.join(extPath, 'dist', 'engine.js');

const h = new Harness('ui');

function firstImage(): string {
  const img = fs.readdirSync(workspace).filter((f) => /\.(png|jpe?g)$/i.test(f)).sort()[0];
  if (!img) throw new Error(`no image in ${workspace}`);
  return img;
}

async function main(): Promise<void> {
  fs.mkdirSync(shots, { recursive: true });
  const browser = await launch();
  const { page } = browser;
  const shot = (name: string) => page.screenshot({ path: path.join(shots, name) }).catch((e) => console.log(`  (screenshot ${name} failed: ${e.message})`));
  try {
    await page.goto(workbenchUrl(origin, workspace, extPath));

    await h.check('workbench loads and CNN Lens activates (status bar item)', async () => {
      await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
      await page.locator('.statusbar-item', { hasText: 'CNN Lens' }).first().waitFor({ timeout: 60_000 });
      await page.locator('.explorer-folders-view .monaco-list-row').first().waitFor({ timeout: 30_000 });
      await shot('01-workbench.png');
      return await statusText(page, 'CNN Lens');
    });

    await h.check('command palette lists the CNN Lens commands', async () => {
      const labels = await paletteEntries(page, 'CNN Lens:');
      const want = ['CNN Lens: Explain with Grad-CAM', 'CNN Lens: Select Model', 'CNN Lens: Show Engine Log', 'CNN Lens: Restart Engine'];
      const missing = want.filter((w) => !labels.includes(w));
      if (missing.length) throw new Error(`missing ${JSON.stringify(missing)}; palette shows ${JSON.stringify(labels)}`);
      return `${labels.length} entries`;
    });

    const image = firstImage();
    await h.check(`explorer context menu on ${image} offers Explain with Grad-CAM and the CNN Lens submenu`, async () => {
      const items = await explorerContextMenu(page, image);
      if (!items.includes('CNN Lens: Explain with Grad-CAM')) throw new Error(`menu: ${JSON.stringify(items)}`);
      const sub = page.getByRole('menuitem', { name: /^CNN Lens$/ });
      if ((await sub.count()) !== 1) throw new Error(`no "CNN Lens" submenu in ${JSON.stringify(items)}`);
      await sub.hover();
      await page.getByRole('menuitem', { name: 'CNN Lens: Explain with Saliency (gradients)' }).waitFor({ timeout: 5000 });
      const all = await page.getByRole('menuitem').allTextContents();
      await shot('02-context-menu.png');
      await page.keyboard.press('Escape');
      await page.keyboard.press('Escape');
      return `${all.filter((t) => t.includes('Explain with')).length} explain entries`;
    });

    await h.check('no CNN Lens entries in the context menu of a non-image file', async () => {
      const items = await explorerContextMenu(page, 'notes.txt');
      await page.keyboard.press('Escape');
      const ours = items.filter((t) => t.includes('CNN Lens'));
      if (ours.length) throw new Error(`unexpected ${JSON.stringify(ours)}`);
    });

    let firstPid = 0;
    await h.check('Restart Engine starts the engine; the status bar shows its backend', async () => {
      await runCommand(page, 'CNN Lens: Restart Engine');
      const text = await waitFor('the status bar to show a backend', async () => {
        const t = await statusText(page, 'CNN Lens');
        return /CNN Lens: (wasm|cpu|native)\b/.test(t) ? t : undefined;
      }, 60_000);
      const pids = enginePids(serverPid, enginePath);
      if (pids.length !== 1) throw new Error(`expected one engine process under code-server, found ${JSON.stringify(pids)}`);
      firstPid = pids[0];
      await shot('03-engine-ready.png');
      return `${text}, engine pid ${firstPid}`;
    });

    await h.check('a killed engine is reported with a Restart action, and Restart recovers', async () => {
      if (!firstPid) throw new Error('no engine to kill (previous check failed)');
      process.kill(firstPid, 'SIGKILL');
      const toast = page.locator('.notification-toast', { hasText: 'engine stopped unexpectedly' }).first();
      await toast.waitFor({ timeout: 20_000 });
      await waitFor('the status bar to show the stopped engine', async () => (await statusText(page, 'CNN Lens')).includes('engine stopped'), 10_000);
      await shot('04-engine-killed.png');
      await toast.getByRole('button', { name: 'Restart Engine' }).click();
      const text = await waitFor('the status bar to show a backend again', async () => {
        const t = await statusText(page, 'CNN Lens');
        return /CNN Lens: (wasm|cpu|native)\b/.test(t) ? t : undefined;
      }, 60_000);
      const pids = enginePids(serverPid, enginePath);
      if (pids.length !== 1 || pids[0] === firstPid) throw new Error(`expected one new engine process, found ${JSON.stringify(pids)} (killed ${firstPid})`);
      await shot('05-engine-restarted.png');
      return `${text}, new pid ${pids[0]}`;
    });
    await sleep(200);
  } catch (e) {
    await h.check('suite ran to the end', async () => {
      throw e;
    });
  } finally {
    await shot('99-last.png');
    fs.writeFileSync(path.join(shots, 'ui-browser-console.log'), browser.consoleLines.join('\n'));
    await browser.close();
    h.write(resultsFile);
  }
}

const deadline = setTimeout(() => {
  console.log('ui suite: overall time limit (6 min) reached');
  h.results.push({ name: 'ui suite finished within 6 minutes', ok: false, ms: 360_000 });
  h.write(resultsFile);
  process.exit(1);
}, 360_000);
main().then(
  () => {
    clearTimeout(deadline);
    process.exit(h.results.some((r) => !r.ok) ? 1 : 0);
  },
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
