# Versions of everything a dsa kind node image is made of (sourced). Each one is part of the
# image's cache key, so changing a line here rebuilds what depends on it and nothing else.
KIND_VERSION=${KIND_VERSION:-v0.33.0}            # sigs.k8s.io/kind: CLI, and the base image files we copy
CRICTL_VERSION=${CRICTL_VERSION:-v1.34.0}        # sigs.k8s.io/cri-tools (kind's base has v1.36; not on the proxy)
LOCAL_PATH_VERSION=${LOCAL_PATH_VERSION:-v0.0.30} # rancher/local-path-provisioner (kind uses v0.0.34; the proxy serves v0.0.30)
COREDNS_VERSION=${COREDNS_VERSION:-v1.12.0}      # what kubeadm v1.33 deploys (`kubeadm config images list`)
ETCD_VERSION=${ETCD_VERSION:-3.5.24}             # what kubeadm v1.33.13 deploys; must match etcd/go.mod
ETCD_IMAGE_TAG=${ETCD_IMAGE_TAG:-$ETCD_VERSION-0}
PAUSE_IMAGE_TAG=${PAUSE_IMAGE_TAG:-3.10}         # kind's containerd sandbox_image and kubeadm's pause for v1.33
DEBIAN_SUITE=${DEBIAN_SUITE:-bookworm}
DEBIAN_MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
# Bumped by hand when the image recipe changes in a way the hashed files do not show.
KIND_NODE_RECIPE=${KIND_NODE_RECIPE:-1}
