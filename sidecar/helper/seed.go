package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// cmdSeed copies the image's own files under each sync path into that path's empty volume, once per
// pod: the dsa-seed init container runs it in the APP's image as the app's user, before the app and
// the sync sidecar start (docs/sync.md, "In the pod").
func cmdSeed(args []string, stderr io.Writer) error {
	fs := newFlags("seed")
	ctl := fs.String("ctl", defaultCtlDir, "control directory (seed marks)")
	jobs := fs.Int("jobs", defaultSeedJobs(), "parallel file copies")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return usageError{"expects at least one <src>=<dst>; " + usage}
	}
	if *jobs < 1 || *jobs > 256 {
		return usageError{"--jobs must be between 1 and 256"}
	}
	type pair struct{ src, dst string }
	pairs := make([]pair, 0, fs.NArg())
	for _, a := range fs.Args() {
		// The last '=' splits: a container path may contain '=', our volume paths (/.dsa/sync/<i>) never do.
		i := strings.LastIndexByte(a, '=')
		if i <= 0 || i == len(a)-1 {
			return usageError{fmt.Sprintf("bad pair %q: want <src>=<dst>", a)}
		}
		// A relative source is relative to the working directory: the image's WORKDIR, as for the app.
		src, err := filepath.Abs(a[:i])
		if err != nil {
			return err
		}
		dst, err := filepath.Abs(a[i+1:])
		if err != nil {
			return err
		}
		pairs = append(pairs, pair{src, dst})
	}
	for i, p := range pairs {
		mark := filepath.Join(*ctl, ctlSeededPref+markName(p.dst, i))
		if _, err := os.Lstat(mark); err == nil {
			// A re-run init container (pod restart with the volumes kept) must not overwrite synced files.
			fmt.Fprintf(stderr, "dsa-helper seed: %s already seeded (%s exists); left as is\n", p.dst, mark)
			continue
		}
		t0 := time.Now()
		st, err := seedTree(p.src, p.dst, seedOptions{jobs: *jobs, notes: newNoteLog(stderr, 20)})
		if err != nil {
			return fmt.Errorf("%s → %s: %w", p.src, p.dst, err)
		}
		elapsed := time.Since(t0)
		if err := os.MkdirAll(*ctl, 0o755); err != nil {
			return pathError("create", *ctl, err)
		}
		markBody, _ := marshalJSON(map[string]any{
			"src": p.src, "dst": p.dst, "missing": st.missing, "files": st.files.Load(), "dirs": st.dirs.Load(),
			"symlinks": st.symlinks.Load(), "bytes": st.bytes.Load(), "skipped": st.skipped.Load(),
			"ms": elapsed.Milliseconds(), "at": time.Now().UTC().Format(time.RFC3339),
		})
		if err := writeFileAtomic(mark, markBody, 0o644); err != nil {
			return pathError("write", mark, err)
		}
		if st.missing {
			fmt.Fprintf(stderr, "dsa-helper seed: %s does not exist in the image; %s starts empty\n", p.src, p.dst)
		} else {
			fmt.Fprintf(stderr, "dsa-helper seed: %s → %s: %d files, %d dirs, %d symlinks, %s, %d skipped in %.2fs\n",
				p.src, p.dst, st.files.Load(), st.dirs.Load(), st.symlinks.Load(), humanBytes(st.bytes.Load()),
				st.skipped.Load(), elapsed.Seconds())
		}
	}
	return nil
}

func defaultSeedJobs() int {
	// File creation is syscall-bound rather than CPU-bound: a few copies in flight per core hide the
	// latency of the underlying file system (overlayfs on the read side).
	n := 4 * runtime.NumCPU()
	if n > 32 {
		n = 32
	}
	return n
}

type seedOptions struct {
	jobs  int
	notes *noteLog
}

type seedStats struct {
	missing                        bool
	files, dirs, symlinks, skipped atomic.Int64
	bytes                          atomic.Int64
}

// attrs are what we carry from a source inode to its copy.
type attrs struct {
	mode         uint32
	uid, gid     uint32
	atime, mtime syscall.Timespec
}

func attrsOf(st *syscall.Stat_t) attrs {
	return attrs{mode: st.Mode, uid: st.Uid, gid: st.Gid, atime: st.Atim, mtime: st.Mtim}
}

type seedEntry struct {
	symlink bool
	name    string
}

// seedJob is a batch of one directory's files and symlinks: batches, not single files, keep the
// hand-off between the walker and the copiers from costing more than the copies (10,000 small files).
type seedJob struct {
	srcDir, dstDir string
	entries        []seedEntry
}

const seedBatch = 64

type dirFix struct {
	path string
	a    attrs
}

type seeder struct {
	opts   seedOptions
	root   bool
	uid    int
	gid    int
	stats  *seedStats
	jobs   chan seedJob
	wg     sync.WaitGroup
	failed atomic.Bool
	errMu  sync.Mutex
	err    error
	dirs   []dirFix // post-order: a directory comes after everything below it
	// The destination's own inode, so seeding "/" or a parent of the volume never copies into itself.
	dstDev, dstIno uint64
	// The source's file system: a directory on another one is a mount (the kubelet's service-account
	// token, /proc, a volume), not the image's content.
	srcDev uint64
}

// seedTree copies the tree at src into the (empty) directory dst. Regular files keep content, mode
// (setuid/setgid/sticky included) and times; directories keep mode and times (set after their
// content); symlinks are recreated, never followed; ownership is kept when running as root; hardlinks
// become separate files; devices, fifos and sockets are skipped with a note. The root of src is
// followed if it is a symlink (a WORKDIR may be one); nothing below it is.
func seedTree(src, dst string, opts seedOptions) (*seedStats, error) {
	stats := &seedStats{}
	var srcSt syscall.Stat_t
	if err := syscall.Stat(src, &srcSt); err != nil {
		if err == syscall.ENOENT || err == syscall.ENOTDIR {
			stats.missing = true
			if err := os.MkdirAll(dst, 0o755); err != nil {
				return nil, pathError("create", dst, err)
			}
			if err := syscall.Chmod(dst, 0o755); err != nil {
				opts.notes.add(fmt.Sprintf("cannot set the mode of %s (%v); left as is", dst, err))
			}
			return stats, nil
		}
		return nil, pathError("stat", src, err)
	}
	if srcSt.Mode&syscall.S_IFMT != syscall.S_IFDIR {
		return nil, fmt.Errorf("%s is not a directory", src)
	}
	if err := os.MkdirAll(dst, 0o700); err != nil {
		return nil, pathError("create", dst, err)
	}
	var dstSt syscall.Stat_t
	if err := syscall.Stat(dst, &dstSt); err != nil {
		return nil, pathError("stat", dst, err)
	}
	s := &seeder{opts: opts, root: os.Geteuid() == 0, uid: os.Geteuid(), gid: os.Getegid(), stats: stats,
		jobs: make(chan seedJob, 64), dstDev: uint64(dstSt.Dev), dstIno: uint64(dstSt.Ino), srcDev: uint64(srcSt.Dev)}
	// Files are created with their final permission bits (saves a chmod per file); the umask must not
	// take any away. Only this subcommand runs in the process.
	old := syscall.Umask(0)
	defer syscall.Umask(old)
	for i := 0; i < opts.jobs; i++ {
		s.wg.Add(1)
		go s.worker()
	}
	s.walk(src, dst)
	close(s.jobs)
	s.wg.Wait()
	if s.err != nil {
		return nil, s.err
	}
	for _, d := range s.dirs {
		if err := s.applyDirAttrs(d.path, d.a, false); err != nil {
			return nil, err
		}
	}
	// The volume itself: mode, owner and times of the image's directory. The volume belongs to
	// whoever the kubelet made it for; not being allowed to change it is not worth failing the pod.
	if err := s.applyDirAttrs(dst, attrsOf(&srcSt), true); err != nil {
		return nil, err
	}
	return stats, nil
}

func (s *seeder) fail(err error) {
	s.errMu.Lock()
	if s.err == nil {
		s.err = err
	}
	s.errMu.Unlock()
	s.failed.Store(true)
}

func (s *seeder) walk(srcDir, dstDir string) {
	f, err := os.Open(srcDir)
	if err != nil {
		if errors.Is(err, syscall.EACCES) || errors.Is(err, syscall.EPERM) {
			// The app's user cannot read it either; the directory exists, its content is not seeded.
			s.skip(fmt.Sprintf("%s: cannot read the directory (%v); its content is not seeded", srcDir, unwrapErrno(err)))
			return
		}
		s.fail(pathError("open", srcDir, err))
		return
	}
	entries, err := f.ReadDir(-1)
	_ = f.Close()
	if err != nil {
		s.fail(pathError("read directory", srcDir, err))
		return
	}
	var batch []seedEntry
	flush := func() {
		if len(batch) > 0 {
			s.jobs <- seedJob{srcDir: srcDir, dstDir: dstDir, entries: batch}
			batch = nil
		}
	}
	defer flush()
	for _, e := range entries {
		if s.failed.Load() {
			return
		}
		sp := filepath.Join(srcDir, e.Name())
		dp := filepath.Join(dstDir, e.Name())
		t := e.Type()
		switch {
		case t.IsDir():
			var st syscall.Stat_t
			if err := syscall.Lstat(sp, &st); err != nil {
				if err == syscall.ENOENT {
					continue
				}
				s.fail(pathError("stat", sp, err))
				return
			}
			if uint64(st.Dev) == s.dstDev && uint64(st.Ino) == s.dstIno {
				continue
			}
			if err := mkdirForSeed(dp); err != nil {
				s.fail(err)
				return
			}
			s.stats.dirs.Add(1)
			if uint64(st.Dev) != s.srcDev {
				s.skip(fmt.Sprintf("%s: another file system is mounted here; its content is not seeded", sp))
			} else {
				s.walk(sp, dp)
			}
			s.dirs = append(s.dirs, dirFix{dp, attrsOf(&st)})
		case t&os.ModeSymlink != 0 || t.IsRegular():
			batch = append(batch, seedEntry{symlink: t&os.ModeSymlink != 0, name: e.Name()})
			if len(batch) == seedBatch {
				flush()
			}
		default:
			s.skip(fmt.Sprintf("%s: %s skipped", sp, fileKind(t)))
		}
	}
}

func (s *seeder) skip(msg string) {
	s.stats.skipped.Add(1)
	s.opts.notes.add(msg)
}

func fileKind(t os.FileMode) string {
	switch {
	case t&os.ModeCharDevice != 0:
		return "character device"
	case t&os.ModeDevice != 0:
		return "block device"
	case t&os.ModeNamedPipe != 0:
		return "fifo"
	case t&os.ModeSocket != 0:
		return "socket"
	}
	return "special file"
}

// mkdirForSeed creates a directory we can fill (its real mode is applied once its content is in). An
// existing one is the trace of an interrupted earlier seed (no mark was written): reused.
func mkdirForSeed(p string) error {
	err := syscall.Mkdir(p, 0o700)
	if err == syscall.EEXIST {
		var st syscall.Stat_t
		if lerr := syscall.Lstat(p, &st); lerr == nil && st.Mode&syscall.S_IFMT == syscall.S_IFDIR {
			err = syscall.Chmod(p, 0o700)
		} else if rerr := os.RemoveAll(p); rerr == nil {
			err = syscall.Mkdir(p, 0o700)
		}
	}
	if err != nil {
		return pathError("create directory", p, err)
	}
	return nil
}

func (s *seeder) worker() {
	defer s.wg.Done()
	buf := make([]byte, 256*1024)
	for j := range s.jobs {
		for _, e := range j.entries {
			if s.failed.Load() {
				break // drain
			}
			src, dst := filepath.Join(j.srcDir, e.name), filepath.Join(j.dstDir, e.name)
			var err error
			if e.symlink {
				err = s.copySymlink(src, dst)
			} else {
				err = s.copyFile(src, dst, buf)
			}
			if err != nil {
				s.fail(err)
			}
		}
	}
}

func (s *seeder) copySymlink(src, dst string) error {
	var st syscall.Stat_t
	if err := syscall.Lstat(src, &st); err != nil {
		if err == syscall.ENOENT {
			return nil
		}
		return pathError("stat", src, err)
	}
	target, err := os.Readlink(src)
	if err != nil {
		if errors.Is(err, syscall.ENOENT) {
			return nil // gone since the directory was read
		}
		return pathError("read link", src, err)
	}
	err = syscall.Symlink(target, dst)
	if err == syscall.EEXIST {
		if err = os.RemoveAll(dst); err == nil {
			err = syscall.Symlink(target, dst)
		}
	}
	if err != nil {
		return pathError("create symlink", dst, err)
	}
	if s.root {
		if err := syscall.Lchown(dst, int(st.Uid), int(st.Gid)); err != nil {
			s.opts.notes.add(fmt.Sprintf("%s: cannot keep the owner %d:%d (%v)", dst, st.Uid, st.Gid, err))
		}
	}
	// Link times are cosmetic (and not settable on every file system): best effort.
	_ = utimensat(atFDCWD, dst, st.Atim, st.Mtim, true)
	s.stats.symlinks.Add(1)
	return nil
}

const atFDCWD = -100 // AT_FDCWD

func (s *seeder) copyFile(src, dst string, buf []byte) error {
	var in int
	err := ignoringEINTR(func() (e error) {
		in, e = syscall.Open(src, syscall.O_RDONLY|syscall.O_CLOEXEC|syscall.O_NOFOLLOW, 0)
		return e
	})
	if err != nil {
		switch err {
		case syscall.ENOENT:
			return nil // gone since the directory was read
		case syscall.EACCES, syscall.EPERM:
			s.skip(fmt.Sprintf("%s: cannot read the file (%v); not seeded", src, err))
			return nil
		}
		return pathError("open", src, err)
	}
	defer syscall.Close(in)
	var st syscall.Stat_t
	if err := syscall.Fstat(in, &st); err != nil {
		return pathError("stat", src, err)
	}
	var out int
	create := func() (e error) {
		out, e = syscall.Open(dst, syscall.O_WRONLY|syscall.O_CREAT|syscall.O_EXCL|syscall.O_CLOEXEC, st.Mode&0o777)
		return e
	}
	err = ignoringEINTR(create)
	if err == syscall.EEXIST { // left by an interrupted earlier seed
		if err = os.RemoveAll(dst); err == nil {
			err = ignoringEINTR(create)
		}
	}
	if err != nil {
		return pathError("create", dst, err)
	}
	closed := false
	defer func() {
		if !closed {
			_ = syscall.Close(out)
		}
	}()
	// Up to the size fstat gave: image files do not change under us, and it saves the read that
	// would only return EOF.
	var n int64
	for n < st.Size {
		var r int
		err := ignoringEINTR(func() (e error) { r, e = syscall.Read(in, buf); return e })
		if err != nil {
			return pathError("read", src, err)
		}
		if r == 0 {
			break
		}
		for w := 0; w < r; {
			var k int
			err := ignoringEINTR(func() (e error) { k, e = syscall.Write(out, buf[w:r]); return e })
			if err != nil {
				return pathError("write", dst, err)
			}
			w += k
		}
		n += int64(r)
	}
	// Owner before mode: chown clears setuid/setgid. Permission bits came with the create; only the
	// special bits need a chmod (open(2) drops them).
	if s.root && (int(st.Uid) != s.uid || int(st.Gid) != s.gid) {
		if err := syscall.Fchown(out, int(st.Uid), int(st.Gid)); err != nil {
			s.opts.notes.add(fmt.Sprintf("%s: cannot keep the owner %d:%d (%v)", dst, st.Uid, st.Gid, err))
		}
	}
	if st.Mode&0o7000 != 0 {
		if err := syscall.Fchmod(out, st.Mode&0o7777); err != nil {
			return pathError("set the mode of", dst, err)
		}
	}
	if err := utimensat(out, "", st.Atim, st.Mtim, false); err != nil {
		return pathError("set the times of", dst, err)
	}
	closed = true
	if err := syscall.Close(out); err != nil {
		return pathError("write", dst, err)
	}
	s.stats.files.Add(1)
	s.stats.bytes.Add(n)
	return nil
}

// applyDirAttrs gives a copied directory its source's owner (as root), mode and times, in that order
// (chown clears setgid; changing the mode does not touch the times). For the volume root, refusals
// (not its owner) are notes rather than failures.
func (s *seeder) applyDirAttrs(p string, a attrs, volumeRoot bool) error {
	soft := func(what string, err error) error {
		if volumeRoot && (err == syscall.EPERM || err == syscall.EACCES || err == syscall.EROFS) {
			s.opts.notes.add(fmt.Sprintf("cannot set the %s of %s (%v); left as is", what, p, err))
			return nil
		}
		return pathError("set the "+what+" of", p, err)
	}
	if s.root {
		if err := syscall.Lchown(p, int(a.uid), int(a.gid)); err != nil {
			s.opts.notes.add(fmt.Sprintf("%s: cannot keep the owner %d:%d (%v)", p, a.uid, a.gid, err))
		}
	}
	if err := syscall.Chmod(p, a.mode&0o7777); err != nil {
		if err := soft("mode", err); err != nil {
			return err
		}
	}
	if err := utimensat(atFDCWD, p, a.atime, a.mtime, false); err != nil {
		if err := soft("times", err); err != nil {
			return err
		}
	}
	return nil
}

func unwrapErrno(err error) error {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		return errno
	}
	return err
}

// noteLog prints at most max notes (a tree full of sockets must not flood the init container's log)
// and how many more there were.
type noteLog struct {
	mu    sync.Mutex
	w     io.Writer
	max   int
	count int
}

func newNoteLog(w io.Writer, max int) *noteLog { return &noteLog{w: w, max: max} }

func (l *noteLog) add(msg string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.count++
	if l.count <= l.max {
		fmt.Fprintf(l.w, "dsa-helper seed: note: %s\n", oneLine(msg))
	} else if l.count == l.max+1 {
		fmt.Fprintf(l.w, "dsa-helper seed: note: more notes suppressed\n")
	}
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// markName names a pair's seeded mark. Our volumes sit at /.dsa/sync/<n>: the mark is seeded-<n>, so
// several seed containers of one pod (one per app container) never share a mark; other destinations
// (tests, manual use) fall back to the pair's position.
func markName(dst string, i int) string {
	base := filepath.Base(dst)
	if base != "" && strings.Trim(base, "0123456789") == "" {
		return base
	}
	return itoa(i)
}
