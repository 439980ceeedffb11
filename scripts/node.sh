#!/usr/bin/env bash
# Node.js 24 LTS for the tests, the sandbox and CI. Prints the directory of a Node 24 binary: the
# machine's own if it is 24 or newer, otherwise one installed once into the tool cache from the npm
# registry's Node binary package (node-linux-<arch>, the same build as the official tarball;
# `npm pack` verifies it against the registry's integrity hash).
#   export PATH="$(bash scripts/node.sh):$PATH"     # then node, npm and npx use Node 24
#   bash scripts/node.sh --exec <command> [args]    # runs one command with Node 24 first on PATH
set -euo pipefail
NODE_VERSION="${TRO_NODE_VERSION:-24.22.3}"
CACHE="${TRO_CACHE:-$HOME/.cache/tenant-rag-operator}"

node_dir() {
  local have
  have="$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)"
  if [ "$have" -ge 24 ]; then
    dirname "$(command -v node)"
    return
  fi
  local dir="$CACHE/node-$NODE_VERSION"
  if [ ! -x "$dir/bin/node" ]; then
    local arch
    case "$(uname -m)" in
      x86_64) arch=x64 ;;
      aarch64 | arm64) arch=arm64 ;;
      *) echo "node.sh: no Node binary package for $(uname -m)" >&2; exit 1 ;;
    esac
    echo "node.sh: installing Node $NODE_VERSION into $dir" >&2
    local tmp
    tmp="$(mktemp -d)"
    (cd "$tmp" && npm pack --silent "node-linux-$arch@$NODE_VERSION" >/dev/null && tar xzf node-linux-*.tgz package/bin/node package/LICENSE)
    mkdir -p "$dir.tmp/bin"
    mv "$tmp/package/bin/node" "$dir.tmp/bin/node"
    mv "$tmp/package/LICENSE" "$dir.tmp/LICENSE"
    rm -rf "$tmp" "$dir"
    mv "$dir.tmp" "$dir"
  fi
  # npm and npx are the machine's; they run on whichever node comes first on PATH.
  echo "$dir/bin"
}

dir="$(node_dir)"
if [ "${1:-}" = "--exec" ]; then
  shift
  PATH="$dir:$PATH" exec "$@"
fi
echo "$dir"
