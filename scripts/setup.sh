#!/usr/bin/env bash
# Installs what the tests and the sandbox need, idempotently, cached outside the repo:
# etcd (Debian), kube-apiserver and helm (built from Go modules), moto and ministack (PyPI, each
# in its own venv).
set -euo pipefail
CACHE="${TRO_CACHE:-$HOME/.cache/tenant-rag-operator}"
MOTO_VERSION="${MOTO_VERSION:-5.2.5}"
MINISTACK_VERSION="${MINISTACK_VERSION:-1.5.33}"
here="$(cd "$(dirname "$0")" && pwd)"
mkdir -p "$CACHE/bin"

if ! command -v etcd >/dev/null 2>&1; then
  echo "setup: installing etcd-server from Debian" >&2
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq etcd-server >&2
fi
bash "$here/redis.sh"

if ! command -v openssl >/dev/null 2>&1; then
  echo "setup: openssl is required to make the local control plane's certificates" >&2; exit 1
fi

echo "setup: kube-apiserver $("$here/build-kube-apiserver.sh")" >&2
echo "setup: helm $("$here/build-helm.sh")" >&2

VENV="$CACHE/moto-$MOTO_VERSION"
if [ ! -x "$VENV/bin/moto_server" ]; then
  echo "setup: installing moto $MOTO_VERSION into $VENV" >&2
  python3 -m venv "$VENV.tmp"
  "$VENV.tmp/bin/pip" install -q --disable-pip-version-check "moto[server]==$MOTO_VERSION" >&2
  rm -rf "$VENV"; mv "$VENV.tmp" "$VENV"
  # A venv records its own path; rebuild the entry points after the move.
  sed -i "1s|.*|#!$VENV/bin/python3|" "$VENV"/bin/moto_server "$VENV"/bin/pip* 2>/dev/null || true
fi

# ministack serves the OpenSearch Serverless control plane (policies, asynchronous collections).
VENV="$CACHE/ministack-$MINISTACK_VERSION"
if [ ! -x "$VENV/bin/ministack" ]; then
  echo "setup: installing ministack $MINISTACK_VERSION into $VENV" >&2
  rm -rf "$VENV.tmp"
  python3 -m venv "$VENV.tmp"
  "$VENV.tmp/bin/pip" install -q --disable-pip-version-check "ministack==$MINISTACK_VERSION" >&2
  rm -rf "$VENV"; mv "$VENV.tmp" "$VENV"
  sed -i "1s|.*|#!$VENV/bin/python3|" "$VENV"/bin/ministack "$VENV"/bin/hypercorn "$VENV"/bin/pip* 2>/dev/null || true
fi
echo "setup: opensearch $("$here/opensearch.sh")" >&2
echo "setup: ready ($CACHE)" >&2
