#!/bin/bash
# OCI runtime wrapper for the dockerd that e2e-kind.sh starts (never installed into a user's dockerd).
# Why: our CI VMs give root every capability except CAP_SYS_RESOURCE (it is not even in the bounding
# set), and Docker 20.10 asks runc for *all* capabilities of a --privileged container, so runc fails
# with "unable to apply caps: operation not permitted" and no kind node can start. containerd's CRI
# (the runtime inside the kind node) already asks only for the capabilities it holds; this does the
# same for dockerd: it removes from the OCI spec every capability outside our own bounding set, then
# execs the real runc with the same arguments.
set -euo pipefail
RUNC=${DSA_REAL_RUNC:-/usr/sbin/runc}
spec=
sub=
prev=
for a in "$@"; do
  case "$prev" in
    --bundle|-b) [ "$sub" = create ] || [ "$sub" = run ] && spec=$a/config.json ;;
    --process|-p) [ "$sub" = exec ] && spec=$a ;;
  esac
  case "$a" in
    --bundle=*) spec=${a#--bundle=}/config.json ;;
    --process=*) spec=${a#--process=} ;;
    create|run|exec) [ -z "$sub" ] && sub=$a ;;
  esac
  prev=$a
done
if [ -n "$sub" ] && [ -z "$spec" ] && [ "$sub" != exec ]; then spec=$PWD/config.json; fi
if [ -n "$spec" ] && [ -f "$spec" ]; then
  bnd=$((16#$(awk '/^CapBnd:/ {print $2}' /proc/self/status)))
  last=$(cat /proc/sys/kernel/cap_last_cap)
  names=(CHOWN DAC_OVERRIDE DAC_READ_SEARCH FOWNER FSETID KILL SETGID SETUID SETPCAP LINUX_IMMUTABLE
    NET_BIND_SERVICE NET_BROADCAST NET_ADMIN NET_RAW IPC_LOCK IPC_OWNER SYS_MODULE SYS_RAWIO SYS_CHROOT
    SYS_PTRACE SYS_PACCT SYS_ADMIN SYS_BOOT SYS_NICE SYS_RESOURCE SYS_TIME SYS_TTY_CONFIG MKNOD LEASE
    AUDIT_WRITE AUDIT_CONTROL SETFCAP MAC_OVERRIDE MAC_ADMIN SYSLOG WAKE_ALARM BLOCK_SUSPEND AUDIT_READ
    PERFMON BPF CHECKPOINT_RESTORE)
  missing=()
  for ((i = 0; i <= last && i < ${#names[@]}; i++)); do
    (( (bnd >> i) & 1 )) || missing+=("\"CAP_${names[i]}\"")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    m="[$(IFS=,; echo "${missing[*]}")]"
    path=.process.capabilities; [ "$sub" = exec ] && path=.capabilities
    tmp=$spec.bounded.$$
    jq --argjson m "$m" "if $path then $path |= with_entries(.value |= map(select(. as \$c | \$m | index(\$c) | not))) else . end" "$spec" > "$tmp"
    mv -f "$tmp" "$spec"
  fi
fi
exec "$RUNC" "$@"
