package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"unsafe"
)

// writeFileAtomic replaces path with data in one rename, so a reader (the sidecar, the supervisor's
// watcher) never sees a half-written file.
func writeFileAtomic(path string, data []byte, mode os.FileMode) error {
	return replaceAtomic(path, mode, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// copyFileAtomic copies src to dst (replacing it in one rename) with the given mode.
func copyFileAtomic(src, dst string, mode os.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	return replaceAtomic(dst, mode, func(w io.Writer) error {
		_, err := io.Copy(w, in)
		return err
	})
}

// replaceAtomic writes path's new content through fill into a temporary file in the same directory
// (same file system), sets its mode explicitly whatever the umask, and renames it over path. On any
// failure the temporary file is removed and path is left as it was.
func replaceAtomic(path string, mode os.FileMode, fill func(io.Writer) error) error {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	tmp, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return err
	}
	tmpName := tmp.Name()
	ok := false
	defer func() {
		if !ok {
			_ = tmp.Close()
			_ = os.Remove(tmpName)
		}
	}()
	if err := fill(tmp); err != nil {
		return err
	}
	if err := tmp.Chmod(mode); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmpName, path); err != nil {
		return err
	}
	ok = true
	return nil
}

// readSmallFile reads at most limit bytes of path; a missing file reads as empty with exists=false.
// Control files are written by another container: bounded so a stray huge file cannot exhaust memory.
func readSmallFile(path string, limit int64) (data []byte, exists bool, err error) {
	f, err := os.Open(path)
	if err != nil {
		if os.IsNotExist(err) {
			return nil, false, nil
		}
		return nil, false, err
	}
	defer f.Close()
	data, err = io.ReadAll(io.LimitReader(f, limit))
	return data, true, err
}

const atSymlinkNofollow = 0x100 // AT_SYMLINK_NOFOLLOW

// utimensat sets atime and mtime with nanosecond precision. With path "" it applies to the open file
// fd (futimens); with nofollow it applies to a symlink itself, which the syscall package's UtimesNano
// cannot do.
func utimensat(dirfd int, path string, atime, mtime syscall.Timespec, nofollow bool) error {
	ts := [2]syscall.Timespec{atime, mtime}
	var p *byte
	if path != "" {
		var err error
		if p, err = syscall.BytePtrFromString(path); err != nil {
			return err
		}
	}
	flags := 0
	if nofollow {
		flags = atSymlinkNofollow
	}
	for {
		_, _, e := syscall.Syscall6(syscall.SYS_UTIMENSAT, uintptr(dirfd), uintptr(unsafe.Pointer(p)),
			uintptr(unsafe.Pointer(&ts[0])), uintptr(flags), 0, 0)
		if e == syscall.EINTR {
			continue
		}
		if e != 0 {
			return e
		}
		return nil
	}
}

// ignoringEINTR retries a raw syscall interrupted by a signal (the supervisor's signal handling or the
// Go runtime's preemption signals can interrupt a blocking read or write).
func ignoringEINTR(f func() error) error {
	for {
		if err := f(); err != syscall.EINTR {
			return err
		}
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

// pathError formats "op path: errno" without Go's *PathError wording differences.
func pathError(op, path string, err error) error {
	if pe, ok := err.(*os.PathError); ok {
		err = pe.Err
	}
	if le, ok := err.(*os.LinkError); ok {
		err = le.Err
	}
	return fmt.Errorf("%s %s: %w", op, path, err)
}

// marshalJSON is json.Marshal plus a newline, without HTML escaping (a command line with "<" or "&"
// stays readable in supervisor.json).
func marshalJSON(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	err := enc.Encode(v)
	return b.Bytes(), err
}
