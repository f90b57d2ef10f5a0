package probes

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// EpollTarget is one fd an epoll instance watches: a "tfd:" line of
// /proc/<pid>/fdinfo/<epoll fd> (fs/eventpoll.c, ep_show_fdinfo).
type EpollTarget struct {
	// FD is the watched fd number in the owner's fd table (as it was when added).
	FD int
	// Events is the event mask (hex in the file).
	Events uint32
	// Inode is the watched file's inode (hex in the file), which an fd link names as
	// socket:[N] or pipe:[N].
	Inode uint64
}

// ParseEpollFdinfo parses the fdinfo of an epoll fd and returns the fds it watches. A
// file without any "tfd:" line is an epoll instance that watches nothing (for libuv: a loop
// that was never run). A "tfd:" line that cannot be read is an error; other lines (pos,
// flags, mnt_id, ino) are skipped.
//
// A line looks like:
//
//	tfd:       19 events:       19 data:               13  pos:0 ino:5ad1 sdev:9
func ParseEpollFdinfo(data []byte) ([]EpollTarget, error) {
	var out []EpollTarget
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "tfd:") {
			continue
		}
		t, err := parseEpollTarget(line)
		if err != nil {
			return out, err
		}
		out = append(out, t)
	}
	if err := sc.Err(); err != nil {
		return out, fmt.Errorf("epoll fdinfo: %w", err)
	}
	return out, nil
}

// parseEpollTarget reads one "tfd:" line: "key: value" pairs whose values may be
// separated from their keys by spaces.
func parseEpollTarget(line string) (EpollTarget, error) {
	var t EpollTarget
	bad := func(what string) (EpollTarget, error) {
		return EpollTarget{}, fmt.Errorf("epoll fdinfo line %q: %s: %w", quote([]byte(line)), what, ErrMalformed)
	}
	f := strings.Fields(line)
	seen := map[string]bool{}
	for i := 0; i < len(f); i++ {
		key, val, ok := strings.Cut(f[i], ":")
		if !ok {
			return bad("token without a key")
		}
		if val == "" {
			if i+1 >= len(f) {
				return bad("key " + key + " without a value")
			}
			i++
			val = f[i]
		}
		var err error
		switch key {
		case "tfd":
			var n int
			n, err = strconv.Atoi(val)
			if err == nil && n < 0 {
				err = fmt.Errorf("negative")
			}
			t.FD = n
		case "events":
			var v uint64
			v, err = strconv.ParseUint(val, 16, 32)
			t.Events = uint32(v)
		case "ino":
			t.Inode, err = strconv.ParseUint(val, 16, 64)
		}
		if err != nil {
			return bad(key)
		}
		seen[key] = true
	}
	if !seen["tfd"] {
		return bad("no tfd")
	}
	return t, nil
}

// ReadEpollTargets reads /proc/<pid>/fdinfo/<fd> of an epoll fd.
func (p FS) ReadEpollTargets(pid, fd int) ([]EpollTarget, error) {
	path := p.PidPath(pid, "fdinfo", strconv.Itoa(fd))
	data, err := ReadFile(path)
	if err != nil {
		return nil, err
	}
	t, err := ParseEpollFdinfo(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return t, nil
}

// ReadFDLink reads the link /proc/<pid>/fd/<fd> (what one fd refers to), without
// listing the whole fd table.
func (p FS) ReadFDLink(pid, fd int) (string, error) {
	return os.Readlink(p.PidPath(pid, "fd", strconv.Itoa(fd)))
}
