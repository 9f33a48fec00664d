#!/usr/bin/env bash
# `make e2e-kind`: runs the e2e suite against a kind cluster with a local registry, for users
# who have Docker, kind, kubectl, Go and network access. UNTESTED on our CI machines (no Docker
# daemon, no image registry there); written from kind's "local registry" recipe
# (kind.sigs.k8s.io/examples/kind-with-registry.sh) and containerd's hosts.toml docs.
# Usage: e2e-kind.sh [run|down]
#   env: KIND_CLUSTER_NAME (dsa-e2e), E2E_KIND_SUITE (make target, default test-e2e-smoke)
set -euo pipefail
HERE=$(cd "$(dirname "$0")/.." && pwd)
source "$HERE/lib.sh"
NAME=${KIND_CLUSTER_NAME:-dsa-e2e}
REG_NAME=kind-registry
REG_PORT=${KIND_REGISTRY_PORT:-5001}
HOST_REG=localhost:$REG_PORT       # what the host pushes to
CLUSTER_REG=$REG_NAME:5000         # what nodes AND pods (kaniko) use; resolvable on the kind network
TAG=${IMAGE_TAG:-v2}
KUBECONFIG_FILE=$DSA_CACHE/kind-$NAME.kubeconfig
for t in docker kind kubectl go; do command -v $t >/dev/null || die "e2e-kind needs '$t' on PATH"; done

if [ "${1:-run}" = down ]; then
  kind delete cluster --name "$NAME" || true
  docker rm -f "$REG_NAME" >/dev/null 2>&1 || true
  exit 0
fi

# 1. registry container (kind recipe), reachable from the host on 127.0.0.1:$REG_PORT
if [ "$(docker inspect -f '{{.State.Running}}' "$REG_NAME" 2>/dev/null || true)" != true ]; then
  docker run -d --restart=always -p "127.0.0.1:$REG_PORT:5000" --network bridge --name "$REG_NAME" registry:2
fi

# 2. cluster with containerd's registry config dir enabled
if ! kind get clusters 2>/dev/null | grep -qx "$NAME"; then
  cat <<YAML | kind create cluster --name "$NAME" --kubeconfig "$KUBECONFIG_FILE" --config=-
kind: Cluster
apiVersion: kind.x-k8s.io/v1alpha4
containerdConfigPatches:
- |-
  [plugins."io.containerd.grpc.v1.cri".registry]
    config_path = "/etc/containerd/certs.d"
YAML
fi
kind get kubeconfig --name "$NAME" > "$KUBECONFIG_FILE"

# 3. hosts.toml on every node: both names go to the registry container over plain HTTP
for node in $(kind get nodes --name "$NAME"); do
  for host in "$HOST_REG" "$CLUSTER_REG"; do
    docker exec "$node" mkdir -p "/etc/containerd/certs.d/$host"
    printf '[host."http://%s"]\n' "$CLUSTER_REG" | docker exec -i "$node" cp /dev/stdin "/etc/containerd/certs.d/$host/hosts.toml"
  done
done
[ "$(docker inspect -f='{{json .NetworkSettings.Networks.kind}}' "$REG_NAME")" = null ] && docker network connect kind "$REG_NAME"
# KEP-1755: document the local registry
kubectl --kubeconfig "$KUBECONFIG_FILE" apply -f - <<YAML
apiVersion: v1
kind: ConfigMap
metadata: {name: local-registry-hosting, namespace: kube-public}
data:
  localRegistryHosting.v1: |
    host: "$HOST_REG"
    hostFromClusterNetwork: "$CLUSTER_REG"
YAML

# 4. images: the same Dockerfiles, FROM public bases (build ARG BASE_IMAGE), pushed + kind-loaded
ctx=$(mktemp -d); trap 'rm -rf "$ctx"' EXIT
img() { # name dockerfile-dir context base
  local ref=$CLUSTER_REG/dsa/$1:$TAG
  docker build -f "$HERE/images/$2/Dockerfile" --build-arg "BASE_IMAGE=$4" -t "$HOST_REG/dsa/$1:$TAG" -t "$ref" "$3"
  docker push "$HOST_REG/dsa/$1:$TAG"
  kind load docker-image --name "$NAME" "$ref"
}
mkdir -p "$ctx/empty/rootfs"
img busybox busybox "$ctx/empty" busybox:1.36.1
img node node "$ctx/empty" node:20-bookworm-slim
mkdir -p "$ctx/kaniko/rootfs/kaniko/ssl/certs" "$ctx/kaniko/rootfs/kaniko/.docker" "$ctx/kaniko/rootfs/workspace"
GOOS=linux GOARCH=$(go env GOARCH) "$HERE/tools.sh" kaniko >/dev/null
cp "$("$HERE/tools.sh" kaniko)" "$ctx/kaniko/rootfs/kaniko/executor"
[ -f /etc/ssl/certs/ca-certificates.crt ] && cp /etc/ssl/certs/ca-certificates.crt "$ctx/kaniko/rootfs/kaniko/ssl/certs/"
echo '{}' > "$ctx/kaniko/rootfs/kaniko/.docker/config.json"
img kaniko-executor kaniko "$ctx/kaniko" scratch
mkdir -p "$ctx/helm/rootfs/usr/local/bin"; cp "$("$HERE/tools.sh" helm)" "$ctx/helm/rootfs/usr/local/bin/helm"
img helm helm "$ctx/helm" scratch

# 5. the suite, pointed at kind instead of the local cluster (DSA_EXTERNAL_CLUSTER=1)
cat > "$DSA_CACHE/kind-$NAME.env" <<ENV
export DSA_EXTERNAL_CLUSTER=1
export KUBECONFIG=$KUBECONFIG_FILE
export DSA_CLUSTER_TIER=node
export DSA_REGISTRY=$CLUSTER_REG
export DSA_REGISTRY_HOST=$HOST_REG
export DSA_TEST_IMAGE=$CLUSTER_REG/dsa/busybox:$TAG
export DSA_NODE_IMAGE=$CLUSTER_REG/dsa/node:$TAG
export DSA_KANIKO_IMAGE=$CLUSTER_REG/dsa/kaniko-executor:$TAG
export DSA_HELM_IMAGE=$CLUSTER_REG/dsa/helm:$TAG
export DSA_HELM=$("$HERE/tools.sh" helm)
ENV
set -a; source "$DSA_CACHE/kind-$NAME.env"; set +a
make -C "$HERE/../.." "${E2E_KIND_SUITE:-test-e2e-smoke}"
