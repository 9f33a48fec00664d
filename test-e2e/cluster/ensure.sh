#!/usr/bin/env bash
# Contract for test suites: bring the given tier up (or reuse it) and print ONLY `export` lines
# on stdout (progress goes to stderr). The same lines are in $DSA_ENV_FILE (default
# ~/.cache/dsa/cluster.env). Exit status non-zero if the tier could not be brought up.
# Usage: eval "$(test-e2e/cluster/ensure.sh controlplane|node)"
set -euo pipefail
source "$(dirname "$0")/lib.sh"
tier=${1:-controlplane}
healthy() {
  proc_alive etcd && proc_alive kube-apiserver && proc_alive kube-controller-manager && \
    proc_alive kube-scheduler && apiserver_ready || return 1
  [ "$tier" = controlplane ] && return 0
  proc_alive containerd && proc_alive kubelet && proc_alive kube-proxy && registry_up && \
    kc get node "$NODE_NAME" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' | grep -qx True
}
if ! healthy 2>/dev/null; then
  "$CLUSTER_DIR/cluster-up.sh" "$tier" >&2
fi
# The node tier's Docker daemon for the agent's local builds (DOCKER_HOST in the env lines).
[ "$tier" = controlplane ] || "$CLUSTER_DIR/dockerd.sh" up >&2
# Always rewritten (atomically): names may change with the scripts (e.g. a new IMAGE_TAG).
"$CLUSTER_DIR/env.sh" > "$DSA_ENV_FILE.$$"
mv -f "$DSA_ENV_FILE.$$" "$DSA_ENV_FILE"
cat "$DSA_ENV_FILE"
