#!/usr/bin/env bash
# Renders the Helm chart with default values into config/default/install.yaml, the kustomize base
# for users who do not use Helm. A test fails when the committed file differs from this output.
# The boundary ARN is a placeholder: patch it with the ARN of the policy you created (docs/iam).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
helm="$("$here/build-helm.sh")"
"$helm" template tenant-rag-operator "$here/../charts/tenant-rag-operator" \
  --namespace tenant-rag-system --kube-version v1.34.4 --include-crds \
  --set config.permissionsBoundaryArn=arn:aws:iam::111122223333:policy/tenant-rag-boundary
