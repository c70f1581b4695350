#!/usr/bin/env bash
# Installs what the end-to-end suite needs, offline (npm registry + Debian packages only), into the
# git-ignored cache folder .e2e/ (override with CNN_LENS_E2E_CACHE):
#   - Debian: chromium (the browser Playwright drives), ripgrep (replaces the rg that @vscode/ripgrep
#     would download), libkrb5-dev + build-essential + python3 (native modules), curl (health checks);
#   - code-server 4.96.4 from npm (VS Code 1.96.4's server build; newer releases need Node 24), with its
#     native modules compiled by node-gyp against the local Node headers, since its install script
#     downloads prebuilt binaries and cannot run here.
# Idempotent: a stamp file records a finished install; a second run takes a second or two.
#   bash scripts/e2e/setup.sh
set -euo pipefail
REPO="$(cd "$(dirname "$0")/../.." && pwd)"
CACHE="${CNN_LENS_E2E_CACHE:-$REPO/.e2e}"
CS_VERSION=4.96.4
# Bump SETUP_REV when this script changes what it installs: the stamp then no longer matches.
SETUP_REV=1
STAMP_KEY="code-server@$CS_VERSION node=$(node -v) rev=$SETUP_REV"
STAMP="$CACHE/setup.stamp"

SECONDS=0
step() { echo "[e2e setup +${SECONDS}s] $*"; }

# --- Debian packages: only when something is missing -------------------------------------------
need_apt=()
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
command -v rg >/dev/null 2>&1 || need_apt+=(ripgrep)
command -v curl >/dev/null 2>&1 || need_apt+=(curl)
command -v python3 >/dev/null 2>&1 || need_apt+=(python3)
for p in libkrb5-dev build-essential; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || need_apt+=("$p")
done
if [ ${#need_apt[@]} -gt 0 ]; then
  step "apt-get install ${need_apt[*]}"
  if [ "$(id -u)" != 0 ]; then
    echo "e2e setup: missing Debian packages (${need_apt[*]}); run as root or install them: apt-get install ${need_apt[*]}" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  timeout 300 apt-get update -qq
  timeout 600 apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

mkdir -p "$CACHE"
# One setup at a time per cache folder (two clones' test runs may share a cache through CNN_LENS_E2E_CACHE).
exec 9>"$CACHE/setup.lock"
flock -w 900 9 || { echo "e2e setup: another setup holds $CACHE/setup.lock for 15 minutes" >&2; exit 1; }

CS_ROOT="$CACHE/cs"
CS="$CS_ROOT/node_modules/code-server"
VS="$CS/lib/vscode"
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$STAMP_KEY" ] && [ -f "$CS/out/node/entry.js" ]; then
  step "code-server $CS_VERSION already installed in $CACHE (stamp matches)"
  exit 0
fi
rm -f "$STAMP"

export npm_config_audit=false npm_config_fund=false npm_config_update_notifier=false npm_config_loglevel=error
NODE_BIN=$(readlink -f "$(command -v node)")
NODEDIR=$(dirname "$(dirname "$NODE_BIN")")
[ -f "$NODEDIR/include/node/node.h" ] || { echo "e2e setup: Node headers not found under $NODEDIR/include/node (node-gyp would try to download them)" >&2; exit 1; }
NG="$(dirname "$(readlink -f "$(command -v npm)")")/../node_modules/node-gyp/bin/node-gyp.js"
[ -f "$NG" ] || { echo "e2e setup: npm's bundled node-gyp not found at $NG" >&2; exit 1; }
gyp() {
  local dir=$1; shift
  (cd "$dir" && timeout 600 node "$NG" rebuild --nodedir="$NODEDIR" -j "$(nproc)" "$@" >build.log 2>&1) \
    || { echo "e2e setup: node-gyp failed in $dir" >&2; tail -30 "$dir/build.log" >&2; exit 1; }
}

step "code-server $CS_VERSION from npm (install scripts off: they download binaries)"
rm -rf "$CS_ROOT"
mkdir -p "$CS_ROOT"
echo '{ "name": "cnn-lens-e2e-code-server", "private": true }' >"$CS_ROOT/package.json"
(cd "$CS_ROOT" && timeout 600 npm install "code-server@$CS_VERSION" --ignore-scripts --no-save --no-package-lock >/dev/null)

step "argon2 (code-server's password hashing; node-pre-gyp would download it)"
gyp "$CS_ROOT/node_modules/argon2" --module_name=argon2 --module_path="$CS_ROOT/node_modules/argon2/lib/binding/napi-v3" --napi_build_version=3

step "VS Code's production dependencies from the registry"
# The only non-registry dependency is @vscode/proxy-agent from a git URL; its registry tarball has the same integrity hash.
sed -i 's#"resolved": "git+ssh://git@github.com/microsoft/vscode-proxy-agent.git\#[0-9a-f]*"#"resolved": "https://registry.npmjs.org/@vscode/proxy-agent/-/proxy-agent-0.27.0.tgz"#' "$VS/npm-shrinkwrap.json"
if grep -q 'git+ssh' "$VS/npm-shrinkwrap.json"; then echo "e2e setup: unexpected git dependencies left in $VS/npm-shrinkwrap.json" >&2; exit 1; fi
(cd "$VS" && timeout 600 npm install --omit=dev --ignore-scripts >/dev/null)

step "native modules with node-gyp against $NODEDIR/include/node"
for m in node-pty @vscode/spdlog @parcel/watcher native-watchdog kerberos @vscode/deviceid; do
  step "  node-gyp $m"
  gyp "$VS/node_modules/$m"
done
(cd "$VS/node_modules/node-pty" && node scripts/post-install.js >/dev/null)
# @vscode/ripgrep's postinstall downloads rg: use Debian's.
mkdir -p "$VS/node_modules/@vscode/ripgrep/bin" && ln -sf "$(command -v rg)" "$VS/node_modules/@vscode/ripgrep/bin/rg"
# The rest of code-server's postinstall.
(cd "$VS" && rm -rf node_modules.asar && ln -s node_modules node_modules.asar)
(cd "$VS/bin/remote-cli" && ln -sf code-linux.sh code-server)
(cd "$VS/bin/helpers" && ln -sf browser-linux.sh browser.sh)
(cd "$VS/extensions" && timeout 600 npm install --omit=dev --ignore-scripts >/dev/null && node postinstall.mjs >/dev/null)
node -e "for (const m of ['node-pty','@vscode/spdlog','@parcel/watcher','native-watchdog','kerberos']) require(process.argv[1] + '/node_modules/' + m)" "$VS" \
  || { echo "e2e setup: a native module does not load" >&2; exit 1; }

echo "$STAMP_KEY" >"$STAMP"
step "done: code-server $CS_VERSION in $CS_ROOT ($(du -sh "$CS_ROOT" | cut -f1))"
