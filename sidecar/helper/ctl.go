package main

import (
	"bytes"
	"os"
	"strconv"
	"sync"
	"syscall"
	"time"
	"unsafe"
)

// Names in the control directory; mirror CTL_FILES in api/src/sync/layout.ts.
const (
	ctlRestartFile = "restart"
	ctlStartFile   = "start"
	ctlStateFile   = "supervisor.json"
	ctlSeededPref  = "seeded-"
	// Control files hold a counter or nothing; anything longer is cut off, not read into memory.
	ctlFileLimit = 4096
)

func parseCounter(data []byte) int64 {
	n, err := strconv.ParseInt(string(bytes.TrimSpace(data)), 10, 64)
	if err != nil || n < 0 {
		return 0
	}
	return n
}

// ctlWatcher signals (coalesced, on a 1-slot channel) that a file named in names may have changed in
// dir. inotify when the kernel gives us one, plus a slow safety poll; a 100 ms poll alone when inotify
// is unavailable (instance limits, file systems without it) or when asked to poll.
type ctlWatcher struct {
	C     chan struct{}
	file  *os.File // the inotify fd, non-blocking so the runtime poller can interrupt a read on Close
	stop  chan struct{}
	once  sync.Once
	Mode  string // "inotify" or "poll"
	names map[string]bool
}

const (
	pollInterval   = 100 * time.Millisecond
	safetyInterval = time.Second
)

func newCtlWatcher(dir string, names []string, forcePoll bool) *ctlWatcher {
	w := &ctlWatcher{C: make(chan struct{}, 1), stop: make(chan struct{}), names: map[string]bool{}}
	for _, n := range names {
		w.names[n] = true
	}
	interval := pollInterval
	w.Mode = "poll"
	if !forcePoll {
		if fd, err := syscall.InotifyInit1(syscall.IN_CLOEXEC | syscall.IN_NONBLOCK); err == nil {
			mask := uint32(syscall.IN_CREATE | syscall.IN_CLOSE_WRITE | syscall.IN_MOVED_TO | syscall.IN_MODIFY |
				syscall.IN_DELETE | syscall.IN_MOVED_FROM | syscall.IN_DELETE_SELF | syscall.IN_MOVE_SELF)
			if _, err := syscall.InotifyAddWatch(fd, dir, mask); err == nil {
				w.file = os.NewFile(uintptr(fd), "inotify")
				w.Mode = "inotify"
				interval = safetyInterval
				go w.readEvents()
			} else {
				_ = syscall.Close(fd)
			}
		}
	}
	go w.poll(interval)
	return w
}

func (w *ctlWatcher) notify() {
	select {
	case w.C <- struct{}{}:
	default:
	}
}

func (w *ctlWatcher) poll(interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-w.stop:
			return
		case <-t.C:
			w.notify()
		}
	}
}

// readEvents waits in the runtime poller; it only wakes the main loop for the names it cares
// about (the supervisor's own state-file writes land in the same directory).
func (w *ctlWatcher) readEvents() {
	buf := make([]byte, 64*1024)
	for {
		n, err := w.file.Read(buf)
		if err != nil || n <= 0 {
			return // closed or broken: the safety poll still runs
		}
		wake := false
		for off := 0; off+syscall.SizeofInotifyEvent <= n; {
			ev := (*syscall.InotifyEvent)(unsafe.Pointer(&buf[off]))
			nameLen := int(ev.Len)
			start := off + syscall.SizeofInotifyEvent
			if start+nameLen > n {
				break
			}
			name := string(bytes.TrimRight(buf[start:start+nameLen], "\x00"))
			if ev.Mask&(syscall.IN_Q_OVERFLOW|syscall.IN_DELETE_SELF|syscall.IN_MOVE_SELF|syscall.IN_IGNORED) != 0 || w.names[name] {
				wake = true
			}
			off = start + nameLen
		}
		if wake {
			w.notify()
		}
	}
}

func (w *ctlWatcher) Close() {
	w.once.Do(func() {
		close(w.stop)
		if w.file != nil {
			_ = w.file.Close()
		}
	})
}
