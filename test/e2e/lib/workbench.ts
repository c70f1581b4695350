// Driving VS Code's workbench (code-server in Chromium) with playwright-core.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { chromium, type BrowserContext, type Frame, type Page } from 'playwright-core';
import { sleep, waitFor } from './harness';

export interface Browser {
  context: BrowserContext;
  page: Page;
  consoleLines: string[];
  close(): Promise<void>;
}

/** Debian's Chromium, headless, offline except for the loopback address. */
export async function launch(): Promise<Browser> {
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cnn-lens-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    viewport: { width: 1440, height: 900 },
    timeout: 60_000,
    args: [
      '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage',
      '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost',
    ],
  });
  context.setDefaultTimeout(20_000);
  const page = context.pages()[0] ?? (await context.newPage());
  const consoleLines: string[] = [];
  page.on('console', (m) => consoleLines.push(`${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => consoleLines.push(`pageerror: ${e.message}`));
  return {
    context,
    page,
    consoleLines,
    async close() {
      await context.close().catch(() => undefined);
      fs.rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

/** The workbench URL that loads the extension from its folder (no install) and opens the workspace. */
export function workbenchUrl(origin: string, workspace: string, extensionPath: string, extra: [string, string][] = []): string {
  const host = new URL(origin).host;
  const payload = JSON.stringify([['extensionDevelopmentPath', `vscode-remote://${host}${extensionPath}`], ['skipWelcome', 'true'], ...extra]);
  return `${origin}/?folder=${encodeURIComponent(workspace)}&payload=${encodeURIComponent(payload)}`;
}

/**
 * The frame (at any depth) that holds `selector`. Webviews are iframe.webview > iframe#active-frame, and
 * hidden panels keep theirs, so every frame is searched.
 */
export async function frameWith(page: Page, selector: string, timeoutMs = 30_000): Promise<Frame> {
  return waitFor(`a frame with ${selector}`, async () => {
    for (const f of page.frames()) {
      try {
        if (await f.$(selector)) return f;
      } catch {
        /* detached while looking */
      }
    }
    return undefined;
  }, timeoutMs);
}

/** Runs a command from the command palette by its full title ("CNN Lens: Restart Engine"). */
export async function runCommand(page: Page, title: string): Promise<void> {
  await closeQuickInput(page);
  const input = page.locator('.quick-input-widget input.input');
  // On a busy machine F1 is sometimes swallowed while a menu closes or an editor opens: press it again.
  for (let attempt = 1; ; attempt++) {
    await page.keyboard.press('F1');
    try {
      await input.waitFor({ state: 'visible', timeout: 7000 });
      break;
    } catch (e) {
      if (attempt >= 3) throw e;
      await closeQuickInput(page);
    }
  }
  await input.fill('>' + title);
  await page.locator('.quick-input-list .monaco-list-row', { hasText: title }).first().waitFor();
  await sleep(100);
  await page.keyboard.press('Enter');
}

/** Closes the command palette or a picker an earlier step left open. */
export async function closeQuickInput(page: Page): Promise<void> {
  for (let i = 0; i < 4 && (await page.locator('.quick-input-widget:visible, .monaco-menu:visible').count()) > 0; i++) {
    await page.keyboard.press('Escape');
    await sleep(150);
  }
}

/** Labels of the rows the command palette shows for `filter`. */
export async function paletteEntries(page: Page, filter: string): Promise<string[]> {
  await page.keyboard.press('Escape');
  await page.keyboard.press('F1');
  const input = page.locator('.quick-input-widget input.input');
  await input.waitFor({ state: 'visible' });
  await input.fill('>' + filter);
  await page.locator('.quick-input-list .monaco-list-row').first().waitFor();
  await sleep(300);
  const labels = await page.locator('.quick-input-list .monaco-list-row .label-name').allTextContents();
  await page.keyboard.press('Escape');
  return labels.map((l) => l.replace(/\s+/g, ' ').trim());
}

/** Right-clicks a row of the explorer and returns the visible menu item labels. */
export async function explorerContextMenu(page: Page, name: string | RegExp): Promise<string[]> {
  // Close whatever menu or picker an earlier step left open.
  for (let i = 0; i < 3 && (await page.locator('.monaco-menu, .quick-input-widget:visible').count()) > 0; i++) {
    await page.keyboard.press('Escape');
    await sleep(100);
  }
  const row = page.locator('.explorer-folders-view .monaco-list-row', { hasText: name }).first();
  await row.waitFor();
  // The explorer may re-render under the pointer (a file opening, a tree refresh): retry the right-click.
  for (let attempt = 1; ; attempt++) {
    await row.click({ button: 'right' });
    try {
      await page.locator('.monaco-menu').first().waitFor({ timeout: 5000 });
      break;
    } catch (e) {
      if (attempt >= 3) throw e;
      await page.keyboard.press('Escape');
      await sleep(300);
    }
  }
  await sleep(200);
  const items = await page.getByRole('menuitem').allTextContents();
  return items.map((t) => t.replace(/\s+/g, ' ').trim()).filter(Boolean);
}

/** The status bar's text of the item whose text contains `part`. */
export async function statusText(page: Page, part: string): Promise<string> {
  const t = await page.locator('.statusbar-item', { hasText: part }).first().textContent({ timeout: 2000 });
  return (t ?? '').replace(/\s+/g, ' ').trim();
}

/** The engine processes of the code-server started by run.sh (its descendants running dist/engine.js). */
export function enginePids(serverPid: number, enginePath: string): number[] {
  const parent = new Map<number, number>();
  const cmd = new Map<number, string>();
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parent.set(Number(d), ppid);
      cmd.set(Number(d), fs.readFileSync(`/proc/${d}/cmdline`, 'utf8').replace(/\0/g, ' '));
    } catch {
      /* gone */
    }
  }
  const descends = (pid: number) => {
    for (let p = pid, n = 0; p > 1 && n < 50; p = parent.get(p) ?? 0, n++) if (p === serverPid) return true;
    return false;
  };
  return [...cmd.entries()].filter(([pid, c]) => c.includes(enginePath) && descends(pid)).map(([pid]) => pid);
}

/**
 * Clicks an item of a context-menu submenu. The pointer goes sideways into the submenu first: a
 * diagonal path would cross the parent menu's other items and close the submenu on the way.
 */
export async function clickSubmenuItem(page: Page, submenu: string | RegExp, item: string): Promise<void> {
  const sub = page.getByRole('menuitem', { name: submenu }).first();
  await sub.hover();
  const target = page.getByRole('menuitem', { name: item }).first();
  await target.waitFor({ state: 'visible', timeout: 5000 });
  const a = (await sub.boundingBox())!;
  const b = (await target.boundingBox())!;
  const y = a.y + a.height / 2;
  await page.mouse.move(a.x + a.width - 4, y);
  await page.mouse.move(b.x + 12, y, { steps: 4 });
  await page.mouse.move(b.x + 12, b.y + b.height / 2, { steps: 4 });
  await target.click();
}
