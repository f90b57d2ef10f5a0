package probes

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"

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

// bracketInode returns N of target "<prefix>N]" ("socket:[N]", "pipe:[N]").
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
//
// The directory is listed in batches (getdents64, about a thousand names a call) and each
// batch is handed to the readers as soon as it is listed, so the links are read while the
// rest of a large table is still being listed; a table of more than one batch is read by
// up to maxFDWorkers goroutines.
func (p FS) ReadFDs(pid int) (entries []FDEntry, vanished int, err error) {
	dir := p.PidPath(pid, "fd")
	d, err := os.Open(dir)
	if err != nil {
		return nil, 0, fmt.Errorf("open fd table: %w", err)
	}
	defer d.Close()
	dfd := int(d.Fd())
	real := p.isRealProc()

	var (
		batches []*fdBatch
		jobs    chan *fdBatch
		wg      sync.WaitGroup
	)
	startReaders := func() {
		jobs = make(chan *fdBatch, 64)
		for w := 0; w < min(runtime.GOMAXPROCS(0), maxFDWorkers); w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				buf := make([]byte, 4096)
				for b := range jobs {
					b.read(dfd, dir, buf, real)
				}
			}()
		}
	}
	list := make([]byte, fdListBuffer)
	for {
		names, err := readDirNames(dfd, list)
		if err != nil {
			if jobs != nil {
				close(jobs)
				wg.Wait()
			}
			return nil, 0, fmt.Errorf("list %s: %w", dir, err)
		}
		if len(names) == 0 {
			break
		}
		b := &fdBatch{names: names}
		batches = append(batches, b)
		if len(batches) == 2 && jobs == nil {
			// More than one batch: a large table, read in parallel from here on.
			startReaders()
			jobs <- batches[0]
		}
		if jobs != nil {
			jobs <- b
		}
	}
	if jobs != nil {
		close(jobs)
		wg.Wait()
	} else if len(batches) == 1 {
		batches[0].read(dfd, dir, make([]byte, 4096), real)
	}
	for _, b := range batches {
		if b.err != nil {
			return nil, vanished, b.err
		}
		vanished += b.vanished
		entries = append(entries, b.entries...)
	}
	if !sort.SliceIsSorted(entries, func(i, j int) bool { return entries[i].FD < entries[j].FD }) {
		sort.Slice(entries, func(i, j int) bool { return entries[i].FD < entries[j].FD })
	}
	return entries, vanished, nil
}

// fdListBuffer is the getdents64 buffer: 32 KiB holds about a thousand fd names.
const fdListBuffer = 32 << 10

// fdBatch is a batch of fd names and what reading their links gave.
type fdBatch struct {
	names    []string
	entries  []FDEntry
	vanished int
	err      error
}

// read reads the links of the batch.
func (b *fdBatch) read(dfd int, dir string, buf []byte, real bool) {
	b.entries = make([]FDEntry, 0, len(b.names))
	for _, name := range b.names {
		e, status, err := readFDEntry(dfd, dir, name, buf, real)
		switch {
		case err != nil:
			b.err = err
			return
		case status == 0:
			b.entries = append(b.entries, e)
		case status == 1:
			b.vanished++
		}
	}
}

// readDirNames reads the next names of the open directory dfd with one getdents64 call
// (struct linux_dirent64: ino, off, reclen, type, name), skipping "." and "..". An empty
// result is the end of the directory.
func readDirNames(dfd int, buf []byte) ([]string, error) {
	for {
		n, err := unix.Getdents(dfd, buf)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, err
		}
		if n <= 0 {
			return nil, nil
		}
		var names []string
		for off := 0; off+19 <= n; {
			reclen := int(binary.NativeEndian.Uint16(buf[off+16 : off+18]))
			if reclen == 0 || off+reclen > n {
				break
			}
			name := buf[off+19 : off+reclen]
			if i := bytes.IndexByte(name, 0); i >= 0 {
				name = name[:i]
			}
			off += reclen
			if len(name) == 0 || (name[0] == '.' && (len(name) == 1 || (len(name) == 2 && name[1] == '.'))) {
				continue
			}
			names = append(names, string(name))
		}
		if len(names) > 0 {
			return names, nil
		}
	}
}

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
