#!/usr/bin/env bash
# Tears the dsa test cluster down completely: no process, mount, network device or iptables
# chain of ours is left behind. Keeps the caches (binaries, registry storage, buildah storage)
# and moves the component logs to $DSA_LOGS.prev. Safe to run when nothing is up.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
[ "$(id -u)" = 0 ] || die "must run as root"
mkdir -p "$DSA_CACHE"
exec 9>"$DSA_CACHE/cluster.lock"
flock 9
T0=$SECONDS
BIN=$(K8S_BIN_DIR)
CTR=(ctr -a "$CONTAINERD_SOCK" -n k8s.io)
ctr_tasks() { "${CTR[@]}" tasks ls -q 2>/dev/null || true; }

# 1. Let the kubelet tear pods down properly (CNI DEL: veth, IPAM, CNI iptables chains).
#    Controllers are stopped first so nothing re-creates pods meanwhile.
if proc_alive kubelet && proc_alive containerd && apiserver_ready 2>/dev/null; then
  stop_procs 5 kube-controller-manager kube-scheduler
  kc delete pods --all --all-namespaces --grace-period=0 --force --wait=false >/dev/null 2>&1 || true
  end=$((SECONDS + 30))
  while [ -n "$(ctr_tasks)" ] && [ $SECONDS -lt $end ]; do sleep 0.5; done
  # The sandboxes are gone once no pod netns is left under containerd's state dir.
  while find "$CONTAINERD_STATE" -path '*netns*' -type f 2>/dev/null | grep -q . && [ $SECONDS -lt $end ]; do sleep 0.5; done
fi
stop_procs 10 kube-proxy kubelet kube-controller-manager kube-scheduler

# 2. Whatever is still running in containerd: kill hard, delete tasks (unmounts rootfs) and containers.
if proc_alive containerd; then
  for t in $(ctr_tasks); do "${CTR[@]}" tasks kill -a -s SIGKILL "$t" >/dev/null 2>&1 || true; done
  sleep 0.5
  for t in $(ctr_tasks); do "${CTR[@]}" tasks delete -f "$t" >/dev/null 2>&1 || true; done
  for c in $("${CTR[@]}" containers ls -q 2>/dev/null); do "${CTR[@]}" containers delete "$c" >/dev/null 2>&1 || true; done
fi
stop_proc containerd 10
# Shims of OUR containerd only (matched by our socket path), by pid.
for pid in $(pgrep -f -- "containerd-shim-runc-v2 .*-address $CONTAINERD_SOCK" || true); do kill -KILL "$pid" 2>/dev/null || true; done

# 3. Control plane and registry (and the build dockerd, if we started it).
"$CLUSTER_DIR/dockerd.sh" down || true
stop_procs 15 kube-apiserver registry
stop_proc etcd 10

# 4. iptables: kube-proxy's own cleanup, then sweep every KUBE-*/CNI-*/DSA-* chain and the jumps to them.
[ -x "$BIN/kube-proxy" ] && "$BIN/kube-proxy" --cleanup >/dev/null 2>&1 || true
for ipt in iptables ip6tables; do
  command -v $ipt >/dev/null || continue
  for table in filter nat mangle raw; do
    rules=$($ipt -t $table -S 2>/dev/null) || continue
    # jumps from built-in chains into ours
    while IFS= read -r r; do
      [ -n "$r" ] && eval "$ipt -t $table -D ${r#-A }" 2>/dev/null || true
    done < <(echo "$rules" | grep -E -- '^-A [A-Z]+ .*-j (KUBE|CNI|DSA)-' | grep -vE -- '^-A (KUBE|CNI|DSA)-' || true)
    chains=$(echo "$rules" | awk '/^-N (KUBE|CNI|DSA)-/{print $2}')
    for ch in $chains; do $ipt -t $table -F "$ch" 2>/dev/null || true; done
    for ch in $chains; do $ipt -t $table -X "$ch" 2>/dev/null || true; done
  done
done

# 5. Mounts: pod volumes (tmpfs/projected), rootfs overlays, shm, netns bind mounts, etcd tmpfs.
#    Deepest first, so nothing below the kubelet dir is removed while still mounted.
unmount_under() {
  local base=$1 m
  [ -e "$base" ] || return 0
  base=$(readlink -f "$base")
  for m in $(awk -v b="$base" '$5 == b || index($5, b "/") == 1 {print $5}' /proc/self/mountinfo | sort -r); do
    umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || log "could not unmount $m"
  done
}
unmount_under "$CONTAINERD_STATE"
unmount_under "$DSA_RUN"

# 6. Network devices: the bridge (its veths disappear with the pod netns).
ip link show cni0 >/dev/null 2>&1 && ip link delete cni0 2>/dev/null || true

# 7. State. --one-file-system: never follow into anything still mounted.
left=$(awk -v b="$(readlink -f "$DSA_RUN" 2>/dev/null || echo "$DSA_RUN")" 'index($5, b) == 1' /proc/self/mountinfo | wc -l)
[ "$left" = 0 ] || die "$left mounts still under $DSA_RUN; not deleting it"
rm -rf --one-file-system "$DSA_RUN" "$CONTAINERD_STATE" /run/dsa-buildah
if [ -d "$DSA_LOGS" ]; then rm -rf "$DSA_LOGS.prev"; mv "$DSA_LOGS" "$DSA_LOGS.prev"; fi
rm -f "$DSA_ENV_FILE"
log "cluster down in $((SECONDS - T0))s (previous logs: $DSA_LOGS.prev)"
