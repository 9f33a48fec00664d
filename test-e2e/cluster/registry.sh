#!/usr/bin/env bash
# Starts (or reuses) the local plain-HTTP image registry (Debian's docker-registry, distribution
# 2.8) on <node-ip>:$REGISTRY_PORT. The node IP (not 127.0.0.1) is what both containerd on the
# host and pods (e.g. kaniko pushing) can reach. Storage is under $DSA_CACHE/registry and survives
# cluster-down, so images are built once per machine.
# Usage: registry.sh up|down
set -euo pipefail
source "$(dirname "$0")/lib.sh"
case "${1:-up}" in
  up)
    registry_up && exit 0
    mkdir -p "$DSA_CACHE/registry" "$DSA_RUN"
    cat > "$DSA_RUN/registry.yml" <<YML
version: 0.1
log: {level: warn, accesslog: {disabled: true}}
storage:
  filesystem: {rootdirectory: $DSA_CACHE/registry}
  delete: {enabled: true}
http: {addr: "$(registry_addr)"}
YML
    stop_proc registry 5
    start_proc registry /usr/bin/docker-registry serve "$DSA_RUN/registry.yml"
    wait_for registry 20 registry_up
    ;;
  down) stop_proc registry 5 ;;
  *) die "usage: registry.sh up|down" ;;
esac
