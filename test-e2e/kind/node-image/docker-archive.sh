# Writes a `docker save`-format archive (manifest.json + config + layer tars) from directories,
# without a daemon, so several images can share a layer (the 120 MB kube-cp is stored once for
# apiserver, controller-manager and scheduler). Sourced by build-node-image.sh.
#   archive_init DIR
#   id=$(archive_layer DIR ROOTFS-DIR)          -> diffID hex; DIR/<hex>.tar (deterministic tar)
#   archive_image DIR NAME:TAG CONFIG-JSON ID... -> adds the image to DIR/manifest.json
# CONFIG-JSON is the image's `config` object (Entrypoint, Cmd, Env, User, WorkingDir).
archive_init() { rm -rf "$1"; mkdir -p "$1"; echo '[]' > "$1/manifest.json"; }

archive_layer() {
  local out=$1 dir=$2 tmp hex
  tmp=$(mktemp "$out/layer.XXXXXX")
  # Same content -> same bytes -> same diffID: sorted names, fixed mtime and owners, no atime/ctime.
  tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner --format=posix \
    --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime -C "$dir" -cf "$tmp" .
  hex=$(sha256sum "$tmp" | cut -d' ' -f1)
  mv -f "$tmp" "$out/$hex.tar"
  echo "$hex"
}

archive_image() {
  local out=$1 ref=$2 cfg=$3; shift 3
  local ids layers chex
  ids=$(printf '"sha256:%s",' "$@"); ids="[${ids%,}]"
  layers=$(printf '"%s.tar",' "$@"); layers="[${layers%,}]"
  jq -n --argjson c "$cfg" --argjson ids "$ids" '{
      architecture: "amd64", os: "linux", created: "1970-01-01T00:00:00Z",
      config: ({Env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"], WorkingDir: "/"} + $c),
      rootfs: {type: "layers", diff_ids: $ids},
      history: [$ids[] | {created: "1970-01-01T00:00:00Z", created_by: "dsa kind node-image build"}]
    }' > "$out/config.tmp"
  chex=$(sha256sum "$out/config.tmp" | cut -d' ' -f1)
  mv -f "$out/config.tmp" "$out/$chex.json"
  jq --arg cfg "$chex.json" --arg ref "$ref" --argjson layers "$layers" \
    '. + [{Config: $cfg, RepoTags: [$ref], Layers: $layers}]' "$out/manifest.json" > "$out/manifest.tmp"
  mv -f "$out/manifest.tmp" "$out/manifest.json"
}
