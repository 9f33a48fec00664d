#!/usr/bin/env bash
# Builds and pushes the dev sidecar image (dsa/sidecar); prints the image reference (and nothing else)
# on stdout. Modelled on operator/build/build-image.sh.
#
#   1. bundle sidecar/src/main.ts → sidecar/dist/sidecar.mjs (sidecar/build/bundle.mjs)
#   2. build the static dsa-helper (sidecar/build/helper-build.sh: CGO off, -trimpath, -s -w, version stamp)
#   3. stage the build context sidecar/dist/image:
#        bin/dsa-sidecar   the launcher (sidecar/build/launcher.mjs: `#!/usr/local/bin/node`, no shell needed)
#        bin/dsa-helper    the static helper (copied into each dev pod by the dsa-tools init container)
#        app/sidecar.mjs   the bundle
#   4. tag = dev-<first 12 hex of sha256 over the staged context + Dockerfile + base image>  (never latest);
#      skip the build when the registry already has that tag (FORCE=1 rebuilds); otherwise build+push
#      with the cluster harness's build-image.sh (buildah, no daemon).
#   5. write the reference to sidecar/dist/image.ref and print it.
#
# Usage: sidecar/build/build-image.sh [--no-push | --stage-only]
#        --stage-only: steps 1-3 only, no registry needed; prints the context directory and the tag.
# Env:   DSA_REGISTRY, DSA_NODE_IMAGE (from `test-e2e/cluster/ensure.sh node`, read from
#        ~/.cache/dsa/cluster.env when unset); IMAGE_REPO (default $DSA_REGISTRY/dsa/sidecar);
#        SIDECAR_IMAGE_TAG (overrides the content tag); BASE_IMAGE (default $DSA_NODE_IMAGE, else the
#        Dockerfile's node:20-bookworm-slim); SIDECAR_ENTRY (default sidecar/src/main.ts); GOARCH.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/../.." && pwd)
log() { echo "[sidecar-image] $*" >&2; }
die() { echo "[sidecar-image] ERROR: $*" >&2; exit 1; }

mode=push
case "${1:-}" in
  '') ;;
  --no-push) mode=no-push ;;
  --stage-only) mode=stage ;;
  *) die "usage: sidecar/build/build-image.sh [--no-push | --stage-only]" ;;
esac

ENV_FILE=${DSA_ENV_FILE:-${DSA_CACHE:-$HOME/.cache/dsa}/cluster.env}
if [ -z "${DSA_REGISTRY:-}" ] && [ -f "$ENV_FILE" ]; then
  # shellcheck disable=SC1090
  source "$ENV_FILE"
fi
[ "$mode" = stage ] || [ -n "${DSA_REGISTRY:-}" ] || die "DSA_REGISTRY is not set (run: eval \"\$(test-e2e/cluster/ensure.sh node)\")"

entry=${SIDECAR_ENTRY:-$REPO/sidecar/src/main.ts}
[ -f "$entry" ] || die "$entry not found (the sidecar program); set SIDECAR_ENTRY to bundle another entry"
dist=$REPO/sidecar/dist
version=${DSA_VERSION:-$(git -C "$REPO" rev-parse --short=12 HEAD 2>/dev/null || echo dev)}

# 1. bundle
bundle_json=$(DSA_VERSION=$version node "$REPO/sidecar/build/bundle.mjs" --entry "$entry" --outfile "$dist/sidecar.mjs")
echo "$bundle_json" >&2
# A native addon cannot ride in the bundle, and the image carries no node_modules: fail here rather
# than in every dev pod at run time.
if ! node -e 'const j = JSON.parse(process.argv[1]); process.exit(j.external.length ? 1 : 0)' "$bundle_json"; then
  die "the sidecar imports a native addon ($(node -e 'console.log(JSON.parse(process.argv[1]).external.join(", "))' "$bundle_json")); the image has no node_modules for it"
fi

# 2 + 3. stage the context (world-readable: the image runs as uid 65532)
ctx=$dist/image
rm -rf "$ctx"
mkdir -p "$ctx/bin" "$ctx/app"
"$REPO/sidecar/build/helper-build.sh" "$ctx/bin/dsa-helper" >/dev/null
cp "$REPO/sidecar/build/launcher.mjs" "$ctx/bin/dsa-sidecar"
cp "$dist/sidecar.mjs" "$ctx/app/sidecar.mjs"
chmod -R a+rX "$ctx"
chmod 755 "$ctx/bin/"*

# 4. content tag: same inputs → same tag, so re-runs reuse the pushed image.
base=${BASE_IMAGE:-${DSA_NODE_IMAGE:-}}
tag=${SIDECAR_IMAGE_TAG:-dev-$( (cd "$ctx" && find . -type f | LC_ALL=C sort | xargs sha256sum; sha256sum < "$REPO/sidecar/Dockerfile"; echo "$base") | sha256sum | cut -c1-12)}
[ "$tag" != latest ] || die "refusing to tag :latest"
if [ "$mode" = stage ]; then
  echo "$ctx $tag"
  exit 0
fi
ref=${IMAGE_REPO:-$DSA_REGISTRY/dsa/sidecar}:$tag

manifest() { # prints the manifest of $ref (fails when absent)
  local r=${ref#*/} host=${ref%%/*}
  curl -fsS --max-time 5 \
    -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
    -H 'Accept: application/vnd.oci.image.manifest.v1+json' \
    "http://$host/v2/${r%:*}/manifests/${r##*:}"
}
if [ "$mode" = push ] && [ "${FORCE:-0}" != 1 ] && manifest >/dev/null 2>&1; then
  log "$ref already in the registry; not rebuilding"
else
  args=()
  [ -n "$base" ] && args+=(--build-arg "BASE_IMAGE=$base")
  [ "$mode" = push ] || args+=(--no-push)
  "$REPO/test-e2e/cluster/build-image.sh" "$ctx" "$REPO/sidecar/Dockerfile" "$ref" "${args[@]}"
fi
if [ "$mode" = push ]; then
  # Compressed size as pulled (the sum of the layers), for the record.
  size=$(manifest 2>/dev/null | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{try{const m=JSON.parse(s);const n=m.layers.reduce((a,l)=>a+l.size,0);console.log((n/1048576).toFixed(1)+" MiB in "+m.layers.length+" layers")}catch{console.log("unknown")}})' || echo unknown)
  log "$ref: $size (compressed)"
  # 5. for the operator's configuration and the test harness, without rebuilding.
  echo "$ref" > "$dist/image.ref"
fi
echo "$ref"
