// etcd for the dsa kind node image: the etcd server at the version kubeadm v1.33 deploys
// (`kubeadm config images list`: registry.k8s.io/etcd:3.5.24-0). Its module's go.mod has replace
// directives, so `go install` cannot build it; this main module requires the published modules.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
