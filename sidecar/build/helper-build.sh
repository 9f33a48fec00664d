#!/usr/bin/env bash
# Builds the static dsa-helper (sidecar/helper, Go, CGO off) to <out> and prints <out> on stdout.
# Cached by the hash of its Go sources (tests excluded), the Go version, the target arch and the
# version stamp: a second call with the same inputs copies the cached binary (milliseconds).
#
# Usage: sidecar/build/helper-build.sh <out>
# Env:   GOARCH (default: the host's; amd64 and arm64 are supported), DSA_HELPER_VERSION (default
#        dev-<12 hex of the source hash>, so the version changes only when the helper does),
#        DSA_CACHE (default ~/.cache/dsa; the cache is $DSA_CACHE/dsa-helper/).
set -euo pipefail
REPO=$(cd "$(dirname "$0")/../.." && pwd)
SRC=$REPO/sidecar/helper
log() { echo "[dsa-helper] $*" >&2; }
die() { echo "[dsa-helper] ERROR: $*" >&2; exit 1; }

[ $# -eq 1 ] && [ -n "$1" ] || die "usage: sidecar/build/helper-build.sh <out>"
out=$1
command -v go >/dev/null || die "go not found on PATH (Go >= 1.24 builds the helper)"
arch=${GOARCH:-$(go env GOARCH)}
case "$arch" in amd64|arm64) ;; *) die "unsupported GOARCH=$arch (amd64 or arm64)" ;; esac

# What the binary is made of. File names are hashed too (a rename matters to the build).
src_hash=$(cd "$SRC" && { find . -type f \( -name '*.go' ! -name '*_test.go' -o -name go.mod -o -name go.sum \) \
  | LC_ALL=C sort | xargs sha256sum; } | sha256sum | cut -c1-64)
version=${DSA_HELPER_VERSION:-dev-${src_hash:0:12}}
key=$(printf '%s\n' "$src_hash" "$(go env GOVERSION)" "$arch" "$version" | sha256sum | cut -c1-24)
cache=${DSA_CACHE:-$HOME/.cache/dsa}/dsa-helper/$key
bin=$cache/dsa-helper

if [ ! -x "$bin" ]; then
  log "building dsa-helper $version for linux/$arch"
  mkdir -p "$cache"
  tmp=$(mktemp "$cache/.dsa-helper.XXXXXX")
  trap 'rm -f "$tmp"' EXIT
  (cd "$SRC" && CGO_ENABLED=0 GOOS=linux GOARCH=$arch GOFLAGS=-buildvcs=false \
    go build -trimpath -ldflags "-s -w -X main.version=$version" -o "$tmp" .) >&2
  chmod 755 "$tmp"
  mv -f "$tmp" "$bin"   # atomic: a concurrent build never sees half a binary
  trap - EXIT
fi

mkdir -p "$(dirname "$out")"
tmpout=$(mktemp "$(dirname "$out")/.dsa-helper.XXXXXX")
cp "$bin" "$tmpout"
chmod 755 "$tmpout"
mv -f "$tmpout" "$out"
echo "$out"
