#!/usr/bin/env bash
# kind for dsa: a kind cluster from our locally built node image (or KIND_IMAGE), with a local
# registry wired the way kind documents it, the harness's env contract pointed at it, the operator
# from its chart, and the test suites run against it.
#
# Usage: e2e-kind.sh up | env | smoke | node | down | run | ci
#   up     dockerd (started only if none answers), node image, registry container, cluster, images
#          in the registry; writes $DSA_CACHE/kind/<name>.env (the harness's env contract)
#   env    prints that env file (export lines only)
#   smoke  kind-smoke.sh against it: PASS/FAIL lines + "N passed, N failed"
#   node   the jest project `node` (the full-node suites) against it
#   down   deletes the cluster and the registry container (the dockerd we started keeps running;
#          `test-e2e/kind/dockerd.sh down` stops it)
#   run    = `make e2e-kind`: up, smoke, node, down (the cluster is deleted even when a step fails)
#   ci     = the CI tier: up, smoke, down; results in $DSA_TEST_OUT/kind.tap-lite (default test-e2e/.out)
# Env: KIND_CLUSTER_NAME (dsa-kind), KIND_IMAGE (a node image to use instead of building ours, e.g.
#      kindest/node:v1.33.x for users with network), KIND_REGISTRY_IMAGE (registry:2 instead of ours),
#      KIND_REGISTRY_PORT (5001), DSA_KEEP_CLUSTER=1 (run/ci leave the cluster up).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
source "$HERE/../cluster/lib.sh"
source "$HERE/versions.sh"
source "$HERE/docker-env.sh"
klog() { echo "[e2e-kind] $*" >&2; }
NAME=${KIND_CLUSTER_NAME:-dsa-kind}
REG_NAME=kind-registry        # kind's documented names and ports
REG_PORT=${KIND_REGISTRY_PORT:-5001}
D=$DSA_CACHE/kind
ENV_FILE=$D/$NAME.env
KCFG=$D/$NAME.kubeconfig
TIMES=$D/$NAME.times
# Clear of the harness's pod CIDR (10.244/16) and service CIDR (10.96/12) on this machine, so a
# route or rule meant for one cluster can never match the other's traffic.
POD_SUBNET=${KIND_POD_SUBNET:-10.252.0.0/16}
SERVICE_SUBNET=${KIND_SERVICE_SUBNET:-10.253.0.0/16}
OUT=${DSA_TEST_OUT:-$REPO/test-e2e/.out}

kind_bin() { "$HERE/build-go.sh" kind; }
stamp() { echo "$1 $2" >> "$TIMES"; klog "$1: ${2}s"; }

registry_image() { # our registry:2 stand-in: Debian's docker-registry (distribution 2.8) + its libc
  local ver ref ctx lib
  ver=$(dpkg-query -W -f '${Version}' docker-registry | sed 's/[+~-].*//')
  ref=dsa.local/kind/registry:$ver-$IMAGE_TAG
  docker image inspect "$ref" >/dev/null 2>&1 && { echo "$ref"; return; }
  ctx=$(mktemp -d)
  mkdir -p "$ctx/usr/bin" "$ctx/etc/docker/registry" "$ctx/var/lib/registry"
  cp /usr/bin/docker-registry "$ctx/usr/bin/registry"
  for lib in $(ldd /usr/bin/docker-registry | grep -o '/[^ ]*'); do mkdir -p "$ctx$(dirname "$lib")"; cp -L "$lib" "$ctx$lib"; done
  # registry:2's own config (listen :5000, storage /var/lib/registry)
  cat > "$ctx/etc/docker/registry/config.yml" <<'YML'
version: 0.1
log: {level: warn, accesslog: {disabled: true}, fields: {service: registry}}
storage:
  cache: {blobdescriptor: inmemory}
  filesystem: {rootdirectory: /var/lib/registry}
  delete: {enabled: true}
http: {addr: ":5000", headers: {X-Content-Type-Options: [nosniff]}}
YML
  tar --numeric-owner -C "$ctx" -cf - . | docker import \
    --change 'ENTRYPOINT ["/usr/bin/registry", "serve", "/etc/docker/registry/config.yml"]' \
    --change 'EXPOSE 5000' --change 'VOLUME /var/lib/registry' - "$ref" >/dev/null
  rm -rf "$ctx"
  echo "$ref"
}

cluster_exists() { "$(kind_bin)" get clusters 2>/dev/null | grep -qx "$NAME"; }

up() {
  : > "$TIMES"
  "$HERE/install-deps.sh"
  local t=$SECONDS kind image reg_image
  "$HERE/dockerd.sh" up
  kind=$(kind_bin)
  if [ -n "${KIND_IMAGE:-}" ]; then image=$KIND_IMAGE
  else
    t=$SECONDS; image=$("$HERE/node-image/build-node-image.sh"); stamp node-image $((SECONDS - t))
  fi

  # 1. the cluster, with containerd's registry config dir enabled (the local-registry recipe's patch)
  if ! cluster_exists; then
    t=$SECONDS
    klog "kind create cluster --name $NAME --image $image"
    "$kind" create cluster --name "$NAME" --image "$image" --kubeconfig "$KCFG" --wait 0s --retain --config=- <<YAML >&2 || {
kind: Cluster
apiVersion: kind.x-k8s.io/v1alpha4
networking:
  podSubnet: "$POD_SUBNET"
  serviceSubnet: "$SERVICE_SUBNET"
containerdConfigPatches:
- |-
  [plugins."io.containerd.grpc.v1.cri".registry]
    config_path = "/etc/containerd/certs.d"
YAML
      klog "kind create cluster failed; node logs follow (kind export logs: $D/$NAME-logs)"
      "$kind" export logs --name "$NAME" "$D/$NAME-logs" >/dev/null 2>&1 || true
      docker logs "$NAME-control-plane" 2>&1 | tail -30 >&2 || true
      "$kind" delete cluster --name "$NAME" >/dev/null 2>&1 || true
      return 1
    }
    stamp kind-create $((SECONDS - t))
  fi
  "$kind" get kubeconfig --name "$NAME" > "$KCFG"

  # 2. the registry container as kind's local-registry recipe runs it
  #    (kind.sigs.k8s.io/docs/user/local-registry/), started on the kind network directly instead of
  #    docker's default bridge + `docker network connect` (the dockerd we start has no default bridge).
  reg_image=${KIND_REGISTRY_IMAGE:-$(registry_image)}
  if [ "$(docker inspect -f '{{.State.Running}}' "$REG_NAME" 2>/dev/null || true)" != true ]; then
    docker rm -f "$REG_NAME" >/dev/null 2>&1 || true
    docker run -d --restart=always -p "127.0.0.1:$REG_PORT:5000" --network kind --name "$REG_NAME" \
      -v "$D/registry:/var/lib/registry" "$reg_image" >/dev/null
  fi

  # 3. containerd on every node resolves both of kind's names
  #    (localhost:$REG_PORT from the host's view, kind-registry:5000 from the cluster's) and the
  #    registry's address on the kind network (what DSA_REGISTRY is: the same name works from the
  #    host, from containerd and from pods, which kaniko pushes from) to the registry over plain HTTP.
  [ "$(docker inspect -f '{{json .NetworkSettings.Networks.kind}}' "$REG_NAME")" = null ] && docker network connect kind "$REG_NAME"
  local reg_ip gw node host
  reg_ip=$(docker inspect -f '{{(index .NetworkSettings.Networks "kind").IPAddress}}' "$REG_NAME")
  gw=$(docker network inspect kind -f '{{range .IPAM.Config}}{{if .Gateway}}{{.Gateway}} {{end}}{{end}}' | tr ' ' '\n' | grep -m1 -E '^[0-9.]+$')
  [ -n "$reg_ip" ] && [ -n "$gw" ] || die "could not read the registry address / kind network gateway"
  for node in $("$kind" get nodes --name "$NAME"); do
    for host in "localhost:$REG_PORT" "$REG_NAME:5000" "$reg_ip:5000"; do
      docker exec "$node" mkdir -p "/etc/containerd/certs.d/$host"
      # server = the same plain-HTTP registry: without it containerd falls back to https://<host> when the
      # mirror answers 404, and a missing image is reported as an HTTPS error instead of "not found".
      printf 'server = "http://%s:5000"\n\n[host."http://%s:5000"]\n' "$REG_NAME" "$REG_NAME" | docker exec -i "$node" cp /dev/stdin "/etc/containerd/certs.d/$host/hosts.toml"
    done
  done
  # The harness's contract includes "this machine reaches pod IPs directly" (single node, pod CIDR
  # routed on the host; operator-chart.test.ts reads the operator's /readyz from its pod IP). On kind
  # the pods live behind the node container: route the pod subnet to it (one node, so one route).
  local node_addr
  node_addr=$(docker inspect -f '{{(index .NetworkSettings.Networks "kind").IPAddress}}' "$NAME-control-plane")
  if [ "$(id -u)" = 0 ] && [ -n "$node_addr" ]; then ip route replace "$POD_SUBNET" via "$node_addr"
  else klog "WARN: no route to the pod subnet $POD_SUBNET (needs root); suites that fetch pod IPs from the host will fail"; fi
  local K="$KBIN/kubectl --kubeconfig $KCFG"
  # KEP-1755: tell tools where the local registry is
  $K apply -f - >/dev/null <<YAML
apiVersion: v1
kind: ConfigMap
metadata: {name: local-registry-hosting, namespace: kube-public}
data:
  localRegistryHosting.v1: |
    host: "localhost:$REG_PORT"
    hostFromContainerRuntime: "$REG_NAME:5000"
    hostFromClusterNetwork: "$REG_NAME:5000"
    help: "https://kind.sigs.k8s.io/docs/user/local-registry/"
YAML

  # 4. the harness's images (built offline by its images.sh into its registry), copied into kind's
  t=$SECONDS
  "$CLUSTER_DIR/images.sh" all >&2
  local src ref
  for src in "$(IMG_BUSYBOX)" "$(IMG_NODE)" "$(IMG_KANIKO)" "$(IMG_HELM)" "$(IMG_PAUSE)"; do
    ref=${src#*/}
    curl -fsS -o /dev/null --max-time 5 -I -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
      "http://127.0.0.1:$REG_PORT/v2/${ref%:*}/manifests/${ref##*:}" 2>/dev/null && continue
    skopeo copy --quiet --src-tls-verify=false --dest-tls-verify=false "docker://$src" "docker://127.0.0.1:$REG_PORT/$ref" >&2
  done
  stamp images $((SECONDS - t))

  # 5. the harness's env contract, pointed at kind (test-e2e/lib/env.ts; ../cluster/README.md)
  local regaddr=$reg_ip:5000 sidecar="" docker_host="" kustomize
  # the dev sidecar image, built into the kind registry like the harness builds it into its own
  if [ -f "$REPO/sidecar/build/build-image.sh" ]; then
    sidecar=$(DSA_REGISTRY=$regaddr DSA_NODE_IMAGE=$regaddr/$(IMG_NODE | cut -d/ -f2-) \
      flock /tmp/dsa-sidecar-image.lock "$HERE/keep-ref.sh" "$REPO/sidecar/dist/image.ref" \
        bash "$REPO/sidecar/build/build-image.sh" | tail -1)
  fi
  # a Docker daemon for the agent's local builds: the one kind runs on, if it trusts the kind registry
  if docker info -f '{{json .RegistryConfig.IndexConfigs}}' 2>/dev/null | grep -q "\"$regaddr\"" \
     || docker info -f '{{json .RegistryConfig.InsecureRegistryCIDRs}}' 2>/dev/null | grep -q '"172.21.0.0/16"'; then
    docker_host=${DOCKER_HOST:-unix:///var/run/docker.sock}
  else
    klog "WARN: the Docker daemon does not trust $regaddr as an insecure registry; DOCKER_HOST left out (local-build suites fail)"
  fi
  kustomize=$("$CLUSTER_DIR/tools.sh" kustomize 2>/dev/null) || kustomize=""
  {
    q() { printf "export %s=%q\n" "$1" "$2"; }
    q KUBECONFIG "$KCFG"
    q DSA_CLUSTER_TIER node
    q DSA_CLUSTER_KIND "$NAME"
    q DSA_NODE_IP "$gw"          # this machine as pods see it (git server for git build contexts)
    q DSA_REGISTRY "$regaddr"
    q DSA_TEST_IMAGE "$regaddr/$(IMG_BUSYBOX | cut -d/ -f2-)"
    q DSA_NODE_IMAGE "$regaddr/$(IMG_NODE | cut -d/ -f2-)"
    q DSA_KANIKO_IMAGE "$regaddr/$(IMG_KANIKO | cut -d/ -f2-)"
    q DSA_HELM_IMAGE "$regaddr/$(IMG_HELM | cut -d/ -f2-)"
    q DSA_PAUSE_IMAGE "$regaddr/$(IMG_PAUSE | cut -d/ -f2-)"   # the harness's pause, as a plain image (not kind's sandbox)
    q DSA_HELM "$("$CLUSTER_DIR/tools.sh" helm)"
    q DSA_KUBE_BIN "$KBIN"
    [ -n "$kustomize" ] && q DSA_KUSTOMIZE "$kustomize"
    [ -n "$sidecar" ] && q DSA_SIDECAR_IMAGE "$sidecar"
    [ -n "$docker_host" ] && q DOCKER_HOST "$docker_host"
    q DSA_EXTERNAL_CLUSTER 1
    q DSA_KIND_NODE_IMAGE "$image"
  } > "$ENV_FILE.tmp"
  mv -f "$ENV_FILE.tmp" "$ENV_FILE"
  klog "ready: eval \"\$(test-e2e/kind/e2e-kind.sh env)\""
}

down() {
  local kind; kind=$(kind_bin)
  if cluster_exists; then
    local t=$SECONDS; "$kind" delete cluster --name "$NAME" >&2; stamp kind-delete $((SECONDS - t))
  fi
  docker rm -f "$REG_NAME" >/dev/null 2>&1 || true
  ip route del "$POD_SUBNET" 2>/dev/null || true
  rm -f "$ENV_FILE"
}

smoke() { bash "$HERE/kind-smoke.sh"; }

node_suites() {
  # shellcheck disable=SC1090
  set -a; source "$ENV_FILE"; set +a
  # suites that build the operator image push it to the kind registry: keep the harness's image.ref files
  (cd "$REPO" && "$HERE/keep-ref.sh" operator/dist/image.ref "$HERE/keep-ref.sh" sidecar/dist/image.ref \
    node --experimental-vm-modules --no-warnings node_modules/jest/bin/jest.js --selectProjects node --runInBand "$@")
}

KBIN=$("$CLUSTER_DIR/build-bins.sh" all)
case "${1:-run}" in
  up) up ;;
  env) [ -f "$ENV_FILE" ] || die "no kind cluster env ($ENV_FILE); run: test-e2e/kind/e2e-kind.sh up"; cat "$ENV_FILE" ;;
  smoke) smoke ;;
  node) shift; node_suites "$@" ;;
  down) down ;;
  run)
    rc=0
    if bash "$0" up; then
      t=$SECONDS; smoke || rc=1; stamp smoke $((SECONDS - t))
      t=$SECONDS; node_suites || rc=1; stamp node-suites $((SECONDS - t))
    else rc=1; fi
    [ "${DSA_KEEP_CLUSTER:-0}" = 1 ] || down
    klog "times (s): $(tr '\n' ' ' < "$TIMES")"
    exit $rc ;;
  ci)
    mkdir -p "$OUT"
    rc=0
    # A dockerd this run has to start is stopped again at the end (CI leaves nothing running);
    # one that was already there (a developer's, or a session's) is left as it was.
    docker_was_up=0; timeout 10 docker info >/dev/null 2>&1 && docker_was_up=1
    t=$SECONDS
    if bash "$0" up > "$OUT/kind-up.log" 2>&1; then
      echo "PASS kind: node image, registry and cluster up ($((SECONDS - t))s)" > "$OUT/kind-setup.tap-lite"
      smoke > "$OUT/kind.tap-lite" 2> "$OUT/kind-smoke.log" || rc=1
    else
      rc=1
      echo "FAIL kind: node image, registry or cluster did not come up (log: $OUT/kind-up.log)" > "$OUT/kind-setup.tap-lite"
      tail -40 "$OUT/kind-up.log" >&2
    fi
    if [ "${DSA_KEEP_CLUSTER:-0}" != 1 ]; then
      down >> "$OUT/kind-up.log" 2>&1 || echo "FAIL kind: cluster delete" >> "$OUT/kind-setup.tap-lite"
      [ "$docker_was_up" = 1 ] || "$HERE/dockerd.sh" down >> "$OUT/kind-up.log" 2>&1
    fi
    cat "$OUT/kind-setup.tap-lite" "$OUT/kind.tap-lite" 2>/dev/null | grep -E '^(PASS|FAIL)' >&2 || true
    klog "times (s): $(tr '\n' ' ' < "$TIMES")"
    exit $rc ;;
  *) die "usage: e2e-kind.sh up|env|smoke|node|down|run|ci" ;;
esac
