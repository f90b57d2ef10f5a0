package probes

import (
	"bytes"
	"fmt"
	"os"
	"runtime"
	"strconv"
)

// EpollWatch is one fd an epoll instance watches: a "tfd:" line of
// /proc/<pid>/fdinfo/<epoll fd> (fs/eventpoll.c ep_show_fdinfo):
//
//	tfd:       23 events:       19 data:               17  pos:0 ino:64f9 sdev:9
//
// FD is the fd number the file had when it was added (epoll_ctl); Inode is the watched
// file's inode (hex in the file), which for a socket is the N of its "socket:[N]" link, so
// it joins the socket tables without trusting the fd number.
type EpollWatch struct {
	FD    int
	Inode uint64
}

// ParseEpollWatchList parses the fdinfo of an epoll fd into the fds it watches. The header
// lines (pos, flags, mnt_id, ino) are skipped. A "tfd:" line without a readable fd number or
// inode is skipped and counted; the others are still returned, with an error wrapping
// ErrMalformed that quotes the first bad line.
func ParseEpollWatchList(data []byte) ([]EpollWatch, error) {
	var out []EpollWatch
	bad := 0
	var firstBad []byte
	for len(data) > 0 {
		line := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			data = nil
		}
		if !bytes.HasPrefix(line, []byte("tfd:")) {
			continue
		}
		w, ok := parseEpollWatchLine(line)
		if !ok {
			if bad == 0 {
				firstBad = line
			}
			bad++
			continue
		}
		out = append(out, w)
	}
	if bad > 0 {
		return out, fmt.Errorf("epoll fdinfo: %d malformed tfd lines, first %q: %w", bad, quote(firstBad), ErrMalformed)
	}
	return out, nil
}

// parseEpollWatchLine reads the fd after "tfd:" and the hex inode after "ino:".
func parseEpollWatchLine(line []byte) (EpollWatch, bool) {
	f := bytes.Fields(line)
	if len(f) < 2 || string(f[0]) != "tfd:" {
		return EpollWatch{}, false
	}
	fd, err := strconv.Atoi(string(f[1]))
	if err != nil || fd < 0 {
		return EpollWatch{}, false
	}
	for _, field := range f[2:] {
		if v, ok := bytes.CutPrefix(field, []byte("ino:")); ok {
			ino, err := strconv.ParseUint(string(v), 16, 64)
			if err != nil {
				return EpollWatch{}, false
			}
			return EpollWatch{FD: fd, Inode: ino}, true
		}
	}
	return EpollWatch{}, false
}

// ReadEpollWatchList returns what the epoll fd epfd of pid watches. Reading another user's
// fdinfo needs ptrace access, like the fd links themselves.
func (p FS) ReadEpollWatchList(pid, epfd int) ([]EpollWatch, error) {
	path := p.PidPath(pid, "fdinfo", strconv.Itoa(epfd))
	data, err := ReadFile(path)
	if err != nil {
		return nil, err
	}
	w, err := ParseEpollWatchList(data)
	if err != nil {
		return w, fmt.Errorf("%s: %w", path, err)
	}
	return w, nil
}

// epollWaitCalls are the system calls a thread blocked on an epoll fd shows in
// /proc/<pid>/task/<tid>/syscall, whose first argument is that fd
// (arch/x86/entry/syscalls/syscall_64.tbl: epoll_wait 232, epoll_pwait 281, epoll_pwait2
// 441; include/uapi/asm-generic/unistd.h: epoll_pwait 22, epoll_pwait2 441).
var epollWaitCalls = map[string]map[int]bool{
	"amd64": {232: true, 281: true, 441: true},
	"arm64": {22: true, 441: true},
}

// ParseSyscallEpollFD returns the epoll fd a thread waits on, from its syscall file
// ("281 0xe 0x7ffe... ..."): ok is false when the thread is running or in any other call.
func ParseSyscallEpollFD(data []byte, arch string) (fd int, ok bool) {
	f := bytes.Fields(data)
	if len(f) < 2 {
		return 0, false
	}
	nr, err := strconv.Atoi(string(f[0]))
	if err != nil || !epollWaitCalls[arch][nr] {
		return 0, false
	}
	arg, ok := bytes.CutPrefix(f[1], []byte("0x"))
	if !ok {
		return 0, false
	}
	v, err := strconv.ParseUint(string(arg), 16, 64)
	if err != nil || v > 1<<31-1 {
		return 0, false
	}
	return int(v), true
}

// EpollWaiters maps each epoll fd some thread of pid is blocked on right now to the ids of
// those threads (one read of task/<tid>/syscall per thread; needs ptrace access). Threads
// that are running or in another call are left out.
func (p FS) EpollWaiters(pid int) (map[int][]int, error) {
	dir := p.PidPath(pid, "task")
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	out := map[int][]int{}
	var firstErr error
	for _, e := range entries {
		tid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		data, err := ReadFile(p.PidPath(pid, "task", e.Name(), "syscall"))
		if err != nil {
			if firstErr == nil && !IsGone(err) {
				firstErr = err
			}
			continue
		}
		if fd, ok := ParseSyscallEpollFD(data, runtime.GOARCH); ok {
			out[fd] = append(out[fd], tid)
		}
	}
	if len(out) == 0 && firstErr != nil {
		return nil, firstErr
	}
	return out, nil
}
