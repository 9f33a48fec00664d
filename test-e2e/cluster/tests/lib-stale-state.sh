#!/usr/bin/env bash
# Checks the harness's process helpers against what a killed cluster leaves behind: pid files whose
# processes are gone or whose pids now belong to something else. CI once failed here: stop_procs
# aborted cluster-down (set -e on a failed kill) and left the old pod mounts in place.
# Runs without root and without a cluster, in a temp dir (static tier).
set -euo pipefail
tmp=$(mktemp -d)
sleep 300 & bystander=$!
trap 'kill $bystander 2>/dev/null || true; rm -rf "$tmp"' EXIT
export DSA_CACHE=$tmp DSA_RUN=$tmp/run CONTAINERD_STATE=$tmp/containerd-state
source "$(dirname "$0")/../lib.sh"
fails=0
ok() { echo "PASS $1"; }
ko() { echo "FAIL $1"; fails=$((fails + 1)); }

mkdir -p "$PIDS"
any_proc_alive && ko "no pid file: nothing alive" || ok "no pid file: nothing alive"
stale_state && ko "empty run dir is not stale state" || ok "empty run dir is not stale state"

# kubelet.pid names a dead pid; kube-proxy.pid a live process that is not kube-proxy (pid reuse).
( exit 0 ) & dead=$!; wait $dead || true
echo "$dead" > "$PIDS/kubelet.pid"
echo "$bystander" > "$PIDS/kube-proxy.pid"
any_proc_alive && ko "stale pid files: nothing alive" || ok "stale pid files: nothing alive"
stale_state && ok "pid files left behind are stale state" || ko "pid files left behind are stale state"
# In its own shell: errexit is off inside an `if` condition, so only a fresh `bash -e` shows it.
if bash -ec 'source "$1"; stop_procs 1 kube-proxy kubelet; echo reached-end' _ "$(dirname "$0")/../lib.sh" | grep -qx reached-end; then ok "stop_procs survives stale pid files under set -e"; else ko "stop_procs survives stale pid files under set -e"; fi
kill -0 $bystander 2>/dev/null && ok "stop_procs leaves a reused pid's process alone" || ko "stop_procs leaves a reused pid's process alone"
[ ! -e "$PIDS/kubelet.pid" ] && [ ! -e "$PIDS/kube-proxy.pid" ] && ok "stale pid files removed" || ko "stale pid files removed"

# A live component is still found and stopped (the bystander renamed by its pid file's name would
# not match; start a process whose command line names the component).
bash -c 'exec -a kube-scheduler sleep 300' & sched=$!
echo "$sched" > "$PIDS/kube-scheduler.pid"
any_proc_alive && ok "a live component is alive" || ko "a live component is alive"
stop_procs 1 kube-scheduler
kill -0 $sched 2>/dev/null && { ko "stop_procs stops a live component"; kill $sched; } || ok "stop_procs stops a live component"
echo "$fails failed"
[ $fails = 0 ]
