/* global process */
// `npm run bench -- [options]`: bundles bench/bench.ts into dist/bench/ and runs it (options pass through;
// `npm run bench -- --help` lists them). Builds the project first when dist/wasm is missing (fresh clone).
import * as esbuild from 'esbuild';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
process.chdir(root);
if (!existsSync('dist/wasm/tfjs-backend-wasm-simd.wasm')) {
  const r = spawnSync(process.execPath, ['esbuild.mjs'], { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
await esbuild.build({
  entryPoints: { bench: 'bench/bench.ts' },
  outdir: 'dist/bench',
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: true,
  logLevel: 'warning',
  // Same rules as esbuild.mjs: optional native packages stay external, tfjs side effects are kept.
  external: ['vscode', '@tensorflow/tfjs-node', 'h5wasm'],
  ignoreAnnotations: true,
});
const r = spawnSync(process.execPath, ['--enable-source-maps', 'dist/bench/bench.js', ...process.argv.slice(2)], { stdio: 'inherit' });
process.exit(r.status ?? 1);
