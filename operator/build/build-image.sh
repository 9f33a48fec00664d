#!/usr/bin/env bash
# Builds and pushes the operator image; prints the image reference (and nothing else) on stdout.
#
#   1. bundle operator/src/main.ts → operator/dist/operator.mjs (operator/build/bundle.mjs)
#   2. stage the build context operator/dist/image: the bundle, helm, kubectl, operator/charts/component
#   3. tag = dev-<first 12 hex of sha256 over the staged context + Dockerfile>  (content-addressed, never latest)
#   4. skip the build when the registry already has that tag (FORCE=1 rebuilds); otherwise build+push with
#      the cluster harness's build-image.sh (buildah, no daemon).
#   5. write the reference to operator/dist/image.ref (read by `make deploy`) and print it.
#
# Usage: operator/build/build-image.sh [--no-push]
# Env:   DSA_REGISTRY, DSA_NODE_IMAGE, DSA_HELM (from `test-e2e/cluster/ensure.sh node`, read from
#        ~/.cache/dsa/cluster.env when unset); IMAGE_REPO (default $DSA_REGISTRY/dsa/operator);
#        OPERATOR_IMAGE_TAG (overrides the content tag, e.g. a git sha); KUBECTL_BIN (default: kubectl 1.33 on this machine);
#        BASE_IMAGE (default $DSA_NODE_IMAGE, else the Dockerfile's node:20-bookworm-slim).
set -euo pipefail
REPO=$(cd "$(dirname "$0")/../.." && pwd)
log() { echo "[operator-image] $*" >&2; }
die() { echo "[operator-image] ERROR: $*" >&2; exit 1; }

push=1
[ "${1:-}" = --no-push ] && push=0

ENV_FILE=${DSA_ENV_FILE:-${DSA_CACHE:-$HOME/.cache/dsa}/cluster.env}
if [ -z "${DSA_REGISTRY:-}" ] && [ -f "$ENV_FILE" ]; then
  # shellcheck disable=SC1090
  source "$ENV_FILE"
fi
[ -n "${DSA_REGISTRY:-}" ] || die "DSA_REGISTRY is not set (run: eval \"\$(test-e2e/cluster/ensure.sh node)\")"

HELM_BIN=${DSA_HELM:-$(command -v helm || true)}
[ -x "$HELM_BIN" ] || die "helm not found (DSA_HELM=$HELM_BIN); build it with test-e2e/cluster/tools.sh helm"
if [ -z "${KUBECTL_BIN:-}" ]; then
  # Prefer the harness's static kubectl (same version as the cluster). A gcloud-installed kubectl is a dispatcher
  # that execs versioned siblings, so stage one of those rather than the dispatcher itself.
  k=$(readlink -f "$(command -v kubectl || echo /nonexistent)")
  for c in "${DSA_KUBE_BIN:-/nonexistent}/kubectl" "$(dirname "$k")/kubectl.1.33" "$k"; do
    [ -x "$c" ] && { KUBECTL_BIN=$c; break; }
  done
fi
[ -x "${KUBECTL_BIN:-}" ] || die "kubectl not found (set KUBECTL_BIN)"

# 1. bundle
version=${DSA_VERSION:-$(git -C "$REPO" rev-parse --short=12 HEAD 2>/dev/null || echo dev)}
DSA_VERSION=$version node "$REPO/operator/build/bundle.mjs" >&2

# 2. stage the context (world-readable: the image runs as uid 65532)
ctx=$REPO/operator/dist/image
rm -rf "$ctx"
mkdir -p "$ctx/bin" "$ctx/charts"
cp "$REPO/operator/dist/operator.mjs" "$ctx/operator.mjs"
cp "$HELM_BIN" "$ctx/bin/helm"
cp "$KUBECTL_BIN" "$ctx/bin/kubectl"
[ -d "$REPO/operator/charts/component" ] || die "operator/charts/component is missing"
cp -r "$REPO/operator/charts/component" "$ctx/charts/component"
chmod -R a+rX "$ctx"
chmod 755 "$ctx/bin/"*

# 3. content tag: same inputs → same tag, so re-runs reuse the pushed image.
tag=${OPERATOR_IMAGE_TAG:-dev-$( (cd "$ctx" && find . -type f | LC_ALL=C sort | xargs sha256sum; sha256sum < "$REPO/operator/Dockerfile"; echo "${BASE_IMAGE:-${DSA_NODE_IMAGE:-}}") | sha256sum | cut -c1-12)}
[ "$tag" != latest ] || die "refusing to tag :latest"
ref=${IMAGE_REPO:-$DSA_REGISTRY/dsa/operator}:$tag

exists() {
  local r=${ref#*/} host=${ref%%/*}
  curl -fsS -o /dev/null --max-time 5 -I \
    -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
    -H 'Accept: application/vnd.oci.image.manifest.v1+json' \
    "http://$host/v2/${r%:*}/manifests/${r##*:}"
}
if [ "$push" = 1 ] && [ "${FORCE:-0}" != 1 ] && exists; then
  log "$ref already in the registry; not rebuilding"
else
  args=()
  base=${BASE_IMAGE:-${DSA_NODE_IMAGE:-}}
  [ -n "$base" ] && args+=(--build-arg "BASE_IMAGE=$base")
  [ "$push" = 1 ] || args+=(--no-push)
  "$REPO/test-e2e/cluster/build-image.sh" "$ctx" "$REPO/operator/Dockerfile" "$ref" "${args[@]}"
fi
# For `make deploy` (helm --set image.repository/tag) without rebuilding.
[ "$push" = 1 ] && echo "$ref" > "$REPO/operator/dist/image.ref"
echo "$ref"
