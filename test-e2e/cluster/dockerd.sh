#!/usr/bin/env bash
# A Docker daemon for the full-node tier: the agent's local builds (`build.docker`, custom builders
# that call `docker`) push to the harness registry, which speaks plain HTTP.
#   up    use a running daemon whose config already suits (it answers and trusts <node-ip>:5000 as an
#         insecure registry), else start Debian's dockerd as a plain process of ours:
#           * its own socket ($DOCKERD_SOCK), data root ($DSA_CACHE/docker/data) and exec root
#             ($DOCKERD_EXEC; its own managed containerd lives there), so it never meets another
#             dockerd on this machine (test-e2e/kind/dockerd.sh runs one on /var/run/docker.sock);
#           * --iptables=false --ip-masq=false --bridge=none: it touches neither iptables nor the
#             harness's networks (cni0, 10.244/16); build steps (RUN) get no network unless the image
#             asks for `network: host` — the harness has no outside network anyway;
#           * --insecure-registry <node-ip>:5000: pushes to the harness registry over plain HTTP.
#   host  prints the DOCKER_HOST value to use (nothing, exit 1, when no suitable daemon answers)
#   down  stops the dockerd this script started (its build containers stop with it); never another one
# test-e2e/cluster/README.md ("dockerd") describes the choice.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
D=$DSA_CACHE/docker
DOCKERD_SOCK=${DOCKERD_SOCK:-$D/docker.sock}
DOCKERD_EXEC=${DOCKERD_EXEC:-/run/dsa-docker}
PIDF=$DOCKERD_EXEC/dockerd.pid   # written by dockerd itself (--pidfile)
REG=$(registry_addr)

# info SOCKET: the daemon's /info (JSON) or failure.
info() { curl -fs --max-time 5 --unix-socket "$1" http://docker/info; }
# suits SOCKET: answers, and pushes to our registry over plain HTTP.
suits() {
  local i
  i=$(info "$1") || return 1
  jq -e --arg r "$REG" '.RegistryConfig.IndexConfigs[$r].Secure == false' >/dev/null <<<"$i"
}
ours() { [ -f "$PIDF" ] && kill -0 "$(cat "$PIDF")" 2>/dev/null && tr '\0' ' ' < "/proc/$(cat "$PIDF")/cmdline" 2>/dev/null | grep -q "dockerd.*$DOCKERD_SOCK"; }

host() {
  if suits "$DOCKERD_SOCK"; then echo "unix://$DOCKERD_SOCK"; return 0; fi
  if [ -S /var/run/docker.sock ] && suits /var/run/docker.sock; then echo "unix:///var/run/docker.sock"; return 0; fi
  return 1
}

case "${1:-up}" in
  up)
    host >/dev/null && exit 0
    [ "$(id -u)" = 0 ] || die "no suitable Docker daemon answers, and starting one needs root"
    [ -x /usr/sbin/dockerd ] || die "/usr/sbin/dockerd is missing (test-e2e/cluster/install-deps.sh installs docker.io)"
    ours && die "our dockerd (pid $(cat "$PIDF")) runs but does not answer on $DOCKERD_SOCK; see $DSA_LOGS/dockerd.log"
    mkdir -p "$D/data" "$DOCKERD_EXEC" "$DSA_LOGS"
    rm -f "$DOCKERD_SOCK"
    log "starting dockerd for local builds (socket $DOCKERD_SOCK, data root $D/data, log $DSA_LOGS/dockerd.log)"
    # 9>&- 8>&-: never hand a harness lock fd to the long-lived daemon. `exec`: no shell stays behind waiting
    # for it with the caller's stdout/stderr open (a `make test | tee` would then never see EOF and hang).
    ( cd / && exec setsid /usr/sbin/dockerd -H "unix://$DOCKERD_SOCK" --data-root "$D/data" --exec-root "$DOCKERD_EXEC" \
        --pidfile "$PIDF" --iptables=false --ip-masq=false --bridge=none \
        --insecure-registry "$REG" \
        </dev/null >>"$DSA_LOGS/dockerd.log" 2>&1 9>&- 8>&- & )
    wait_for dockerd 60 suits "$DOCKERD_SOCK" || { tail -20 "$DSA_LOGS/dockerd.log" >&2; die "dockerd did not come up"; }
    ;;
  host) host ;;
  down)
    ours || exit 0
    pid=$(cat "$PIDF")
    log "stopping the build dockerd (pid $pid)"
    kill -TERM "$pid"
    for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
    rm -f "$PIDF" "$DOCKERD_SOCK"
    ;;
  *) die "usage: dockerd.sh up|host|down" ;;
esac
