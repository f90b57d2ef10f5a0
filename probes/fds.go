package probes

import (
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
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
	entries = make([]FDEntry, 0, len(names))
	buf := make([]byte, 4096)
	for _, name := range names {
		fd, err := strconv.Atoi(name)
		if err != nil {
			continue
		}
		n, err := unix.Readlinkat(dfd, name, buf)
		if err != nil {
			if err == unix.ENOENT || err == unix.ESRCH {
				vanished++
				continue
			}
			return nil, vanished, fmt.Errorf("readlink %s/%s: %w", dir, name, err)
		}
		target := string(buf[:n])
		typ, ino := ClassifyLink(target)
		e := FDEntry{FD: fd, Target: target, Type: typ, Inode: ino}
		if typ == "path" {
			var st unix.Stat_t
			if err := unix.Fstatat(dfd, name, &st, 0); err != nil {
				if err == unix.ENOENT && !p.isRealProc() {
					// A fake tree's link points nowhere: judge by the text.
					e.Type = "file"
					e.Deleted = strings.HasSuffix(target, " (deleted)")
				} else if err == unix.ENOENT {
					vanished++
					continue
				} else {
					e.Type = "unknown"
				}
			} else {
				e.Type = modeType(st.Mode)
				if e.Type == "file" {
					size := st.Size
					e.Size = &size
				}
				e.Deleted = st.Nlink == 0 && strings.HasSuffix(target, " (deleted)")
			}
		}
		entries = append(entries, e)
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].FD < entries[j].FD })
	return entries, vanished, nil
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
