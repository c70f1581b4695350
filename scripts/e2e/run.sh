#!/usr/bin/env bash
# End-to-end tests of CNN Lens in a real VS Code (`npm run test:e2e`, also run by `npm test`):
#   1. setup.sh: Chromium, ripgrep and code-server 4.96.4 (VS Code 1.96.4's server build), cached in .e2e/
#   2. builds the extension and the suites (esbuild)
#   3. a fresh workspace in .e2e/ws (sample images, demo model, a link to the shared tm-waste-12 fixture)
#   4. code-server on 127.0.0.1 (free port), offline settings, its own HOME/XDG/TMPDIR under .e2e/run
#   5. the Playwright UI suite (test/e2e/ui.ts), then the mocha suite inside the extension host
#      (test/e2e/host), then the @vscode/test-electron runner (skips where VS Code cannot be downloaded)
# Screenshots and logs go to test-results/e2e/. Prints "e2e: N passed, M failed" and exits non-zero on
# any failure. code-server (and everything it started) is always stopped.
set -euo pipefail
REPO="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$REPO"
CACHE="${CNN_LENS_E2E_CACHE:-$REPO/.e2e}"
OUT="$REPO/test-results/e2e"
RUN="$REPO/.e2e/run"
WS="$REPO/.e2e/ws"
SECONDS=0
step() { echo "[e2e +${SECONDS}s] $*"; }

timeout 900 bash "$REPO/scripts/e2e/setup.sh" || { echo "e2e: setup failed"; echo "e2e: 0 passed, 1 failed"; exit 1; }
CS="$CACHE/cs/node_modules/code-server"

step "build the extension and the e2e suites"
node esbuild.mjs && node scripts/e2e/build.mjs || { echo "e2e: the build failed"; echo "e2e: 0 passed, 1 failed"; exit 1; }
for f in dist/extension.js dist/engine.js dist/test/e2e/ui.js dist/test/e2e/hostRunner.js dist/test/e2e/host/index.js; do
  [ -f "$f" ] || { echo "e2e: build did not produce $f"; echo "e2e: 0 passed, 1 failed"; exit 1; }
done

# The suites run a snapshot of the built extension, so a rebuild in the working tree during the run
# (others building in the same tree) cannot swap files under the running extension.
EXT="$REPO/.e2e/ext"
rm -rf "$EXT" && mkdir -p "$EXT"
cp package.json "$EXT/" && cp -r dist "$EXT/dist"
[ -d media ] && cp -r media "$EXT/media"
ln -s "$REPO/node_modules" "$EXT/node_modules"

step "fresh workspace in $WS"
node scripts/e2e/make-workspace.mjs "$WS"

rm -rf "$RUN" "$OUT"
mkdir -p "$RUN/ud/User" "$RUN/exts" "$RUN/home/.config" "$RUN/home/.local/share" "$RUN/home/.cache" "$RUN/tmp" "$OUT"
cat >"$RUN/ud/User/settings.json" <<'JSON'
{
  "workbench.startupEditor": "none",
  "workbench.colorTheme": "Default Dark Modern",
  "workbench.tips.enabled": false,
  "workbench.enableExperiments": false,
  "workbench.welcomePage.walkthroughs.openOnInstall": false,
  "telemetry.telemetryLevel": "off",
  "extensions.autoUpdate": false,
  "extensions.autoCheckUpdates": false,
  "extensions.ignoreRecommendations": true,
  "update.mode": "none",
  "security.workspace.trust.enabled": false,
  "git.enabled": false,
  "npm.autoDetect": "off",
  "typescript.disableAutomaticTypeAcquisition": true,
  "window.restoreWindows": "none"
}
JSON
PORT=$(node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")
printf 'bind-addr: 127.0.0.1:%s\nauth: none\ncert: false\n' "$PORT" >"$RUN/config.yaml"

REAL_HOME="$HOME"
# Isolated from the user's own configuration; the browser and the drivers share this HOME too.
export HOME="$RUN/home" XDG_CONFIG_HOME="$RUN/home/.config" XDG_DATA_HOME="$RUN/home/.local/share" XDG_CACHE_HOME="$RUN/home/.cache" TMPDIR="$RUN/tmp"
export EXTENSIONS_GALLERY='{}'   # no marketplace
export E2E_HOST_RESULTS="$OUT/host-results.json"   # the extension host inherits code-server's environment
export CNN_LENS_MAX_STEPS="${CNN_LENS_MAX_STEPS:-16}"  # caps every optimization (the engine inherits it too)

step "start code-server on 127.0.0.1:$PORT"
setsid node "$CS/out/node/entry.js" --config "$RUN/config.yaml" --user-data-dir "$RUN/ud" --extensions-dir "$RUN/exts" \
  --disable-telemetry --disable-update-check --disable-workspace-trust --disable-getting-started-override \
  >"$OUT/code-server.log" 2>&1 &
CS_PID=$!
stop_server() {
  # code-server was started in its own process group: stop it with the extension hosts and engines it forked.
  kill -TERM -- "-$CS_PID" 2>/dev/null || true
  for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$CS_PID" 2>/dev/null || break; sleep 0.5; done
  kill -KILL -- "-$CS_PID" 2>/dev/null || true
}
trap stop_server EXIT
trap 'exit 130' INT TERM
for _ in $(seq 120); do
  curl -fs -o /dev/null "http://127.0.0.1:$PORT/healthz" && break
  kill -0 "$CS_PID" 2>/dev/null || { echo "e2e: code-server exited; log:"; tail -30 "$OUT/code-server.log"; echo "e2e: 0 passed, 1 failed"; exit 1; }
  sleep 0.5
done
curl -fs -o /dev/null "http://127.0.0.1:$PORT/healthz" || { echo "e2e: code-server not healthy within 60 s"; tail -30 "$OUT/code-server.log"; echo "e2e: 0 passed, 1 failed"; exit 1; }

export E2E_ORIGIN="http://127.0.0.1:$PORT" E2E_WORKSPACE="$WS" E2E_EXT="$EXT" E2E_SERVER_PID="$CS_PID" E2E_SHOTS="$OUT"
export E2E_HOST_TESTS="$EXT/dist/test/e2e/host/index.js"

step "UI suite (Playwright + Chromium)"
E2E_RESULTS="$OUT/ui-results.json" timeout 520 node "$EXT/dist/test/e2e/ui.js" || true

step "extension-host suite (mocha via extensionTestsPath)"
E2E_HOST_TIMEOUT_MS=180000 timeout 200 node "$EXT/dist/test/e2e/hostRunner.js" || true

# The packaged extension (npm run package → .vsix), installed into this VS Code, opened without the
# development path. Packaging rebuilds dist/ for production; the dev build is restored afterwards.
if node -e "process.exit(require('./package.json').scripts.package ? 0 : 1)"; then
  step ".vsix: package, install, explain from it"
  VSIX_LOG="$OUT/vsix-package.log"
  if (cd "$REPO" && HOME="$REAL_HOME" timeout 300 npm run package >"$VSIX_LOG" 2>&1); then
    VSIX=$(ls -t "$REPO"/*.vsix 2>/dev/null | head -1)
    mv "$VSIX" "$RUN/cnn-lens.vsix"
    (cd "$REPO" && node esbuild.mjs >/dev/null 2>&1) || true
    if timeout 120 node "$CS/out/node/entry.js" --config "$RUN/config.yaml" --user-data-dir "$RUN/ud" --extensions-dir "$RUN/exts" \
         --install-extension "$RUN/cnn-lens.vsix" >>"$VSIX_LOG" 2>&1; then
      E2E_RESULTS="$OUT/vsix-results.json" timeout 240 node "$EXT/dist/test/e2e/vsix.js" || true
    else
      echo '{"suite":"vsix","results":[{"name":".vsix installs into code-server","ok":false,"ms":0,"detail":"see vsix-package.log"}]}' >"$OUT/vsix-results.json"
    fi
  else
    (cd "$REPO" && node esbuild.mjs >/dev/null 2>&1) || true
    echo '{"suite":"vsix","results":[{"name":"npm run package builds a .vsix","ok":false,"ms":0,"detail":"see vsix-package.log"}]}' >"$OUT/vsix-results.json"
  fi
fi

step "desktop VS Code runner (@vscode/test-electron)"
E2E_ELECTRON_RESULTS="$OUT/electron-results.json" timeout 300 node dist/test/e2e/electron-runner.js || true

stop_server
trap - EXIT

# CNN_LENS_UPDATE_SCREENSHOTS=1 refreshes the README's screenshots (media/screenshots) from this run.
if [ "${CNN_LENS_UPDATE_SCREENSHOTS:-0}" = 1 ]; then
  mkdir -p "$REPO/media/screenshots"
  for pair in 06-explain-panel:explain-panel 10-model-browser:model-browser 14-deep-dream:deep-dream 13-filters-done:visualize-filters 11-filter-weights:filter-weights; do
    [ -f "$OUT/${pair%%:*}.png" ] && cp "$OUT/${pair%%:*}.png" "$REPO/media/screenshots/${pair##*:}.png" && echo "e2e: updated media/screenshots/${pair##*:}.png"
  done
fi

# One summary over the three result files; a missing file is a failure of its suite.
node - "$OUT" "$REPO" <<'EOF'
const fs = require('fs'), path = require('path');
const dir = process.argv[2];
let passed = 0, failed = 0, skipped = 0;
const suites = [['ui', 'ui-results.json'], ['host', 'host-results.json'], ['electron', 'electron-results.json']];
if (require(path.join(process.argv[3], 'package.json')).scripts.package) suites.push(['vsix', 'vsix-results.json']);
for (const [suite, file] of suites) {
  let results;
  try { results = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')).results; }
  catch { console.log(`e2e ${suite}: no results (${file} missing): counted as one failure`); failed++; continue; }
  for (const r of results) {
    if (r.skipped) skipped++; else if (r.ok) passed++; else { failed++; console.log(`e2e ${suite} FAILED: ${r.name}\n    ${(r.detail || '').split('\n').join('\n    ')}`); }
  }
}
console.log(`screenshots and logs: ${dir}`);
console.log(`e2e: ${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed ? 1 : 0);
EOF
