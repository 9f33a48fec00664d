#!/usr/bin/env bash
# Node part of the "node" tier (called by cluster-up.sh after the control plane is up):
# host networking prerequisites, local registry + base images, containerd with CNI bridge,
# kubelet, kube-proxy. Reuses whatever is already running.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
NODE_IP=$(node_ip)
BIN=$(K8S_BIN_DIR)
P=$DSA_RUN/pki
REG=$(registry_addr)

# --- host networking: routing for pod traffic, bridged traffic through iptables (Service VIPs) ---
sysctl -qw net.ipv4.ip_forward=1
[ -e /proc/sys/net/bridge/bridge-nf-call-iptables ] || modprobe br_netfilter 2>/dev/null || true
[ -e /proc/sys/net/bridge/bridge-nf-call-iptables ] && sysctl -qw net.bridge.bridge-nf-call-iptables=1
# dockerd (if it ever ran) sets FORWARD DROP, which silently breaks pod traffic through cni0.
iptables -P FORWARD ACCEPT
# Network guard (our machines may send traffic only to loopback, this node and our own pods):
#  - pods may reach each other and this machine (INPUT), but nothing routed off the machine;
#  - a packet to an unallocated Service IP (no kube-proxy DNAT) is rejected instead of following
#    the default route. Removed by cluster-down (sweep of DSA-* chains).
iptables -N DSA-GUARD 2>/dev/null || iptables -F DSA-GUARD
iptables -A DSA-GUARD -d "$SERVICE_CIDR" -j REJECT
iptables -A DSA-GUARD -i cni0 ! -o cni0 -j REJECT
iptables -C FORWARD -j DSA-GUARD 2>/dev/null || iptables -I FORWARD 1 -j DSA-GUARD
iptables -N DSA-GUARD-OUT 2>/dev/null || iptables -F DSA-GUARD-OUT
iptables -A DSA-GUARD-OUT -d "$SERVICE_CIDR" -j REJECT
iptables -C OUTPUT -j DSA-GUARD-OUT 2>/dev/null || iptables -A OUTPUT -j DSA-GUARD-OUT

# --- registry + the images the node itself needs (pause = sandbox image, busybox = test image) ---
"$CLUSTER_DIR/images.sh" base

# --- containerd (Debian 1.6), own config/root/state/socket: never touches a system containerd ---
C=$DSA_RUN/containerd
mkdir -p "$C/certs.d/$REG" "$DSA_RUN/cni/net.d" "$DSA_RUN/cni/ipam"
cat > "$C/certs.d/$REG/hosts.toml" <<TOML
server = "http://$REG"
[host."http://$REG"]
  capabilities = ["pull", "resolve", "push"]
  skip_verify = true
TOML
cat > "$C/config.toml" <<TOML
version = 2
root = "$C/root"
state = "$CONTAINERD_STATE"
[grpc]
  address = "$CONTAINERD_SOCK"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$(IMG_PAUSE)"
  # netns bind mounts under our state dir (not /run/netns), so cluster-down finds all of ours.
  netns_mounts_under_state_dir = true
  enable_unprivileged_ports = false
  # Our CI VMs run root WITHOUT CAP_SYS_RESOURCE: runc cannot lower oom_score_adj below its
  # parent's (the sandbox wants -998: "failed to update /proc/self/oom_score_adj: Permission
  # denied"). Clamp container scores to containerd's own instead.
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$DSA_RUN/cni/net.d"
  [plugins."io.containerd.grpc.v1.cri".registry]
    config_path = "$C/certs.d"
TOML
# Bridge CNI. POD_CIDR avoids docker0 (172.17/16), the service CIDR and containerd's default 10.88/16.
cat > "$DSA_RUN/cni/net.d/10-dsa.conflist" <<JSON
{"cniVersion": "1.0.0", "name": "dsa", "plugins": [
  {"type": "bridge", "bridge": "cni0", "isGateway": true, "ipMasq": true, "hairpinMode": true,
   "ipam": {"type": "host-local", "dataDir": "$DSA_RUN/cni/ipam",
            "ranges": [[{"subnet": "$POD_CIDR"}]], "routes": [{"dst": "0.0.0.0/0"}]}},
  {"type": "portmap", "capabilities": {"portMappings": true}}
]}
JSON
containerd_up() { ctr -a "$CONTAINERD_SOCK" version; }
if ! proc_alive containerd; then
  start_proc containerd /usr/bin/containerd --config "$C/config.toml"
fi
wait_for containerd 30 containerd_up

# --- kubelet ---
K=$DSA_RUN/kubelet
mkdir -p "$K"
cat > "$DSA_RUN/kubelet.yaml" <<YAML
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
# No systemd here: cgroupfs driver (containerd also uses SystemdCgroup=false). cgroup v1 host.
cgroupDriver: cgroupfs
failSwapOn: false
containerRuntimeEndpoint: unix://$CONTAINERD_SOCK
address: $NODE_IP
readOnlyPort: 0
tlsCertFile: $P/kubelet-serving.crt
tlsPrivateKeyFile: $P/kubelet-serving.key
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: $P/ca.crt}
authorization: {mode: Webhook}
# No cluster DNS addon; an empty resolv.conf keeps pods from sending DNS queries off the machine.
resolvConf: ""
clusterDomain: cluster.local
# Tests must not be evicted because the CI disk is fuller than kubelet defaults like.
evictionHard: {memory.available: "100Mi", nodefs.available: "1%", imagefs.available: "1%", nodefs.inodesFree: "1%"}
# containerd 1.6 does not pin the sandbox image: never GC images (pause cannot be re-pulled if the registry is down).
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
serializeImagePulls: false
maxPods: 110
podPidsLimit: -1
# No CAP_SYS_RESOURCE (see containerd's restrict_oom_score_adj): do not try to lower our own score.
oomScoreAdj: 0
${KUBELET_EXTRA_CONFIG:-}
YAML
start_kubelet() {
  start_proc kubelet "$BIN/kubelet" --config "$DSA_RUN/kubelet.yaml" --kubeconfig "$DSA_RUN/kubelet.kubeconfig" \
    --root-dir "$K" --cert-dir "$K/pki" --node-ip "$NODE_IP" --hostname-override "$NODE_NAME"
}
proc_alive kubelet || start_kubelet

# --- kube-proxy (iptables): makes Service VIPs (10.96.0.1 = the apiserver) work from pods ---
cat > "$DSA_RUN/kube-proxy.yaml" <<YAML
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
mode: iptables
clientConnection: {kubeconfig: $DSA_RUN/kube-proxy.kubeconfig}
hostnameOverride: $NODE_NAME
bindAddress: $NODE_IP
clusterCIDR: $POD_CIDR
metricsBindAddress: 127.0.0.1:10249
healthzBindAddress: 127.0.0.1:10256
# Zero = do not touch conntrack sysctls (a test VM should not be retuned).
oomScoreAdj: 0   # no CAP_SYS_RESOURCE on our CI VMs
conntrack: {maxPerCore: 0, min: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s}
YAML
if ! proc_alive kube-proxy; then
  start_proc kube-proxy "$BIN/kube-proxy" --config "$DSA_RUN/kube-proxy.yaml"
fi

node_ready() { kc get node "$NODE_NAME" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' | grep -qx True; }
# The kubelet exits at once if containerd's CRI is still initializing (it recovers old containers
# after a restart: "server is not initialized yet"); ctr cannot see that, so restart the kubelet
# a few times instead of waiting out the timeout on a dead process.
kubelet_restarts=0
end=$((SECONDS + 120))
until node_ready >/dev/null 2>&1; do
  if ! proc_alive kubelet; then
    why=$(grep -E 'command failed|failed to run Kubelet' "$DSA_LOGS/kubelet.log" 2>/dev/null | tail -1 | cut -c1-300)
    [ $kubelet_restarts -lt 5 ] || die "the kubelet keeps exiting: ${why:-see $DSA_LOGS/kubelet.log}"
    kubelet_restarts=$((kubelet_restarts + 1))
    log "the kubelet exited (${why:-no reason logged}); restart $kubelet_restarts of 5"
    sleep 2; start_kubelet
  fi
  [ $SECONDS -lt $end ] || die "timeout (120s) waiting for node $NODE_NAME Ready; logs in $DSA_LOGS"
  sleep 0.25
done
