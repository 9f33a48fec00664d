#!/usr/bin/env bash
# Builds the project's base images without pulling from any public registry and pushes them to
# the local registry (started if needed). Images already in the registry are skipped, so a
# second run takes about a second. Use FORCE=1 to rebuild.
# Usage: images.sh base|node|kaniko|helm|all    (base = pause + busybox: what the node tier needs)
set -euo pipefail
source "$(dirname "$0")/lib.sh"
"$CLUSTER_DIR/install-deps.sh"
"$CLUSTER_DIR/registry.sh" up
CTX=$DSA_CACHE/image-ctx

image_exists() { # ref -> registry has the manifest
  local ref=$1 repo tag
  repo=${ref#*/}; tag=${repo##*:}; repo=${repo%:*}
  curl -fsS -o /dev/null --max-time 5 -I \
    -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
    -H 'Accept: application/vnd.oci.image.manifest.v1+json' \
    "http://${ref%%/*}/v2/$repo/manifests/$tag"
}
need() { [ "${FORCE:-0}" = 1 ] || ! image_exists "$1"; }
fresh_ctx() { rm -rf "$CTX/$1"; mkdir -p "$CTX/$1/rootfs"; echo "$CTX/$1"; }
build() { "$CLUSTER_DIR/build-image.sh" "$1" "$CLUSTER_DIR/images/$2/Dockerfile" "$3"; }

# Minimal /etc for a rootfs: root, nobody, and a uid-1000 user for non-root tests.
base_etc() {
  mkdir -p "$1/etc" "$1/tmp" "$1/root" "$1/bin" "$1/usr/bin" "$1/home/app"
  chmod 1777 "$1/tmp"
  printf 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' > "$1/etc/passwd"
  printf 'root:x:0:\napp:x:1000:\nnogroup:x:65534:\n' > "$1/etc/group"
  chown 1000:1000 "$1/home/app"
  echo 'hosts: files dns' > "$1/etc/nsswitch.conf"
}
busybox_rootfs() { # dir: /bin/busybox + one symlink per applet at its usual path (/usr/bin/env for shebangs)
  base_etc "$1"
  mkdir -p "$1/sbin" "$1/usr/sbin"
  cp /bin/busybox "$1/bin/busybox"
  local a
  for a in $(/bin/busybox --list-full); do
    [ -e "$1/$a" ] || [ -L "$1/$a" ] || ln -s /bin/busybox "$1/$a"
  done
}

build_pause() {
  local ref; ref=$(IMG_PAUSE); need "$ref" || return 0
  local c; c=$(fresh_ctx pause)
  (cd "$CLUSTER_DIR/images/pause" && CGO_ENABLED=0 go build -trimpath -ldflags '-s -w' -o "$c/pause" .)
  build "$c" pause "$ref"
}
build_busybox() {
  local ref; ref=$(IMG_BUSYBOX); need "$ref" || return 0
  local c; c=$(fresh_ctx busybox)
  busybox_rootfs "$c/rootfs"
  build "$c" busybox "$ref"
}
build_node() {
  local ref; ref=$(IMG_NODE); need "$ref" || return 0
  local c r lib; c=$(fresh_ctx node); r=$c/rootfs
  busybox_rootfs "$r"
  mkdir -p "$r/usr/local/bin" "$r/usr/local/lib" "$r/etc/ssl/certs"
  cp "$(readlink -f "$(command -v node)")" "$r/usr/local/bin/node"
  # The dynamic loader and every library node links against, at the same paths as on the host.
  for lib in $(ldd "$(command -v node)" | grep -o '/[^ ]*'); do
    mkdir -p "$r$(dirname "$lib")"; cp -L "$lib" "$r$lib"
  done
  if [ -d /usr/lib/node_modules/npm ]; then
    cp -a /usr/lib/node_modules/npm "$r/usr/local/lib/npm"
    ln -s ../lib/npm/bin/npm-cli.js "$r/usr/local/bin/npm"
    ln -s ../lib/npm/bin/npx-cli.js "$r/usr/local/bin/npx"
  fi
  cp /etc/ssl/certs/ca-certificates.crt "$r/etc/ssl/certs/"
  build "$c" node "$ref"
}
build_kaniko() {
  local ref; ref=$(IMG_KANIKO); need "$ref" || return 0
  local exe c r; exe=$("$CLUSTER_DIR/tools.sh" kaniko)
  c=$(fresh_ctx kaniko); r=$c/rootfs
  mkdir -p "$r/kaniko/ssl/certs" "$r/kaniko/.docker" "$r/etc" "$r/workspace" "$r/root"
  chmod 777 "$r/kaniko"
  cp "$exe" "$r/kaniko/executor"
  # Host CA bundle: harmless (public CAs only) and kaniko expects it at this path.
  cp /etc/ssl/certs/ca-certificates.crt "$r/kaniko/ssl/certs/"
  echo '{}' > "$r/kaniko/.docker/config.json"
  echo 'hosts: files dns' > "$r/etc/nsswitch.conf"
  build "$c" kaniko "$ref"
}

build_helm() {
  local ref; ref=$(IMG_HELM); need "$ref" || return 0
  local exe c; exe=$("$CLUSTER_DIR/tools.sh" helm)
  c=$(fresh_ctx helm); mkdir -p "$c/rootfs/usr/local/bin"
  cp "$exe" "$c/rootfs/usr/local/bin/helm"
  build "$c" helm "$ref"
}

case "${1:-all}" in
  base)   build_pause; build_busybox ;;
  node)   build_node ;;
  kaniko) build_kaniko ;;
  helm)   build_helm ;;
  all)    build_pause; build_busybox; build_node; build_helm; build_kaniko ;;
  *) die "usage: images.sh base|node|kaniko|helm|all" ;;
esac
