#!/usr/bin/env bash
# `npm test`: everything a fresh clone needs, then every test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d node_modules ] || npm install
node esbuild.mjs
npx tsc --noEmit -p .
npx eslint src test webview scripts
npx mocha --config .mocharc.json
# The engine tests compare every method with independent computations: run them on each backend this
# machine has. The run above used the default (native when @tensorflow/tfjs-node is installed, else the
# multi-threaded wasm build); the single-threaded wasm build is what `explain --jobs` workers use.
engine_tests() { npx mocha --no-config --timeout 120000 --reporter dot 'dist/test/unit/engine/*.test.js'; }
CNN_LENS_BACKEND=wasm CNN_LENS_WASM_THREADS=1 engine_tests
CNN_LENS_BACKEND=cpu engine_tests
if node -e "require('@tensorflow/tfjs-node')" >/dev/null 2>&1; then CNN_LENS_BACKEND=wasm engine_tests; fi
if [ -f scripts/e2e/run.sh ] && [ "${CNN_LENS_SKIP_E2E:-0}" != 1 ]; then bash scripts/e2e/run.sh; fi
