// pause: the sandbox ("infra") container of every pod in the dsa test cluster. Sleeps until
// SIGINT/SIGTERM, reaping zombies meanwhile (it is PID 1 of the pod's PID namespace when shared).
// Our own few lines instead of registry.k8s.io/pause, because no registry can be pulled from.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGCHLD)
	for s := range sigs {
		if s == syscall.SIGCHLD {
			for {
				pid, err := syscall.Wait4(-1, nil, syscall.WNOHANG, nil)
				if pid <= 0 || err != nil {
					break
				}
			}
			continue
		}
		os.Exit(0)
	}
}
