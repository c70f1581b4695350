/* global process */
// `npm run fuzz -- [options]`: bundles the fuzzer (scripts/fuzz/*.ts) into dist/fuzz/ and runs it; options pass
// through (`npm run fuzz -- --help` lists them). `npm run fuzz -- --make-corpus` rewrites test/fuzz/corpus/.
// Builds the project first when dist/wasm is missing (a fresh clone), as the engine's bundles need it.
import * as esbuild from 'esbuild';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
process.chdir(root);
if (!existsSync('dist/wasm/tfjs-backend-wasm-simd.wasm')) {
  const r = spawnSync(process.execPath, ['esbuild.mjs'], { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
await esbuild.build({
  entryPoints: { fuzz: 'scripts/fuzz/fuzz.ts', worker: 'scripts/fuzz/worker.ts', 'make-corpus': 'scripts/fuzz/make-corpus.ts' },
  outdir: 'dist/fuzz',
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: true,
  logLevel: 'warning',
  // As esbuild.mjs: node_modules stay external (one tfjs instance), tfjs side effects are kept.
  packages: 'external',
  ignoreAnnotations: true,
});
const args = process.argv.slice(2);
const entry = args.includes('--make-corpus') ? 'dist/fuzz/make-corpus.js' : 'dist/fuzz/fuzz.js';
const r = spawnSync(process.execPath, ['--enable-source-maps', entry, ...args.filter((a) => a !== '--make-corpus')], { stdio: 'inherit' });
process.exit(r.status ?? 1);
