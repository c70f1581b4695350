// Bundles the end-to-end suite (test/e2e) into dist/test/e2e: the Playwright drivers and the electron
// runner for Node, and the extension-host suite (test/e2e/host) with `vscode` left to the host.
// Packages stay external (playwright-core, mocha and @vscode/test-electron come from node_modules).
//   node scripts/e2e/build.mjs
import * as esbuild from 'esbuild';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

const common = { bundle: true, sourcemap: true, platform: 'node', target: 'node20', format: 'cjs', packages: 'external', logLevel: 'warning', outbase: 'test/e2e', outdir: 'dist/test/e2e' };
const ts = (dir) => readdirSync(dir).filter((f) => f.endsWith('.ts')).map((f) => join(dir, f));
await esbuild.build({ ...common, entryPoints: [...ts('test/e2e'), ...ts('test/e2e/host').filter((f) => !f.endsWith('util.ts'))], external: ['vscode'] });
