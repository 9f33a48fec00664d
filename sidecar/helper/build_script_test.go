package main

import (
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestHelperBuildScript runs sidecar/build/helper-build.sh (what the image build and the test
// harness call) against an empty cache: a static binary with a content version, then a cache hit.
func TestHelperBuildScript(t *testing.T) {
	script, err := filepath.Abs("../build/helper-build.sh")
	if err != nil {
		t.Fatal(err)
	}
	cache := t.TempDir()
	run := func(out string, env ...string) (stderr string) {
		t.Helper()
		cmd := exec.Command("bash", script, out)
		cmd.Env = append(append(os.Environ(), "DSA_CACHE="+cache), env...)
		var errb strings.Builder
		cmd.Stderr = &errb
		stdout, err := cmd.Output()
		if err != nil {
			t.Fatalf("helper-build.sh %s: %v\n%s", out, err, errb.String())
		}
		if strings.TrimSpace(string(stdout)) != out {
			t.Fatalf("stdout %q, want the output path", stdout)
		}
		return errb.String()
	}
	out := filepath.Join(t.TempDir(), "a", "dsa-helper")
	if log := run(out, "GOARCH=amd64"); !strings.Contains(log, "building dsa-helper") {
		t.Errorf("first run did not build: %q", log)
	}
	v, err := exec.Command(out, "version").Output()
	if err != nil || !regexp.MustCompile(`^dev-[0-9a-f]{12}\n$`).Match(v) {
		t.Fatalf("version %q %v", v, err)
	}
	f, err := elf.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if f.Machine != elf.EM_X86_64 {
		t.Errorf("machine %v", f.Machine)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Error("dynamically linked (has an ELF interpreter): CGO was on")
		}
	}
	if fi, _ := os.Stat(out); fi.Mode().Perm() != 0o755 {
		t.Errorf("mode %v", fi.Mode().Perm())
	}

	// Same sources: the cached binary, no build.
	out2 := filepath.Join(t.TempDir(), "dsa-helper")
	if log := run(out2, "GOARCH=amd64"); log != "" {
		t.Errorf("second run rebuilt: %q", log)
	}
	if readFile(t, out) != readFile(t, out2) {
		t.Error("cache hit returned a different binary")
	}

	// arm64 builds too (the image may be built for arm64 nodes).
	arm := filepath.Join(t.TempDir(), "dsa-helper")
	run(arm, "GOARCH=arm64", "DSA_HELPER_VERSION=test-arm")
	fa, err := elf.Open(arm)
	if err != nil {
		t.Fatal(err)
	}
	defer fa.Close()
	if fa.Machine != elf.EM_AARCH64 {
		t.Errorf("arm64 build is %v", fa.Machine)
	}
}
