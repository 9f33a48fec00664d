# Shared settings for the dsa local cluster scripts. Sourced, not executed.
# Every path can be overridden from the environment (the Makefile passes its ?= variables).
CLUSTER_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
DSA_CACHE=${DSA_CACHE:-$HOME/.cache/dsa}
K8S_VERSION=${K8S_VERSION:-v1.33.13}
# Run dir: all cluster state (PKI, configs, containerd root, kubelet dir, logs). etcd data is a tmpfs inside it.
DSA_RUN=${DSA_RUN:-$DSA_CACHE/run}
DSA_LOGS=${DSA_LOGS:-$DSA_CACHE/logs}   # kept after cluster-down (moved to logs.prev)
DSA_ENV_FILE=${DSA_ENV_FILE:-$DSA_CACHE/cluster.env}
SERVICE_CIDR=${SERVICE_CIDR:-10.96.0.0/16}
SERVICE_VIP=${SERVICE_VIP:-10.96.0.1}
# Pod CIDR: clear of docker0 (172.17/16), the service CIDR and containerd's default 10.88/16.
POD_CIDR=${POD_CIDR:-10.244.0.0/16}
NODE_NAME=${NODE_NAME:-dsa-node}
REGISTRY_PORT=${REGISTRY_PORT:-5000}
APISERVER_PORT=${APISERVER_PORT:-6443}
# Image tags: never :latest. Bump when an image's content recipe changes.
IMAGE_TAG=${IMAGE_TAG:-v2}   # v2: applets at their usual paths (/usr/bin/env for npm)

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
# GNU time -v around builds reports wall time and peak RSS in the build logs (absent on macOS).
TIMEV=(); [ -x /usr/bin/time ] && /usr/bin/time -v true >/dev/null 2>&1 && TIMEV=(/usr/bin/time -v)
K8S_BIN_DIR() { echo "$DSA_CACHE/bin/$(k8s_bin_key)"; }

# ---- process helpers: every component is a plain background process with a pid file ----
PIDS=$DSA_RUN/pids
# start_proc NAME CMD...   (stdout+stderr -> $DSA_LOGS/NAME.log; own session so it outlives the caller)
start_proc() {
  local name=$1; shift
  mkdir -p "$PIDS" "$DSA_LOGS"
  if proc_alive "$name"; then return 0; fi
  # 9>&-: do not hand the cluster lock fd to long-lived daemons (they would hold the lock forever).
  setsid "$@" </dev/null >>"$DSA_LOGS/$name.log" 2>&1 8>&- 9>&- &
  echo $! > "$PIDS/$name.pid"
}
# Alive = the recorded pid exists AND is still that component (pids are reused after a reboot).
proc_alive() {
  local f=$PIDS/$1.pid pid
  [ -f "$f" ] || return 1
  pid=$(cat "$f")
  kill -0 "$pid" 2>/dev/null && tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -q -- "$1"
}
# stop_proc NAME [timeout-seconds]: SIGTERM, then SIGKILL after the timeout.
stop_proc() {
  local name=$1 t=${2:-15} f=$PIDS/$1.pid pid i
  [ -f "$f" ] || return 0
  pid=$(cat "$f")
  # Only a live process that is still that component: a stale pid file (processes killed, pids
  # reused) must neither abort the caller nor signal an unrelated process.
  if proc_alive "$name"; then
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < t * 10; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && { log "$name did not stop in ${t}s; SIGKILL"; kill -KILL "$pid" 2>/dev/null || true; sleep 0.2; }
    [ "${DSA_DEBUG:-0}" = 1 ] && log "stopped $name in $((i / 10)).$((i % 10))s"
  fi
  rm -f "$f"
}
# stop_procs TIMEOUT NAME...: like stop_proc, but signals all first and waits for them together.
stop_procs() {
  local t=$1 n; shift
  for n in "$@"; do if proc_alive "$n"; then kill -TERM "$(cat "$PIDS/$n.pid")" 2>/dev/null || true; fi; done
  for n in "$@"; do stop_proc "$n" "$t"; done
}
# The cluster's own processes (any tier), for "is anything of ours still running?".
ALL_PROCS=(etcd kube-apiserver kube-controller-manager kube-scheduler registry containerd kubelet kube-proxy)
any_proc_alive() { local n; for n in "${ALL_PROCS[@]}"; do proc_alive "$n" && return 0; done; return 1; }
# State a dead cluster leaves behind: pid files, or mounts under the run/state dirs.
stale_state() {
  compgen -G "$PIDS/*.pid" >/dev/null && return 0
  local b
  for b in "$DSA_RUN" "$CONTAINERD_STATE"; do
    [ -e "$b" ] || continue
    b=$(readlink -f "$b")
    awk -v b="$b" '$5 == b || index($5, b "/") == 1 {found=1} END {exit !found}' /proc/self/mountinfo && return 0
  done
  return 1
}
# wait_for DESCRIPTION TIMEOUT CMD...  (polls every 0.25s)
wait_for() {
  local what=$1 t=$2; shift 2
  local end=$((SECONDS + t))
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -lt $end ] || { log "timeout (${t}s) waiting for $what; logs in $DSA_LOGS"; return 1; }
    sleep 0.25
  done
}
# kubectl: ours (same version, built with the cluster) unless KUBECTL is set.
kc() { "${KUBECTL:-$(K8S_BIN_DIR)/kubectl}" --kubeconfig "$DSA_RUN/admin.kubeconfig" "$@"; }
apiserver_ready() { curl -fs --max-time 2 --cacert "$DSA_RUN/pki/ca.crt" "https://127.0.0.1:$APISERVER_PORT/readyz" >/dev/null; }
etcd_healthy() { curl -fs --max-time 2 "http://127.0.0.1:$ETCD_PORT/health" | grep -q '"health":"true"'; }
ETCD_PORT=${ETCD_PORT:-12379}        # not 2379: do not collide with any other etcd on the machine
ETCD_PEER_PORT=${ETCD_PEER_PORT:-12380}
CONTAINERD_SOCK=${CONTAINERD_SOCK:-/run/dsa-containerd/containerd.sock}
CONTAINERD_STATE=${CONTAINERD_STATE:-/run/dsa-containerd}
registry_addr() { echo "$(node_ip):$REGISTRY_PORT"; }
registry_up() { curl -fs --max-time 2 "http://$(registry_addr)/v2/" >/dev/null; }

# ---- image names (all in the local registry; never :latest) ----
HELM_VERSION=${HELM_VERSION:-v3.22.0}
KANIKO_MODULE=${KANIKO_MODULE:-github.com/chainguard-dev/kaniko}
KANIKO_VERSION=${KANIKO_VERSION:-v1.25.0}
KUSTOMIZE_VERSION=${KUSTOMIZE_VERSION:-v5.8.1}
HELM_BIN_DIR() { echo "$DSA_CACHE/bin/helm-$HELM_VERSION"; }
busybox_version() { dpkg-query -W -f '${Version}' busybox-static 2>/dev/null | sed 's/^[0-9]*://; s/[-+~].*//'; }
node_version() { node --version 2>/dev/null | sed 's/^v//'; }
IMG_PAUSE() { echo "$(registry_addr)/dsa/pause:3.10-$IMAGE_TAG"; }
IMG_BUSYBOX() { echo "$(registry_addr)/dsa/busybox:$(busybox_version)-$IMAGE_TAG"; }
IMG_NODE() { echo "$(registry_addr)/dsa/node:$(node_version)-$IMAGE_TAG"; }
IMG_HELM() { echo "$(registry_addr)/dsa/helm:$HELM_VERSION-$IMAGE_TAG"; }
IMG_KANIKO() { echo "$(registry_addr)/dsa/kaniko-executor:$KANIKO_VERSION-$IMAGE_TAG"; }
