#!/usr/bin/env bash
# Builds an image from a Dockerfile with buildah (daemonless; no dockerd, no FORWARD DROP) and
# pushes it to a registry over plain HTTP (our local registry at $DSA_REGISTRY).
# Usage: build-image.sh <context-dir> <dockerfile> <dest-ref> [--build-arg K=V]... [--no-push]
# Example (operator engineer):
#   test-e2e/cluster/build-image.sh . operator/Dockerfile "$DSA_REGISTRY/dsa/operator:e2e" \
#       --build-arg NODE_IMAGE="$DSA_NODE_IMAGE"
# Base images (FROM ...) are pulled from the local registry without TLS. RUN steps run in a
# chroot (--isolation chroot) with the host network. Storage: vfs under $DSA_CACHE/buildah.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
[ $# -ge 3 ] || die "usage: build-image.sh <context-dir> <dockerfile> <dest-ref> [--build-arg K=V]... [--no-push]"
ctx=$1 dockerfile=$2 dest=$3; shift 3
[[ "$dest" == *:* && "$dest" != *:latest ]] || die "dest-ref needs an explicit tag other than :latest: $dest"
push=1 args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --no-push) push=0 ;;
    --build-arg) args+=(--build-arg "$2"); shift ;;
    --build-arg=*) args+=(--build-arg "${1#--build-arg=}") ;;
    *) die "unknown argument: $1" ;;
  esac
  shift
done
"$CLUSTER_DIR/install-deps.sh"
BUILDAH=(buildah --root "$DSA_CACHE/buildah/root" --runroot /run/dsa-buildah --storage-driver vfs)
log "building $dest from $dockerfile"
"${BUILDAH[@]}" bud --quiet --isolation chroot --tls-verify=false --format docker --layers=false \
  -f "$dockerfile" -t "$dest" "${args[@]}" "$ctx" >&2
if [ $push = 1 ]; then
  "${BUILDAH[@]}" push --quiet --tls-verify=false --format v2s2 "$dest" "docker://$dest" >&2
  log "pushed $dest"
fi
