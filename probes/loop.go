package probes

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// SyscallSample is /proc/<pid>/task/<tid>/syscall: the system call the thread is blocked
// in, or Running.
type SyscallSample struct {
	// Running is true when the file says "running" (the thread is on a CPU).
	Running bool
	// Nr is the system call number, -1 when blocked outside a system call.
	Nr int
}

// ParseSyscall parses the syscall file.
func ParseSyscall(data []byte) (SyscallSample, error) {
	c, err := ParseSyscallCall(data)
	return c.SyscallSample, err
}

// SyscallCall is SyscallSample with the call's arguments.
type SyscallCall struct {
	SyscallSample
	// Args are the six arguments of the call (hex in the file); nil when running or
	// blocked outside a system call. For epoll_wait, Args[0] is the epoll fd.
	Args []uint64
}

// Same reports whether two reads show the same call with the same arguments (or both
// show the thread running).
func (c SyscallCall) Same(o SyscallCall) bool {
	if c.Running != o.Running || c.Nr != o.Nr || len(c.Args) != len(o.Args) {
		return false
	}
	for i := range c.Args {
		if c.Args[i] != o.Args[i] {
			return false
		}
	}
	return true
}

// ParseSyscallCall parses the syscall file with the arguments of the call: "nr a0 a1 a2
// a3 a4 a5 sp pc", "-1 sp pc" (blocked outside a system call) or "running"
// (fs/proc/base.c, proc_pid_syscall).
func ParseSyscallCall(data []byte) (SyscallCall, error) {
	f := bytes.Fields(data)
	if len(f) == 0 {
		return SyscallCall{}, fmt.Errorf("syscall %q: empty: %w", quote(data), ErrMalformed)
	}
	if string(f[0]) == "running" {
		return SyscallCall{SyscallSample: SyscallSample{Running: true, Nr: -1}}, nil
	}
	nr, err := strconv.Atoi(string(f[0]))
	if err != nil || nr < -1 || nr > 1<<16 {
		return SyscallCall{}, fmt.Errorf("syscall %q: %w", quote(data), ErrMalformed)
	}
	c := SyscallCall{SyscallSample: SyscallSample{Nr: nr}}
	if nr >= 0 && len(f) >= 7 {
		c.Args = make([]uint64, 6)
		for i := range c.Args {
			v, err := strconv.ParseUint(strings.TrimPrefix(string(f[i+1]), "0x"), 16, 64)
			if err != nil {
				return SyscallCall{}, fmt.Errorf("syscall %q: argument %d: %w", quote(data), i, ErrMalformed)
			}
			c.Args[i] = v
		}
	}
	return c, nil
}

// syscallNames maps system call numbers of this architecture to the categories of the
// loop sampler (arch/x86/entry/syscalls/syscall_64.tbl, include/uapi/asm-generic/unistd.h).
var syscallNames = map[string]map[int]string{
	"amd64": {232: "epoll", 281: "epoll", 441: "epoll", 202: "futex", 0: "read", 1: "write", 17: "pread", 18: "pwrite",
		7: "poll", 23: "select", 270: "select", 271: "poll", 35: "nanosleep", 230: "nanosleep", 61: "wait", 247: "wait",
		43: "accept", 288: "accept", 42: "connect", 45: "recv", 44: "send", 74: "fsync", 75: "fsync", 2: "open", 257: "open"},
	"arm64": {22: "epoll", 441: "epoll", 98: "futex", 63: "read", 64: "write", 67: "pread", 68: "pwrite",
		73: "poll", 72: "select", 101: "nanosleep", 115: "nanosleep", 260: "wait", 95: "wait", 202: "accept", 242: "accept",
		203: "connect", 207: "recv", 206: "send", 82: "fsync", 83: "fsync", 56: "open"},
}

// wchanNames maps kernel functions seen in wchan to categories.
var wchanNames = map[string]string{
	"do_epoll_wait": "epoll", "ep_poll": "epoll", "futex_wait_queue": "futex", "futex_do_wait": "futex",
	"futex_wait_queue_me": "futex", "do_wait": "wait", "pipe_read": "read", "pipe_write": "write",
	"do_sys_poll": "poll", "do_select": "select", "hrtimer_nanosleep": "nanosleep", "do_nanosleep": "nanosleep",
}

// LoopSamples is what sampling the main thread saw.
type LoopSamples struct {
	// Samples is the number of reads; Counts counts them by category: epoll, running,
	// futex, read, ..., "syscall:N", "sleeping:<wchan>", stopped, disk, zombie, dead.
	Samples int
	Counts  map[string]int
	// Source is "syscall" when the syscall file was readable, "wchan" otherwise.
	Source string
	// SyscallDenied is true when the syscall file could not be read for lack of privilege
	// (it needs ptrace access: another user's process); wchan then reads "0" on this
	// kernel, so nothing tells an idle loop from a blocked one.
	SyscallDenied bool
	// CPUTicks is the main thread's utime+stime over the window (clock ticks).
	CPUTicks uint64
	// Elapsed is the wall time from the first to the last read.
	Elapsed time.Duration
	// Start and End are the main thread's progress counters at the first and the last
	// read of the window.
	Start, End TaskCounters
	// CountersDenied is true when task io was refused for lack of privilege.
	CountersDenied bool
	// ProgressSteps counts the intervals between two reads (from the start of the window
	// to its end) in which the main thread completed read/write system calls (task io
	// syscr+syscw grew): a loop that turns does so again and again, while a stray write of
	// a stuck thread moves the counters once.
	ProgressSteps int
	// EpollWaits counts the samples that found the main thread in epoll_wait, by the
	// epoll fd it waited on (the first argument of the call).
	EpollWaits map[int]int
	// Calls counts the distinct calls seen (number and arguments; "running" is one), and
	// First is the first of them.
	Calls int
	First *SyscallCall
	// OtherEpoll holds the epoll fds other threads of the process were seen waiting on
	// (read at the start, every tenth sample and the end of the window): another thread's
	// loop.
	OtherEpoll map[int]bool
}

// Turning reports whether the main thread was seen waiting in epoll at least once.
func (s LoopSamples) Turning() bool { return s.Counts["epoll"] > 0 }

// SampleMainThread reads the main thread (tid = pid) every interval for window: its state
// and CPU time (task stat), its system call with its arguments (or wchan), and at the
// start and the end its progress counters (task io, status, schedstat). It sends no
// signal and changes nothing. It stops early when ctx ends or the process exits (then the
// error satisfies IsGone).
func (p FS) SampleMainThread(ctx context.Context, pid int, window, every time.Duration) (LoopSamples, error) {
	return p.SampleThread(ctx, pid, pid, window, every)
}

// SampleThread is SampleMainThread for thread tid of pid (a worker thread).
func (p FS) SampleThread(ctx context.Context, pid, thread int, window, every time.Duration) (LoopSamples, error) {
	res := LoopSamples{Counts: map[string]int{}, Source: "syscall", EpollWaits: map[int]int{}, OtherEpoll: map[int]bool{}}
	tid := strconv.Itoa(thread)
	syscallPath := p.PidPath(pid, "task", tid, "syscall")
	wchanPath := p.PidPath(pid, "task", tid, "wchan")
	names := syscallNames[runtime.GOARCH]
	useSyscall := true
	var calls []SyscallCall
	start := time.Now()
	var last time.Time
	var st Stat
	tick := time.NewTicker(every)
	defer tick.Stop()
	var err error
	res.Start, st, res.CountersDenied, err = p.ReadTaskCounters(pid, thread)
	if err != nil {
		return res, err
	}
	p.otherThreadEpolls(pid, res.OtherEpoll)
	ioPath := p.PidPath(pid, "task", tid, "io")
	lastCalls, counting := ioCalls(res.Start)
	step := func(calls uint64) {
		if calls > lastCalls {
			res.ProgressSteps++
		}
		lastCalls = calls
	}
	finish := func() {
		res.Elapsed = last.Sub(start)
		if end, _, _, err := p.ReadTaskCounters(pid, thread); err == nil {
			res.End = end
			res.Elapsed = time.Since(start)
			if calls, ok := ioCalls(end); ok && counting {
				step(calls)
			}
		} else {
			res.End = res.Start
			res.End.CPUTicks = st.UTime + st.STime
		}
		res.CPUTicks = res.End.CPUTicks - min(res.Start.CPUTicks, res.End.CPUTicks)
		p.otherThreadEpolls(pid, res.OtherEpoll)
		res.Calls = len(calls)
		if len(calls) > 0 {
			res.First = &calls[0]
		}
	}
	for {
		if res.Samples > 0 {
			if st, err = p.ReadTaskStat(pid, thread); err != nil {
				finish()
				return res, err
			}
		}
		if counting && res.Samples > 0 {
			if data, err := ReadFile(ioPath); err == nil {
				if r, w, err := ParseTaskIO(data); err == nil {
					step(r + w)
				}
			}
		}
		now := time.Now()
		last = now
		res.Samples++
		cat, call := p.classify(st.State, useSyscall, syscallPath, wchanPath, names, &useSyscall, &res)
		res.Counts[cat]++
		if call != nil {
			if cat == "epoll" && len(call.Args) > 0 {
				res.EpollWaits[int(call.Args[0])]++
			}
			seen := false
			for _, c := range calls {
				if c.Same(*call) {
					seen = true
					break
				}
			}
			if !seen && len(calls) < 64 {
				calls = append(calls, *call)
			}
		}
		if st.Exited() || now.Sub(start) >= window {
			break
		}
		if res.Samples%10 == 0 {
			// Another thread's loop is seen idle in epoll_wait nearly always; reading
			// them every tenth sample makes one that was busy at one read still count.
			p.otherThreadEpolls(pid, res.OtherEpoll)
		}
		select {
		case <-ctx.Done():
			finish()
			return res, ctx.Err()
		case <-tick.C:
		}
	}
	finish()
	return res, nil
}

// otherThreadEpolls adds the epoll fds the threads of pid other than the main thread are
// waiting on right now. Threads that cannot be read are skipped.
func (p FS) otherThreadEpolls(pid int, into map[int]bool) {
	entries, err := os.ReadDir(p.PidPath(pid, "task"))
	if err != nil {
		return
	}
	names := syscallNames[runtime.GOARCH]
	for _, e := range entries {
		tid, err := strconv.Atoi(e.Name())
		if err != nil || tid == pid {
			continue
		}
		data, err := ReadFile(p.PidPath(pid, "task", e.Name(), "syscall"))
		if err != nil {
			continue
		}
		c, err := ParseSyscallCall(data)
		if err == nil && !c.Running && names[c.Nr] == "epoll" && len(c.Args) > 0 {
			into[int(c.Args[0])] = true
		}
	}
}

// classify names what one read of the main thread shows, with the call it was in when
// the syscall file was readable.
func (p FS) classify(state string, useSyscall bool, syscallPath, wchanPath string, names map[int]string, keep *bool, res *LoopSamples) (string, *SyscallCall) {
	switch state {
	case "Z":
		return "zombie", nil
	case "X":
		return "dead", nil
	case "T", "t":
		return "stopped", nil
	}
	if useSyscall {
		data, err := ReadFile(syscallPath)
		if err == nil {
			if sc, err := ParseSyscallCall(data); err == nil {
				switch {
				case sc.Running:
					return "running", &sc
				case sc.Nr >= 0:
					if n, ok := names[sc.Nr]; ok {
						return n, &sc
					}
					return "syscall:" + strconv.Itoa(sc.Nr), &sc
				}
			}
		} else {
			*keep = false
			res.Source = "wchan"
			res.SyscallDenied = IsDenied(err)
		}
	}
	if state == "R" {
		return "running", nil
	}
	if state == "D" {
		return "disk", nil
	}
	data, err := ReadFile(wchanPath)
	w := strings.TrimSpace(string(data))
	if err != nil || w == "" || w == "0" {
		return "sleeping", nil
	}
	if n, ok := wchanNames[w]; ok {
		return n, nil
	}
	return "sleeping:" + w, nil
}

// ioCalls is syscr+syscw of c, and whether both were read.
func ioCalls(c TaskCounters) (uint64, bool) {
	if c.SysCR == nil || c.SysCW == nil {
		return 0, false
	}
	return *c.SysCR + *c.SysCW, true
}
