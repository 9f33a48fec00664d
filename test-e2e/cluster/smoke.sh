#!/usr/bin/env bash
# Smoke suite of the dsa local test cluster: brings up the node tier (or reuses it), builds the
# kaniko/helm images if missing, then checks the things the operator's e2e tests rely on.
# Prints PASS/FAIL per check and a final "N passed, N failed"; exits non-zero on any failure.
# Usage: test-e2e/cluster/smoke.sh      (or: make test-e2e-smoke)
set -uo pipefail
source "$(dirname "$0")/lib.sh"
# DSA_EXTERNAL_CLUSTER=1: the environment already points at another cluster (e.g. kind via e2e-kind.sh).
if [ "${DSA_EXTERNAL_CLUSTER:-0}" != 1 ]; then
  eval "$("$CLUSTER_DIR/ensure.sh" node)" || { echo "FAIL: cluster up"; echo "0 passed, 1 failed"; exit 1; }
  { "$CLUSTER_DIR/images.sh" kaniko >&2 && "$CLUSTER_DIR/images.sh" helm >&2; } || echo "WARN: image build failed (kaniko/helm checks will fail)" >&2
fi
K=${KUBECTL:-${DSA_KUBE_BIN:+$DSA_KUBE_BIN/kubectl}}; K=${K:-kubectl}
NS=dsa-smoke-$RANDOM
OUT=$(mktemp -d)
PF_PID=
passed=0 failed=0
cleanup() {
  [ -n "$PF_PID" ] && kill "$PF_PID" 2>/dev/null
  $K delete namespace "$NS" --wait=false >/dev/null 2>&1
  $K delete crd widgets.smoke.dsa.test --wait=false >/dev/null 2>&1
  rm -rf "$OUT"
}
trap cleanup EXIT

check() { # NAME FUNCTION
  local name=$1 t0=$SECONDS; shift
  if "$@" >"$OUT/check.log" 2>&1; then
    passed=$((passed + 1)); echo "PASS: $name ($((SECONDS - t0))s)"
  else
    failed=$((failed + 1)); echo "FAIL: $name ($((SECONDS - t0))s)"; tail -15 "$OUT/check.log" | sed 's/^/    /'
  fi
}
until_ok() { local t=$1; shift; local end=$((SECONDS + t)); until "$@"; do [ $SECONDS -lt $end ] || return 1; sleep 1; done; }
phase() { $K -n "$NS" get pod "$1" -o jsonpath='{.status.phase}' 2>/dev/null; }
wait_phase() { until_ok "$3" sh -c "[ \"\$($K -n $NS get pod $1 -o jsonpath='{.status.phase}' 2>/dev/null)\" = $2 ]" || { $K -n "$NS" describe pod "$1" | tail -20; return 1; }; }

t_api() { $K get --raw /readyz && $K version && $K get namespace default; }

t_crd() {
  $K apply -f - <<YAML
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.smoke.dsa.test}
spec:
  group: smoke.dsa.test
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec: {type: object, required: [size], properties: {size: {type: integer, minimum: 1}}}
YAML
  $K wait --for condition=Established --timeout=30s crd/widgets.smoke.dsa.test
  $K create namespace "$NS"
  until_ok 30 $K -n "$NS" get serviceaccount default
  until_ok 20 sh -c "echo '{\"apiVersion\":\"smoke.dsa.test/v1\",\"kind\":\"Widget\",\"metadata\":{\"name\":\"w1\"},\"spec\":{\"size\":3}}' | $K -n $NS apply -f -"
  [ "$($K -n "$NS" get widget w1 -o jsonpath='{.spec.size}')" = 3 ]
  # schema validation is served too: size 0 must be rejected
  ! echo '{"apiVersion":"smoke.dsa.test/v1","kind":"Widget","metadata":{"name":"w0"},"spec":{"size":0}}' | $K -n "$NS" apply -f -
}

t_pod() {
  $K get namespace "$NS" >/dev/null 2>&1 || $K create namespace "$NS"
  until_ok 30 $K -n "$NS" get serviceaccount default
  $K -n "$NS" apply -f - <<YAML
apiVersion: v1
kind: Pod
metadata: {name: web, labels: {app: web}}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: web
    image: $DSA_TEST_IMAGE
    imagePullPolicy: IfNotPresent
    command: [sh, -c, 'mkdir -p /www && echo hello-from-pod > /www/index.html && echo smoke-started && exec httpd -f -p 8080 -h /www']
    ports: [{containerPort: 8080}]
YAML
  wait_phase web Running 120
  $K -n "$NS" wait --for condition=Ready --timeout=60s pod/web
}

t_logs() { until_ok 20 sh -c "$K -n $NS logs web | grep -q smoke-started"; }

t_exec_stdin() {
  local want got
  want="stdin-$RANDOM-$(date +%s)"
  got=$(echo "$want" | $K -n "$NS" exec -i web -- sh -c 'cat > /tmp/in && cat /tmp/in && hostname')
  echo "$got"
  [ "$(echo "$got" | head -1)" = "$want" ] && [ "$(echo "$got" | tail -1)" = web ]
}

t_port_forward() {
  # 1 MiB of random bytes through the tunnel, compared by checksum.
  $K -n "$NS" exec web -- sh -c 'head -c 1048576 /dev/urandom > /www/blob && sha256sum /www/blob' > "$OUT/sum"
  local port=$((20000 + RANDOM % 20000))
  $K -n "$NS" port-forward pod/web "$port:8080" > "$OUT/pf.log" 2>&1 &
  PF_PID=$!
  until_ok 20 curl -fsS -o /dev/null "http://127.0.0.1:$port/index.html"
  [ "$(curl -fsS "http://127.0.0.1:$port/index.html")" = hello-from-pod ]
  curl -fsS -o "$OUT/blob" "http://127.0.0.1:$port/blob"
  kill "$PF_PID"; PF_PID=
  [ "$(sha256sum < "$OUT/blob" | cut -d' ' -f1)" = "$(cut -d' ' -f1 < "$OUT/sum")" ]
}

t_service_vip() {
  # kube-proxy: the kubernetes Service VIP (what an in-cluster operator uses) reaches the apiserver.
  local vip; vip=$($K -n default get svc kubernetes -o jsonpath='{.spec.clusterIP}')
  # plain HTTP to the HTTPS port: the apiserver answers with a recognizable 400.
  $K -n "$NS" exec web -- sh -c "printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 5 $vip 443" | tee /dev/stderr | grep -q 'HTTP request to an HTTPS server' 
}

t_kaniko() {
  local tag dest; tag=smoke-$RANDOM; dest=$DSA_REGISTRY/dsa/smoke-kaniko:$tag
  $K -n "$NS" create configmap kaniko-ctx --from-file=Dockerfile="$CLUSTER_DIR/images/smoke-kaniko/Dockerfile"
  $K -n "$NS" apply -f - <<YAML
apiVersion: v1
kind: Pod
metadata: {name: kaniko}
spec:
  restartPolicy: Never
  containers:
  - name: kaniko
    image: $DSA_KANIKO_IMAGE
    imagePullPolicy: IfNotPresent
    args: [--dockerfile=/workspace/Dockerfile, --context=dir:///workspace, --destination=$dest,
           --build-arg=BASE_IMAGE=$DSA_TEST_IMAGE, --insecure, --insecure-pull, --skip-tls-verify]
    volumeMounts: [{name: ctx, mountPath: /workspace}]
  volumes: [{name: ctx, configMap: {name: kaniko-ctx}}]
YAML
  wait_phase kaniko Succeeded 300 || { $K -n "$NS" logs kaniko | tail -20; return 1; }
  $K -n "$NS" run built --image="$dest" --restart=Never --image-pull-policy=IfNotPresent
  wait_phase built Succeeded 120
  [ "$($K -n "$NS" logs built)" = built-by-kaniko ]
}

t_gc() {
  $K -n "$NS" apply -f - <<YAML
apiVersion: apps/v1
kind: Deployment
metadata: {name: gc-test, labels: {app: gc-test}}
spec:
  selector: {matchLabels: {app: gc-test}}
  template:
    metadata: {labels: {app: gc-test}}
    spec:
      terminationGracePeriodSeconds: 1   # busybox sleep as PID 1 ignores SIGTERM
      containers: [{name: sleep, image: "$DSA_TEST_IMAGE", imagePullPolicy: IfNotPresent, command: [sleep, "3600"]}]
YAML
  until_ok 120 sh -c "$K -n $NS get pods -l app=gc-test -o jsonpath='{.items[*].status.phase}' | grep -q Running"
  local pod; pod=$($K -n "$NS" get pods -l app=gc-test -o jsonpath='{.items[0].metadata.name}')
  echo "pod $pod owned by $($K -n "$NS" get pod "$pod" -o jsonpath='{.metadata.ownerReferences[0].kind}')"
  $K -n "$NS" delete deployment gc-test --wait=false
  # ownerReference cascade (background): Deployment -> ReplicaSet -> Pod, done by KCM's garbage collector.
  until_ok 90 sh -c "[ -z \"\$($K -n $NS get rs,pods -l app=gc-test -o name)\" ]"
}

t_helm() {
  "$DSA_HELM" version --short
  "$DSA_HELM" list --all-namespaces
}

# A daemon the harness starts must not keep the caller's stdout/stderr open: `.ci/run` pipes `make test`
# through tee and would wait for EOF forever (it did, with the build dockerd). Restarted through a pipe that
# must close when the script returns; then it answers again for the suites that build locally.
t_daemons_detached() {
  [ -x /usr/sbin/dockerd ] || { echo "no /usr/sbin/dockerd: nothing to check"; return 0; }
  "$CLUSTER_DIR/dockerd.sh" down
  timeout 60 bash -c '"$1" up 2>&1 | cat' _ "$CLUSTER_DIR/dockerd.sh" || { echo "dockerd.sh up held its caller's pipe open (or failed)"; return 1; }
  "$CLUSTER_DIR/dockerd.sh" host
}

check "API reachable" t_api
check "CRD applied, served and validated" t_crd
check "pod from DSA_TEST_IMAGE Running" t_pod
check "kubectl logs" t_logs
check "kubectl exec with stdin" t_exec_stdin
check "kubectl port-forward carries 1 MiB intact" t_port_forward
check "Service VIP (kubernetes.default) reachable from a pod" t_service_vip
check "helm CLI (DSA_HELM) talks to the cluster" t_helm
check "kaniko builds + pushes in-cluster, pod runs result" t_kaniko
check "Deployment deleted -> ReplicaSet and Pod garbage-collected" t_gc
check "harness daemons hold no pipe of their caller (build dockerd restarted through a pipe)" t_daemons_detached
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
