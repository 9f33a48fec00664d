package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// cmdInstall copies this binary to <dir>/dsa-helper (the dsa-tools init container: it puts the helper
// into the emptyDir that the seed step and the app container run it from).
func cmdInstall(args []string) error {
	fs := newFlags("install")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageError{"expects exactly one <dir>; " + usage}
	}
	dir := fs.Arg(0)
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("cannot find my own executable: %w", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return pathError("create", dir, err)
	}
	dst := filepath.Join(dir, "dsa-helper")
	if err := copyFileAtomic(self, dst, 0o755); err != nil {
		return pathError("install to", dst, err)
	}
	return nil
}

// cmdRestart bumps the counter in <ctl>/restart; a supervisor watching the directory restarts the
// app's process when the content changes.
func cmdRestart(args []string, stdout io.Writer) error {
	fs := newFlags("restart")
	ctl := fs.String("ctl", defaultCtlDir, "control directory")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usageError{"takes no arguments; " + usage}
	}
	n, err := bumpRestartCounter(*ctl)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, n)
	return nil
}

// bumpRestartCounter writes the next integer to <ctl>/restart and returns it. A missing, empty or
// unparsable file counts as 0: what matters to the supervisor is that the content changes.
func bumpRestartCounter(ctl string) (int64, error) {
	path := filepath.Join(ctl, ctlRestartFile)
	data, _, err := readSmallFile(path, ctlFileLimit)
	if err != nil {
		return 0, pathError("read", path, err)
	}
	n := parseCounter(data) + 1
	if err := writeFileAtomic(path, []byte(fmt.Sprintf("%d\n", n)), 0o644); err != nil {
		return 0, pathError("write", path, err)
	}
	return n, nil
}
