#!/usr/bin/env bash
# `make deploy`: install/upgrade charts/dsa-operator in the cluster in KUBECONFIG with the image that
# operator/build/build-image.sh built last (operator/dist/image.ref), and wait until the operator is Available.
#
# Env: DSA_HELM (helm binary; default `helm`), DSA_KANIKO_IMAGE / DSA_HELPER_IMAGE or DSA_TEST_IMAGE (builder
#      images; read from ~/.cache/dsa/cluster.env when unset), RELEASE (dsa-operator), NAMESPACE (dsa-system),
#      DSA_TENANT_NAMESPACES (space-separated; default dsa-demo, `make demo`'s): created if missing and made ready
#      for sessions by the chart (tenantNamespaces: the dsa-deployer ServiceAccount and the tenant role — the
#      install is confined, docs/security.md). DSA_REGISTRY is listed in registries.insecure (plain HTTP).
#      Extra arguments are passed to helm (e.g. --set logLevel=debug).
set -euo pipefail
REPO=$(cd "$(dirname "$0")/../.." && pwd)
die() { echo "[operator-deploy] ERROR: $*" >&2; exit 1; }

ENV_FILE=${DSA_ENV_FILE:-${DSA_CACHE:-$HOME/.cache/dsa}/cluster.env}
if [ -z "${DSA_REGISTRY:-}" ] && [ -f "$ENV_FILE" ]; then
  # shellcheck disable=SC1090
  source "$ENV_FILE"
fi
[ -n "${KUBECONFIG:-}" ] || [ -f "$HOME/.kube/config" ] || die "no KUBECONFIG"

ref_file=$REPO/operator/dist/image.ref
[ -s "$ref_file" ] || die "$ref_file is missing: run operator/build/build-image.sh (make operator-image) first"
ref=$(cat "$ref_file")
repo=${ref%:*} tag=${ref##*:}

helm=${DSA_HELM:-helm}
release=${RELEASE:-dsa-operator}
namespace=${NAMESPACE:-dsa-system}
args=(--set "image.repository=$repo" --set "image.tag=$tag")
[ -n "${DSA_KANIKO_IMAGE:-}" ] && args+=(--set "builder.image=$DSA_KANIKO_IMAGE")
helper=${DSA_HELPER_IMAGE:-${DSA_TEST_IMAGE:-}}
[ -n "$helper" ] && args+=(--set "builder.helperImage=$helper")
# The dev sidecar: from the environment, else the image sidecar/build/build-image.sh last built.
sidecar=${DSA_SIDECAR_IMAGE:-$(cat "$(dirname "$0")/../../sidecar/dist/image.ref" 2>/dev/null || true)}
[ -n "$sidecar" ] && args+=(--set "sidecar.image=$sidecar")
# The local registry speaks plain HTTP: builds and the operator's lookups need no per-image insecure: true.
[ -n "${DSA_REGISTRY:-}" ] && args+=(--set "registries.insecure={$DSA_REGISTRY}")

kubectl_bin=${DSA_KUBE_BIN:+$DSA_KUBE_BIN/kubectl}
kubectl_bin=${kubectl_bin:-kubectl}
# Tenant namespaces must exist before the chart puts their ServiceAccount and RoleBinding in them.
tenants=${DSA_TENANT_NAMESPACES-dsa-demo}
if [ -n "$tenants" ]; then
  list=""
  for ns in $tenants; do
    "$kubectl_bin" get namespace "$ns" >/dev/null 2>&1 || "$kubectl_bin" create namespace "$ns" >/dev/null
    list=${list:+$list,}$ns
  done
  args+=(--set "tenantNamespaces={$list}")
fi

# CRDs applied earlier with `make install` (kubectl) carry no Helm ownership; let this release adopt them.
for crd in devsessions.dsa.dev imagebuilds.dsa.dev; do
  if "$kubectl_bin" get crd "$crd" >/dev/null 2>&1; then
    "$kubectl_bin" label --overwrite crd "$crd" app.kubernetes.io/managed-by=Helm >/dev/null
    "$kubectl_bin" annotate --overwrite crd "$crd" "meta.helm.sh/release-name=$release" "meta.helm.sh/release-namespace=$namespace" >/dev/null
  fi
done

"$helm" upgrade --install "$release" "$REPO/charts/dsa-operator" --namespace "$namespace" --create-namespace \
  --wait --timeout 5m "${args[@]}" "$@"
echo "[operator-deploy] $release in $namespace runs $ref" >&2
