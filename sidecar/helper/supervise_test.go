package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

type supervised struct {
	t      *testing.T
	cmd    *exec.Cmd
	ctl    string
	dir    string // scratch directory for the child's traces
	stderr *syncBuffer
	done   chan struct{}
	code   int
}

// startSupervisor runs `dsa-helper supervise --ctl <tmp> <flags> -- sh -c <script>` with $D set to a
// scratch directory the script can leave traces in.
func startSupervisor(t *testing.T, flags []string, script string) *supervised {
	t.Helper()
	return startSupervisorCmd(t, nil, flags, "sh", "-c", script)
}

func startSupervisorCmd(t *testing.T, env []string, flags []string, argv ...string) *supervised {
	t.Helper()
	root := t.TempDir()
	s := &supervised{t: t, ctl: filepath.Join(root, "ctl"), dir: filepath.Join(root, "d"), stderr: &syncBuffer{}, done: make(chan struct{})}
	if err := os.MkdirAll(s.dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(s.ctl, 0o755); err != nil {
		t.Fatal(err)
	}
	args := append([]string{"supervise", "--ctl", s.ctl}, flags...)
	args = append(append(args, "--"), argv...)
	s.cmd = exec.Command(helperBin, args...)
	s.cmd.Env = append(append(os.Environ(), "D="+s.dir), env...)
	s.cmd.Stderr = s.stderr
	// Descendants inherit the stderr pipe; do not let one that outlives the test hang Wait.
	s.cmd.WaitDelay = 2 * time.Second
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		err := s.cmd.Wait()
		s.code = 0
		if ee, ok := err.(*exec.ExitError); ok {
			s.code = ee.ExitCode()
		}
		close(s.done)
	}()
	t.Cleanup(func() {
		select {
		case <-s.done:
		default:
			// SIGTERM first: the supervisor stops the child's group (SIGKILL would orphan it).
			_ = s.cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-s.done:
			case <-time.After(10 * time.Second):
				_ = s.cmd.Process.Signal(syscall.SIGKILL)
				<-s.done
			}
		}
	})
	return s
}

func (s *supervised) exited() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

func (s *supervised) waitExit(timeout time.Duration) int {
	s.t.Helper()
	select {
	case <-s.done:
		return s.code
	case <-time.After(timeout):
		s.t.Fatalf("supervisor still running after %v; stderr: %s", timeout, s.stderr.String())
		return -1
	}
}

func (s *supervised) state() supervisorState {
	s.t.Helper()
	var st supervisorState
	data, err := os.ReadFile(filepath.Join(s.ctl, "supervisor.json"))
	if err != nil {
		return st
	}
	if err := json.Unmarshal(data, &st); err != nil {
		s.t.Fatalf("supervisor.json is not valid JSON (not written atomically?): %v: %q", err, data)
	}
	return st
}

// count returns the number of lines of a trace file the child appends to.
func (s *supervised) count(name string) int {
	data, err := os.ReadFile(filepath.Join(s.dir, name))
	if err != nil {
		return 0
	}
	return len(lines(string(data)))
}

func (s *supervised) pidFrom(name string) int {
	s.t.Helper()
	var pid int
	waitFor(s.t, name, 5*time.Second, func() bool {
		data, err := os.ReadFile(filepath.Join(s.dir, name))
		if err != nil {
			return false
		}
		pid, err = strconv.Atoi(strings.TrimSpace(string(data)))
		return err == nil && pid > 0
	})
	return pid
}

func (s *supervised) requestRestart() {
	s.t.Helper()
	if r := runHelper(s.t, "", "restart", "--ctl", s.ctl); r.code != 0 {
		s.t.Fatalf("restart: %+v", r)
	}
}

func TestSuperviseRestartStopsTheWholeGroup(t *testing.T) {
	// The child starts a grandchild that ignores SIGTERM (a dev server's worker, say): a restart must
	// not leave it behind, so SIGKILL follows after the grace period.
	s := startSupervisor(t, []string{"--grace", "300ms"}, `
		echo start >> "$D/starts"
		(trap '' TERM; exec sleep 1000) &
		echo $! > "$D/grandchild.$$"
		echo $$ > "$D/child"
		wait`)
	child := s.pidFrom("child")
	grandchild := s.pidFrom("grandchild." + strconv.Itoa(child))
	waitFor(t, "running state", 2*time.Second, func() bool { st := s.state(); return st.Running && st.Pid != nil && *st.Pid == child })

	_ = os.Remove(filepath.Join(s.dir, "child"))
	t0 := time.Now()
	s.requestRestart()
	waitFor(t, "second start", 5*time.Second, func() bool { return s.count("starts") == 2 })
	if d := time.Since(t0); d < 300*time.Millisecond {
		t.Errorf("restarted after %v: the grace period for the TERM-ignoring grandchild was not waited", d)
	}
	if !processGone(child) || !processGone(grandchild) {
		t.Fatalf("old processes survive the restart (child gone %v, grandchild gone %v)", processGone(child), processGone(grandchild))
	}
	newChild := s.pidFrom("child")
	if newChild == child {
		t.Fatal("same pid after restart")
	}
	waitFor(t, "state after restart", 2*time.Second, func() bool {
		st := s.state()
		return st.Running && st.Restarts == 1 && st.Pid != nil && *st.Pid == newChild && st.LastExitCode != nil
	})
	if !strings.Contains(s.stderr.String(), "[dsa] restarting sh (restart #1)\n") {
		t.Errorf("stderr: %q", s.stderr.String())
	}
	if strings.Contains(s.stderr.String(), "exited with code") {
		t.Errorf("a requested restart was reported as a crash: %q", s.stderr.String())
	}
	// The same content again is no request; a new value is.
	time.Sleep(200 * time.Millisecond)
	if s.count("starts") != 2 {
		t.Fatal("restarted without a request")
	}
}

func TestSuperviseCrashWaitsForARestartRequest(t *testing.T) {
	s := startSupervisor(t, []string{"--grace", "1s"}, `echo run >> "$D/starts"; exit 3`)
	waitFor(t, "crash report", 5*time.Second, func() bool {
		return strings.Contains(s.stderr.String(), "[dsa] sh exited with code 3; waiting for a change to restart it\n")
	})
	st := s.state()
	if st.Running || st.LastExitCode == nil || *st.LastExitCode != 3 || st.State != "exited" || st.Pid != nil {
		t.Fatalf("state after crash: %+v", st)
	}
	// The container stays up (the pod does not crash-loop) ...
	time.Sleep(300 * time.Millisecond)
	if s.exited() || s.count("starts") != 1 {
		t.Fatalf("after a crash: exited=%v starts=%d", s.exited(), s.count("starts"))
	}
	// ... until a restart request starts the command again.
	s.requestRestart()
	waitFor(t, "second run", 5*time.Second, func() bool { return s.count("starts") == 2 })
	waitFor(t, "restart counted", 2*time.Second, func() bool { return s.state().Restarts == 1 })
	if !strings.Contains(s.stderr.String(), "[dsa] restarting sh (restart #1)") {
		t.Errorf("stderr: %q", s.stderr.String())
	}
}

func TestSuperviseWaitStart(t *testing.T) {
	s := startSupervisor(t, []string{"--wait-start"}, `echo run >> "$D/starts"; exec sleep 1000`)
	waitFor(t, "waiting state", 2*time.Second, func() bool { return s.state().State == "waiting-start" })
	// A restart request before the start file does not start anything.
	s.requestRestart()
	time.Sleep(400 * time.Millisecond)
	if n := s.count("starts"); n != 0 {
		t.Fatalf("started %d times before %s/start existed", n, s.ctl)
	}
	mustWrite(t, filepath.Join(s.ctl, "start"), "", 0o644)
	waitFor(t, "start after the start file", 2*time.Second, func() bool { return s.count("starts") == 1 })
	waitFor(t, "running", 2*time.Second, func() bool { return s.state().Running })
	if st := s.state(); st.Restarts != 0 {
		t.Errorf("the first start counted as a restart: %+v", st)
	}
	time.Sleep(200 * time.Millisecond)
	if s.count("starts") != 1 {
		t.Fatal("the pre-start restart request was replayed after the start")
	}
}

func TestSuperviseSignalsAndExitCodes(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		script string
		sig    syscall.Signal
		want   int
	}{
		// The child handles SIGTERM and exits with its own code.
		{"TERM handled", `trap 'exit 7' TERM; echo ready > "$D/ready"; while :; do sleep 0.02; done`, syscall.SIGTERM, 7},
		// The child dies from the forwarded signal: 128+signal, like a shell reports it.
		{"TERM default", `echo ready > "$D/ready"; exec sleep 1000`, syscall.SIGTERM, 128 + 15},
		{"INT", `trap 'exit 5' INT; echo ready > "$D/ready"; while :; do sleep 0.02; done`, syscall.SIGINT, 5},
		{"HUP default", `echo ready > "$D/ready"; exec sleep 1000`, syscall.SIGHUP, 128 + 1},
		// Ignores SIGTERM: killed after the grace period.
		{"TERM ignored", `trap '' TERM; echo ready > "$D/ready"; while :; do sleep 0.02; done`, syscall.SIGTERM, 128 + 9},
	}
	for _, c := range cases {
		c := c
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			s := startSupervisor(t, []string{"--grace", "400ms"}, c.script)
			waitFor(t, "ready", 5*time.Second, func() bool { return s.count("ready") == 1 })
			_ = s.cmd.Process.Signal(c.sig)
			if code := s.waitExit(5 * time.Second); code != c.want {
				t.Fatalf("exit code %d, want %d; stderr %q", code, c.want, s.stderr.String())
			}
			if st := s.state(); st.Running || st.LastExitCode == nil || *st.LastExitCode != c.want {
				t.Errorf("final state %+v", st)
			}
		})
	}
	t.Run("other signals are passed on", func(t *testing.T) {
		t.Parallel()
		s := startSupervisor(t, nil, `trap 'echo usr1 >> "$D/usr1"' USR1; echo ready > "$D/ready"; while :; do sleep 0.02; done`)
		waitFor(t, "ready", 5*time.Second, func() bool { return s.count("ready") == 1 })
		_ = s.cmd.Process.Signal(syscall.SIGUSR1)
		waitFor(t, "USR1 in the child", 3*time.Second, func() bool { return s.count("usr1") == 1 })
		if s.exited() {
			t.Fatal("the supervisor exited on SIGUSR1")
		}
	})
	t.Run("no child running: exit 0", func(t *testing.T) {
		t.Parallel()
		s := startSupervisor(t, nil, `exit 4`)
		waitFor(t, "crash", 5*time.Second, func() bool { return strings.Contains(s.stderr.String(), "exited with code 4") })
		_ = s.cmd.Process.Signal(syscall.SIGTERM)
		if code := s.waitExit(5 * time.Second); code != 0 {
			t.Fatalf("exit code %d", code)
		}
	})
}

func TestSuperviseStateFile(t *testing.T) {
	s := startSupervisor(t, nil, `echo $$ > "$D/child"; exec sleep 1000`)
	child := s.pidFrom("child")
	waitFor(t, "state", 2*time.Second, func() bool { return s.state().Running })
	st := s.state()
	if st.Pid == nil || *st.Pid != child || st.Restarts != 0 || st.LastExitCode != nil || st.State != "running" ||
		st.SupervisorPid != s.cmd.Process.Pid {
		t.Fatalf("state %+v (child %d)", st, child)
	}
	if strings.Join(st.Command, "|") != `sh|-c|echo $$ > "$D/child"; exec sleep 1000` {
		t.Errorf("command %q", st.Command)
	}
	at, err := time.Parse(time.RFC3339, st.UpdatedAt)
	if err != nil || time.Since(at) > time.Minute || time.Since(at) < 0 {
		t.Errorf("updatedAt %q: %v", st.UpdatedAt, err)
	}
	// Keys exactly as the sidecar reads them (and null, not absent, when unknown).
	raw := map[string]any{}
	data, _ := os.ReadFile(filepath.Join(s.ctl, "supervisor.json"))
	_ = json.Unmarshal(data, &raw)
	for _, k := range []string{"pid", "running", "restarts", "lastExitCode", "command", "updatedAt"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("supervisor.json lacks %q: %s", k, data)
		}
	}
	// No temporary files are left in the control directory.
	entries, _ := os.ReadDir(s.ctl)
	for _, e := range entries {
		if e.Name() != "supervisor.json" {
			t.Errorf("stray file %s", e.Name())
		}
	}
}

func TestSupervisePollingFallback(t *testing.T) {
	s := startSupervisor(t, []string{"--poll", "--grace", "1s"}, `echo run >> "$D/starts"; exec sleep 1000`)
	waitFor(t, "first run", 5*time.Second, func() bool { return s.count("starts") == 1 })
	t0 := time.Now()
	s.requestRestart()
	waitFor(t, "restart by polling", 3*time.Second, func() bool { return s.count("starts") == 2 })
	t.Logf("restart noticed by polling in %v", time.Since(t0).Round(time.Millisecond))
}

func TestSuperviseCommandThatAppearsLater(t *testing.T) {
	// In dev the command may be a binary the sync has not delivered yet: wait for it, do not exit.
	root := t.TempDir()
	bin := filepath.Join(root, "bin")
	if err := os.Mkdir(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	s := startSupervisorCmd(t, []string{"PATH=" + bin + ":/usr/bin:/bin"}, nil, "my-server", "--port", "1")
	waitFor(t, "start failure", 3*time.Second, func() bool {
		return strings.Contains(s.stderr.String(), "[dsa] cannot start my-server: not found on PATH; waiting for a change to restart it")
	})
	waitFor(t, "state", 2*time.Second, func() bool { return s.state().State == "start-failed" })
	if st := s.state(); st.LastExitCode == nil || *st.LastExitCode != 127 {
		t.Fatalf("state %+v", st)
	}
	out := filepath.Join(root, "out")
	mustWrite(t, filepath.Join(bin, "my-server"), "#!/bin/sh\necho \"$@\" > "+out+"\nexec sleep 1000\n", 0o755)
	s.requestRestart()
	waitFor(t, "the command to run", 3*time.Second, func() bool {
		data, _ := os.ReadFile(out)
		return strings.TrimSpace(string(data)) == "--port 1"
	})
}

func TestSuperviseReapsOrphans(t *testing.T) {
	// A child that leaves short-lived orphans behind: as PID 1 (or subreaper) we must reap them, or
	// they pile up as zombies.
	s := startSupervisor(t, nil, `for i in 1 2 3 4 5; do (sleep 0.05 &); done; echo ready > "$D/ready"; exec sleep 1000`)
	waitFor(t, "ready", 5*time.Second, func() bool { return s.count("ready") == 1 })
	sup := s.cmd.Process.Pid
	waitFor(t, "no zombie children of the supervisor", 3*time.Second, func() bool {
		return len(zombieChildren(t, sup)) == 0 && len(childrenOf(t, sup)) == 1
	})
}

func childrenOf(t *testing.T, ppid int) []int {
	t.Helper()
	var out []int
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if p, _ := procStat(pid); p == ppid {
			out = append(out, pid)
		}
	}
	return out
}

func zombieChildren(t *testing.T, ppid int) []int {
	var out []int
	for _, pid := range childrenOf(t, ppid) {
		if _, state := procStat(pid); state == "Z" {
			out = append(out, pid)
		}
	}
	return out
}

// procStat returns the parent pid and state letter from /proc/<pid>/stat.
func procStat(pid int) (int, string) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, ""
	}
	s := string(data)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, ""
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 2 {
		return 0, ""
	}
	ppid, _ := strconv.Atoi(f[1])
	return ppid, f[0]
}

// TestSuperviseRestartLatency: request → new process running, with inotify (what restart-on-upload
// adds to an edit's round trip).
func TestSuperviseRestartLatency(t *testing.T) {
	s := startSupervisor(t, nil, `echo run >> "$D/starts"; exec sleep 1000`)
	waitFor(t, "first run", 5*time.Second, func() bool { return s.count("starts") == 1 })
	var took []time.Duration
	for i := 2; i <= 6; i++ {
		t0 := time.Now()
		if _, err := bumpRestartCounter(s.ctl); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "restart", 3*time.Second, func() bool { return s.count("starts") == i })
		took = append(took, time.Since(t0))
	}
	t.Logf("restart request → new process running: %v", took)
	if st := s.state(); st.Restarts != 5 {
		t.Fatalf("restarts %d, want 5", st.Restarts)
	}
}
