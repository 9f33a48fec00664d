package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Tests run the real binary (built once here) as real processes on real temporary directories.
var helperBin string

const testVersion = "test-1.2.3"

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "dsa-helper-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	// World-readable: some tests run the binary as another user.
	_ = os.Chmod(dir, 0o755)
	helperBin = filepath.Join(dir, "dsa-helper")
	build := exec.Command("go", "build", "-trimpath", "-ldflags", "-X main.version="+testVersion, "-o", helperBin, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building dsa-helper: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// syncBuffer collects a child's stderr while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type result struct {
	code   int
	stdout string
	stderr string
}

func runHelper(t *testing.T, dir string, args ...string) result {
	t.Helper()
	return runHelperCmd(t, exec.Command(helperBin, args...), dir)
}

func runHelperCmd(t *testing.T, cmd *exec.Cmd, dir string) result {
	t.Helper()
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr, cmd.Dir = &out, &errb, dir
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("running %v: %v", cmd.Args, err)
	}
	return result{code, out.String(), errb.String()}
}

// waitFor polls cond until it holds or the timeout passes.
func waitFor(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func mustWrite(t *testing.T, path, content string, mode os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func lstat(t *testing.T, path string) *syscall.Stat_t {
	t.Helper()
	var st syscall.Stat_t
	if err := syscall.Lstat(path, &st); err != nil {
		t.Fatalf("lstat %s: %v", path, err)
	}
	return &st
}

func processGone(pid int) bool {
	return syscall.Kill(pid, 0) == syscall.ESRCH
}

// worldTempDir is a temp dir that another user can traverse (t.TempDir is 0700).
func worldTempDir(t *testing.T) string {
	t.Helper()
	d := t.TempDir()
	for p := d; p != "/" && p != os.TempDir(); p = filepath.Dir(p) {
		if err := os.Chmod(p, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return d
}

func lines(s string) []string {
	s = strings.TrimRight(s, "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

func TestVersionInstallAndUsage(t *testing.T) {
	if r := runHelper(t, "", "version"); r.code != 0 || strings.TrimSpace(r.stdout) != testVersion {
		t.Fatalf("version: %+v", r)
	}

	dir := filepath.Join(t.TempDir(), "tools", "bin")
	if r := runHelper(t, "", "install", dir); r.code != 0 {
		t.Fatalf("install: %+v", r)
	}
	installed := filepath.Join(dir, "dsa-helper")
	fi, err := os.Stat(installed)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o755 {
		t.Fatalf("installed mode %v, want 0755", fi.Mode().Perm())
	}
	if readFile(t, installed) != readFile(t, helperBin) {
		t.Fatal("installed copy differs from the binary")
	}
	if out, err := exec.Command(installed, "version").Output(); err != nil || strings.TrimSpace(string(out)) != testVersion {
		t.Fatalf("installed copy: %q %v", out, err)
	}
	// A second install replaces the first (init containers re-run); no temporary files are left behind.
	if r := runHelper(t, "", "install", dir); r.code != 0 {
		t.Fatalf("re-install: %+v", r)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("install left %d entries in %s", len(entries), dir)
	}

	for _, args := range [][]string{{}, {"frobnicate"}, {"install"}, {"seed"}, {"seed", "no-equals-sign"},
		{"supervise"}, {"supervise", "--grace", "soon", "--", "true"}, {"restart", "extra"}} {
		r := runHelper(t, "", args...)
		if r.code != 2 || len(lines(r.stderr)) != 1 {
			t.Errorf("%v: want exit 2 and one stderr line, got %d %q", args, r.code, r.stderr)
		}
	}
}

func TestRestartBumpsCounter(t *testing.T) {
	ctl := t.TempDir()
	for want := 1; want <= 3; want++ {
		r := runHelper(t, "", "restart", "--ctl", ctl)
		if r.code != 0 || strings.TrimSpace(r.stdout) != fmt.Sprint(want) {
			t.Fatalf("restart #%d: %+v", want, r)
		}
		if got := strings.TrimSpace(readFile(t, filepath.Join(ctl, "restart"))); got != fmt.Sprint(want) {
			t.Fatalf("counter file %q, want %d", got, want)
		}
	}
	// Garbage counts as 0: the content still changes, which is all the supervisor looks at.
	mustWrite(t, filepath.Join(ctl, "restart"), "not a number", 0o644)
	if r := runHelper(t, "", "restart", "--ctl", ctl); r.code != 0 || strings.TrimSpace(r.stdout) != "1" {
		t.Fatalf("after garbage: %+v", r)
	}
	entries, _ := os.ReadDir(ctl)
	if len(entries) != 1 {
		t.Fatalf("restart left temporary files: %v", entries)
	}
	// An unwritable control directory is a one-line error.
	if os.Geteuid() != 0 {
		ro := t.TempDir()
		_ = os.Chmod(ro, 0o555)
		r := runHelper(t, "", "restart", "--ctl", ro)
		if r.code != 1 || len(lines(r.stderr)) != 1 || !strings.Contains(r.stderr, "permission denied") {
			t.Fatalf("read-only ctl: %+v", r)
		}
	} else {
		cmd := exec.Command(helperBin, "restart", "--ctl", worldTempDir(t))
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65532, Gid: 65532}}
		r := runHelperCmd(t, cmd, "/")
		if r.code != 1 || len(lines(r.stderr)) != 1 || !strings.Contains(r.stderr, "permission denied") {
			t.Fatalf("unwritable ctl: %+v", r)
		}
	}
}
