#!/usr/bin/env bash
# Builds (or reuses) the Kubernetes + etcd binaries of the test cluster into
#   ${DSA_CACHE:-~/.cache/dsa}/bin/<k8s-version>-<hash>/
# Usage: build-bins.sh cp|node|all
#   cp   -> kube-cp   (kube-apiserver, kube-controller-manager, kube-scheduler, etcd)  = tier "controlplane"
#   node -> kube-node (kubelet, kube-proxy)                                            = extra for tier "node"
# Prints the bin dir on stdout. A rebuild with a warm GOCACHE takes seconds; an existing
# binary for the same key is reused without invoking go at all.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
tier=${1:-all}
BIN=$(K8S_BIN_DIR)
mkdir -p "$BIN"

build_one() { # $1 = kube-cp|kube-node, rest = symlink names
  local main=$1; shift
  if [ ! -x "$BIN/$main" ]; then
    log "building $main ($K8S_VERSION) into $BIN (cold: many minutes; log: $DSA_CACHE/build-$main.log)"
    local minor=${K8S_VERSION#v1.}; minor=${minor%%.*}
    local vflags="" pkg
    # Version stamping exactly like upstream hack/lib/version.sh (both variable sets).
    for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
      vflags+=" -X $pkg.gitVersion=$K8S_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
      vflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
    done
    local start=$SECONDS
    # -p: 2 cores; more parallel compiles only add memory pressure. CGO off: static binaries.
    ( cd "$CLUSTER_DIR/k8s" && CGO_ENABLED=0 GOFLAGS=-mod=mod \
        /usr/bin/time -v go build -p "${GO_BUILD_P:-2}" -trimpath -ldflags "-s -w$vflags" \
        -o "$BIN/$main.tmp" "./cmd/$main" ) > "$DSA_CACHE/build-$main.log" 2>&1 \
      || { tail -30 "$DSA_CACHE/build-$main.log" >&2; die "build of $main failed"; }
    mv "$BIN/$main.tmp" "$BIN/$main"
    log "built $main in $((SECONDS-start))s; $(grep -E 'Maximum resident' "$DSA_CACHE/build-$main.log" | sed 's/^\s*//')"
  fi
  local n
  for n in "$@"; do ln -sfn "$main" "$BIN/$n"; done
}

case "$tier" in
  cp)   build_one kube-cp kube-apiserver kube-controller-manager kube-scheduler etcd ;;
  node) build_one kube-node kubelet kube-proxy ;;
  all)  build_one kube-cp kube-apiserver kube-controller-manager kube-scheduler etcd
        build_one kube-node kubelet kube-proxy ;;
  *) die "usage: build-bins.sh cp|node|all" ;;
esac
echo "$BIN"
