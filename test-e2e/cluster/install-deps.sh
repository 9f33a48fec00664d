#!/usr/bin/env bash
# Installs the Debian packages the local test cluster needs. Idempotent and fast when everything
# is already installed (dpkg -s check first; apt-get runs only for what is missing).
# Daemons shipped by these packages (containerd, docker-registry) are NOT started by the install:
# the harness runs them itself with its own configs, as plain processes.
set -euo pipefail
PKGS=(
  containerd runc containernetworking-plugins   # CRI runtime + CNI bridge/host-local/portmap (in /usr/lib/cni)
  iptables conntrack                            # kube-proxy (iptables mode), CNI ipMasq/portmap
  docker-registry                               # plain-HTTP local registry (distribution 2.8)
  buildah skopeo                                # daemonless image builds and pushes (no dockerd)
  docker.io                                     # dockerd for the agent's local builds (dockerd.sh; not started by the install)
  busybox-static                                # busybox test image + base of the node image
  openssl ca-certificates jq time curl          # PKI, host CA bundle for kaniko, scripting
  iproute2 procps util-linux                    # ip, sysctl/pgrep, mount/setsid/flock
)
missing=()
for p in "${PKGS[@]}"; do
  [ -n "$p" ] || continue
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "[dsa-cluster] installing: ${missing[*]}" >&2
# Keep package postinst scripts from starting services (no systemd here anyway).
policy=/usr/sbin/policy-rc.d
created_policy=0
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' > "$policy"; chmod +x "$policy"; created_policy=1
fi
trap '[ $created_policy = 1 ] && rm -f "$policy"' EXIT
export DEBIAN_FRONTEND=noninteractive
if ! apt-get install -y --no-install-recommends "${missing[@]}" >/tmp/dsa-apt.log 2>&1; then
  apt-get update >/dev/null 2>&1 || true
  apt-get install -y --no-install-recommends "${missing[@]}" >/tmp/dsa-apt.log 2>&1 \
    || { tail -20 /tmp/dsa-apt.log >&2; exit 1; }
fi
