# Makefile fragment for the dsa local test cluster (issue 3). Included by the top-level Makefile:
#   include test-e2e/cluster/cluster.mk
# Every variable uses ?= so the including Makefile (or the command line) can override it.
# Targets: cluster-deps cluster-bins cluster-up cluster-down cluster-env controlplane-up
#          controlplane-down images images-base images-extra images-operator helm
#          test-e2e-smoke
CLUSTER_MK_DIR := $(patsubst %/,%,$(dir $(lastword $(MAKEFILE_LIST))))
DSA_CLUSTER_DIR ?= $(CLUSTER_MK_DIR)
DSA_CACHE ?= $(HOME)/.cache/dsa
K8S_VERSION ?= v1.33.13
HELM_VERSION ?= v3.22.0
KANIKO_VERSION ?= v1.25.0
IMAGE_TAG ?= v2
# Repo root (for operator/Dockerfile); the fragment lives in test-e2e/cluster/.
DSA_REPO_ROOT ?= $(abspath $(DSA_CLUSTER_DIR)/../..)
# Image of the operator, built from operator/Dockerfile by `images-operator` if that file exists.
DSA_OPERATOR_DOCKERFILE ?= $(DSA_REPO_ROOT)/operator/Dockerfile
DSA_OPERATOR_CONTEXT ?= $(DSA_REPO_ROOT)
DSA_OPERATOR_TAG ?= e2e
# If the operator ships its own build script (it stages its context), images-operator runs that instead.
DSA_OPERATOR_BUILD_SCRIPT ?= $(DSA_REPO_ROOT)/operator/build/build-image.sh
# Extra image targets run by `make images` after the base images (other engineers append here:
#   IMAGES_EXTRA += my-image-target
IMAGES_EXTRA ?= images-operator images-sidecar
DSA_SIDECAR_BUILD_SCRIPT ?= $(DSA_REPO_ROOT)/sidecar/build/build-image.sh

export DSA_CACHE K8S_VERSION HELM_VERSION KANIKO_VERSION IMAGE_TAG

.PHONY: cluster-deps cluster-bins cluster-up cluster-down cluster-env controlplane-up controlplane-down \
        images images-base images-extra images-operator helm test-e2e-smoke

cluster-deps:
	@$(DSA_CLUSTER_DIR)/install-deps.sh

cluster-bins: cluster-deps
	@$(DSA_CLUSTER_DIR)/build-bins.sh all >/dev/null
	@$(DSA_CLUSTER_DIR)/tools.sh helm >/dev/null
	@$(DSA_CLUSTER_DIR)/tools.sh kaniko >/dev/null
	@$(DSA_CLUSTER_DIR)/tools.sh kustomize >/dev/null

helm:
	@$(DSA_CLUSTER_DIR)/tools.sh helm

# Full node tier (real pods). Reuses a healthy cluster.
cluster-up:
	@$(DSA_CLUSTER_DIR)/ensure.sh node >/dev/null

# Control-plane-only tier (etcd + apiserver + KCM + scheduler).
controlplane-up:
	@$(DSA_CLUSTER_DIR)/ensure.sh controlplane >/dev/null

cluster-down controlplane-down:
	@$(DSA_CLUSTER_DIR)/cluster-down.sh

# Prints export lines only:  eval "$$(make -s cluster-env)"
cluster-env:
	@$(DSA_CLUSTER_DIR)/env.sh

images-base:
	@$(DSA_CLUSTER_DIR)/images.sh all

images: images-base images-extra

images-extra: $(IMAGES_EXTRA)

# Runs operator/build/build-image.sh if present (it uses build-image.sh below with its own context);
# otherwise builds operator/Dockerfile with the repo root as context; no-op until either exists. Its base image comes in as build args (NODE_IMAGE and
# BASE_IMAGE = our Node.js 20 image), so the same Dockerfile builds FROM a public image elsewhere.
# HELM_IMAGE holds /usr/local/bin/helm:  FROM ${HELM_IMAGE} AS helm ... COPY --from=helm /usr/local/bin/helm /usr/local/bin/helm
images-operator: images-base
	@if [ -x "$(DSA_OPERATOR_BUILD_SCRIPT)" ] || [ -f "$(DSA_OPERATOR_BUILD_SCRIPT)" ]; then \
	  eval "$$($(DSA_CLUSTER_DIR)/env.sh)"; bash "$(DSA_OPERATOR_BUILD_SCRIPT)"; \
	elif [ -f "$(DSA_OPERATOR_DOCKERFILE)" ]; then \
	  eval "$$($(DSA_CLUSTER_DIR)/env.sh)"; \
	  $(DSA_CLUSTER_DIR)/build-image.sh "$(DSA_OPERATOR_CONTEXT)" "$(DSA_OPERATOR_DOCKERFILE)" \
	    "$$DSA_REGISTRY/dsa/operator:$(DSA_OPERATOR_TAG)" \
	    --build-arg NODE_IMAGE="$$DSA_NODE_IMAGE" --build-arg BASE_IMAGE="$$DSA_NODE_IMAGE" \
	    --build-arg HELM_IMAGE="$$DSA_HELM_IMAGE"; \
	else echo "images-operator: $(DSA_OPERATOR_DOCKERFILE) not found; skipped" >&2; fi

# The dev sidecar image (sync, reverse ports, restart on upload): sidecar/build/build-image.sh.
.PHONY: images-sidecar
images-sidecar: images-base
	@eval "$$($(DSA_CLUSTER_DIR)/env.sh)"; bash "$(DSA_SIDECAR_BUILD_SCRIPT)" >/dev/null

test-e2e-smoke:
	@$(DSA_CLUSTER_DIR)/smoke.sh

