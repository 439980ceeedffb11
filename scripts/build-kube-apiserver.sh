#!/usr/bin/env bash
# Builds kube-apiserver from the Kubernetes Go modules (no release download is reachable here).
# k8s.io/kubernetes cannot be `go install`ed because its go.mod replaces the staging modules with
# local paths, so a throwaway module requires it and points every staging module at its release.
# Idempotent and cached: the binary lands in $CACHE/bin/kube-apiserver-$VERSION.
set -euo pipefail
VERSION="${KUBE_VERSION:-1.34.4}"
CACHE="${TRO_CACHE:-$HOME/.cache/tenant-rag-operator}"
OUT="$CACHE/bin/kube-apiserver-v$VERSION"
if [ -x "$OUT" ]; then echo "$OUT"; exit 0; fi
mkdir -p "$CACHE/bin" "$CACHE/build"
WORK="$(mktemp -d "$CACHE/build/kube-apiserver.XXXX")"
trap 'rm -rf "$WORK"' EXIT
STAGING_VERSION="v0.${VERSION#1.}"
cd "$WORK"
go mod init tro.local/kubebuild >/dev/null 2>&1
# The staging list is read from the release's own go.mod so it never drifts from the pin.
GOFLAGS=-mod=mod go mod download -json "k8s.io/kubernetes@v$VERSION" > dl.json
GOMOD="$(python3 -c 'import json,sys; print(json.load(open("dl.json"))["GoMod"])')"
STAGING="$(grep -E '^\s*k8s.io/[a-z0-9-]+ => \./staging/' "$GOMOD" | awk '{print $1}' | sort -u)"
{
  echo "require k8s.io/kubernetes v$VERSION"
  echo "replace ("
  for m in $STAGING; do echo "  $m => $m $STAGING_VERSION"; done
  echo ")"
} >> go.mod
cat > tools.go <<'GO'
//go:build tools

package tools

import _ "k8s.io/kubernetes/cmd/kube-apiserver"
GO
GOFLAGS=-mod=mod go mod tidy >&2
# Stamp the release version the way Kubernetes' own build does, so /version tells the truth.
MINOR="${VERSION#1.}"; MINOR="${MINOR%%.*}"
LDFLAGS="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  LDFLAGS="$LDFLAGS -X $pkg.gitVersion=v$VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$MINOR -X $pkg.gitTreeState=clean"
done
CGO_ENABLED=0 GOFLAGS=-mod=mod go build -trimpath -ldflags "$LDFLAGS" -o "$OUT.tmp" k8s.io/kubernetes/cmd/kube-apiserver >&2
mv "$OUT.tmp" "$OUT"
echo "$OUT"
