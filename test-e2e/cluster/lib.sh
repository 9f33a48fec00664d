# Shared settings for the dsa local cluster scripts. Sourced, not executed.
# Every path can be overridden from the environment (the Makefile passes its ?= variables).
CLUSTER_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
DSA_CACHE=${DSA_CACHE:-$HOME/.cache/dsa}
K8S_VERSION=${K8S_VERSION:-v1.33.13}
# Run dir: all cluster state (PKI, configs, containerd root, kubelet dir, logs). etcd data is a tmpfs inside it.
DSA_RUN=${DSA_RUN:-$DSA_CACHE/run}
DSA_LOGS=${DSA_LOGS:-$DSA_RUN/logs}
DSA_ENV_FILE=${DSA_ENV_FILE:-$DSA_CACHE/cluster.env}
SERVICE_CIDR=${SERVICE_CIDR:-10.96.0.0/16}
SERVICE_VIP=${SERVICE_VIP:-10.96.0.1}
# Pod CIDR: clear of docker0 (172.17/16), the service CIDR and containerd's default 10.88/16.
POD_CIDR=${POD_CIDR:-10.244.0.0/16}
NODE_NAME=${NODE_NAME:-dsa-node}
REGISTRY_PORT=${REGISTRY_PORT:-5000}
APISERVER_PORT=${APISERVER_PORT:-6443}
# Image tags: never :latest. Bump when an image's content recipe changes.
IMAGE_TAG=${IMAGE_TAG:-v1}

log() { echo "[dsa-cluster] $*" >&2; }
die() { echo "[dsa-cluster] ERROR: $*" >&2; exit 1; }

# The node's own non-loopback IPv4 address (eth0 or the first global one). Never hardcoded.
node_ip() {
  if [ -n "${DSA_NODE_IP:-}" ]; then echo "$DSA_NODE_IP"; return; fi
  local ip
  ip=$(ip -4 -o addr show scope global 2>/dev/null | awk '$2!~/^(docker|cni|veth|br-)/{split($4,a,"/"); print a[1]; exit}')
  [ -n "$ip" ] || die "no global IPv4 address found (set DSA_NODE_IP)"
  echo "$ip"
}

# Version key of the k8s binaries: changes whenever the module, the mains or the toolchain change.
k8s_bin_key() {
  local h
  h=$(cat "$CLUSTER_DIR/k8s/go.mod" "$CLUSTER_DIR/k8s/go.sum" "$CLUSTER_DIR"/k8s/cmd/*/main.go "$CLUSTER_DIR/build-bins.sh" \
      | { cat; go env GOVERSION; } | sha256sum | cut -c1-12)
  echo "${K8S_VERSION}-${h}"
}
K8S_BIN_DIR() { echo "$DSA_CACHE/bin/$(k8s_bin_key)"; }
