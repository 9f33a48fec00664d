# dsa — the developer's entry points. `make help` lists them.
# The two that matter on a fresh machine: `make demo` and `make test` (README.md).
SHELL := /bin/bash
.DEFAULT_GOAL := help
.SUFFIXES:

ROOT := $(abspath .)
DSA_CACHE ?= $(HOME)/.cache/dsa
export DSA_CACHE
JEST := node --experimental-vm-modules --no-warnings node_modules/jest/bin/jest.js
TSX := node_modules/.bin/tsx
DSA := node agent/bin/dsa.js

# The local cluster harness (issue 3): cluster-up/-down/-env, controlplane-up, images, test-e2e-smoke, e2e-kind.
-include test-e2e/cluster/cluster.mk

##@ Everyday

.PHONY: help
help: ## Show this help
	@awk 'BEGIN {FS = ":.*##"} /^[a-zA-Z0-9_-]+:.*?##/ { printf "  \033[36m%-20s\033[0m %s\n", $$1, $$2 } /^##@/ { printf "\n%s\n", substr($$0, 5) }' $(MAKEFILE_LIST)

.PHONY: deps
deps: node_modules/.dsa-installed ## Install Node dependencies with npm ci when package-lock.json changed

# `npm ci`: exactly the committed lockfile, or an error. The lockfile lists every platform's optional
# packages (@swc/core-*, @esbuild/*, @parcel/watcher-*): the registry serves their metadata, so `npm ci`
# accepts it here as on any machine (ADR 0004, revised). After changing dependencies run `npm install`
# and commit the lockfile it writes.
node_modules/.dsa-installed: package-lock.json package.json api/package.json agent/package.json operator/package.json sidecar/package.json test-e2e/package.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

.PHONY: demo
demo: deps ## Set everything up on a local cluster and run `dsa up` on the embedded example
	bash test-e2e/scripts/demo.sh

.PHONY: test
test: deps ## Run every test tier (static, unit, control plane, full node) and print `N passed, N failed`
	bash test-e2e/scripts/run-all-tests.sh

.PHONY: test-unit
test-unit: deps ## Unit tests only (no cluster; helm is built/reused for the chart tests)
	DSA_HELM=$${DSA_HELM:-$$(test-e2e/cluster/tools.sh helm)} $(JEST) --selectProjects unit

.PHONY: test-controlplane
test-controlplane: deps ## Control-plane tier tests (starts/reuses etcd + apiserver + controller-manager)
	$(MAKE) -s cluster-ensure TIER=controlplane
	eval "$$($(MAKE) -s cluster-env)" && $(JEST) --selectProjects controlplane --runInBand

.PHONY: test-node
test-node: deps ## Full-node tier tests (starts/reuses the whole cluster, builds images)
	$(MAKE) -s cluster-ensure TIER=node
	$(MAKE) -s images
	eval "$$($(MAKE) -s cluster-env)" && $(JEST) --selectProjects node --runInBand

.PHONY: cluster-ensure
cluster-ensure: ## Bring up (or reuse) a cluster tier: TIER=controlplane|node
	bash test-e2e/cluster/ensure.sh $(or $(TIER),node)

##@ Code

.PHONY: typecheck
typecheck: deps ## tsc --noEmit over the whole repo
	npx tsc -p tsconfig.json --noEmit

.PHONY: lint
lint: deps ## eslint
	npx eslint --max-warnings 0 .

.PHONY: crds
crds: deps ## Regenerate crds/*.yaml (and the chart's copy) from the TypeBox schema in api/
	$(TSX) api/src/crd/write-crds.ts
	$(MAKE) -s chart-crds

.PHONY: chart-crds
chart-crds: ## Copy crds/*.yaml into the operator chart (Helm can't read files outside a chart)
	mkdir -p charts/dsa-operator/files/crds
	cp crds/*.yaml charts/dsa-operator/files/crds/

##@ Operator

.PHONY: install
install: deps ## Apply the CRDs to the cluster in KUBECONFIG
	kubectl apply --server-side --force-conflicts -f crds/

.PHONY: uninstall
uninstall: ## Delete the CRDs (and with them every DevSession/ImageBuild)
	kubectl delete --ignore-not-found -f crds/

.PHONY: run
run: deps install ## Run the operator from source against KUBECONFIG
	$(TSX) operator/src/main.ts --leader-elect=false --metrics-bind-address=127.0.0.1:8080

.PHONY: operator-image
operator-image: deps ## Bundle the operator and build+push its image to DSA_REGISTRY (writes operator/dist/image.ref)
	bash operator/build/build-image.sh

.PHONY: sidecar-image
sidecar-image: deps ## Bundle the dev sidecar, build dsa-helper, build+push the sidecar image (writes sidecar/dist/image.ref)
	bash sidecar/build/build-image.sh

.PHONY: test-helper
test-helper: ## Go tests of the in-pod helper (sidecar/helper)
	cd sidecar/helper && test -z "$$(gofmt -l .)" && go vet ./... && go test -count=1 ./...

.PHONY: deploy
deploy: deps operator-image ## Install the operator chart into the cluster in KUBECONFIG
	bash operator/build/deploy-chart.sh

.PHONY: undeploy
undeploy: ## Uninstall the operator chart
	$${DSA_HELM:-helm} uninstall dsa-operator -n dsa-system --ignore-not-found --wait || true

.PHONY: helm-lint
helm-lint: deps ## helm lint --strict, helm template, and the chart's tests (RBAC, CRDs, values schema)
	$(eval HELM := $(or $(DSA_HELM),$(shell test-e2e/cluster/tools.sh helm)))
	$(HELM) lint --strict charts/dsa-operator
	$(HELM) template dsa charts/dsa-operator > /dev/null
	DSA_HELM=$(HELM) $(JEST) operator/test/chart.test.ts --selectProjects unit

.PHONY: bench
bench: deps ## Operator benchmarks (prints figures) against the control-plane tier
	$(MAKE) -s cluster-ensure TIER=controlplane
	eval "$$($(MAKE) -s cluster-env)" && node --expose-gc --import tsx bench/operator-bench.ts

##@ kind (test-e2e/kind/README.md)

.PHONY: kind-node-image e2e-kind e2e-kind-down test-kind
kind-node-image: ## Build (or reuse) the offline kind node image; prints its name
	@bash test-e2e/kind/node-image/build-node-image.sh
e2e-kind: deps ## kind cluster (our node image, or KIND_IMAGE) + local registry: kind smoke, full-node suites, delete
	bash test-e2e/kind/e2e-kind.sh run
e2e-kind-down: ## Delete the kind cluster and its registry container
	bash test-e2e/kind/e2e-kind.sh down
test-kind: deps ## The CI kind tier alone; ends with "N passed, N failed"
	DSA_TEST_TIERS=kind bash test-e2e/scripts/run-all-tests.sh

##@ Agent packaging and benchmarks

.PHONY: agent-bundle agent-package agent-sea bench-cli
agent-bundle: deps ## Bundle the CLI into agent/dist/bundle (no run-time dependencies)
	node agent/build/bundle.mjs
agent-package: deps ## Installable package: agent/dist/dsa-agent-<version>.tgz (npm install -g <it>)
	mkdir -p agent/dist && cd agent && npm pack --pack-destination dist --loglevel=error
agent-sea: deps ## Single executable for this OS/arch: agent/dist/sea/dsa-<os>-<arch>
	node agent/build/sea.mjs
bench-cli: deps ## CLI start-up next to kubectl version --client (package and single executable)
	@command -v /usr/bin/time >/dev/null || (apt-get update -qq && apt-get install -y -qq time)
	$(MAKE) -s cluster-ensure TIER=controlplane
	node agent/build/bundle.mjs >/dev/null && node agent/build/sea.mjs >/dev/null
	eval "$$($(MAKE) -s cluster-env)" && node --import tsx bench/cli-bench.ts --sea

.PHONY: bench-build
bench-build: deps ## Local docker vs in-cluster kaniko, same image, side by side (node tier + its dockerd)
	eval "$$(test-e2e/cluster/ensure.sh node)" && node --import tsx bench/build-bench.ts

.PHONY: bench-sync
bench-sync: deps sidecar-image ## File sync on the local cluster: P1 latency in the container, P2 initial sync vs tar | kubectl exec (bench/README.md "Sync")
	eval "$$($(MAKE) -s cluster-env)" && node --import tsx bench/sync-bench.ts

.PHONY: bench-watchers
bench-watchers: deps ## File watchers on a 100,000-file tree: chokidar vs @parcel/watcher vs ours (ADR 0005); no cluster
	node --import tsx bench/watcher-bench.ts

.PHONY: clean
clean: ## Remove build output and test results (not the cluster cache)
	rm -rf test-e2e/.out operator/dist agent/dist coverage
