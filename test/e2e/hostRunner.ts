// Runs the mocha suite inside VS Code's extension host: the workbench URL's payload names the tests
// module (extensionTestsPath); VS Code calls its run(), then window.codeAutomationExit(code).
// Environment as for ui.ts, plus E2E_HOST_TESTS (the bundled test/e2e/host/index.js) and
// E2E_HOST_RESULTS (the file the suite writes; code-server passes its environment to the extension host).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { env } from './lib/harness';
import { launch, workbenchUrl } from './lib/workbench';

const origin = env('E2E_ORIGIN');
const workspace = env('E2E_WORKSPACE');
const extPath = env('E2E_EXT');
const testsModule = env('E2E_HOST_TESTS');
const shots = env('E2E_SHOTS');
const resultsFile = env('E2E_HOST_RESULTS');
const timeoutMs = Number(process.env.E2E_HOST_TIMEOUT_MS ?? 300_000);

async function main(): Promise<number> {
  const browser = await launch();
  const { page } = browser;
  let exit!: (code: number | string) => void;
  const exited = new Promise<number | string>((r) => (exit = r));
  await page.exposeFunction('codeAutomationLog', (type: string, args: unknown[]) => {
    const line = (args ?? []).map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join(' ').replace(/%c/g, '');
    if (line.includes('[host-tests]')) console.log(line.replace(/^.*\[host-tests\] ?/, '  '));
    else if (type === 'error') console.log(`  [ext host ${type}] ${line.slice(0, 300)}`);
  });
  await page.exposeFunction('codeAutomationExit', (code: number) => exit(code));
  const host = new URL(origin).host;
  await page.goto(workbenchUrl(origin, workspace, extPath, [['extensionTestsPath', `vscode-remote://${host}${testsModule}`]]));
  const code = await Promise.race([exited, new Promise<string>((r) => setTimeout(() => r('timeout'), timeoutMs))]);
  await page.screenshot({ path: path.join(shots, 'host-suite-end.png') }).catch(() => undefined);
  fs.writeFileSync(path.join(shots, 'host-browser-console.log'), browser.consoleLines.join('\n'));
  await browser.close();
  if (code === 'timeout') {
    console.log(`host suite: no exit from the extension host within ${timeoutMs / 1000} s`);
    if (!fs.existsSync(resultsFile)) {
      fs.writeFileSync(resultsFile, JSON.stringify({ suite: 'host', results: [{ name: `host suite finished within ${timeoutMs / 1000} s`, ok: false, ms: timeoutMs }] }));
    }
    return 1;
  }
  if (!fs.existsSync(resultsFile)) {
    fs.writeFileSync(resultsFile, JSON.stringify({ suite: 'host', results: [{ name: 'host suite wrote its results', ok: false, ms: 0, detail: `exit code ${code}, no ${resultsFile}` }] }));
  }
  return code === 0 ? 0 : 1;
}

main().then(
  (c) => process.exit(c),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
