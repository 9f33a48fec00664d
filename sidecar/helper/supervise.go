package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"
	"unsafe"
)

// cmdSupervise runs the app's command as a child and restarts it on request, so that a restart
// restarts the process and not the pod (whose synced files would be lost with its volumes). It is
// the app container's entrypoint, often PID 1: it forwards signals and reaps orphans like an init.
// It only returns on a usage error; otherwise it exits the process with the child's exit code.
func cmdSupervise(args []string, stderr io.Writer) error {
	fs := newFlags("supervise")
	ctl := fs.String("ctl", defaultCtlDir, "control directory")
	waitStart := fs.Bool("wait-start", false, "start the command only once <ctl>/start exists")
	grace := fs.Duration("grace", 5*time.Second, "time between SIGTERM and SIGKILL")
	poll := fs.Bool("poll", false, "poll the control directory every 100 ms instead of using inotify")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return usageError{"expects a command after --; " + usage}
	}
	if *grace < 0 || *grace > time.Hour {
		return usageError{"--grace must be between 0 and 1h"}
	}
	s := &supervisor{
		argv: fs.Args(), ctl: *ctl, grace: *grace, waitStart: *waitStart, poll: *poll, log: stderr,
		sigs: make(chan os.Signal, 64),
	}
	os.Exit(s.run())
	return nil
}

type supervisor struct {
	argv      []string
	ctl       string
	grace     time.Duration
	waitStart bool
	poll      bool
	log       io.Writer

	sigs    chan os.Signal
	watcher *ctlWatcher

	started     bool // the start gate has been passed (always, without --wait-start)
	pid         int  // the running child, 0 when none
	pgid        int  // its process group: may outlive the child (background grandchildren), 0 when empty
	restarts    int
	lastExit    *int
	startErr    string
	stopping    bool
	terminate   os.Signal // a terminating signal arrived; exit once the group is gone
	lastRestart string
	foreground  bool
	stateWarned bool
}

// Signals that end the supervisor (after the child); others are only passed on to the child's group.
var terminatingSignals = map[os.Signal]bool{
	syscall.SIGTERM: true, syscall.SIGINT: true, syscall.SIGHUP: true, syscall.SIGQUIT: true,
}

func (s *supervisor) run() int {
	signal.Notify(s.sigs, syscall.SIGCHLD, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP, syscall.SIGQUIT,
		syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGWINCH)
	// Orphaned grandchildren are re-parented to us (not to a PID 1 above us), so we can reap them and
	// wait for them when the group is stopped.
	_, _, _ = syscall.RawSyscall(syscall.SYS_PRCTL, prSetChildSubreaper, 1, 0)
	s.foreground = stdinIsForegroundTTY()
	_ = os.MkdirAll(s.ctl, 0o755)
	s.watcher = newCtlWatcher(s.ctl, []string{ctlRestartFile, ctlStartFile}, s.poll)
	defer s.watcher.Close()
	s.lastRestart = s.readRestart()

	if !s.waitStart || s.startRequested() {
		s.start()
	} else {
		fmt.Fprintf(s.log, "[dsa] waiting for %s before starting %s\n", filepath.Join(s.ctl, ctlStartFile), s.argv[0])
		s.writeState()
	}
	for {
		if s.terminate != nil {
			return s.shutdown(s.terminate)
		}
		select {
		case sig := <-s.sigs:
			s.onSignal(sig)
		case <-s.watcher.C:
			s.reapAll() // in case a SIGCHLD was coalesced away
			s.onControl()
		}
	}
}

const prSetChildSubreaper = 36 // PR_SET_CHILD_SUBREAPER

func (s *supervisor) onSignal(sig os.Signal) {
	switch {
	case sig == syscall.SIGCHLD:
		s.reapAll()
	case terminatingSignals[sig]:
		if s.terminate == nil {
			s.terminate = sig
		}
	default:
		if s.pgid != 0 {
			_ = syscall.Kill(-s.pgid, sig.(syscall.Signal))
		}
	}
}

func (s *supervisor) onControl() {
	if !s.started {
		if s.startRequested() {
			s.lastRestart = s.readRestart()
			s.start()
		}
		return
	}
	cur := s.readRestart()
	if cur == s.lastRestart {
		return
	}
	s.lastRestart = cur
	s.restarts++
	fmt.Fprintf(s.log, "[dsa] restarting %s (restart #%d)\n", s.argv[0], s.restarts)
	s.stopGroup(syscall.SIGTERM)
	if s.terminate != nil {
		return // asked to exit while stopping: do not start again
	}
	// Requests that arrived while the old process was stopping are served by this start.
	s.lastRestart = s.readRestart()
	s.start()
}

func (s *supervisor) readRestart() string {
	data, _, _ := readSmallFile(filepath.Join(s.ctl, ctlRestartFile), ctlFileLimit)
	return string(data)
}

func (s *supervisor) startRequested() bool {
	_, err := os.Stat(filepath.Join(s.ctl, ctlStartFile))
	return err == nil
}

func (s *supervisor) start() {
	s.started = true
	s.startErr = ""
	path, err := lookPath(s.argv[0])
	if err == nil {
		var pid int
		pid, err = syscall.ForkExec(path, s.argv, &syscall.ProcAttr{
			Env:   os.Environ(),
			Files: []uintptr{0, 1, 2},
			// Its own group, so a restart stops everything it started; the terminal's foreground group
			// when we have one, so an interactive app can read its stdin.
			Sys: &syscall.SysProcAttr{Setpgid: true, Foreground: s.foreground, Ctty: 0},
		})
		if err == nil {
			s.pid, s.pgid = pid, pid
			s.writeState()
			return
		}
	}
	code := 126 // found but not executable, as a shell says
	if err == errNotFound || err == syscall.ENOENT || os.IsNotExist(err) {
		code = 127
	}
	s.lastExit = &code
	s.startErr = err.Error()
	fmt.Fprintf(s.log, "[dsa] cannot start %s: %v; waiting for a change to restart it\n", s.argv[0], err)
	s.writeState()
}

// reapAll collects every exited child: ours, and the orphans re-parented to us.
func (s *supervisor) reapAll() {
	for {
		var ws syscall.WaitStatus
		pid, err := syscall.Wait4(-1, &ws, syscall.WNOHANG, nil)
		if err == syscall.EINTR {
			continue
		}
		if pid <= 0 || err != nil {
			return
		}
		if pid != s.pid {
			continue
		}
		code := exitCode(ws)
		s.pid = 0
		s.lastExit = &code
		if !groupAlive(s.pgid) {
			s.pgid = 0
		}
		if !s.stopping {
			// A crash in dev must not crash-loop the pod (and lose the synced files): wait for a fix.
			fmt.Fprintf(s.log, "[dsa] %s exited with code %d; waiting for a change to restart it\n", s.argv[0], code)
		}
		s.writeState()
	}
}

func exitCode(ws syscall.WaitStatus) int {
	if ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ws.ExitStatus()
}

func groupAlive(pgid int) bool {
	if pgid <= 0 {
		return false
	}
	return syscall.Kill(-pgid, 0) != syscall.ESRCH
}

// stopGroup sends sig to the child's whole group and waits until every member is gone, escalating
// to SIGKILL after the grace period. Signals keep being served meanwhile.
func (s *supervisor) stopGroup(sig syscall.Signal) {
	if s.pgid == 0 && s.pid == 0 {
		return
	}
	s.stopping = true
	s.writeState()
	defer func() { s.stopping = false }()
	pgid := s.pgid
	if pgid == 0 {
		pgid = s.pid
	}
	_ = syscall.Kill(-pgid, sig)
	deadline := time.Now().Add(s.grace)
	killed := false
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		s.reapAll()
		if s.pid == 0 && !groupAlive(pgid) {
			break
		}
		now := time.Now()
		if !killed && !now.Before(deadline) {
			_ = syscall.Kill(-pgid, syscall.SIGKILL)
			killed = true
			deadline = now.Add(5 * time.Second)
		} else if killed && !now.Before(deadline) {
			// Uninterruptible sleep (D state) can outlast SIGKILL for a while; do not hang on it.
			fmt.Fprintf(s.log, "[dsa] processes of %s survive SIGKILL; going on without them\n", s.argv[0])
			break
		}
		select {
		case got := <-s.sigs:
			switch {
			case got == syscall.SIGCHLD:
			case terminatingSignals[got]:
				if s.terminate == nil {
					s.terminate = got
				}
				_ = syscall.Kill(-pgid, got.(syscall.Signal))
			default:
				_ = syscall.Kill(-pgid, got.(syscall.Signal))
			}
		case <-tick.C:
		}
	}
	s.pgid = 0
}

// shutdown passes a terminating signal on, waits for the group (up to the grace period) and returns
// the exit code: the child's (128+signal when a signal ended it), or 0 when no child was running.
func (s *supervisor) shutdown(sig os.Signal) int {
	wasRunning := s.pid != 0
	s.stopGroup(sig.(syscall.Signal))
	code := 0
	if wasRunning && s.lastExit != nil {
		code = *s.lastExit
	}
	s.writeState()
	return code
}

type supervisorState struct {
	Pid           *int     `json:"pid"`
	Running       bool     `json:"running"`
	Restarts      int      `json:"restarts"`
	LastExitCode  *int     `json:"lastExitCode"`
	Command       []string `json:"command"`
	UpdatedAt     string   `json:"updatedAt"`
	State         string   `json:"state"`
	StartError    string   `json:"startError,omitempty"`
	SupervisorPid int      `json:"supervisorPid"`
}

func (s *supervisor) stateName() string {
	switch {
	case !s.started:
		return "waiting-start"
	case s.stopping:
		return "stopping"
	case s.pid != 0:
		return "running"
	case s.startErr != "":
		return "start-failed"
	}
	return "exited"
}

func (s *supervisor) writeState() {
	st := supervisorState{
		Running: s.pid != 0, Restarts: s.restarts, LastExitCode: s.lastExit, Command: s.argv,
		UpdatedAt: time.Now().UTC().Format("2006-01-02T15:04:05.000Z07:00"), State: s.stateName(),
		StartError: s.startErr, SupervisorPid: os.Getpid(),
	}
	if s.pid != 0 {
		pid := s.pid
		st.Pid = &pid
	}
	data, _ := marshalJSON(st)
	path := filepath.Join(s.ctl, ctlStateFile)
	if err := writeFileAtomic(path, data, 0o644); err != nil && !s.stateWarned {
		s.stateWarned = true
		fmt.Fprintf(s.log, "[dsa] cannot write %s: %v (restarts still work)\n", path, unwrapErrno(err))
	}
}

// lookPath finds the command like a shell: a name with a slash is used as is, otherwise the first
// executable regular file of that name on PATH (a default PATH when unset; an empty entry is ".").
func lookPath(name string) (string, error) {
	if strings.Contains(name, "/") {
		return name, nil
	}
	pathEnv, ok := os.LookupEnv("PATH")
	if !ok {
		pathEnv = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
	}
	for _, dir := range strings.Split(pathEnv, ":") {
		if dir == "" {
			dir = "."
		}
		p := filepath.Join(dir, name)
		var st syscall.Stat_t
		if syscall.Stat(p, &st) != nil || st.Mode&syscall.S_IFMT != syscall.S_IFREG {
			continue
		}
		if syscall.Access(p, 1 /* X_OK */) == nil {
			if !strings.Contains(p, "/") {
				p = "./" + p
			}
			return p, nil
		}
	}
	return "", errNotFound
}

var errNotFound = errors.New("not found on PATH")

// stdinIsForegroundTTY: stdin is our controlling terminal and we are its foreground group (a pod
// with tty: true). Then the child gets the foreground, or reading its stdin would stop it (SIGTTIN).
func stdinIsForegroundTTY() bool {
	var pgrp int32
	_, _, e := syscall.Syscall(syscall.SYS_IOCTL, 0, uintptr(syscall.TIOCGPGRP), uintptr(unsafe.Pointer(&pgrp)))
	return e == 0 && int(pgrp) == syscall.Getpgrp()
}
