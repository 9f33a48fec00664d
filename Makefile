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
deps: node_modules/.dsa-installed ## Install Node dependencies (npm ci) when package-lock.json changed

# `npm install`, not `npm ci`: the registry these machines reach serves only the Linux builds of
# platform packages (@swc/core-*, @unrs/resolver-binding-*, @esbuild/*), so the lockfile can't list
# the macOS/Windows ones and `npm ci` refuses it as "out of sync". `npm install` installs exactly the
# locked versions and leaves package-lock.json unchanged (ADR 0004).
node_modules/.dsa-installed: package-lock.json package.json api/package.json agent/package.json operator/package.json test-e2e/package.json
	npm install --no-audit --no-fund --loglevel=error
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

.PHONY: clean
clean: ## Remove build output and test results (not the cluster cache)
	rm -rf test-e2e/.out operator/dist agent/dist coverage
