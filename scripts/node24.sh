#!/usr/bin/env bash
# Puts Node.js 24 LTS first on PATH. Source it:  . scripts/node24.sh
# If the machine's own node is already >= 22.12 it is used as is; otherwise the `node` package
# (an official Node.js build published on the npm registry) is installed once into a cache
# folder outside the repository ($SHOPML_NODE_CACHE, default ~/.cache/shopml-node).
SHOPML_NODE_VERSION="${SHOPML_NODE_VERSION:-$(tr -d ' \n\rv' < "$(dirname "${BASH_SOURCE[0]}")/../.nvmrc" 2>/dev/null)}"
case "$SHOPML_NODE_VERSION" in *.*.*) ;; *) SHOPML_NODE_VERSION="24.21.0" ;; esac
_shopml_node_ok() {
  command -v node >/dev/null 2>&1 || return 1
  node -e 'const [a,b]=process.versions.node.split(".").map(Number);process.exit(a>22||(a===22&&b>=12)?0:1)'
}
if ! _shopml_node_ok; then
  _cache="${SHOPML_NODE_CACHE:-$HOME/.cache/shopml-node}/v$SHOPML_NODE_VERSION"
  if [ ! -x "$_cache/node_modules/node/bin/node" ]; then
    echo "shopml: installing node@$SHOPML_NODE_VERSION from the npm registry into $_cache" >&2
    mkdir -p "$_cache"
    npm install --no-save --no-audit --no-fund --loglevel=error --prefix "$_cache" "node@$SHOPML_NODE_VERSION" >&2 || return 1 2>/dev/null || exit 1
  fi
  export PATH="$_cache/node_modules/node/bin:$PATH"
  unset _cache
fi
unset -f _shopml_node_ok
