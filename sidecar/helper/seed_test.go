package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

type wantNode struct {
	mode    uint32 // permission and special bits
	mtime   time.Time
	content string
	link    string
}

// buildSourceTree makes an "image" directory with everything seed must handle, and returns what the
// copy must look like (relative path → expected node).
func buildSourceTree(t *testing.T, src string) map[string]wantNode {
	t.Helper()
	want := map[string]wantNode{}
	base := time.Date(2021, 3, 4, 5, 6, 7, 0, time.UTC)
	n := 0
	stamp := func(rel string) time.Time {
		n++
		// Distinct, nanosecond-precise times: a copy that drops them or takes "now" fails.
		ts := base.Add(time.Duration(n)*time.Hour + time.Duration(n*1234567))
		if err := os.Chtimes(filepath.Join(src, rel), ts, ts); err != nil {
			t.Fatal(err)
		}
		return ts
	}
	file := func(rel, content string, mode uint32) {
		p := filepath.Join(src, rel)
		mustWrite(t, p, content, 0o644)
		if err := syscall.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
		want[rel] = wantNode{mode: mode, content: content, mtime: stamp(rel)}
	}
	big := strings.Repeat("0123456789abcdef", 200_000) // 3.2 MB: several buffers
	if err := os.MkdirAll(filepath.Join(src, "bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	file("package.json", `{"name":"app"}`, 0o644)
	file("bin/run", "#!/bin/sh\necho run\n", 0o755)
	file("bin/suid", "suid", 0o4755)
	file("bin/sgid", "sgid", 0o2711)
	file("secret.txt", "only me", 0o600)
	file("readonly.txt", "ro", 0o444)
	file("big.bin", big, 0o640)
	file("deep/a/b/c/d.txt", "deep", 0o644)
	file("ro-dir/inside.txt", "in a read-only dir", 0o644)
	// Hardlinks: copied as two independent files.
	file("hard1", "shared inode", 0o644)
	if err := os.Link(filepath.Join(src, "hard1"), filepath.Join(src, "hard2")); err != nil {
		t.Fatal(err)
	}
	want["hard2"] = want["hard1"]
	// Symlinks: kept as links, never followed; one inside, one escaping, one absolute, one dangling.
	for rel, target := range map[string]string{
		"link-inside": "deep/a/b/c/d.txt", "link-escape": "../../../../etc/passwd",
		"link-abs": "/etc/passwd", "link-dangling": "does/not/exist", "bin/link-dir": "../deep",
	} {
		if err := os.Symlink(target, filepath.Join(src, rel)); err != nil {
			t.Fatal(err)
		}
		want[rel] = wantNode{link: target}
	}
	dir := func(rel string, mode uint32) {
		p := filepath.Join(src, rel)
		if err := os.MkdirAll(p, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := syscall.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
		want[rel] = wantNode{mode: mode | syscall.S_IFDIR, mtime: stamp(rel)}
	}
	// Directory modes and times are set after their content (a 0555 directory still gets filled).
	dir("empty", 0o755)
	dir("deep/a/b/c", 0o750)
	dir("deep/a/b", 0o755)
	dir("deep/a", 0o711)
	dir("deep", 0o755)
	dir("shared", 0o1777)
	dir("group", 0o2775)
	dir("bin", 0o755)
	dir("ro-dir", 0o555)
	// Special files: skipped with a note.
	if err := syscall.Mkfifo(filepath.Join(src, "fifo"), 0o644); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("unix", filepath.Join(src, "sock"))
	if err != nil {
		t.Fatal(err)
	}
	l.(*net.UnixListener).SetUnlinkOnClose(false)
	_ = l.Close()
	if os.Geteuid() == 0 {
		if err := syscall.Mknod(filepath.Join(src, "null"), syscall.S_IFCHR|0o666, 0x103); err != nil {
			t.Fatal(err)
		}
	}
	return want
}

func checkCopy(t *testing.T, dst string, want map[string]wantNode) {
	t.Helper()
	for rel, w := range want {
		p := filepath.Join(dst, rel)
		st := lstat(t, p)
		switch {
		case w.link != "":
			if st.Mode&syscall.S_IFMT != syscall.S_IFLNK {
				t.Errorf("%s: not a symlink (mode %o)", rel, st.Mode)
				continue
			}
			if got, _ := os.Readlink(p); got != w.link {
				t.Errorf("%s: link target %q, want %q", rel, got, w.link)
			}
		case w.mode&syscall.S_IFDIR != 0:
			if st.Mode != w.mode {
				t.Errorf("%s: dir mode %o, want %o", rel, st.Mode, w.mode)
			}
		default:
			if st.Mode&syscall.S_IFMT != syscall.S_IFREG || st.Mode&0o7777 != w.mode {
				t.Errorf("%s: mode %o, want regular %o", rel, st.Mode, w.mode)
			}
			if got := readFile(t, p); got != w.content {
				t.Errorf("%s: content differs (%d bytes, want %d)", rel, len(got), len(w.content))
			}
		}
		if !w.mtime.IsZero() {
			if got := time.Unix(st.Mtim.Unix()); !got.Equal(w.mtime) {
				t.Errorf("%s: mtime %v, want %v", rel, got.UTC(), w.mtime)
			}
		}
	}
}

func TestSeedCopiesTheTree(t *testing.T) {
	root := t.TempDir()
	src, dst, ctl := filepath.Join(root, "image", "app"), filepath.Join(root, "vol"), filepath.Join(root, "ctl")
	if err := os.MkdirAll(src, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(dst, 0o777); err != nil { // as the kubelet makes an emptyDir
		t.Fatal(err)
	}
	want := buildSourceTree(t, src)
	if os.Geteuid() == 0 {
		// Ownership is kept when seeding as root.
		for _, rel := range []string{"package.json", "bin/suid", "group", "link-inside"} {
			if err := os.Lchown(filepath.Join(src, rel), 1000, 1001); err != nil {
				t.Fatal(err)
			}
		}
		// chown cleared the special bits; put them back on the source.
		_ = syscall.Chmod(filepath.Join(src, "bin/suid"), 0o4755)
		_ = syscall.Chmod(filepath.Join(src, "group"), 0o2775)
		if err := os.Chtimes(filepath.Join(src, "group"), want["group"].mtime, want["group"].mtime); err != nil {
			t.Fatal(err)
		}
	}
	rootTime := time.Date(2020, 1, 2, 3, 4, 5, 600, time.UTC)
	if err := os.Chmod(src, 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(src, rootTime, rootTime); err != nil {
		t.Fatal(err)
	}

	r := runHelper(t, "", "seed", "--ctl", ctl, src+"="+dst)
	if r.code != 0 {
		t.Fatalf("seed: %+v", r)
	}
	checkCopy(t, dst, want)

	// The volume takes the image directory's own mode and times.
	if st := lstat(t, dst); st.Mode&0o7777 != 0o750 || !time.Unix(st.Mtim.Unix()).Equal(rootTime) {
		t.Errorf("volume root: mode %o mtime %v", st.Mode&0o7777, time.Unix(st.Mtim.Unix()).UTC())
	}
	// Hardlinks became separate files.
	if lstat(t, filepath.Join(dst, "hard1")).Ino == lstat(t, filepath.Join(dst, "hard2")).Ino {
		t.Error("hard1 and hard2 share an inode in the copy")
	}
	// The escaping link was copied as a link, not as the content it points to.
	if st := lstat(t, filepath.Join(dst, "link-escape")); st.Size != int64(len("../../../../etc/passwd")) {
		t.Errorf("link-escape: size %d: followed?", st.Size)
	}
	// Special files are skipped and said so.
	specials := []string{"fifo", "sock"}
	if os.Geteuid() == 0 {
		specials = append(specials, "null")
	}
	for _, s := range specials {
		if _, err := os.Lstat(filepath.Join(dst, s)); !os.IsNotExist(err) {
			t.Errorf("%s: special file copied (%v)", s, err)
		}
		if !strings.Contains(r.stderr, filepath.Join(src, s)+": ") {
			t.Errorf("no note about %s in %q", s, r.stderr)
		}
	}
	if !strings.Contains(r.stderr, "fifo skipped") || !strings.Contains(r.stderr, "socket skipped") {
		t.Errorf("notes do not say what was skipped: %q", r.stderr)
	}
	if os.Geteuid() == 0 {
		for _, rel := range []string{"package.json", "bin/suid", "group", "link-inside"} {
			if st := lstat(t, filepath.Join(dst, rel)); st.Uid != 1000 || st.Gid != 1001 {
				t.Errorf("%s: owner %d:%d, want 1000:1001", rel, st.Uid, st.Gid)
			}
		}
		if st := lstat(t, filepath.Join(dst, "bin/run")); st.Uid != 0 {
			t.Errorf("bin/run: owner %d, want 0", st.Uid)
		}
	} else if st := lstat(t, filepath.Join(dst, "package.json")); int(st.Uid) != os.Geteuid() {
		t.Errorf("as non-root the copies belong to us, got uid %d", st.Uid)
	}

	// The mark: written, with what was done.
	var mark map[string]any
	if err := json.Unmarshal([]byte(readFile(t, filepath.Join(ctl, "seeded-0"))), &mark); err != nil {
		t.Fatal(err)
	}
	if mark["dst"] != dst || mark["files"].(float64) < 10 || mark["symlinks"].(float64) != 5 {
		t.Errorf("mark: %v", mark)
	}
	if !strings.Contains(r.stderr, "dsa-helper seed: "+src+" → "+dst+": ") {
		t.Errorf("no summary line: %q", r.stderr)
	}
}

func TestSeedMarkMakesARerunANoop(t *testing.T) {
	root := t.TempDir()
	src, dst, ctl := filepath.Join(root, "app"), filepath.Join(root, "vol"), filepath.Join(root, "ctl")
	mustWrite(t, filepath.Join(src, "main.js"), "v1", 0o644)
	if r := runHelper(t, "", "seed", "--ctl", ctl, src+"="+dst); r.code != 0 {
		t.Fatalf("first seed: %+v", r)
	}
	// What sync did meanwhile must survive the init container running again.
	mustWrite(t, filepath.Join(dst, "main.js"), "synced edit", 0o644)
	mustWrite(t, filepath.Join(dst, "new.js"), "synced new file", 0o644)
	if err := os.Remove(filepath.Join(dst, "main.js")); err != nil {
		t.Fatal(err)
	}
	mustWrite(t, filepath.Join(src, "other.js"), "image changed", 0o644)
	r := runHelper(t, "", "seed", "--ctl", ctl, src+"="+dst)
	if r.code != 0 || !strings.Contains(r.stderr, "already seeded") {
		t.Fatalf("second seed: %+v", r)
	}
	for _, gone := range []string{"main.js", "other.js"} {
		if _, err := os.Lstat(filepath.Join(dst, gone)); !os.IsNotExist(err) {
			t.Errorf("%s was (re)created by a second seed", gone)
		}
	}
	if readFile(t, filepath.Join(dst, "new.js")) != "synced new file" {
		t.Error("new.js changed")
	}
}

func TestSeedMissingSourceAndRelativePaths(t *testing.T) {
	root := t.TempDir()
	ctl := filepath.Join(root, "ctl")
	workdir := filepath.Join(root, "workdir")
	mustWrite(t, filepath.Join(workdir, "app", "index.js"), "hello", 0o644)
	vol0, vol1 := filepath.Join(root, "vol0"), filepath.Join(root, "vol1")
	for _, v := range []string{vol0, vol1} {
		if err := os.Mkdir(v, 0o777); err != nil {
			t.Fatal(err)
		}
		_ = os.Chmod(v, 0o777)
	}
	// Pair 0: relative to the working directory (the image's WORKDIR); pair 1: absent from the image.
	r := runHelper(t, workdir, "seed", "--ctl", ctl, "app="+vol0, "/no/such/dir="+vol1)
	if r.code != 0 {
		t.Fatalf("seed: %+v", r)
	}
	if readFile(t, filepath.Join(vol0, "index.js")) != "hello" {
		t.Error("relative source not seeded")
	}
	entries, _ := os.ReadDir(vol1)
	if st := lstat(t, vol1); len(entries) != 0 || st.Mode&0o7777 != 0o755 {
		t.Errorf("missing source: %d entries, mode %o (want empty, 0755)", len(entries), st.Mode&0o7777)
	}
	if !strings.Contains(r.stderr, "/no/such/dir does not exist in the image") {
		t.Errorf("stderr: %q", r.stderr)
	}
	for _, m := range []string{"seeded-0", "seeded-1"} {
		if _, err := os.Stat(filepath.Join(ctl, m)); err != nil {
			t.Errorf("mark %s: %v", m, err)
		}
	}
	// With pair 0 marked, only pair 1 is seeded again (after, say, an earlier run failed on it).
	if err := os.Remove(filepath.Join(ctl, "seeded-1")); err != nil {
		t.Fatal(err)
	}
	mustWrite(t, filepath.Join(workdir, "app", "index.js"), "changed", 0o644)
	if r := runHelper(t, workdir, "seed", "--ctl", ctl, "app="+vol0, "/no/such/dir="+vol1); r.code != 0 {
		t.Fatalf("re-seed: %+v", r)
	}
	if readFile(t, filepath.Join(vol0, "index.js")) != "hello" {
		t.Error("marked pair 0 was seeded again")
	}
	// A source that is a file, not a directory, is a real error.
	mustWrite(t, filepath.Join(root, "afile"), "x", 0o644)
	r = runHelper(t, "", "seed", "--ctl", filepath.Join(root, "ctl2"), filepath.Join(root, "afile")+"="+filepath.Join(root, "vol2"))
	if r.code != 1 || len(lines(r.stderr)) != 1 || !strings.Contains(r.stderr, "is not a directory") {
		t.Errorf("file source: %+v", r)
	}
}

func TestSeedAfterAnInterruptedSeed(t *testing.T) {
	// No mark, but a volume half-filled by an earlier attempt (read-only file, read-only directory,
	// a symlink where the image has one): seeding again completes the copy.
	root := t.TempDir()
	src, dst, ctl := filepath.Join(root, "app"), filepath.Join(root, "vol"), filepath.Join(root, "ctl")
	mustWrite(t, filepath.Join(src, "ro.txt"), "image content", 0o444)
	mustWrite(t, filepath.Join(src, "dir", "f"), "f", 0o644)
	if err := os.Symlink("ro.txt", filepath.Join(src, "l")); err != nil {
		t.Fatal(err)
	}
	mustWrite(t, filepath.Join(dst, "ro.txt"), "partial", 0o444)
	mustWrite(t, filepath.Join(dst, "dir", "f"), "partial", 0o644)
	_ = os.Chmod(filepath.Join(dst, "dir"), 0o555)
	if err := os.Symlink("elsewhere", filepath.Join(dst, "l")); err != nil {
		t.Fatal(err)
	}
	if r := runHelper(t, "", "seed", "--ctl", ctl, src+"="+dst); r.code != 0 {
		t.Fatalf("seed: %+v", r)
	}
	if readFile(t, filepath.Join(dst, "ro.txt")) != "image content" || readFile(t, filepath.Join(dst, "dir", "f")) != "f" {
		t.Error("partial files not replaced")
	}
	if l, _ := os.Readlink(filepath.Join(dst, "l")); l != "ro.txt" {
		t.Errorf("link %q", l)
	}
}

func TestSeedIntoItsOwnSubdirectory(t *testing.T) {
	// Seeding a directory into a volume mounted below it must not copy the volume into itself.
	root := t.TempDir()
	src := filepath.Join(root, "app")
	dst := filepath.Join(src, "vol")
	mustWrite(t, filepath.Join(src, "a.txt"), "a", 0o644)
	if err := os.MkdirAll(dst, 0o777); err != nil {
		t.Fatal(err)
	}
	if r := runHelper(t, "", "seed", "--ctl", filepath.Join(root, "ctl"), src+"="+dst); r.code != 0 {
		t.Fatalf("seed: %+v", r)
	}
	if _, err := os.Lstat(filepath.Join(dst, "vol")); !os.IsNotExist(err) {
		t.Error("the volume was copied into itself")
	}
	if readFile(t, filepath.Join(dst, "a.txt")) != "a" {
		t.Error("a.txt not seeded")
	}
}

func TestSeedFailuresAreOneLine(t *testing.T) {
	root := worldTempDir(t)
	src := filepath.Join(root, "app")
	mustWrite(t, filepath.Join(src, "big.bin"), strings.Repeat("x", 2<<20), 0o644)
	mustWrite(t, filepath.Join(src, "small.txt"), "small", 0o644)

	t.Run("file too large (RLIMIT_FSIZE)", func(t *testing.T) {
		dst, ctl := filepath.Join(root, "vol-fsize"), filepath.Join(root, "ctl-fsize")
		cmd := exec.Command("sh", "-c", `ulimit -f 512 && exec "$0" seed --ctl "$1" "$2"`, helperBin, ctl, src+"="+dst)
		r := runHelperCmd(t, cmd, "")
		if r.code != 1 || len(lines(r.stderr)) != 1 || !strings.Contains(r.stderr, "file too large") {
			t.Fatalf("want one line about the write failure, got %+v", r)
		}
		if _, err := os.Stat(filepath.Join(ctl, "seeded-0")); !os.IsNotExist(err) {
			t.Error("a failed seed wrote its mark")
		}
	})

	t.Run("no space left on device", func(t *testing.T) {
		if os.Geteuid() != 0 {
			t.Log("not root: no tmpfs of our own to fill; the RLIMIT_FSIZE case covers the write-error path")
			return
		}
		if _, err := exec.LookPath("unshare"); err != nil {
			t.Fatal("unshare (util-linux) is needed to mount a small tmpfs in a private mount namespace")
		}
		dst, ctl := filepath.Join(root, "vol-enospc"), filepath.Join(root, "ctl-enospc")
		if err := os.Mkdir(dst, 0o777); err != nil {
			t.Fatal(err)
		}
		// A private mount namespace: the 1 MiB tmpfs disappears with the process, whatever happens.
		cmd := exec.Command("unshare", "-m", "sh", "-c",
			`mount -t tmpfs -o size=1m tmpfs "$2" && exec "$0" seed --ctl "$1" "$3=$2"`, helperBin, ctl, dst, src)
		r := runHelperCmd(t, cmd, "")
		if r.code != 1 || len(lines(r.stderr)) != 1 || !strings.Contains(r.stderr, "no space left on device") {
			t.Fatalf("want one line about the full disk, got %+v", r)
		}
	})

	t.Run("permission denied on the volume", func(t *testing.T) {
		dst, ctl := filepath.Join(root, "vol-ro"), filepath.Join(root, "ctl-ro")
		if err := os.Mkdir(dst, 0o755); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(helperBin, "seed", "--ctl", ctl, src+"="+dst)
		if os.Geteuid() == 0 {
			// Root may write anywhere: seed as another user into root's 0755 directory.
			cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65532, Gid: 65532}}
		} else {
			_ = os.Chmod(dst, 0o555)
		}
		r := runHelperCmd(t, cmd, "")
		if r.code != 1 || len(lines(r.stderr)) != 1 || !strings.Contains(r.stderr, "permission denied") {
			t.Fatalf("want one line about the permission, got %+v", r)
		}
	})

	t.Run("unreadable source files are skipped as the app user", func(t *testing.T) {
		if os.Geteuid() != 0 {
			t.Log("not root: cannot make a file this user cannot read; covered when run as root")
			return
		}
		app := filepath.Join(root, "app2")
		mustWrite(t, filepath.Join(app, "public.txt"), "pub", 0o644)
		mustWrite(t, filepath.Join(app, "root-only.txt"), "secret", 0o600)
		mustWrite(t, filepath.Join(app, "root-dir", "x"), "x", 0o600)
		_ = os.Chmod(filepath.Join(app, "root-dir"), 0o700)
		dst, ctl := filepath.Join(root, "vol-user"), filepath.Join(root, "ctl-user")
		if err := os.Mkdir(dst, 0o777); err != nil {
			t.Fatal(err)
		}
		_ = os.Chmod(dst, 0o777)
		if err := os.Mkdir(ctl, 0o777); err != nil {
			t.Fatal(err)
		}
		_ = os.Chmod(ctl, 0o777)
		cmd := exec.Command(helperBin, "seed", "--ctl", ctl, app+"="+dst)
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65532, Gid: 65532}}
		r := runHelperCmd(t, cmd, "")
		if r.code != 0 || readFile(t, filepath.Join(dst, "public.txt")) != "pub" {
			t.Fatalf("seed as the app user: %+v", r)
		}
		if _, err := os.Lstat(filepath.Join(dst, "root-only.txt")); !os.IsNotExist(err) {
			t.Error("an unreadable file was created")
		}
		if !strings.Contains(r.stderr, "root-only.txt: cannot read the file") || !strings.Contains(r.stderr, "root-dir: cannot read the directory") {
			t.Errorf("notes: %q", r.stderr)
		}
		// Not the owner of the volume (the kubelet's): its mode is left, with a note, not a failure.
		if !strings.Contains(r.stderr, "cannot set the mode of "+dst) {
			t.Errorf("no note about the volume's mode: %q", r.stderr)
		}
	})
}

// TestSeedTenThousandFiles measures the seed of a typical node_modules-like tree (and checks it).
func TestSeedTenThousandFiles(t *testing.T) {
	root := t.TempDir()
	src, ctl := filepath.Join(root, "app"), filepath.Join(root, "ctl")
	rng := rand.New(rand.NewSource(7))
	var total int64
	for d := 0; d < 100; d++ {
		dir := filepath.Join(src, fmt.Sprintf("pkg-%03d", d), "lib")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for f := 0; f < 100; f++ {
			b := make([]byte, 200+rng.Intn(3000))
			rng.Read(b)
			total += int64(len(b))
			if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("f%03d.js", f)), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	dst := filepath.Join(root, "vol")
	t0 := time.Now()
	r := runHelper(t, "", "seed", "--ctl", ctl, src+"="+dst)
	elapsed := time.Since(t0)
	if r.code != 0 {
		t.Fatalf("seed: %+v", r)
	}
	t.Logf("seed of 10,000 files (%.1f MiB): %v — %s", float64(total)/(1<<20), elapsed.Round(time.Millisecond), strings.TrimSpace(r.stderr))
	var n int
	var bytesSeen int64
	err := filepath.Walk(dst, func(p string, fi os.FileInfo, err error) error {
		if err == nil && fi.Mode().IsRegular() {
			n++
			bytesSeen += fi.Size()
		}
		return err
	})
	if err != nil || n != 10000 || bytesSeen != total {
		t.Fatalf("copied %d files / %d bytes, want 10000 / %d (%v)", n, bytesSeen, total, err)
	}
	// Spot-check content.
	p := filepath.Join("pkg-042", "lib", "f017.js")
	if !bytes.Equal([]byte(readFile(t, filepath.Join(src, p))), []byte(readFile(t, filepath.Join(dst, p)))) {
		t.Error("content differs")
	}
	// Generous: on an idle 2-core machine it takes well under a second; this only catches a
	// pathological regression (one fsync per file, say) on a busy CI machine.
	if elapsed > 20*time.Second {
		t.Errorf("seed took %v", elapsed)
	}
}

func TestSeedDoesNotCrossMounts(t *testing.T) {
	// What the kubelet mounts into the seed container under the sync path (a service-account token,
	// a volume) is not the image's content.
	if os.Geteuid() != 0 {
		t.Log("not root: cannot mount; this case runs as root (as `make test` does)")
		return
	}
	root := t.TempDir()
	src, dst, ctl := filepath.Join(root, "app"), filepath.Join(root, "vol"), filepath.Join(root, "ctl")
	mustWrite(t, filepath.Join(src, "own.txt"), "image", 0o644)
	if err := os.MkdirAll(filepath.Join(src, "secrets"), 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("unshare", "-m", "sh", "-c",
		`mount -t tmpfs tmpfs "$1/secrets" && echo token > "$1/secrets/token" && exec "$0" seed --ctl "$2" "$1=$3"`,
		helperBin, src, ctl, dst)
	r := runHelperCmd(t, cmd, "")
	if r.code != 0 {
		t.Fatalf("seed: %+v", r)
	}
	if readFile(t, filepath.Join(dst, "own.txt")) != "image" {
		t.Error("own.txt not seeded")
	}
	if st := lstat(t, filepath.Join(dst, "secrets")); st.Mode&syscall.S_IFMT != syscall.S_IFDIR {
		t.Error("the mount point is not kept as a directory")
	}
	if _, err := os.Lstat(filepath.Join(dst, "secrets", "token")); !os.IsNotExist(err) {
		t.Error("the content of a mount was seeded")
	}
	if !strings.Contains(r.stderr, "another file system is mounted here") {
		t.Errorf("no note: %q", r.stderr)
	}
}

func TestSeedMarkNamedAfterVolumeIndex(t *testing.T) {
	if got := markName("/.dsa/sync/3", 0); got != "3" {
		t.Errorf("markName(/.dsa/sync/3, 0) = %q, want 3", got)
	}
	if got := markName("/tmp/dst", 2); got != "2" {
		t.Errorf("markName(/tmp/dst, 2) = %q, want 2", got)
	}
}
