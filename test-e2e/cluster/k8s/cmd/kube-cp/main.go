// kube-cp is a busybox-style binary for the control-plane tier of the dsa test cluster:
// kube-apiserver, kube-controller-manager, kube-scheduler and etcd in ONE executable, so a
// cold build links once instead of four times. The component is chosen by the basename of
// argv[0] (symlinks kube-apiserver, etcd, ...) or by the first argument (kube-cp etcd ...).
// Each process still runs exactly one component (flags and feature gates are process-global).
package main

import (
	"fmt"
	"os"
	"path/filepath"
	_ "time/tzdata" // CronJob time zones (as upstream's kube-apiserver/KCM mains)

	"go.etcd.io/etcd/server/v3/etcdmain"
	"k8s.io/component-base/cli"
	_ "k8s.io/component-base/logs/json/register"
	_ "k8s.io/component-base/metrics/prometheus/clientgo"
	_ "k8s.io/component-base/metrics/prometheus/version"
	apiserver "k8s.io/kubernetes/cmd/kube-apiserver/app"
	kcm "k8s.io/kubernetes/cmd/kube-controller-manager/app"
	scheduler "k8s.io/kubernetes/cmd/kube-scheduler/app"
)

func main() {
	name, args := dispatch(os.Args)
	switch name {
	case "kube-apiserver":
		c := apiserver.NewAPIServerCommand()
		c.SetArgs(args[1:])
		os.Exit(cli.Run(c))
	case "kube-controller-manager":
		c := kcm.NewControllerManagerCommand()
		c.SetArgs(args[1:])
		os.Exit(cli.Run(c))
	case "kube-scheduler":
		c := scheduler.NewSchedulerCommand()
		c.SetArgs(args[1:])
		os.Exit(cli.Run(c))
	case "etcd":
		etcdmain.Main(args) // parses args[1:]
	default:
		fmt.Fprintf(os.Stderr, "usage: kube-cp {kube-apiserver|kube-controller-manager|kube-scheduler|etcd} [flags]\n")
		os.Exit(2)
	}
}

// dispatch returns the component name and an argv whose [0] is that name.
func dispatch(argv []string) (string, []string) {
	base := filepath.Base(argv[0])
	if base != "kube-cp" {
		return base, argv
	}
	if len(argv) < 2 {
		return "", nil
	}
	return argv[1], argv[1:]
}
