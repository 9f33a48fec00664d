#!/usr/bin/env bash
# Builds (or reuses) the Go programs a kind node image needs beyond the harness's own Kubernetes
# binaries, each from its Go module, into ${DSA_CACHE}/bin/<name>-<version-or-key>/. Prints the binary path.
# Usage: build-go.sh kind|kubeadm|crictl|kindnetd|local-path-provisioner|coredns|etcd|pause
# A binary that exists for the same key is reused without running go (like ../cluster/build-bins.sh).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/../cluster/lib.sh"
source "$HERE/versions.sh"
mkdir -p "$DSA_CACHE/bin"
exec 7>"$DSA_CACHE/build-kind-go.lock"
flock 7

# gobuild NAME DIR -- command...: runs the command (which must write DIR/NAME.tmp) once per DIR.
gobuild() {
  local name=$1 dir=$2; shift 3
  if [ ! -x "$dir/$name" ]; then
    mkdir -p "$dir"
    local start=$SECONDS logf=$DSA_CACHE/build-kind-$name.log
    log "building $name into $dir (log: $logf)"
    ( export CGO_ENABLED=0; ${TIMEV[@]+"${TIMEV[@]}"} "$@" ) > "$logf" 2>&1 \
      || { tail -25 "$logf" >&2; die "build of $name failed"; }
    mv "$dir/$name.tmp" "$dir/$name"
    log "built $name in $((SECONDS - start))s; $(grep -E 'Maximum resident' "$logf" | sed 's/^\s*//')"
  fi
  echo "$dir/$name"
}
# goinstall NAME DIR PKG@VERSION [LDFLAGS]: `go install` a module's main (its own go.mod decides dependencies).
goinstall() {
  local name=$1 dir=$2 pkg=$3 ld=${4:-}
  gobuild "$name" "$dir" -- bash -c "
    d=\$(mktemp -d); trap 'rm -rf \"\$d\"' EXIT
    GOBIN=\$d GOFLAGS=-mod=mod go install -p ${GO_BUILD_P:-2} -trimpath -ldflags '-s -w $ld' '$pkg'
    mv \"\$d/\$(basename '${pkg%@*}')\" '$dir/$name.tmp'"
}
hash_of() { cat "$@" | { cat; go env GOVERSION; } | sha256sum | cut -c1-12; }

case "${1:-}" in
  kind)
    goinstall kind "$DSA_CACHE/bin/kind-$KIND_VERSION" "sigs.k8s.io/kind@$KIND_VERSION" ;;
  crictl)
    goinstall crictl "$DSA_CACHE/bin/crictl-$CRICTL_VERSION" "sigs.k8s.io/cri-tools/cmd/crictl@$CRICTL_VERSION" \
      "-X sigs.k8s.io/cri-tools/pkg/version.Version=$CRICTL_VERSION" ;;
  local-path-provisioner)
    goinstall local-path-provisioner "$DSA_CACHE/bin/local-path-provisioner-$LOCAL_PATH_VERSION" \
      "github.com/rancher/local-path-provisioner@$LOCAL_PATH_VERSION" "-X main.VERSION=$LOCAL_PATH_VERSION" ;;
  coredns)
    goinstall coredns "$DSA_CACHE/bin/coredns-$COREDNS_VERSION" "github.com/coredns/coredns@$COREDNS_VERSION" ;;
  kindnetd)
    # kind's own kindnetd, vendored (its module is not on the Go proxy; see kindnetd/README.md).
    dir=$DSA_CACHE/bin/kindnetd-$(hash_of "$HERE"/kindnetd/go.* "$HERE"/kindnetd/cmd/kindnetd/*.go)
    gobuild kindnetd "$dir" -- bash -c "cd '$HERE/kindnetd' && GOFLAGS=-mod=readonly go build -p ${GO_BUILD_P:-2} -trimpath -ldflags '-s -w' -o '$dir/kindnetd.tmp' ./cmd/kindnetd" ;;
  etcd)
    # etcd at the version kubeadm pins for this Kubernetes (the harness's kube-cp carries 3.5.21).
    dir=$DSA_CACHE/bin/etcd-$ETCD_VERSION-$(hash_of "$HERE"/etcd/go.* "$HERE"/etcd/main.go)
    gobuild etcd "$dir" -- bash -c "cd '$HERE/etcd' && GOFLAGS=-mod=readonly go build -p ${GO_BUILD_P:-2} -trimpath -ldflags '-s -w' -o '$dir/etcd.tmp' ." ;;
  pause)
    # The harness's own pause (registry.k8s.io/pause cannot be pulled here).
    dir=$DSA_CACHE/bin/pause-$(hash_of "$CLUSTER_DIR"/images/pause/go.mod "$CLUSTER_DIR"/images/pause/main.go)
    gobuild pause "$dir" -- bash -c "cd '$CLUSTER_DIR/images/pause' && go build -trimpath -ldflags '-s -w' -o '$dir/pause.tmp' ." ;;
  kubeadm)
    # kubeadm from the same k8s.io/kubernetes module as the harness's binaries: a scratch copy of
    # ../cluster/k8s/go.mod (+ the replace block) that `go build -mod=mod` completes for cmd/kubeadm.
    # (bump the "r1" below when this recipe changes)
    dir=$DSA_CACHE/bin/kubeadm-$K8S_VERSION-$(echo r1 | hash_of "$CLUSTER_DIR"/k8s/go.mod "$CLUSTER_DIR"/k8s/go.sum -)
    minor=${K8S_VERSION#v1.}; minor=${minor%%.*}
    vflags=""
    for vp in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
      vflags+=" -X $vp.gitVersion=$K8S_VERSION -X $vp.gitMajor=1 -X $vp.gitMinor=$minor"
      vflags+=" -X $vp.gitTreeState=clean -X $vp.buildDate=1970-01-01T00:00:00Z"
    done
    gobuild kubeadm "$dir" -- bash -c "
      m=\$(mktemp -d); trap 'rm -rf \"\$m\"' EXIT
      cp '$CLUSTER_DIR/k8s/go.mod' '$CLUSTER_DIR/k8s/go.sum' \"\$m/\"
      cd \"\$m\" && GOFLAGS=-mod=mod go build -p ${GO_BUILD_P:-2} -trimpath -ldflags '-s -w$vflags' -o '$dir/kubeadm.tmp' k8s.io/kubernetes/cmd/kubeadm" ;;
  *) die "usage: build-go.sh kind|kubeadm|crictl|kindnetd|local-path-provisioner|coredns|etcd|pause" ;;
esac
