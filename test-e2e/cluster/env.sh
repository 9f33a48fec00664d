#!/usr/bin/env bash
# Prints the environment contract of the test cluster as `export` lines (and nothing else on stdout).
# Does not start anything; values are valid once `ensure.sh <tier>` has succeeded.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
q() { printf "export %s=%q\n" "$1" "$2"; }
q KUBECONFIG "$DSA_RUN/admin.kubeconfig"
q DSA_CLUSTER_TIER "$(cat "$DSA_RUN/tier" 2>/dev/null || echo none)"
q DSA_NODE_IP "$(node_ip)"
q DSA_REGISTRY "$(registry_addr)"
q DSA_TEST_IMAGE "$(IMG_BUSYBOX)"
q DSA_PAUSE_IMAGE "$(IMG_PAUSE)"
q DSA_NODE_IMAGE "$(IMG_NODE)"
q DSA_KANIKO_IMAGE "$(IMG_KANIKO)"
q DSA_HELM "$(HELM_BIN_DIR)/helm"
q DSA_HELM_IMAGE "$(IMG_HELM)"
q DSA_KUSTOMIZE "$DSA_CACHE/bin/kustomize-$KUSTOMIZE_VERSION/kustomize"
q DSA_KUBE_BIN "$(K8S_BIN_DIR)"
q DSA_CLUSTER_LOGS "$DSA_LOGS"
# The Docker daemon for local builds (dockerd.sh), once one that suits answers.
docker_host=$("$CLUSTER_DIR/dockerd.sh" host 2>/dev/null) && q DOCKER_HOST "$docker_host"
# Images of this repository's own components, written by their build scripts (`make images`).
repo_root=$(cd "$CLUSTER_DIR/../.." && pwd)
[ -s "$repo_root/sidecar/dist/image.ref" ] && q DSA_SIDECAR_IMAGE "$(cat "$repo_root/sidecar/dist/image.ref")"
[ -s "$repo_root/operator/dist/image.ref" ] && q DSA_OPERATOR_IMAGE "$(cat "$repo_root/operator/dist/image.ref")"
true
