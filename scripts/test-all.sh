#!/usr/bin/env bash
# `npm test`: everything a fresh clone needs, then every test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d node_modules ] || npm install
node esbuild.mjs
npx tsc --noEmit -p .
npx eslint src test webview scripts
npx mocha --config .mocharc.json
if [ -f scripts/e2e/run.sh ] && [ "${CNN_LENS_SKIP_E2E:-0}" != 1 ]; then bash scripts/e2e/run.sh; fi
