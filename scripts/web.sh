#!/usr/bin/env bash
# npm run web: CNN Lens in a browser, in VS Code's server build (code-server 4.96.4 = VS Code 1.96.4),
# with the extension loaded from this working tree on FOLDER (default: a workspace of the demo model and
# samples). Prints a localhost URL and serves until Ctrl-C. Installs what it needs once (cached in .e2e/).
#   npm run web [FOLDER]          CNN_LENS_WEB_PORT=8080 npm run web -- ~/models
set -euo pipefail
REPO="$(cd "$(dirname "$0")/.." && pwd)"
cd "$REPO"
CACHE="${CNN_LENS_E2E_CACHE:-$REPO/.e2e}"
WEB="$REPO/.e2e/web"
WS="$WEB/workspace"
PORT="${CNN_LENS_WEB_PORT:-8080}"

if [ $# -gt 0 ]; then
  [ -d "$1" ] || { echo "npm run web: $1: no such folder (give a folder to open, or nothing for the demo workspace)" >&2; exit 2; }
  FOLDER="$(cd "$1" && pwd)"
else
  FOLDER=""
fi

bash scripts/e2e/setup.sh
CS="$CACHE/cs/node_modules/code-server"
node esbuild.mjs
if [ -z "$FOLDER" ]; then
  [ -d "$WS" ] || node scripts/e2e/make-workspace.mjs "$WS"
  FOLDER="$WS"
fi

mkdir -p "$WEB/ud/User" "$WEB/exts" "$WEB/home"
cat >"$WEB/ud/User/settings.json" <<'JSON'
{ "workbench.startupEditor": "none", "telemetry.telemetryLevel": "off", "extensions.autoUpdate": false,
  "extensions.autoCheckUpdates": false, "extensions.ignoreRecommendations": true, "update.mode": "none",
  "workbench.enableExperiments": false, "git.enabled": false }
JSON
printf 'bind-addr: 127.0.0.1:%s\nauth: none\ncert: false\n' "$PORT" >"$WEB/config.yaml"
export HOME="$WEB/home" EXTENSIONS_GALLERY='{}'

payload=$(node -e "const h='127.0.0.1:$PORT';console.log(encodeURIComponent(JSON.stringify([['extensionDevelopmentPath','vscode-remote://'+h+process.argv[1]]])))" "$REPO")
echo
echo "CNN Lens in VS Code (web): http://127.0.0.1:$PORT/?folder=$(node -e "console.log(encodeURIComponent(process.argv[1]))" "$FOLDER")&payload=$payload"
echo "(right-click an image in the Explorer → CNN Lens: Explain with Grad-CAM; Ctrl-C stops the server)"
echo
exec node "$CS/out/node/entry.js" --config "$WEB/config.yaml" --user-data-dir "$WEB/ud" --extensions-dir "$WEB/exts" \
  --disable-telemetry --disable-update-check --disable-workspace-trust --disable-getting-started-override
