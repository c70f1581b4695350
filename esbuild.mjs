// Bundles every entry point of CNN Lens. Type-checking is `tsc --noEmit` (run by scripts/test-all.sh and `npm run typecheck`).
//   node esbuild.mjs [--watch] [--production]
import * as esbuild from 'esbuild';
import { cpSync, mkdirSync, readdirSync, existsSync, statSync } from 'node:fs';
import { join } from 'node:path';

const watch = process.argv.includes('--watch');
const production = process.argv.includes('--production');

// Native / optional packages are never bundled: tfjs-node is loaded at run time only when installed.
const nodeExternal = ['vscode', '@tensorflow/tfjs-node', 'h5wasm'];

const common = {
  bundle: true,
  sourcemap: !production,
  minify: production,
  logLevel: 'warning',
  legalComments: 'none',
  // tfjs packages mark their prebuilt node bundles side-effect free although importing them registers
  // backends, kernels and gradients: honour nothing of that, keep every import.
  ignoreAnnotations: true,
};

function listTests(dir) {
  if (!existsSync(dir)) return [];
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...listTests(p));
    else if (name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

const nodeBuilds = [
  { entryPoints: { extension: 'src/extension/extension.ts' }, optional: true },
  { entryPoints: { engine: 'src/engine/main.ts' }, optional: true },
  { entryPoints: { cli: 'src/cli/main.ts' } },
];

const builds = [];
for (const b of nodeBuilds) {
  const entry = Object.values(b.entryPoints)[0];
  if (b.optional && !existsSync(entry)) continue;
  builds.push({ ...common, entryPoints: b.entryPoints, outdir: 'dist', platform: 'node', target: 'node20', format: 'cjs', external: nodeExternal });
}
// Webview bundles: one per panel kind, browser code.
if (existsSync('webview')) {
  const entries = readdirSync('webview').filter((f) => /^[A-Za-z]+\.ts$/.test(f)).map((f) => join('webview', f));
  if (entries.length) builds.push({ ...common, entryPoints: entries, outdir: 'dist/webview', platform: 'browser', target: 'es2022', format: 'iife' });
}
// Unit tests: each test file its own bundle; node_modules stay external so tests share one tfjs instance.
const tests = listTests('test/unit');
if (tests.length) {
  builds.push({ ...common, entryPoints: tests, outdir: 'dist/test/unit', outbase: 'test/unit', platform: 'node', target: 'node20', format: 'cjs', packages: 'external' });
}

function copyAssets() {
  // The wasm backend's binaries travel beside the bundles (the engine points setWasmPaths at dist/wasm/).
  mkdirSync('dist/wasm', { recursive: true });
  const wasmDir = 'node_modules/@tensorflow/tfjs-backend-wasm/dist';
  for (const f of readdirSync(wasmDir)) if (f.endsWith('.wasm')) cpSync(join(wasmDir, f), join('dist/wasm', f));
  // The threaded build's original Emscripten glue, which each pthread worker evaluates (src/engine/backend.ts).
  cpSync('node_modules/@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.js', 'dist/wasm/tfjs-backend-wasm-threaded-simd.js');
  // libwebp for WebP images (src/engine/image/webp.ts looks for it in dist/wasm/ first).
  cpSync('node_modules/@cwasm/webp/webp.wasm', 'dist/wasm/webp.wasm');
}

if (watch) {
  copyAssets();
  for (const b of builds) (await esbuild.context(b)).watch();
} else {
  await Promise.all(builds.map((b) => esbuild.build(b)));
  copyAssets();
}
