#!/usr/bin/env bash
# Brings up the dsa local test cluster (or reuses a healthy one).
# Usage: cluster-up.sh controlplane|node
#   controlplane: etcd (tmpfs) + kube-apiserver + kube-controller-manager + kube-scheduler. No root
#                 networking, no containers; pods stay Pending. Seconds to start.
#   node:         controlplane + local registry + containerd + CNI bridge + kubelet + kube-proxy;
#                 real pods, exec/logs/port-forward, Service VIPs.
# All state lives in $DSA_RUN; component logs in $DSA_LOGS. Writes $DSA_ENV_FILE.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
tier=${1:-node}
case "$tier" in controlplane|node) ;; *) die "usage: cluster-up.sh controlplane|node" ;; esac
[ "$(id -u)" = 0 ] || die "must run as root (mounts, iptables, containerd)"
NODE_IP=$(node_ip)
mkdir -p "$DSA_RUN" "$DSA_LOGS" "$PIDS"
# Serialize concurrent callers (several test suites may call ensure.sh at once).
exec 9>"$DSA_CACHE/cluster.lock"
flock 9
T0=$SECONDS

"$CLUSTER_DIR/install-deps.sh"
BIN=$("$CLUSTER_DIR/build-bins.sh" "$([ "$tier" = node ] && echo all || echo cp)")
"$CLUSTER_DIR/pki.sh"
P=$DSA_RUN/pki

# Leftovers of a cluster whose processes are all gone (killed with their session, container
# restarted): containerd would spend its start recovering dead shims (the kubelet then fails its
# CRI check) and the old pod mounts would outlive us. Clean up completely, then start fresh.
if ! any_proc_alive && stale_state; then
  log "a previous cluster's processes are gone but its state is left; cleaning it up first"
  flock -u 9; "$CLUSTER_DIR/cluster-down.sh"; exec "$0" "$@"
fi

# A node IP change (new VM) invalidates everything; start from scratch.
if [ -f "$DSA_RUN/node-ip" ] && [ "$(cat "$DSA_RUN/node-ip")" != "$NODE_IP" ]; then
  log "node IP changed; tearing down the old cluster"; flock -u 9; "$CLUSTER_DIR/cluster-down.sh"; exec "$0" "$@"
fi
echo "$NODE_IP" > "$DSA_RUN/node-ip"

# ---------------- tier: controlplane ----------------
if ! proc_alive etcd; then
  mkdir -p "$DSA_RUN/etcd"
  mountpoint -q "$DSA_RUN/etcd" || mount -t tmpfs -o size=1g,mode=0700 dsa-etcd "$DSA_RUN/etcd"
  start_proc etcd "$BIN/etcd" --name dsa --data-dir "$DSA_RUN/etcd/data" \
    --listen-client-urls "http://127.0.0.1:$ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
    --listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
    --initial-cluster "dsa=http://127.0.0.1:$ETCD_PEER_PORT" --unsafe-no-fsync --log-level warn \
    --quota-backend-bytes 900000000
fi
wait_for etcd 30 etcd_healthy

if ! proc_alive kube-apiserver; then
  start_proc kube-apiserver "$BIN/kube-apiserver" \
    --etcd-servers "http://127.0.0.1:$ETCD_PORT" \
    --advertise-address "$NODE_IP" --secure-port "$APISERVER_PORT" \
    --tls-cert-file "$P/apiserver.crt" --tls-private-key-file "$P/apiserver.key" \
    --client-ca-file "$P/ca.crt" \
    --requestheader-client-ca-file "$P/ca.crt" --requestheader-allowed-names front-proxy-client \
    --requestheader-username-headers X-Remote-User --requestheader-group-headers X-Remote-Group \
    --requestheader-extra-headers-prefix X-Remote-Extra- \
    --service-cluster-ip-range "$SERVICE_CIDR" \
    --service-account-issuer https://kubernetes.default.svc.cluster.local \
    --service-account-key-file "$P/sa.pub" --service-account-signing-key-file "$P/sa.key" \
    --authorization-mode Node,RBAC --enable-admission-plugins NodeRestriction \
    --allow-privileged=true \
    --kubelet-client-certificate "$P/apiserver-kubelet-client.crt" --kubelet-client-key "$P/apiserver-kubelet-client.key" \
    --kubelet-certificate-authority "$P/ca.crt" --kubelet-preferred-address-types InternalIP \
    --profiling=false
fi
wait_for kube-apiserver 90 apiserver_ready
# The apiserver's client cert must be allowed to call the kubelet API (exec/logs/port-forward).
kc get clusterrolebinding dsa-apiserver-kubelet-admin >/dev/null 2>&1 || \
  kc create clusterrolebinding dsa-apiserver-kubelet-admin --clusterrole=system:kubelet-api-admin \
    --user=kube-apiserver-kubelet-client >/dev/null

start_proc kube-controller-manager "$BIN/kube-controller-manager" \
  --kubeconfig "$DSA_RUN/kcm.kubeconfig" \
  --authentication-kubeconfig "$DSA_RUN/kcm.kubeconfig" --authorization-kubeconfig "$DSA_RUN/kcm.kubeconfig" \
  --service-account-private-key-file "$P/sa.key" --root-ca-file "$P/ca.crt" \
  --cluster-signing-cert-file "$P/ca.crt" --cluster-signing-key-file "$P/ca.key" \
  --use-service-account-credentials=true --leader-elect=false --bind-address 127.0.0.1 \
  --profiling=false
start_proc kube-scheduler "$BIN/kube-scheduler" \
  --kubeconfig "$DSA_RUN/scheduler.kubeconfig" \
  --authentication-kubeconfig "$DSA_RUN/scheduler.kubeconfig" --authorization-kubeconfig "$DSA_RUN/scheduler.kubeconfig" \
  --leader-elect=false --bind-address 127.0.0.1 --profiling=false
# The default ServiceAccount (created by KCM) is what makes the namespace usable for pods.
wait_for "serviceaccount default/default" 60 kc -n default get serviceaccount default
echo controlplane > "$DSA_RUN/tier"

if [ "$tier" = node ]; then
  "$CLUSTER_DIR/node-up.sh"
  echo node > "$DSA_RUN/tier"
fi

"$CLUSTER_DIR/env.sh" > "$DSA_ENV_FILE.$$" && mv -f "$DSA_ENV_FILE.$$" "$DSA_ENV_FILE"
log "tier $tier up in $((SECONDS - T0))s (logs: $DSA_LOGS, env: $DSA_ENV_FILE)"
