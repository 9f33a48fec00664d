#!/usr/bin/env bash
# Debian packages the kind tier needs on top of the harness's (../cluster/install-deps.sh): Docker
# (dockerd + CLI) and debootstrap for the node image. Idempotent; apt runs only for what is missing.
# Postinst scripts are kept from starting services (dockerd.sh starts dockerd itself, if needed).
set -euo pipefail
"$(dirname "$0")/../cluster/install-deps.sh"
PKGS=(docker.io debootstrap jq)
missing=()
for p in "${PKGS[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "[dsa-kind] installing: ${missing[*]}" >&2
policy=/usr/sbin/policy-rc.d created=0
if [ ! -e "$policy" ]; then printf '#!/bin/sh\nexit 101\n' > "$policy"; chmod +x "$policy"; created=1; fi
trap '[ $created = 1 ] && rm -f "$policy"' EXIT
export DEBIAN_FRONTEND=noninteractive
if ! apt-get install -y --no-install-recommends -o DPkg::Lock::Timeout=300 "${missing[@]}" >/tmp/dsa-kind-apt.log 2>&1; then
  apt-get update >/dev/null 2>&1 || true
  apt-get install -y --no-install-recommends -o DPkg::Lock::Timeout=300 "${missing[@]}" >/tmp/dsa-kind-apt.log 2>&1 \
    || { tail -20 /tmp/dsa-kind-apt.log >&2; exit 1; }
fi
