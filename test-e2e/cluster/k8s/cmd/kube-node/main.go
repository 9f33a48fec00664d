// kube-node is the busybox-style binary for the node tier of the dsa test cluster:
// kubelet and kube-proxy in one executable (one link instead of two). Dispatch works as in
// kube-cp: basename of argv[0] (symlinks) or first argument (kube-node kubelet ...).
package main

import (
	"fmt"
	"os"
	"path/filepath"

	"k8s.io/component-base/cli"
	_ "k8s.io/component-base/logs/json/register"
	_ "k8s.io/component-base/metrics/prometheus/clientgo"
	_ "k8s.io/component-base/metrics/prometheus/version"
	proxy "k8s.io/kubernetes/cmd/kube-proxy/app"
	kubelet "k8s.io/kubernetes/cmd/kubelet/app"
)

func main() {
	name, args := dispatch(os.Args)
	switch name {
	case "kubelet":
		c := kubelet.NewKubeletCommand()
		c.SetArgs(args[1:])
		os.Exit(cli.Run(c))
	case "kube-proxy":
		c := proxy.NewProxyCommand()
		c.SetArgs(args[1:])
		os.Exit(cli.Run(c))
	default:
		fmt.Fprintf(os.Stderr, "usage: kube-node {kubelet|kube-proxy} [flags]\n")
		os.Exit(2)
	}
}

func dispatch(argv []string) (string, []string) {
	base := filepath.Base(argv[0])
	if base != "kube-node" {
		return base, argv
	}
	if len(argv) < 2 {
		return "", nil
	}
	return argv[1], argv[1:]
}
