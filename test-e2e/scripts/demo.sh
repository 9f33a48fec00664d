#!/usr/bin/env bash
# `make demo`: from a fresh machine to a running dev session, in one command.
#   1. the local single-node cluster (built from Go modules, cached in ~/.cache/dsa)
#   2. the project's images (operator, kaniko, base images) into the local registry
#   3. the operator, installed from its Helm chart
#   4. `dsa up` on examples/node-kubectl: the agent uploads the build context, the operator builds it
#      with kaniko, deploys it with the built tag, and the agent syncs the folder into the container,
#      forwards port 3000 and streams logs.
# On a terminal it keeps running until Ctrl-C (edit examples/node-kubectl/server.js and curl again);
# otherwise (CI, pipes) it runs on a temporary copy of the example, checks the forwarded port answers,
# edits the copy's server.js and shows the app serving the change (file sync + restart on upload), shows
# the team view, and stops.
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

say "dsa up ($EXAMPLE, a temporary copy), non-interactive: check, edit live, show, stop"
# A copy: the live edit below must never touch the repository's own files (nor leave .dsa/ in it).
work=$(mktemp -d)
cp -a "$EXAMPLE/." "$work/"
DSA=(node agent/bin/dsa.js --config "$work/devspace.yaml" -n "$DEMO_NS")
log=$(mktemp)
"${DSA[@]}" up --no-input > "$log" 2>&1 &
up_pid=$!
trap 'kill $up_pid 2>/dev/null || true; rm -rf "$work"' EXIT
ok=""
for _ in $(seq 1 180); do
  if reply=$(curl -fsS --max-time 2 http://127.0.0.1:3000/ 2>/dev/null); then ok=1; break; fi
  kill -0 "$up_pid" 2>/dev/null || break
  sleep 2
done
if [ -z "$ok" ]; then cat "$log" >&2; echo "demo: the app did not answer on localhost:3000 (see above)" >&2; exit 1; fi
say "the app answers on the forwarded port localhost:3000"
echo "$reply"

# The live edit: change the greeting in the copy's server.js; the sync uploads it and the sidecar's
# supervisor restarts the server process (onUpload.restartContainer in the example's devspace.yaml).
say "live edit: server.js → 'Hello from a live edit' (file sync, restart on upload)"
lines_before=$(wc -l < "$log")
sed -i 's/Hello from dsa/Hello from a live edit/' "$work/server.js"
edited=""
for _ in $(seq 1 60); do
  if reply=$(curl -fsS --max-time 2 http://127.0.0.1:3000/live 2>/dev/null) && [[ $reply == *"Hello from a live edit"* ]]; then edited=1; break; fi
  kill -0 "$up_pid" 2>/dev/null || break
  sleep 1
done
cat "$log" >&2
if [ -z "$edited" ]; then echo "demo: the edit did not reach the app within 60 s (see above)" >&2; exit 1; fi
say "the app serves the edit (what dsa up printed for it:)"
tail -n +"$((lines_before + 1))" "$log" | grep -E '^sync|↑|restart' >&2 || true
echo "$reply"
say "the team's view"
kubectl get devsessions,imagebuilds -n "$DEMO_NS" -o wide
kill "$up_pid" 2>/dev/null || true
wait "$up_pid" 2>/dev/null || true
rm -rf "$work"
trap - EXIT
say "done. The session is still deployed: 'node agent/bin/dsa.js down --config $EXAMPLE/devspace.yaml -n $DEMO_NS' removes it, 'make cluster-down' stops the cluster"
