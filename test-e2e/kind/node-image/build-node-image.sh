#!/usr/bin/env bash
# `make kind-node-image`: a kind node image made here, offline, from Debian packages and Go modules,
# laid out like kind's own (kindest/base + `kind build node-image`; see ../README.md for every
# difference). Prints the image reference (and nothing else) on stdout.
#
#   1. binaries: the harness's Kubernetes (../../cluster/build-bins.sh) + kubeadm, crictl, kindnetd,
#      local-path-provisioner, coredns, pause (../build-go.sh), all cached in $DSA_CACHE/bin
#   2. base rootfs: debootstrap $DEBIAN_SUITE with kind's base packages, Debian's containerd/runc/CNI
#      plugins (cached as a tarball keyed by the package list)
#   3. kind's base image steps (images/base/Dockerfile of sigs.k8s.io/kind@$KIND_VERSION: its files/,
#      the systemd clean-up, the enabled units), then `kind build node-image`'s steps: /usr/bin/{kubeadm,
#      kubelet,kubectl}, /kind/version, /kind/manifests/default-{cni,storage}.yaml, every image the
#      cluster starts with imported into /var/lib/containerd (namespace k8s.io, pinned)
#   4. `docker import` with the base image's ENTRYPOINT/ENV/STOPSIGNAL
#
# Cache key: a hash of every input (binaries, recipe files, versions, kind's base files, rootfs key).
# An image that already exists in docker under that key is reused (~1 s).
# Env: KIND_NODE_REPO (default dsa.local/kind-node), FORCE=1 rebuilds, KEEP_WORK=1 keeps the work dir.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
KIND_DIR=$(cd "$HERE/.." && pwd)
source "$KIND_DIR/../cluster/lib.sh"
source "$KIND_DIR/versions.sh"
source "$KIND_DIR/docker-env.sh"
source "$HERE/docker-archive.sh"
klog() { echo "[kind-node-image] $*" >&2; }
REPO_NAME=${KIND_NODE_REPO:-dsa.local/kind-node}
IMG_NS=dsa.local/kind   # our kindnetd / local-path images (kubeadm's images keep their registry.k8s.io names)
T0=$SECONDS

"$KIND_DIR/install-deps.sh"
"$KIND_DIR/dockerd.sh" up >&2
mkdir -p "$DSA_CACHE/kind"
exec 6>"$DSA_CACHE/kind/node-image.lock"
flock 6

# ---- 1. binaries ----
KBIN=$("$CLUSTER_DIR/build-bins.sh" all)
declare -A B
for t in kubeadm crictl kindnetd local-path-provisioner coredns etcd pause; do B[$t]=$("$KIND_DIR/build-go.sh" "$t"); done
KIND_SRC=$(go mod download -json "sigs.k8s.io/kind@$KIND_VERSION" | jq -r .Dir)
[ -d "$KIND_SRC/images/base/files" ] || die "kind $KIND_VERSION module has no images/base/files"

# ---- 2. base rootfs (debootstrap), keyed by what it is made of ----
PKGS=(
  # kind's base (images/base/Dockerfile), same lines
  systemd
  conntrack iptables nftables iproute2 ethtool util-linux mount kmod
  libseccomp2 pigz fuse-overlayfs
  nfs-common open-iscsi
  e2fsprogs
  bash ca-certificates curl jq procps
  # what kind builds from source, from Debian instead
  containerd runc containernetworking-plugins
)
ROOTFS_KEY=$(printf '%s\n' "$DEBIAN_SUITE" "$DEBIAN_MIRROR" "$(dpkg-query -W -f '${Version}' debootstrap)" "${PKGS[@]}" | sha256sum | cut -c1-12)
ROOTFS_TAR=$DSA_CACHE/kind/rootfs-$DEBIAN_SUITE-$ROOTFS_KEY.tar
if [ ! -f "$ROOTFS_TAR" ]; then
  t=$SECONDS; d=$DSA_CACHE/kind/work/debootstrap-$ROOTFS_KEY
  klog "debootstrap $DEBIAN_SUITE (${#PKGS[@]} packages + minbase; log: $DSA_CACHE/kind/debootstrap.log)"
  rm -rf "$d"; mkdir -p "$d"
  debootstrap --variant=minbase --include="$(IFS=,; echo "${PKGS[*]}")" "$DEBIAN_SUITE" "$d/rootfs" "$DEBIAN_MIRROR" \
    > "$DSA_CACHE/kind/debootstrap.log" 2>&1 || { tail -20 "$DSA_CACHE/kind/debootstrap.log" >&2; die "debootstrap failed"; }
  chroot "$d/rootfs" dpkg-query -W -f '${Package} ${Version}\n' > "$d/rootfs/kind-packages.txt"
  tar --numeric-owner --xattrs -C "$d/rootfs" -cf "$ROOTFS_TAR.tmp" .
  mv "$ROOTFS_TAR.tmp" "$ROOTFS_TAR"; rm -rf "$d"
  klog "rootfs $ROOTFS_TAR in $((SECONDS - t))s"
fi

# ---- cache key over every input ----
KEY=$( {
  echo "$K8S_VERSION $ROOTFS_KEY"; cat "$KIND_DIR/versions.sh" "$HERE"/*
  sha256sum "$KBIN"/kube-cp "$KBIN"/kube-node "$KBIN"/kubectl "${B[@]}" | cut -d' ' -f1
  (cd "$KIND_SRC/images/base/files" && find . -type f | LC_ALL=C sort | xargs sha256sum)
  sha256sum "$KIND_SRC/pkg/build/nodeimage/const_cni.go" "$KIND_SRC/pkg/build/nodeimage/const_storage.go" | cut -d' ' -f1
  sha256sum /bin/busybox | cut -d' ' -f1
} | sha256sum | cut -c1-12)
IMAGE=$REPO_NAME:$K8S_VERSION-$KEY
if [ "${FORCE:-0}" != 1 ] && docker image inspect "$IMAGE" >/dev/null 2>&1; then
  klog "$IMAGE exists (cache hit, $((SECONDS - T0))s)"
  echo "$IMAGE"; exit 0
fi

W=$DSA_CACHE/kind/work/node-$KEY
R=$W/rootfs
rm -rf "$W"; mkdir -p "$R"
cleanup() {
  [ -n "${CPID:-}" ] && kill "$CPID" 2>/dev/null && wait "$CPID" 2>/dev/null
  [ "${KEEP_WORK:-0}" = 1 ] || rm -rf "$W"
}
trap cleanup EXIT
t=$SECONDS
tar --numeric-owner --xattrs -C "$R" -xf "$ROOTFS_TAR"

# ---- 3a. kind's base image (images/base/Dockerfile, stage "base" + "build") ----
F=$KIND_SRC/images/base/files
inst() { # mode dest-dir files...
  local m=$1 d=$2; shift 2; mkdir -p "$R$d"; local f; for f in "$@"; do [ -f "$f" ] && install -m "$m" "$f" "$R$d/"; done; return 0; }
inst 0755 /usr/local/bin "$F"/usr/local/bin/*
# One addition to kind's entrypoint: a host that withholds CAP_SYS_RESOURCE (our CI VMs) cannot let
# anything in the node lower an oom_score_adj, so runc would fail every pod sandbox; the entrypoint
# already handles that case for rootless (user namespaces) with containerd's restrict_oom_score_adj,
# and now does the same when the capability is missing. Hosts that have it see no change.
awk '
  /^# validate state$/ {
    print "# dsa: no CAP_SYS_RESOURCE (bit 24 of the bounding set) -> nothing may lower oom_score_adj;"
    print "# clamp container scores as configure_containerd does for userns."
    print "dsa_restrict_oom_without_sys_resource() {"
    print "  local bnd"
    print "  bnd=$(awk '"'"'/^CapBnd:/ {print $2}'"'"' /proc/self/status)"
    print "  if (( ((0x${bnd} >> 24) & 1) == 0 )); then"
    print "    log_warn \"no CAP_SYS_RESOURCE: enabling containerd restrict_oom_score_adj\""
    print "    sed -i \"s/restrict_oom_score_adj = false/restrict_oom_score_adj = true/\" /etc/containerd/config.toml"
    print "  fi"
    print "}"
    print ""
  }
  { print }
  /^configure_containerd$/ { print "dsa_restrict_oom_without_sys_resource" }
' "$F/usr/local/bin/entrypoint" > "$R/usr/local/bin/entrypoint"
grep -q '^dsa_restrict_oom_without_sys_resource$' "$R/usr/local/bin/entrypoint" || die "could not extend kind's entrypoint"
chmod 0755 "$R/usr/local/bin/entrypoint"
mkdir -p "$R/kind"; cp -r "$F/kind/." "$R/kind/"; find "$R/kind" -type f -exec chmod 0644 {} +
inst 0755 /kind/bin "$F"/kind/bin/*
chmod 755 "$R/kind" "$R/kind/bin"
inst 0644 /LICENSES "$F"/LICENSES/*
inst 0644 /etc "$F"/etc/*
inst 0644 /etc/containerd "$F"/etc/containerd/*
inst 0644 /etc/default "$F"/etc/default/*
inst 0644 /etc/sysctl.d "$F"/etc/sysctl.d/*
inst 0644 /etc/systemd/system "$F"/etc/systemd/system/*
inst 0644 /etc/systemd/system/kubelet.service.d "$F"/etc/systemd/system/kubelet.service.d/*
# The Dockerfile's RUN after clean-install (the packages came from debootstrap):
find "$R/lib/systemd/system/sysinit.target.wants/" -name systemd-tmpfiles-setup.service -delete
rm -f "$R"/lib/systemd/system/multi-user.target.wants/* "$R"/etc/systemd/system/*.wants/* \
  "$R"/lib/systemd/system/local-fs.target.wants/* "$R"/lib/systemd/system/sockets.target.wants/*udev* \
  "$R"/lib/systemd/system/sockets.target.wants/*initctl* "$R"/lib/systemd/system/basic.target.wants/*
echo "ReadKMsg=no" >> "$R/etc/systemd/journald.conf"
ln -sfn /usr/lib/systemd/systemd "$R/sbin/init"
chroot "$R" systemctl enable kubelet.service containerd.service undo-mount-hacks.service >/dev/null 2>&1
chroot "$R" systemctl mask systemd-binfmt.service >/dev/null 2>&1
mkdir -p "$R/etc/kubernetes/manifests"
# clean-install's clean-up
rm -rf "$R"/var/cache/apt/archives/*.deb "$R"/var/cache/debconf/* "$R"/var/lib/apt/lists/* "$R"/var/log/* \
  "$R"/tmp/* "$R"/var/tmp/* "$R"/usr/share/doc/* "$R"/usr/share/doc-base/* "$R"/usr/share/man/* "$R"/usr/share/local/*
# kind builds containerd, runc, crictl and the CNI plugins into these paths; ours are Debian's
# (containerd/runc/CNI) and crictl from its Go module. Same paths, so kind's units and configs hold.
for b in containerd ctr containerd-shim-runc-v2; do ln -sfn "/usr/bin/$b" "$R/usr/local/bin/$b"; done
mkdir -p "$R/usr/local/sbin" "$R/opt/cni/bin"
ln -sfn /usr/sbin/runc "$R/usr/local/sbin/runc"
for p in host-local loopback ptp portmap bridge; do ln -sfn "/usr/lib/cni/$p" "$R/opt/cni/bin/$p"; done
install -m 0755 "${B[crictl]}" "$R/usr/local/bin/crictl"
# base_runtime_spec exactly as kind makes it (`ctr oci spec` + the product-files hook, minus rlimits)
chroot "$R" ctr oci spec \
  | jq '.hooks.createContainer[.hooks.createContainer| length] |= . + {"path": "/kind/bin/mount-product-files.sh"}' \
  | jq 'del(.process.rlimits)' > "$R/etc/containerd/cri-base.json"
# kind's config.toml registers fuse-overlayfs as a proxy snapshotter for rootless; there is no
# containerd-fuse-overlayfs-grpc on Debian, so that plugin (used only in rootless mode) is left out.
sed -i '/^\[proxy_plugins\]/,/^$/d; /^# fuse-overlayfs is used for rootless/d; /^\[proxy_plugins."fuse-overlayfs"\]/,/^$/d' "$R/etc/containerd/config.toml"
grep -q fuse-overlayfs "$R/etc/containerd/config.toml" && die "could not drop the fuse-overlayfs proxy plugin from kind's containerd config"
rm -f "$R/etc/systemd/system/containerd-fuse-overlayfs.service"

# ---- 3b. `kind build node-image` (pkg/build/nodeimage/buildcontext.go) ----
install -m 0755 "$KBIN/kubectl" "$R/usr/bin/kubectl"
install -m 0755 "${B[kubeadm]}" "$R/usr/bin/kubeadm"
install -m 0755 "$KBIN/kube-node" "$R/usr/bin/kubelet"   # busybox-style: runs the kubelet as argv[0] "kubelet"
printf '%s' "$K8S_VERSION" > "$R/kind/version"
KINDNETD_IMAGE=$IMG_NS/kindnetd:$KIND_VERSION-$(basename "$(dirname "${B[kindnetd]}")" | sed 's/^kindnetd-//')
LPP_IMAGE=$IMG_NS/local-path-provisioner:$LOCAL_PATH_VERSION
HELPER_IMAGE=$IMG_NS/local-path-helper:busybox-$(busybox_version)
# kind's manifests, verbatim from its source, with our image names in place of kindest/*.
go_const() { # file const-name -> the Go raw string, image constants substituted
  awk -v name="$2" -v kn="$KINDNETD_IMAGE" -v lp="$LPP_IMAGE" -v hp="$HELPER_IMAGE" '
    $0 ~ "^const " name " = `" { on = 1; next }
    on && $0 == "`" { exit }
    on { gsub(/` \+ kindnetdImage \+ `/, kn); gsub(/` \+ storageProvisionerImage \+ `/, lp); gsub(/` \+ storageHelperImage \+ `/, hp); print }
  ' "$KIND_SRC/pkg/build/nodeimage/$1"
}
mkdir -p "$R/kind/manifests"
{ echo; go_const const_cni.go defaultCNIManifest; } > "$R/kind/manifests/default-cni.yaml"
{ echo; go_const const_storage.go defaultStorageManifest; } > "$R/kind/manifests/default-storage.yaml"
grep -q "image: $KINDNETD_IMAGE" "$R/kind/manifests/default-cni.yaml" || die "default CNI manifest not extracted from kind's source"
grep -q "image: $LPP_IMAGE" "$R/kind/manifests/default-storage.yaml" || die "default storage manifest not extracted from kind's source"

# Images: what `kubeadm config images list` wants, kind's sandbox image, CNI and storage images.
REQUIRED=$(chroot "$R" kubeadm config images list --kubernetes-version "$K8S_VERSION" 2>/dev/null)
A=$W/archive; archive_init "$A"
L=$W/layers
layer() { archive_layer "$A" "$1"; }
mkl() { rm -rf "$L/$1"; mkdir -p "$L/$1"; echo "$L/$1"; }
# busybox-style k8s binaries: one layer with the binary, one with the name it is run as
d=$(mkl cp); install -D -m 0755 "$KBIN/kube-cp" "$d/usr/local/bin/kube-cp"; LCP=$(layer "$d")
d=$(mkl node); install -D -m 0755 "$KBIN/kube-node" "$d/usr/local/bin/kube-node"; LNODE=$(layer "$d")
link_layer() { local d; d=$(mkl "link-$1"); mkdir -p "$d/usr/local/bin"; ln -s "$2" "$d/usr/local/bin/$1"; layer "$d"; }
# iptables (+ conntrack, + busybox for the wrapper's sh) from the node's own Debian rootfs
d=$(mkl iptables)
copy_elf() { # path-in-rootfs: the file and every library it needs, at the same paths
  local f=$1 lib
  install -D -m 0755 "$R$f" "$d$f"
  for lib in $(chroot "$R" ldd "$f" 2>/dev/null | grep -o '/[^ ]*'); do
    [ -e "$d$lib" ] || install -D -m 0755 "$R$(chroot "$R" readlink -f "$lib")" "$d$lib"
  done
}
for f in /usr/sbin/xtables-nft-multi /usr/sbin/xtables-legacy-multi /usr/sbin/conntrack; do copy_elf "$f"; done
for f in "$R"/usr/lib/x86_64-linux-gnu/xtables/*.so; do copy_elf "${f#"$R"}"; done
install -D -m 0755 "$HERE/iptables-wrapper" "$d/usr/sbin/iptables-wrapper"
for n in iptables iptables-save iptables-restore ip6tables ip6tables-save ip6tables-restore; do ln -s iptables-wrapper "$d/usr/sbin/$n"; done
install -D -m 0755 /bin/busybox "$d/bin/busybox"
for a in sh grep timeout cat ln; do ln -s busybox "$d/bin/$a"; done
mkdir -p "$d/etc" "$d/run" "$d/tmp"; chmod 1777 "$d/tmp"
LIPT=$(layer "$d")

need() { grep -qx "$1" <<<"$REQUIRED" || die "kubeadm does not list $1 (got: $(echo $REQUIRED))"; }
for c in kube-apiserver kube-controller-manager kube-scheduler; do
  need "registry.k8s.io/$c:$K8S_VERSION"
  archive_image "$A" "registry.k8s.io/$c:$K8S_VERSION" '{}' "$LCP" "$(link_layer "$c" kube-cp)"
done
need "registry.k8s.io/etcd:$ETCD_IMAGE_TAG"
d=$(mkl etcd); install -D -m 0755 "${B[etcd]}" "$d/usr/local/bin/etcd"; mkdir -p "$d/var/lib/etcd"
archive_image "$A" "registry.k8s.io/etcd:$ETCD_IMAGE_TAG" '{}' "$(layer "$d")"
need "registry.k8s.io/kube-proxy:$K8S_VERSION"
archive_image "$A" "registry.k8s.io/kube-proxy:$K8S_VERSION" '{}' "$LIPT" "$LNODE" "$(link_layer kube-proxy kube-node)"
need "registry.k8s.io/coredns/coredns:$COREDNS_VERSION"
d=$(mkl coredns); install -D -m 0755 "${B[coredns]}" "$d/coredns"
archive_image "$A" "registry.k8s.io/coredns/coredns:$COREDNS_VERSION" '{"Entrypoint":["/coredns"],"ExposedPorts":{"53/tcp":{},"53/udp":{}}}' "$(layer "$d")"
# The sandbox image named in kind's containerd config (kind replaces kubeadm's pause with it).
PAUSE_REF=$(sed -n 's/^ *sandbox_image *= *"\(.*\)"/\1/p' "$R/etc/containerd/config.toml")
[ "$PAUSE_REF" = "registry.k8s.io/pause:$PAUSE_IMAGE_TAG" ] || die "kind's sandbox image is $PAUSE_REF, expected pause:$PAUSE_IMAGE_TAG"
d=$(mkl pause); install -D -m 0755 "${B[pause]}" "$d/pause"
archive_image "$A" "$PAUSE_REF" '{"Entrypoint":["/pause"],"User":"65535:65535"}' "$(layer "$d")"
d=$(mkl kindnetd); install -D -m 0755 "${B[kindnetd]}" "$d/bin/kindnetd"
archive_image "$A" "$KINDNETD_IMAGE" '{"Cmd":["/bin/kindnetd"]}' "$LIPT" "$(layer "$d")"
d=$(mkl lpp); install -D -m 0755 "${B[local-path-provisioner]}" "$d/usr/local/bin/local-path-provisioner"; mkdir -p "$d/etc/config"
archive_image "$A" "$LPP_IMAGE" '{"Entrypoint":["/usr/local/bin/local-path-provisioner"]}' "$(layer "$d")"
d=$(mkl helper); install -D -m 0755 /bin/busybox "$d/bin/busybox"
for a in sh mkdir rm rmdir chmod ls cat; do ln -s busybox "$d/bin/$a"; done
mkdir -p "$d/usr/bin"; ln -s ../../bin/sh "$d/usr/bin/sh"
archive_image "$A" "$HELPER_IMAGE" '{}' "$(layer "$d")"

# Import into the node's containerd store as kind does (ctr images import, pinned, not unpacked),
# with a throw-away containerd of the same version (Debian's 1.6.20) rooted in the image's /var.
mkdir -p "$W/cstate"
cat > "$W/containerd.toml" <<TOML
version = 2
root = "$R/var/lib/containerd"
state = "$W/cstate"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$W/containerd.sock"
TOML
setsid /usr/bin/containerd --config "$W/containerd.toml" > "$W/containerd.log" 2>&1 9>&- 8>&- 7>&- 6>&- &
CPID=$!
wait_for "build containerd" 30 ctr -a "$W/containerd.sock" version || { tail -20 "$W/containerd.log" >&2; die "containerd for the image import did not start"; }
tar -C "$A" -cf - . | ctr -a "$W/containerd.sock" --namespace=k8s.io images import \
  --label=io.cri-containerd.pinned=pinned --all-platforms --no-unpack --digests - >&2
IMPORTED=$(ctr -a "$W/containerd.sock" --namespace=k8s.io images list -q)
kill "$CPID"; wait "$CPID" 2>/dev/null || true; CPID=
rm -rf "$R/var/lib/containerd/tmpmounts"
for ref in $REQUIRED "$PAUSE_REF" "$KINDNETD_IMAGE" "$LPP_IMAGE" "$HELPER_IMAGE"; do
  [[ "$ref" == */pause:* ]] && [ "$ref" != "$PAUSE_REF" ] && continue  # kind drops kubeadm's pause for its own
  grep -qx "$ref" <<<"$IMPORTED" || die "image $ref missing after import (have: $(echo $IMPORTED))"
done
klog "rootfs assembled in $((SECONDS - t))s: $(du -sh "$R" | cut -f1), $(wc -l <<<"$IMPORTED") image refs"

# ---- 4. the image: one layer (kind's is the squashed base + one commit), kind's metadata ----
t=$SECONDS
tar --numeric-owner --xattrs -C "$R" -cf - . | docker import \
  --change 'ENV container=docker' \
  --change 'ENTRYPOINT [ "/usr/local/bin/entrypoint", "/sbin/init" ]' \
  --change "LABEL dsa.kind.key=$KEY dsa.kind.version=$KIND_VERSION dsa.kind.rootfs=$ROOTFS_KEY" \
  - "$IMAGE.noss" >/dev/null
# `docker import` cannot set STOPSIGNAL; a metadata-only build adds it (no new layer).
printf 'FROM %s\nSTOPSIGNAL SIGRTMIN+3\n' "$IMAGE.noss" | DOCKER_BUILDKIT=0 docker build -q -t "$IMAGE" - 2>&1 >/dev/null | grep -v -e DEPRECATED -e BuildKit -e 'environment-variable' -e '^$' >&2 || true
docker image inspect "$IMAGE" >/dev/null 2>&1 || die "docker build (STOPSIGNAL) did not produce $IMAGE"
docker rmi "$IMAGE.noss" >/dev/null
klog "docker import in $((SECONDS - t))s; $IMAGE built in $((SECONDS - T0))s ($(docker image inspect -f '{{.Size}}' "$IMAGE" | awk '{printf "%.0f MB", $1/1e6}'))"
# Keep the two newest node images of this repository (1 GB each); older ones are only disk.
docker images --format '{{.CreatedAt}}	{{.Repository}}:{{.Tag}}' "$REPO_NAME" | sort -r | tail -n +3 | cut -f2 \
  | xargs -r docker rmi >/dev/null 2>&1 || true
echo "$IMAGE"
