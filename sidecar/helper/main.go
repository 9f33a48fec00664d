// dsa-helper: the static in-pod half of dsa's dev sidecar (docs/sync.md, "In the pod").
//
// It runs where nothing else can be assumed: in the app's own image (distroless, scratch) as the app's
// user, and as PID 1 of the app container. Hence Go with CGO off and the standard library only: one
// file that needs no shell, no libc and no coreutils.
//
//	dsa-helper install <dir>                                 copy itself to <dir>/dsa-helper
//	dsa-helper seed [--ctl DIR] <src>=<dst> ...              copy the image's files into the sync volumes, once
//	dsa-helper supervise [--ctl DIR] [--wait-start] [--grace D] [--poll] -- <cmd> [args...]
//	dsa-helper restart [--ctl DIR]                           ask the supervisor to restart the app's process
//	dsa-helper version
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

// Set at build time: -ldflags '-X main.version=...'.
var version = "dev"

// Mirrors CTL_DIR in api/src/sync/layout.ts.
const defaultCtlDir = "/.dsa/ctl"

// usageError exits 2 (bad invocation); every other error exits 1.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

const usage = "usage: dsa-helper install <dir> | seed [--ctl DIR] <src>=<dst>... | " +
	"supervise [--ctl DIR] [--wait-start] [--grace 5s] [--poll] -- <cmd> [args...] | restart [--ctl DIR] | version"

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "dsa-helper: "+usage)
		return 2
	}
	sub, rest := args[0], args[1:]
	var err error
	switch sub {
	case "install":
		err = cmdInstall(rest)
	case "seed":
		err = cmdSeed(rest, stderr)
	case "supervise":
		// Only returns on a usage or setup error; otherwise it exits with the child's code.
		err = cmdSupervise(rest, stderr)
	case "restart":
		err = cmdRestart(rest, stdout)
	case "version", "--version", "-v":
		fmt.Fprintln(stdout, version)
	case "help", "--help", "-h":
		fmt.Fprintln(stdout, usage)
	default:
		err = usageError{fmt.Sprintf("unknown command %q; %s", sub, usage)}
	}
	if err == nil {
		return 0
	}
	// One line, never a stack trace: this is what `kubectl logs` or the pod's status shows.
	fmt.Fprintf(stderr, "dsa-helper %s: %s\n", sub, oneLine(err.Error()))
	var ue usageError
	if errors.As(err, &ue) {
		return 2
	}
	return 1
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// newFlags returns a FlagSet that reports errors as a usageError instead of printing its own help.
func newFlags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return fs
}

func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error() + "; " + usage}
	}
	return nil
}
