#!/usr/bin/env bash
# The kind tier's smoke suite (CI), against the cluster `e2e-kind.sh up` made. Prints one
# `PASS name` / `FAIL name` line per check (the format summarize-results.mjs counts) and a final
# "N passed, N failed"; exits non-zero on any failure. What it proves, in order:
#   node image   the node is Ready and every kube-system / local-path pod kind starts runs (a broken
#                image fails here); CoreDNS answers; the default StorageClass provisions a volume
#   registry     kind's local-registry wiring: the KEP-1755 ConfigMap, and containerd pulls from it
#   operator     built by operator/build/build-image.sh into the kind registry, installed from
#                charts/dsa-operator, Available
#   devsession   `dsa deploy` of examples/node-kubectl: the operator builds the image with kaniko in
#                the cluster, pushes it to the registry and rolls it out; the session is Ready
#   logs         `dsa logs` shows the app's log
#   port-forward kubectl port-forward to the deployed app carries HTTP
#   host         kind next to the harness: FORWARD policy, the dockerd guard rule, the harness node Ready
#   down         `dsa down` deletes the session and what it deployed
# Usage: test-e2e/kind/kind-smoke.sh   (env: the file `e2e-kind.sh env` prints, read when KUBECONFIG is unset)
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
if [ -z "${DSA_CLUSTER_KIND:-}" ]; then
  eval "$("$HERE/e2e-kind.sh" env)" || { echo "FAIL kind env (run e2e-kind.sh up first)"; echo "0 passed, 1 failed"; exit 1; }
fi
K="$DSA_KUBE_BIN/kubectl --kubeconfig $KUBECONFIG"
NS=dsa-kind-smoke-$RANDOM
PROBE=dsa-kind-probe-$RANDOM
SYS=dsa-kind-system
RELEASE=dsa-kind
OUT=$(mktemp -d)
PF_PID=
passed=0 failed=0
export HELM_CACHE_HOME=$OUT/helm/cache HELM_CONFIG_HOME=$OUT/helm/config HELM_DATA_HOME=$OUT/helm/data
cleanup() {
  [ -n "$PF_PID" ] && kill "$PF_PID" 2>/dev/null
  "$DSA_HELM" --kubeconfig "$KUBECONFIG" uninstall "$RELEASE" -n "$SYS" --wait >/dev/null 2>&1
  $K delete namespace "$NS" "$SYS" $PROBE --wait=false >/dev/null 2>&1
  rm -rf "$OUT"
}
trap cleanup EXIT

healthy=1
check() { # NAME FUNCTION: once the node check failed, the rest fail at once (they could only time out)
  local name=$1 t0=$SECONDS; shift
  if [ $healthy = 0 ]; then
    failed=$((failed + 1)); echo "FAIL kind: $name (not run: the node is not healthy)"; return
  fi
  # errexit inside: any failing step fails the check (bash ignores -e in an `if` condition, so the
  # subshell runs as a statement of its own)
  local rc=0
  ( set -e; "$@" ) >"$OUT/check.log" 2>&1 || rc=$?
  if [ $rc = 0 ]; then
    passed=$((passed + 1)); echo "PASS kind: $name ($((SECONDS - t0))s)"
  else
    failed=$((failed + 1)); echo "FAIL kind: $name ($((SECONDS - t0))s)"; tail -25 "$OUT/check.log" | sed 's/^/    /'
  fi
}
until_ok() { local t=$1; shift; local end=$((SECONDS + t)); until "$@"; do [ $SECONDS -lt $end ] || return 1; sleep 1; done; }
dsa() { node "$REPO/agent/bin/dsa.js" --config "$REPO/examples/node-kubectl/devspace.yaml" -n "$NS" --no-color \
  --var "DSA_REGISTRY=$DSA_REGISTRY" --var "BASE_IMAGE=$DSA_NODE_IMAGE" "$@"; }

all_running() { # namespace: every pod Running and Ready
  local bad
  bad=$($K -n "$1" get pods --no-headers -o custom-columns=N:.metadata.name,P:.status.phase,R:.status.containerStatuses[*].ready 2>/dev/null \
        | awk '$2 != "Running" || $3 ~ /false/')
  [ -z "$bad" ] && [ -n "$($K -n "$1" get pods --no-headers 2>/dev/null)" ]
}
has_components() { # every component kind deploys has a pod (coredns appears a few seconds after the rest)
  local want pods; pods=$($K -n kube-system get pods --no-headers -o custom-columns=N:.metadata.name 2>/dev/null)
  for want in etcd kube-apiserver kube-controller-manager kube-scheduler kube-proxy coredns kindnet; do
    grep -q "^$want" <<<"$pods" || { echo "no $want pod yet"; return 1; }
  done
}
components_up() { has_components >/dev/null && all_running kube-system; }
t_node() {
  $K wait --for=condition=Ready node --all --timeout=180s
  # all of them Running and Ready, from the images the node image preloaded (nothing can be pulled)
  until_ok 120 components_up || { has_components; $K -n kube-system get pods -o wide; return 1; }
  until_ok 60 all_running local-path-storage || { $K -n local-path-storage get pods -o wide; return 1; }
  $K get nodes -o wide
  $K -n kube-system get pods -o custom-columns=POD:.metadata.name,IMAGE:.spec.containers[0].image,READY:.status.containerStatuses[0].ready
}
# kind next to the harness on one machine (README, "Docker"): dockerd left the FORWARD policy alone, the
# guard rule of the dockerd we started is in place, and the harness's node (when it runs) is still Ready.
t_host() {
  local policy cache=${DSA_CACHE:-$HOME/.cache/dsa} pidf
  policy=$(iptables -S FORWARD | head -1)
  [ "$policy" = "-P FORWARD ACCEPT" ] || { echo "FORWARD policy is '$policy': pod traffic through cni0 would be cut"; return 1; }
  pidf=$cache/kind/dockerd.docker.pid
  if [ -f "$pidf" ] && kill -0 "$(cat "$pidf")" 2>/dev/null; then
    iptables -S DOCKER-USER | grep -q dsa-kind-guard || { echo "no dsa-kind-guard rule in DOCKER-USER"; iptables -S DOCKER-USER; return 1; }
  fi
  if [ -f "$cache/run/admin.kubeconfig" ] && "$DSA_KUBE_BIN/kubectl" --kubeconfig "$cache/run/admin.kubeconfig" --request-timeout=5s get --raw /readyz >/dev/null 2>&1; then
    "$DSA_KUBE_BIN/kubectl" --kubeconfig "$cache/run/admin.kubeconfig" get node dsa-node -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' | grep -qx True \
      || { echo "the harness's node dsa-node is not Ready next to kind"; return 1; }
    echo "harness node dsa-node Ready"
  fi
}
t_dns() {
  $K create namespace $PROBE
  until_ok 30 $K -n $PROBE get serviceaccount default
  $K -n $PROBE run dns --image="$DSA_TEST_IMAGE" --restart=Never --command -- sh -c \
    'nslookup kubernetes.default.svc.cluster.local || exit 1
     # docker names come from docker'"'"'s embedded DNS (kind rewrites the node'"'"'s resolv.conf to it),
     # which may take a few seconds after the node starts
     for i in $(seq 30); do nslookup kind-registry. && exit 0; sleep 2; done; exit 1'
  until_ok 90 sh -c "[ \"\$($K -n $PROBE get pod dns -o jsonpath='{.status.phase}')\" = Succeeded ]" \
    || { $K -n $PROBE describe pod dns | tail -20; $K -n $PROBE logs dns; return 1; }
  $K -n $PROBE logs dns
}
t_storage() {
  $K get storageclass standard -o jsonpath='{.metadata.annotations.storageclass\.kubernetes\.io/is-default-class}' | grep -qx true
  $K -n $PROBE apply -f - <<YAML
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data}
spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Mi}}}
---
apiVersion: v1
kind: Pod
metadata: {name: vol}
spec:
  restartPolicy: Never
  containers:
  - {name: c, image: "$DSA_TEST_IMAGE", command: [sh, -c, "echo kept > /data/f && cat /data/f"], volumeMounts: [{name: d, mountPath: /data}]}
  volumes: [{name: d, persistentVolumeClaim: {claimName: data}}]
YAML
  until_ok 120 sh -c "[ \"\$($K -n $PROBE get pod vol -o jsonpath='{.status.phase}')\" = Succeeded ]" \
    || { $K -n $PROBE describe pod vol | tail -20; $K -n local-path-storage logs deploy/local-path-provisioner --tail=20; return 1; }
  [ "$($K -n $PROBE logs vol)" = kept ]
  [ "$($K -n $PROBE get pvc data -o jsonpath='{.status.phase}')" = Bound ]
}
t_registry() {
  $K -n kube-public get configmap local-registry-hosting -o jsonpath='{.data.localRegistryHosting\.v1}' | grep -q 'host: "localhost:'
  # the host reaches it under DSA_REGISTRY, and containerd pulls from it (the probe pods above ran
  # DSA_TEST_IMAGE from it); a tag that does not exist fails to pull
  curl -fsS --max-time 5 "http://$DSA_REGISTRY/v2/" >/dev/null
  [ "$($K -n $PROBE get pod dns -o jsonpath='{.status.containerStatuses[0].imageID}')" != "" ]
  $K -n $PROBE run missing --image="$DSA_REGISTRY/dsa/does-not-exist:v0" --restart=Never
  until_ok 60 sh -c "$K -n $PROBE get pod missing -o jsonpath='{.status.containerStatuses[0].state.waiting.reason}' | grep -Eq 'ErrImagePull|ImagePullBackOff'"
}
t_operator() {
  local ref repo tag
  ref=$(flock /tmp/dsa-operator-image.lock "$HERE/keep-ref.sh" "$REPO/operator/dist/image.ref" \
    "$REPO/operator/build/build-image.sh") || return 1
  ref=$(tail -1 <<<"$ref"); repo=${ref%:*}; tag=${ref##*:}
  [[ "$repo" == "$DSA_REGISTRY/"* ]] || { echo "image $ref is not in the kind registry"; return 1; }
  # CRDs applied earlier with kubectl (a suite, `make install`) carry no Helm ownership: let this
  # release adopt them, as operator/build/deploy-chart.sh (`make deploy`) does.
  local crd
  for crd in devsessions.dsa.dev imagebuilds.dsa.dev; do
    if $K get crd "$crd" >/dev/null 2>&1; then
      $K label --overwrite crd "$crd" app.kubernetes.io/managed-by=Helm
      $K annotate --overwrite crd "$crd" "meta.helm.sh/release-name=$RELEASE" "meta.helm.sh/release-namespace=$SYS"
    fi
  done
  # The session's namespace exists first: the chart makes it a tenant namespace (confinement is on by default:
  # the operator impersonates its dsa-deployer ServiceAccount, which the chart creates there with the tenant Role).
  $K create namespace "$NS" 2>/dev/null || true
  "$DSA_HELM" --kubeconfig "$KUBECONFIG" upgrade --install "$RELEASE" "$REPO/charts/dsa-operator" -n "$SYS" --create-namespace \
    --wait --timeout 5m --set "image.repository=$repo" --set "image.tag=$tag" --set image.pullPolicy=IfNotPresent \
    --set "builder.image=$DSA_KANIKO_IMAGE" --set "builder.helperImage=$DSA_TEST_IMAGE" --set "watchNamespaces={$NS}" \
    --set "tenantNamespaces={$NS}" --set leaderElection.enabled=false
  $K -n "$SYS" wait --for=condition=Available deploy --all --timeout=120s
  $K -n "$SYS" get deploy -o wide
}
t_devsession() {
  $K create namespace "$NS" 2>/dev/null || true
  until_ok 30 $K -n "$NS" get serviceaccount default
  dsa deploy --timeout 8m
  local phase image built
  phase=$($K -n "$NS" get devsession node-kubectl -o jsonpath='{.status.phase}')
  [ "$phase" = Ready ] || { echo "phase $phase"; $K -n "$SYS" logs -l app.kubernetes.io/instance="$RELEASE" --tail=40; return 1; }
  built=$($K -n "$NS" get imagebuild node-kubectl-app -o jsonpath='{.status.image}')
  image=$($K -n "$NS" get deploy node-kubectl -o jsonpath='{.spec.template.spec.containers[0].image}')
  echo "built $built, deployed $image"
  [[ "$built" == "$DSA_REGISTRY/dsa-examples/node-kubectl:dsa-"* ]] || { echo "unexpected image $built"; return 1; }
  [ "$image" = "$built" ] || { echo "the Deployment does not run the built image"; return 1; }
  # the registry has what kaniko pushed
  curl -fsS -o /dev/null --max-time 5 -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
    -H 'Accept: application/vnd.oci.image.manifest.v1+json' "http://$DSA_REGISTRY/v2/dsa-examples/node-kubectl/manifests/${built##*:}"
}
t_logs() {
  local out
  out=$(dsa logs --lines 20) || return 1
  echo "$out"
  grep -q 'listening on :3000' <<<"$out"
}
t_forward() {
  $K -n "$NS" port-forward deploy/node-kubectl :3000 > "$OUT/pf.log" 2>&1 &
  PF_PID=$!
  until_ok 30 grep -q 'Forwarding from 127.0.0.1:' "$OUT/pf.log" || { cat "$OUT/pf.log"; return 1; }
  local port body
  port=$(sed -n 's/^Forwarding from 127.0.0.1:\([0-9]*\) .*/\1/p' "$OUT/pf.log" | head -1)
  body=$(curl -fsS --max-time 10 "http://127.0.0.1:$port/via-kind") || return 1
  echo "$body"
  grep -q '"greeting":"Hello from dsa"' <<<"$body"
  grep -q '"path":"/via-kind"' <<<"$body"
  kill "$PF_PID"; PF_PID=
}
t_down() {
  dsa down
  if $K -n "$NS" get devsession node-kubectl 2>/dev/null; then echo "the DevSession is still there"; return 1; fi
  until_ok 60 sh -c "! $K -n $NS get deploy node-kubectl >/dev/null 2>&1"
}

check "node image: node Ready, kind's system pods run" t_node
[ $failed = 0 ] || healthy=0
check "host: FORWARD policy kept, kind guard rule in place, harness node still Ready" t_host
check "node image: cluster DNS (CoreDNS) resolves service and docker names" t_dns
check "node image: default StorageClass (local-path) provisions a volume" t_storage
check "local registry: KEP-1755 ConfigMap, pulls by containerd" t_registry
check "operator: image built into the kind registry, chart installed, Available" t_operator
check "devsession: dsa deploy builds with kaniko in-cluster and rolls out, Ready" t_devsession
check "devsession: dsa logs shows the app log" t_logs
check "devsession: port-forward carries HTTP to the app" t_forward
check "devsession: dsa down deletes the session and its objects" t_down
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
