package probes

import (
	"fmt"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"golang.org/x/sys/unix"
)

// FDEntry is one fd of /proc/<pid>/fd.
type FDEntry struct {
	FD int
	// Target is the raw link text (bytes as the kernel gave them).
	Target string
	// Type is a contract fd type; sockets are "socket" until joined with a net table.
	Type string
	// Inode is the inode of socket:[N], pipe:[N] targets.
	Inode uint64
	// Deleted is true when the link ends in " (deleted)" and the file has no links left.
	Deleted bool
	// Size is the size of a regular file in bytes.
	Size *int64
}

// anonTypes maps anon_inode names to contract types.
var anonTypes = map[string]string{
	"[eventfd]": "eventfd", "[eventpoll]": "epoll", "[timerfd]": "timerfd", "[signalfd]": "signalfd", "inotify": "inotify",
}

// ClassifyLink types an fd link from its text alone; path targets get "path" (their type
// needs a stat).
func ClassifyLink(target string) (typ string, inode uint64) {
	switch {
	case strings.HasPrefix(target, "socket:["):
		ino, _ := bracketInode(target, "socket:[")
		return "socket", ino
	case strings.HasPrefix(target, "pipe:["):
		ino, _ := bracketInode(target, "pipe:[")
		return "pipe", ino
	case strings.HasPrefix(target, "anon_inode:"):
		if t, ok := anonTypes[strings.TrimPrefix(target, "anon_inode:")]; ok {
			return t, 0
		}
		return "anon_inode", 0
	case strings.HasPrefix(target, "/"):
		return "path", 0
	}
	return "unknown", 0
}

// SocketInode returns N of "socket:[N]".
func SocketInode(target string) (uint64, bool) { return bracketInode(target, "socket:[") }

func bracketInode(target, prefix string) (uint64, bool) {
	rest, ok := strings.CutPrefix(target, prefix)
	if !ok || !strings.HasSuffix(rest, "]") {
		return 0, false
	}
	v, err := strconv.ParseUint(rest[:len(rest)-1], 10, 64)
	return v, err == nil
}

// ReadFDs reads the fd table of pid: one readlink per fd, and a stat through the fd only
// for path targets (file type, size, deleted). fds that close during the scan are skipped
// and counted in vanished.
func (p FS) ReadFDs(pid int) (entries []FDEntry, vanished int, err error) {
	dir := p.PidPath(pid, "fd")
	d, err := os.Open(dir)
	if err != nil {
		return nil, 0, fmt.Errorf("open fd table: %w", err)
	}
	defer d.Close()
	names, err := d.Readdirnames(-1)
	if err != nil {
		return nil, 0, fmt.Errorf("list %s: %w", dir, err)
	}
	dfd := int(d.Fd())
	real := p.isRealProc()
	results := make([]FDEntry, len(names))
	status := make([]uint8, len(names)) // 0 kept, 1 vanished, 2 skipped
	errs := make([]error, len(names))
	workers := 1
	if len(names) >= parallelFDThreshold {
		workers = min(runtime.GOMAXPROCS(0), maxFDWorkers)
	}
	var wg sync.WaitGroup
	chunk := (len(names) + workers - 1) / workers
	for w := 0; w < workers; w++ {
		lo, hi := w*chunk, min((w+1)*chunk, len(names))
		if lo >= hi {
			break
		}
		wg.Add(1)
		go func(lo, hi int) {
			defer wg.Done()
			buf := make([]byte, 4096)
			for i := lo; i < hi; i++ {
				results[i], status[i], errs[i] = readFDEntry(dfd, dir, names[i], buf, real)
			}
		}(lo, hi)
	}
	wg.Wait()
	entries = results[:0]
	for i := range results {
		if errs[i] != nil {
			return nil, vanished, errs[i]
		}
		switch status[i] {
		case 0:
			entries = append(entries, results[i])
		case 1:
			vanished++
		}
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].FD < entries[j].FD })
	return entries, vanished, nil
}

// parallelFDThreshold is the table size from which links are read by several goroutines:
// each readlink is a system call of a few microseconds, so large tables gain from the second
// core while small ones would only pay for the goroutines.
const parallelFDThreshold = 4096

// maxFDWorkers bounds the goroutines reading one table (the target's fd table is shared
// kernel state: more readers than cores only contend).
const maxFDWorkers = 4

// readFDEntry reads one fd link (and stats path targets). status is 0 for an entry, 1 for
// an fd that closed during the scan, 2 for a name that is not an fd.
func readFDEntry(dfd int, dir, name string, buf []byte, real bool) (FDEntry, uint8, error) {
	fd, err := strconv.Atoi(name)
	if err != nil {
		return FDEntry{}, 2, nil
	}
	n, err := unix.Readlinkat(dfd, name, buf)
	if err != nil {
		if err == unix.ENOENT || err == unix.ESRCH {
			return FDEntry{}, 1, nil
		}
		return FDEntry{}, 0, fmt.Errorf("readlink %s/%s: %w", dir, name, err)
	}
	target := string(buf[:n])
	typ, ino := ClassifyLink(target)
	e := FDEntry{FD: fd, Target: target, Type: typ, Inode: ino}
	if typ != "path" {
		return e, 0, nil
	}
	var st unix.Stat_t
	if err := unix.Fstatat(dfd, name, &st, 0); err != nil {
		switch {
		case err == unix.ENOENT && !real:
			// A fake tree's link points nowhere: judge by the text.
			e.Type = "file"
			e.Deleted = strings.HasSuffix(target, " (deleted)")
		case err == unix.ENOENT:
			return FDEntry{}, 1, nil
		default:
			e.Type = "unknown"
		}
		return e, 0, nil
	}
	e.Type = modeType(st.Mode)
	if e.Type == "file" {
		size := st.Size
		e.Size = &size
	}
	e.Deleted = st.Nlink == 0 && strings.HasSuffix(target, " (deleted)")
	return e, 0, nil
}

// isRealProc reports whether the root is a procfs mount (statfs magic).
func (p FS) isRealProc() bool {
	var st unix.Statfs_t
	return unix.Statfs(p.Root, &st) == nil && st.Type == unix.PROC_SUPER_MAGIC
}

func modeType(mode uint32) string {
	switch mode & unix.S_IFMT {
	case unix.S_IFREG:
		return "file"
	case unix.S_IFDIR:
		return "dir"
	case unix.S_IFCHR:
		return "char"
	case unix.S_IFBLK:
		return "block"
	case unix.S_IFIFO:
		return "fifo"
	case unix.S_IFSOCK:
		return "socket"
	}
	return "unknown"
}

// PrintableTarget escapes bytes that are not valid UTF-8 as \xNN and control characters
// as \n, \t or \xNN, so a hostile file name prints on one line.
func PrintableTarget(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		case r == '\\':
			b.WriteString(`\\`)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}
