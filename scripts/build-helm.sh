#!/usr/bin/env bash
# Builds helm from the Go module proxy (no release download is reachable here). Idempotent and
# cached: the binary lands in $CACHE/bin/helm-$VERSION.
set -euo pipefail
VERSION="${HELM_VERSION:-3.22.0}"
CACHE="${TRO_CACHE:-$HOME/.cache/tenant-rag-operator}"
OUT="$CACHE/bin/helm-v$VERSION"
if [ -x "$OUT" ]; then echo "$OUT"; exit 0; fi
mkdir -p "$CACHE/bin"
GOBIN="$(mktemp -d)"
CGO_ENABLED=0 GOBIN="$GOBIN" go install -trimpath -ldflags "-s -w -X helm.sh/helm/v3/internal/version.version=v$VERSION" "helm.sh/helm/v3/cmd/helm@v$VERSION" >&2
mv "$GOBIN/helm" "$OUT"
rm -rf "$GOBIN"
echo "$OUT"
