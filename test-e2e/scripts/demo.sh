#!/usr/bin/env bash
# `make demo`: from a fresh machine to a running dev session, in one command.
#   1. the local single-node cluster (built from Go modules, cached in ~/.cache/dsa)
#   2. the project's images (operator, kaniko, base images) into the local registry
#   3. the operator, installed from its Helm chart
#   4. `dsa up` on examples/node-kubectl: the agent uploads the build context, the operator builds it
#      with kaniko, deploys it with the built tag, and the agent forwards port 3000 and streams logs.
# On a terminal it keeps running until Ctrl-C; otherwise (CI, pipes) it checks the forwarded port
# answers, shows the team view, and stops.
set -euo pipefail
cd "$(dirname "$0")/../.."
say() { printf '\n\033[1m==> %s\033[0m\n' "$*" >&2; }
DEMO_NS=${DEMO_NS:-dsa-demo}
EXAMPLE=${EXAMPLE:-examples/node-kubectl}

say "local cluster (first run builds Kubernetes, etcd, helm and kaniko from Go modules: ~15-25 min on 2 cores)"
make -s cluster-up
eval "$(make -s cluster-env)"

say "images → $DSA_REGISTRY"
make -s images

say "operator (helm chart charts/dsa-operator)"
make -s deploy

export BASE_IMAGE=$DSA_NODE_IMAGE   # the example's Dockerfile takes its base as a build arg
DSA=(node agent/bin/dsa.js --config "$EXAMPLE/devspace.yaml" -n "$DEMO_NS")

if [ -t 0 ] && [ -t 1 ]; then
  say "dsa up ($EXAMPLE) — Ctrl-C to stop; then: make cluster-down"
  exec "${DSA[@]}" up
fi

say "dsa up ($EXAMPLE), non-interactive: check, show, stop"
log=$(mktemp)
"${DSA[@]}" up --no-input > "$log" 2>&1 &
up_pid=$!
trap 'kill $up_pid 2>/dev/null || true' EXIT
ok=""
for _ in $(seq 1 180); do
  if reply=$(curl -fsS --max-time 2 http://127.0.0.1:3000/ 2>/dev/null); then ok=1; break; fi
  kill -0 "$up_pid" 2>/dev/null || break
  sleep 2
done
cat "$log" >&2
if [ -z "$ok" ]; then echo "demo: the app did not answer on localhost:3000 (see above)" >&2; exit 1; fi
say "the app answers on the forwarded port localhost:3000"
echo "$reply"
say "the team's view"
kubectl get devsessions,imagebuilds -n "$DEMO_NS" -o wide
kill "$up_pid" 2>/dev/null || true
wait "$up_pid" 2>/dev/null || true
trap - EXIT
say "done. The session is still deployed: 'node agent/bin/dsa.js down --config $EXAMPLE/devspace.yaml -n $DEMO_NS' removes it, 'make cluster-down' stops the cluster"
