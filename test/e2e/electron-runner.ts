// Runs the extension-host suite (test/e2e/host) in desktop VS Code through @vscode/test-electron, for
// machines that can download VS Code. Where VS Code cannot be downloaded (no route to its servers, as
// on the offline build machines) or there is no display, it says why and skips without failing; the
// same suite then runs in VS Code's server build (scripts/e2e/run.sh).
//   node dist/test/e2e/electron-runner.js   (after scripts/e2e/build.mjs)
import * as fs from 'node:fs';
import * as path from 'node:path';
import { downloadAndUnzipVSCode, runTests } from '@vscode/test-electron';

const VSCODE_VERSION = process.env.E2E_VSCODE_VERSION ?? '1.96.4';
const repo = path.resolve(__dirname, '..', '..', '..');
const resultsFile = process.env.E2E_ELECTRON_RESULTS;

function skip(why: string): never {
  console.log(`electron runner: skipped — ${why}`);
  if (resultsFile) fs.writeFileSync(resultsFile, JSON.stringify({ suite: 'electron', results: [{ name: 'host suite in desktop VS Code (@vscode/test-electron)', ok: true, skipped: true, ms: 0, detail: why }] }));
  process.exit(0);
}

function isNetworkError(e: unknown): boolean {
  const s = String((e as Error)?.message ?? e) + String((e as { code?: string })?.code ?? '');
  return /ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENETUNREACH|EHOSTUNREACH|getaddrinfo|timed? ?out|socket hang up|certificate/i.test(s);
}

async function main(): Promise<void> {
  let executable: string;
  try {
    executable = await downloadAndUnzipVSCode({ version: VSCODE_VERSION, cachePath: path.join(repo, '.e2e', 'vscode-test'), timeout: 15_000 });
  } catch (e) {
    if (isNetworkError(e)) skip(`VS Code ${VSCODE_VERSION} cannot be downloaded here (${(e as Error).message.split('\n')[0]}): no route to its download servers`);
    throw e;
  }
  if (process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY) {
    skip('no display: desktop VS Code needs one (run this under xvfb-run)');
  }
  const workspace = process.env.E2E_WORKSPACE ?? path.join(repo, '.e2e', 'ws');
  const code = await runTests({
    vscodeExecutablePath: executable,
    extensionDevelopmentPath: repo,
    extensionTestsPath: path.join(repo, 'dist', 'test', 'e2e', 'host', 'index.js'),
    launchArgs: [workspace, '--disable-extensions', '--disable-workspace-trust', '--skip-welcome', '--skip-release-notes'],
    extensionTestsEnv: { E2E_HOST_RESULTS: resultsFile ?? '' },
  });
  process.exit(code);
}

main().catch((e) => {
  console.error(`electron runner: ${(e as Error)?.stack ?? e}`);
  process.exit(1);
});
