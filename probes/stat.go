package probes

import (
	"bytes"
	"fmt"
	"strconv"
)

// Stat is /proc/<pid>/stat (or task/<tid>/stat), see proc(5).
type Stat struct {
	PID        int
	Comm       string
	State      string
	PPID       int
	PGID       int
	SID        int
	TTY        int
	Flags      uint64
	UTime      uint64
	STime      uint64
	NumThreads int
	StartTicks uint64
	VSize      uint64
	RSSPages   int64
}

// ParseStat parses a stat line. comm is taken between the first '(' and the last ')'.
func ParseStat(data []byte) (Stat, error) {
	var s Stat
	open := bytes.IndexByte(data, '(')
	closeIdx := bytes.LastIndexByte(data, ')')
	if open < 1 || closeIdx < open {
		return s, fmt.Errorf("stat %q: no (comm): %w", quote(data), ErrMalformed)
	}
	pid, err := strconv.Atoi(string(bytes.TrimSpace(data[:open])))
	if err != nil {
		return s, fmt.Errorf("stat %q: pid: %w", quote(data), ErrMalformed)
	}
	s.PID = pid
	s.Comm = string(data[open+1 : closeIdx])
	f := bytes.Fields(data[closeIdx+1:])
	// f[0] is field 3 (state); field n is f[n-3].
	if len(f) < 22 {
		return s, fmt.Errorf("stat %q: %d fields after comm, want at least 22: %w", quote(data), len(f), ErrMalformed)
	}
	s.State = string(f[0])
	ints := []struct {
		dst *int
		i   int
	}{{&s.PPID, 1}, {&s.PGID, 2}, {&s.SID, 3}, {&s.TTY, 4}, {&s.NumThreads, 17}}
	for _, x := range ints {
		v, err := strconv.Atoi(string(f[x.i]))
		if err != nil {
			return s, fmt.Errorf("stat %q: field %d: %w", quote(data), x.i+3, ErrMalformed)
		}
		*x.dst = v
	}
	uints := []struct {
		dst *uint64
		i   int
	}{{&s.Flags, 6}, {&s.UTime, 11}, {&s.STime, 12}, {&s.StartTicks, 19}, {&s.VSize, 20}}
	for _, x := range uints {
		v, err := strconv.ParseUint(string(f[x.i]), 10, 64)
		if err != nil {
			return s, fmt.Errorf("stat %q: field %d: %w", quote(data), x.i+3, ErrMalformed)
		}
		*x.dst = v
	}
	rss, err := strconv.ParseInt(string(f[21]), 10, 64)
	if err != nil {
		return s, fmt.Errorf("stat %q: field 24: %w", quote(data), ErrMalformed)
	}
	s.RSSPages = rss
	return s, nil
}

func quote(b []byte) string {
	if len(b) > 80 {
		return string(b[:80]) + "..."
	}
	return string(b)
}

// ReadStat reads /proc/<pid>/stat.
func (p FS) ReadStat(pid int) (Stat, error) {
	data, err := ReadFile(p.PidPath(pid, "stat"))
	if err != nil {
		return Stat{}, err
	}
	return ParseStat(data)
}

// ReadTaskStat reads /proc/<pid>/task/<tid>/stat.
func (p FS) ReadTaskStat(pid, tid int) (Stat, error) {
	data, err := ReadFile(p.PidPath(pid, "task", strconv.Itoa(tid), "stat"))
	if err != nil {
		return Stat{}, err
	}
	return ParseStat(data)
}

// pfExiting is PF_EXITING in stat's flags field (include/linux/sched.h): set by
// exit_signals() as do_exit() begins, before the process closes its files (its sockets go
// then) and long before it becomes a zombie (freeing a large address space takes ms).
const pfExiting = 0x4

// Exited reports whether a stat row shows a process that has exited or is exiting: a
// zombie (Z, waiting for its parent to reap it), dead (X), or inside do_exit() (PF_EXITING:
// its sockets may already be closed while its state still reads R). It is the one
// definition of "the process is gone" for a process whose stat can still be read; a stat
// that cannot be read is IsGone.
func (s Stat) Exited() bool { return s.State == "Z" || s.State == "X" || s.Flags&pfExiting != 0 }

// pfKthread is PF_KTHREAD in stat's flags field (include/linux/sched.h).
const pfKthread = 0x00200000

// IsKernelThread reports whether a stat row is a kernel thread: kthreadd (pid 2), one of
// its children, or PF_KTHREAD in the flags. The one definition; ps skips these and the
// orphan rule never flags them.
func (s Stat) IsKernelThread() bool { return s.PID == 2 || s.PPID == 2 || s.Flags&pfKthread != 0 }
