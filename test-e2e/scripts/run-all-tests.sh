#!/usr/bin/env bash
# `make test`: every tier, in order of cost, each leaving a result file in test-e2e/.out/.
# A failing tier does not stop the later ones (a developer wants the whole picture); the summary
# line at the end, and the exit code, come from the result files alone.
#
#   static        typecheck, lint, helm lint/template             (no cluster)
#   unit          jest project "unit": pure logic, CLI, loader    (no cluster)
#   controlplane  jest project "controlplane": real etcd + kube-apiserver + controller-manager
#   smoke         test-e2e/cluster/smoke.sh: the full node works (pods, exec, logs, port-forward, kaniko)
#   node          jest project "node": real pods, kaniko, registry, helm, the operator from its chart
#   kind          test-e2e/kind: a kind cluster from our offline node image, smoke checks through the chart
#
# DSA_TEST_TIERS=static,unit limits the run; DSA_KEEP_CLUSTER=1 leaves the cluster up afterwards. A cluster
# that was already running when the run began is never torn down.
set -uo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
OUT=$ROOT/test-e2e/.out
TIERS=${DSA_TEST_TIERS:-static,unit,controlplane,smoke,node,kind}
JEST=(node --experimental-vm-modules --no-warnings "$ROOT/node_modules/jest/bin/jest.js")
rm -rf "$OUT"; mkdir -p "$OUT"
has() { [[ ",$TIERS," == *",$1,"* ]]; }
stamp() { date +%s; }
say() { echo "=== $*" >&2; }
declare -A DURATION

run_jest() { # tier, extra args...
  local tier=$1; shift
  "${JEST[@]}" --selectProjects "$tier" --json --outputFile="$OUT/$tier.jest.json" "$@" 2>&1 | tail -n 60
}

# Binaries (kube components, etcd, helm, kaniko) are built once and cached in $DSA_CACHE, keyed by
# version; later runs reuse them in seconds. Unit tests need helm (chart lint), so this comes first.
if has unit || has controlplane || has smoke || has node; then
  t0=$(stamp); say "tools (build or reuse cached binaries)"
  if make -s cluster-bins >&2; then eval "$(make -s cluster-env)"; else echo "FAIL building cluster binaries" > "$OUT/tools.tap-lite"; fi
  DURATION[tools]=$(( $(stamp) - t0 ))
fi

if has static; then
  t0=$(stamp); say "static checks"
  : > "$OUT/static.tap-lite"
  check() { local name=$1; shift; if "$@" > "$OUT/static-$name.log" 2>&1; then echo "PASS $name" >> "$OUT/static.tap-lite"; else echo "FAIL $name (see $OUT/static-$name.log)" >> "$OUT/static.tap-lite"; tail -n 30 "$OUT/static-$name.log" >&2; fi; }
  check typecheck npx tsc -p tsconfig.json --noEmit
  check lint npx eslint --max-warnings 0 .
  check harness-lib bash test-e2e/cluster/tests/lib-stale-state.sh
  check helper-go bash -c 'cd sidecar/helper && test -z "$(gofmt -l .)" && go vet ./... && go test -count=1 ./...'
  cat "$OUT/static.tap-lite" >&2
  DURATION[static]=$(( $(stamp) - t0 ))
fi

if has unit; then
  t0=$(stamp); say "unit tests"
  run_jest unit
  DURATION[unit]=$(( $(stamp) - t0 ))
fi

# Only a cluster this run started is torn down at the end: one that was already running (a developer's, or
# the one `make demo` deployed into) stays as it was. Decided once, before the first tier brings anything up,
# and recorded in $OUT/cluster-started (yes|no) so the summary can say what happened.
STARTED_CLUSTER=
cluster_was_up() { ( source test-e2e/cluster/lib.sh && proc_alive etcd && proc_alive kube-apiserver && apiserver_ready ) >/dev/null 2>&1; }
note_cluster_state() {
  [ -n "$STARTED_CLUSTER" ] && return 0
  if cluster_was_up; then STARTED_CLUSTER=no; else STARTED_CLUSTER=yes; fi
  echo "$STARTED_CLUSTER" > "$OUT/cluster-started"
}

cluster_env() { # tier → exports the env contract into this shell
  note_cluster_state
  if ! make -s cluster-ensure TIER="$1" >&2; then return 1; fi
  eval "$(make -s cluster-env)"
}

if has controlplane; then
  t0=$(stamp); say "control-plane tier"
  if cluster_env controlplane; then
    run_jest controlplane --runInBand
  else
    echo "FAIL controlplane tier did not come up (logs: ${DSA_CACHE:-$HOME/.cache/dsa}/logs)" > "$OUT/controlplane-setup.tap-lite"
  fi
  DURATION[controlplane]=$(( $(stamp) - t0 ))
fi

if has smoke || has node; then
  t0=$(stamp); say "full-node tier"
  if cluster_env node && make -s images >&2; then
    eval "$(make -s cluster-env)"
    DURATION[node-up]=$(( $(stamp) - t0 ))
    if has smoke; then
      t1=$(stamp)
      bash test-e2e/cluster/smoke.sh > "$OUT/smoke.tap-lite" 2> "$OUT/smoke.log" || true
      grep -E '^(PASS|FAIL)' "$OUT/smoke.tap-lite" >&2
      DURATION[smoke]=$(( $(stamp) - t1 ))
    fi
    if has node; then
      t1=$(stamp)
      run_jest node --runInBand
      DURATION[node]=$(( $(stamp) - t1 ))
    fi
  else
    echo "FAIL full-node tier did not come up (logs: ${DSA_CACHE:-$HOME/.cache/dsa}/logs)" > "$OUT/node-setup.tap-lite"
  fi
fi

# kind tier (test-e2e/kind/README.md): a kind cluster from our offline node image, the operator from its
# chart, a kaniko build deployed, port-forwarded, logs. After the full-node tier: it copies the harness
# registry's images into kind's registry.
if has kind; then
  t0=$(stamp); say "kind tier"
  DSA_TEST_OUT=$OUT bash test-e2e/kind/e2e-kind.sh ci >&2 || true
  DURATION[kind]=$(( $(stamp) - t0 ))
fi

if [ "$STARTED_CLUSTER" = yes ] && [ "${DSA_KEEP_CLUSTER:-0}" != 1 ]; then
  t0=$(stamp); say "cluster down (this run started it)"
  make -s cluster-down >&2 || echo "FAIL cluster-down" >> "$OUT/teardown.tap-lite"
  DURATION[cluster-down]=$(( $(stamp) - t0 ))
elif [ "$STARTED_CLUSTER" = no ]; then
  say "cluster left running (it was up before this run)"
fi

say "durations (s):"
for k in "${!DURATION[@]}"; do echo "  $k: ${DURATION[$k]}" >&2; done
expected=()
for t in static unit controlplane smoke node kind; do has "$t" && expected+=("$t"); done
node test-e2e/scripts/summarize-results.mjs "$OUT" "$(IFS=,; echo "${expected[*]}")"
