#!/usr/bin/env bash
# Builds (or reuses) the Go tools that come from their own modules via `go install` into the
# cache: helm (helm.sh/helm/v3), the kaniko executor (chainguard-dev fork) and kustomize
# (sigs.k8s.io/kustomize/kustomize/v5). Prints the binary path.
# Usage: tools.sh helm|kaniko|kustomize
set -euo pipefail
source "$(dirname "$0")/lib.sh"
mkdir -p "$DSA_CACHE"
# One build at a time per cache (concurrent callers would write the same files).
exec 8>"$DSA_CACHE/build-tools.lock"
flock 8
gobuild() { # name dir pkg@version ldflags
  local name=$1 dir=$2 pkg=$3 ld=$4 start=$SECONDS
  [ -x "$dir/$name" ] && { echo "$dir/$name"; return; }
  mkdir -p "$dir"
  log "building $name ($pkg) into $dir (log: $DSA_CACHE/build-$name.log)"
  # Separate `go install pkg@version`: the tool's own go.mod decides its dependencies.
  CGO_ENABLED=0 GOBIN="$dir" GOFLAGS=-mod=mod ${TIMEV[@]+"${TIMEV[@]}"} \
    go install -p "${GO_BUILD_P:-2}" -trimpath -ldflags "-s -w $ld" "$pkg" > "$DSA_CACHE/build-$name.log" 2>&1 \
    || { tail -20 "$DSA_CACHE/build-$name.log" >&2; die "go install $pkg failed"; }
  log "built $name in $((SECONDS-start))s; $(grep -E 'Maximum resident' "$DSA_CACHE/build-$name.log" | sed 's/^\s*//')"
  echo "$dir/$name"
}
case "${1:-}" in
  helm)
    gobuild helm "$(HELM_BIN_DIR)" "helm.sh/helm/v3/cmd/helm@$HELM_VERSION" \
      "-X helm.sh/helm/v3/internal/version.version=$HELM_VERSION -X helm.sh/helm/v3/internal/version.gitTreeState=clean" ;;
  kaniko)
    # Built from our module tools/kaniko (go.mod pins the fork; see the comment there).
    dir=$DSA_CACHE/bin/kaniko-$KANIKO_VERSION-$(sha256sum "$CLUSTER_DIR/tools/kaniko/go.sum" | cut -c1-8)
    if [ ! -x "$dir/executor" ]; then
      mkdir -p "$dir"; start=$SECONDS
      log "building kaniko executor ($KANIKO_MODULE $KANIKO_VERSION) into $dir (log: $DSA_CACHE/build-executor.log)"
      ( cd "$CLUSTER_DIR/tools/kaniko" && CGO_ENABLED=0 GOFLAGS=-mod=readonly ${TIMEV[@]+"${TIMEV[@]}"} \
          go build -p "${GO_BUILD_P:-2}" -trimpath -ldflags "-s -w -X $KANIKO_MODULE/pkg/version.version=$KANIKO_VERSION" \
          -o "$dir/executor.tmp" "$KANIKO_MODULE/cmd/executor" ) > "$DSA_CACHE/build-executor.log" 2>&1 \
        || { tail -20 "$DSA_CACHE/build-executor.log" >&2; die "kaniko build failed"; }
      mv "$dir/executor.tmp" "$dir/executor"
      log "built kaniko executor in $((SECONDS-start))s; $(grep -E 'Maximum resident' "$DSA_CACHE/build-executor.log" | sed 's/^\s*//')"
    fi
    echo "$dir/executor" ;;
  kustomize)
    gobuild kustomize "$DSA_CACHE/bin/kustomize-$KUSTOMIZE_VERSION" "sigs.k8s.io/kustomize/kustomize/v5@$KUSTOMIZE_VERSION" \
      "-X sigs.k8s.io/kustomize/api/provenance.version=$KUSTOMIZE_VERSION" ;;
  *) die "usage: tools.sh helm|kaniko|kustomize" ;;
esac
