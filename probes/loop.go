package probes

import (
	"bytes"
	"context"
	"fmt"
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
	f := bytes.Fields(data)
	if len(f) == 0 {
		return SyscallSample{}, fmt.Errorf("syscall %q: empty: %w", quote(data), ErrMalformed)
	}
	if string(f[0]) == "running" {
		return SyscallSample{Running: true, Nr: -1}, nil
	}
	nr, err := strconv.Atoi(string(f[0]))
	if err != nil || nr < -1 || nr > 1<<16 {
		return SyscallSample{}, fmt.Errorf("syscall %q: %w", quote(data), ErrMalformed)
	}
	return SyscallSample{Nr: nr}, nil
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
	// CPUTicks is the main thread's utime+stime over the window (clock ticks).
	CPUTicks uint64
	// Elapsed is the wall time from the first to the last read.
	Elapsed time.Duration
}

// Turning reports whether the main thread was seen waiting in epoll at least once.
func (s LoopSamples) Turning() bool { return s.Counts["epoll"] > 0 }

// SampleMainThread reads the main thread (tid = pid) every interval for window: its state
// and CPU time (task stat), wchan and syscall. It sends no signal and changes nothing. It
// stops early when ctx ends or the process exits (then the error satisfies IsGone).
func (p FS) SampleMainThread(ctx context.Context, pid int, window, every time.Duration) (LoopSamples, error) {
	return p.SampleThread(ctx, pid, pid, window, every)
}

// SampleThread is SampleMainThread for thread tid of pid (a worker thread).
func (p FS) SampleThread(ctx context.Context, pid, thread int, window, every time.Duration) (LoopSamples, error) {
	res := LoopSamples{Counts: map[string]int{}, Source: "syscall"}
	tid := strconv.Itoa(thread)
	syscallPath := p.PidPath(pid, "task", tid, "syscall")
	wchanPath := p.PidPath(pid, "task", tid, "wchan")
	names := syscallNames[runtime.GOARCH]
	useSyscall := true
	var firstCPU, lastCPU uint64
	start := time.Now()
	var last time.Time
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		st, err := p.ReadTaskStat(pid, thread)
		if err != nil {
			return res, err
		}
		now := time.Now()
		cpu := st.UTime + st.STime
		if res.Samples == 0 {
			firstCPU = cpu
		}
		lastCPU, last = cpu, now
		res.Samples++
		res.Counts[p.classify(st.State, useSyscall, syscallPath, wchanPath, names, &useSyscall, &res)]++
		if st.Exited() {
			break
		}
		if now.Sub(start) >= window {
			break
		}
		select {
		case <-ctx.Done():
			res.CPUTicks, res.Elapsed = lastCPU-firstCPU, last.Sub(start)
			return res, ctx.Err()
		case <-tick.C:
		}
	}
	res.CPUTicks, res.Elapsed = lastCPU-firstCPU, last.Sub(start)
	return res, nil
}

// classify names what one read of the main thread shows.
func (p FS) classify(state string, useSyscall bool, syscallPath, wchanPath string, names map[int]string, keep *bool, res *LoopSamples) string {
	switch state {
	case "Z":
		return "zombie"
	case "X":
		return "dead"
	case "T", "t":
		return "stopped"
	}
	if useSyscall {
		data, err := ReadFile(syscallPath)
		if err == nil {
			if sc, err := ParseSyscall(data); err == nil {
				switch {
				case sc.Running:
					return "running"
				case sc.Nr >= 0:
					if n, ok := names[sc.Nr]; ok {
						return n
					}
					return "syscall:" + strconv.Itoa(sc.Nr)
				}
			}
		} else {
			*keep = false
			res.Source = "wchan"
		}
	}
	if state == "R" {
		return "running"
	}
	if state == "D" {
		return "disk"
	}
	data, err := ReadFile(wchanPath)
	w := strings.TrimSpace(string(data))
	if err != nil || w == "" || w == "0" {
		return "sleeping"
	}
	if n, ok := wchanNames[w]; ok {
		return n
	}
	return "sleeping:" + w
}
