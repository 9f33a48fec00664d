#!/usr/bin/env bash
# Builds (or reuses) the Kubernetes + etcd binaries of the test cluster into
#   ${DSA_CACHE:-~/.cache/dsa}/bin/<k8s-version>-<hash>/
# Usage: build-bins.sh cp|node|all
#   cp   -> kube-cp   (kube-apiserver, kube-controller-manager, kube-scheduler, etcd) + kubectl = tier "controlplane"
#   node -> kube-node (kubelet, kube-proxy)                                            = extra for tier "node"
# Prints the bin dir on stdout. A rebuild with a warm GOCACHE takes seconds; an existing
# binary for the same key is reused without invoking go at all.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
tier=${1:-all}
BIN=$(K8S_BIN_DIR)
mkdir -p "$BIN"
# One build at a time per cache (concurrent ensure.sh callers would write the same files).
exec 8>"$DSA_CACHE/build.lock"
flock 8

build_one() { # $1 = binary name, $2 = package, rest = symlink names
  local main=$1 pkg=$2; shift 2
  if [ ! -x "$BIN/$main" ]; then
    log "building $main ($K8S_VERSION) into $BIN (cold: many minutes; log: $DSA_CACHE/build-$main.log)"
    local minor=${K8S_VERSION#v1.}; minor=${minor%%.*}
    local vflags="" vp
    # Version stamping exactly like upstream hack/lib/version.sh (both variable sets).
    for vp in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
      vflags+=" -X $vp.gitVersion=$K8S_VERSION -X $vp.gitMajor=1 -X $vp.gitMinor=$minor"
      vflags+=" -X $vp.gitTreeState=clean -X $vp.buildDate=1970-01-01T00:00:00Z"
    done
    local start=$SECONDS
    # -p: 2 cores; more parallel compiles only add memory pressure. CGO off: static binaries.
    ( cd "$CLUSTER_DIR/k8s" && CGO_ENABLED=0 GOFLAGS=-mod=readonly \
        ${TIMEV[@]+"${TIMEV[@]}"} go build -p "${GO_BUILD_P:-2}" -trimpath -ldflags "-s -w$vflags" \
        -o "$BIN/$main.tmp" "$pkg" ) > "$DSA_CACHE/build-$main.log" 2>&1 \
      || { tail -30 "$DSA_CACHE/build-$main.log" >&2; die "build of $main failed"; }
    mv "$BIN/$main.tmp" "$BIN/$main"
    log "built $main in $((SECONDS-start))s; $(grep -E 'Maximum resident' "$DSA_CACHE/build-$main.log" | sed 's/^\s*//')"
  fi
  local n
  for n in "$@"; do ln -sfn "$main" "$BIN/$n"; done
}

# kubectl: upstream's main, standalone (small enough to copy into images, e.g. the operator's);
# the harness uses it too, so no kubectl from the machine image is needed.
cp_tier()   { build_one kube-cp ./cmd/kube-cp kube-apiserver kube-controller-manager kube-scheduler etcd
              build_one kubectl k8s.io/kubernetes/cmd/kubectl; }
node_tier() { build_one kube-node ./cmd/kube-node kubelet kube-proxy; }
case "$tier" in
  cp)   cp_tier ;;
  node) node_tier ;;
  all)  cp_tier; node_tier ;;
  *) die "usage: build-bins.sh cp|node|all" ;;
esac
# Keep the two newest binary sets of this cache (the current one and its predecessor, which a
# still-running cluster may be using); older ones are ~300 MB each.
ls -1dt "$DSA_CACHE"/bin/v1.*-* 2>/dev/null | tail -n +3 | while read -r old; do
  [ "$old" = "$BIN" ] || rm -rf "$old"
done
echo "$BIN"
