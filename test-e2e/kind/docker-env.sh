# Which Docker the kind tier talks to (sourced). The user's, through DOCKER_HOST or the default
# socket, except the harness's own build daemon (test-e2e/cluster/dockerd.sh, a socket under
# $DSA_CACHE that the harness's env exports as DOCKER_HOST): that one runs without iptables and
# without our runtime wrapper, so kind's nodes cannot run there. Then the default socket is used,
# where dockerd.sh starts ours if nothing answers.
case "${DOCKER_HOST:-}" in
  "unix://${DSA_CACHE:-$HOME/.cache/dsa}/"*) unset DOCKER_HOST ;;
esac
