#!/usr/bin/env bash
# Installs Debian's redis-server (7.x) for the tenant gateway's shared quota counters, idempotently:
# nothing happens when redis-server is already on the PATH. The tests start their own server per
# file (test/support/redis.ts) on a free port without persistence; the system service is not used.
set -euo pipefail
if command -v redis-server >/dev/null 2>&1; then
  redis-server --version | sed 's/^/setup: /' >&2
  exit 0
fi
echo "setup: installing redis-server from Debian" >&2
if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
$SUDO apt-get update -qq >&2
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends redis-server >&2
# The package starts a system service where an init system runs; the tests do not need it.
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet redis-server 2>/dev/null; then
  $SUDO systemctl disable --now redis-server >/dev/null 2>&1 || true
fi
redis-server --version | sed 's/^/setup: /' >&2
