#!/usr/bin/env bash
# Docker for the kind tier. `up`: if a Docker daemon answers (the user's own, or one we started
# earlier) it is left alone; otherwise Debian's dockerd is started as a plain process with settings
# that coexist with the harness cluster (test-e2e/cluster) on the same machine:
#   * its own data root in $DSA_CACHE/kind/docker (images and the node image survive restarts);
#   * no default bridge (--bridge=none: no docker0; kind and its registry use kind's own network),
#     user networks (kind's) from 172.21.0.0/16 in /24s: clear of the harness's pod CIDR 10.244/16,
#     service CIDR 10.96/12 and the node's network;
#   * net.ipv4.ip_forward is set to 1 first, so dockerd leaves the FORWARD policy as it is
#     (it switches it to DROP only when it has to enable forwarding itself, which would cut the
#     harness's pod traffic on cni0);
#   * an OCI runtime wrapper as default runtime (runc-bounded.sh: no CAP_SYS_RESOURCE on our VMs);
#   * --insecure-registry 172.21.0.0/16: the kind registry (DSA_REGISTRY) speaks plain HTTP, and the
#     agent's local builds (DOCKER_HOST in the kind env) push to it;
#   * like the harness's DSA-GUARD, containers on our networks may reach each other and this
#     machine but nothing routed off it (a rule in DOCKER-USER, docker's chain for user rules).
# `down`: stops the dockerd this script started (its containers stop with it); never another one.
# `env`: prints nothing if `docker` reaches a daemon, else fails.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/../cluster/lib.sh"
source "$HERE/docker-env.sh"
D=$DSA_CACHE/kind
PIDF=$D/dockerd.docker.pid   # written by dockerd itself (--pidfile)
POOL_NET=172.21.0.0/16   # every network of this dockerd (it has no docker0)
GUARD=(-s "$POOL_NET" ! -d "$POOL_NET" -m comment --comment dsa-kind-guard -j REJECT)
ours() { [ -f "$PIDF" ] && kill -0 "$(cat "$PIDF")" 2>/dev/null && tr '\0' ' ' < "/proc/$(cat "$PIDF")/cmdline" | grep -q "dockerd.*$D/docker"; }
answers() { timeout 10 docker info >/dev/null 2>&1; }

case "${1:-up}" in
  up)
    if answers; then
      ours && { iptables -C DOCKER-USER "${GUARD[@]}" 2>/dev/null || iptables -I DOCKER-USER 1 "${GUARD[@]}"; }
      exit 0
    fi
    [ "$(id -u)" = 0 ] || die "no Docker daemon answers, and starting one needs root"
    [ -x /usr/sbin/dockerd ] || die "no Docker daemon answers and /usr/sbin/dockerd is missing (test-e2e/kind/install-deps.sh)"
    ours && die "our dockerd (pid $(cat "$PIDF")) runs but does not answer; see $DSA_LOGS/kind-dockerd.log"
    if [ -S /var/run/docker.sock ]; then
      # a daemon that listens but does not answer is someone else's problem; a socket nobody listens on is stale
      ss -xl 2>/dev/null | grep -q '/var/run/docker.sock ' && die "a process listens on /var/run/docker.sock but no Docker daemon answers; not starting a second dockerd"
      rm -f /var/run/docker.sock
    fi
    mkdir -p "$D/bin" "$D/docker" "$DSA_LOGS"
    install -m 0755 "$HERE/runc-bounded.sh" "$D/bin/runc-bounded"
    sysctl -qw net.ipv4.ip_forward=1
    log "starting Debian's dockerd (data root $D/docker, log $DSA_LOGS/kind-dockerd.log)"
    ( cd / && exec setsid /usr/sbin/dockerd --data-root "$D/docker" --pidfile "$PIDF" \
        --bridge=none --default-address-pool base=172.21.0.0/16,size=24 \
        --add-runtime "dsa-runc=$D/bin/runc-bounded" --default-runtime dsa-runc \
        --insecure-registry "$POOL_NET" \
        </dev/null >>"$DSA_LOGS/kind-dockerd.log" 2>&1 9>&- 8>&- 7>&- 6>&- & )
    wait_for dockerd 60 answers || { tail -20 "$DSA_LOGS/kind-dockerd.log" >&2; die "dockerd did not come up"; }
    iptables -C DOCKER-USER "${GUARD[@]}" 2>/dev/null || iptables -I DOCKER-USER 1 "${GUARD[@]}"
    ;;
  down)
    ours || exit 0
    pid=$(cat "$PIDF")
    log "stopping our dockerd (pid $pid)"
    kill -TERM "$pid"
    for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
    iptables -D DOCKER-USER "${GUARD[@]}" 2>/dev/null || true
    rm -f "$PIDF"
    ;;
  *) die "usage: dockerd.sh up|down" ;;
esac
