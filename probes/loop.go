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
	// EpollNoChild holds the epoll fds the main thread was seen waiting on while it had no
	// child process (read right after the sample, in a shared window only): such a wait is
	// not a spawnSync's private loop, which always waits for a child.
	EpollNoChild map[int]bool
	// Now is the thread's schedstat at the last look of a settled window (RunNS, WaitNS).
	Now TaskCounters
	// SettledAt is when into the window the state reads stopped because the caller's
	// SettleFunc said more could not change its verdict; 0 when the window was sampled to
	// its end.
	SettledAt time.Duration
}

// SettleStep is a SettleFunc's answer.
type SettleStep struct {
	// Settled means that no further read of the thread's state (stat, syscall, io) can
	// change the verdict: none is made until the end of the window.
	Settled bool
	// CheckAt, with Settled, is how far into the window to read schedstat alone (into
	// LoopSamples.Now) and ask again; 0 when nothing is needed before the end. An answer
	// after that look that is not settled for good resumes sampling at the interval.
	CheckAt time.Duration
	// End, settled for good, ends the window for this thread now: its end counters are
	// read at once instead of at the end of the window (LoopSamples.Elapsed says how
	// long it was watched).
	End bool
}

// SettleFunc is asked by SampleThreadSettling after each read of the thread, with what the
// window has shown so far and how far into it the read was.
type SettleFunc func(s *LoopSamples, elapsed time.Duration) SettleStep

// SampleMainThread reads the main thread (tid = pid) every interval for window: its state
// and CPU time (task stat), its system call with its arguments (or wchan), and at the
// start and the end its progress counters (task io, status, schedstat). It sends no
// signal and changes nothing. It stops early when ctx ends or the process exits (then the
// error satisfies IsGone).
func (p FS) SampleMainThread(ctx context.Context, pid int, window, every time.Duration) (LoopSamples, error) {
	return p.SampleThreadSettling(ctx, pid, pid, window, every, nil)
}

// SampleThread is SampleMainThread for thread tid of pid (a worker thread).
func (p FS) SampleThread(ctx context.Context, pid, thread int, window, every time.Duration) (LoopSamples, error) {
	return p.SampleThreadSettling(ctx, pid, thread, window, every, nil)
}

// SampleThreadSettling is SampleThread for a window shared by many processes (ps, top,
// serve), where settle (nil: none) may end the reads of the thread's state early, once
// they cannot change the verdict; its counters are still read at the start and at the
// end of the whole window. With settle, the threads' children decide what else is read:
// the epoll fds other threads wait on (which tell a spawnSync's private loop from the
// event loop) are read only when the main thread has had a child in the window.
func (p FS) SampleThreadSettling(ctx context.Context, pid, thread int, window, every time.Duration, settle SettleFunc) (LoopSamples, error) {
	res := LoopSamples{Counts: map[string]int{}, Source: "syscall", EpollWaits: map[int]int{}, OtherEpoll: map[int]bool{}, EpollNoChild: map[int]bool{}}
	files := p.openTaskFiles(pid, thread)
	defer files.close()
	wchanPath := p.PidPath(pid, "task", strconv.Itoa(thread), "wchan")
	names := syscallNames[runtime.GOARCH]
	shared := settle != nil
	// sawChildren: the main thread had a child at some read (always true for report,
	// which reads the other threads whatever the children).
	sawChildren := !shared
	// settling: settle is still asked (not after a look at schedstat that left it open).
	settling := shared
	// endNow: the settled window ends at once (SettleStep.End).
	endNow := false
	useSyscall := true
	var calls []SyscallCall
	start := time.Now()
	var last time.Time
	var st Stat
	var err error
	res.Start, st, res.CountersDenied, err = files.counters(!shared)
	if err != nil {
		return res, err
	}
	if sawChildren {
		p.otherThreadEpolls(pid, res.OtherEpoll)
	}
	lastCalls, counting := ioCalls(res.Start)
	step := func(calls uint64) {
		if calls > lastCalls {
			res.ProgressSteps++
		}
		lastCalls = calls
	}
	// finish reads the end of the window; its error is the end read's.
	finish := func() error {
		res.Elapsed = last.Sub(start)
		end, endStat, _, endErr := files.counters(!shared)
		if endErr == nil {
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
		if !sawChildren && len(res.EpollWaits) > len(res.EpollNoChild) {
			if has, known := files.hasChildren(); has || !known {
				sawChildren = true
			}
		}
		if sawChildren {
			p.otherThreadEpolls(pid, res.OtherEpoll)
		}
		res.Calls = len(calls)
		if len(calls) > 0 {
			res.First = &calls[0]
		}
		if endErr == nil && endStat.Exited() {
			endErr = fmt.Errorf("%s: the thread exited during the window: %w", files.stat.path, errESRCH)
		}
		return endErr
	}
	// wait sleeps until d into the window (or the next tick when d is 0); false when ctx ended.
	tick := time.NewTicker(every)
	defer tick.Stop()
	wait := func(d time.Duration) bool {
		if d > 0 {
			t := time.NewTimer(time.Until(start.Add(d)))
			defer t.Stop()
			select {
			case <-ctx.Done():
				return false
			case <-t.C:
				return true
			}
		}
		select {
		case <-ctx.Done():
			return false
		case <-tick.C:
			return true
		}
	}
	for {
		if res.Samples > 0 {
			if st, err = files.readStat(); err != nil {
				finish()
				return res, err
			}
		}
		if counting && res.Samples > 0 {
			if data, err := files.io.read(); err == nil {
				if r, w, err := ParseTaskIO(data); err == nil {
					step(r + w)
				}
			}
		}
		now := time.Now()
		last = now
		res.Samples++
		cat, call := p.classify(st.State, useSyscall, files.syscall, wchanPath, names, &useSyscall, &res)
		res.Counts[cat]++
		if call != nil {
			if cat == "epoll" && len(call.Args) > 0 {
				fd := int(call.Args[0])
				res.EpollWaits[fd]++
				// Read after the sample: a spawnSync forks its child before it waits.
				if shared && !res.EpollNoChild[fd] && (res.EpollWaits[fd] == 1 || res.Samples%10 == 0) {
					switch has, known := files.hasChildren(); {
					case known && !has:
						res.EpollNoChild[fd] = true
					default:
						sawChildren = true
					}
				}
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
		if res.Samples%10 == 0 && sawChildren {
			// Another thread's loop is seen idle in epoll_wait nearly always; reading
			// them every tenth sample makes one that was busy at one read still count.
			p.otherThreadEpolls(pid, res.OtherEpoll)
		}
		if shared && settling {
			if next := settle(&res, now.Sub(start)); next.Settled {
				var ok bool
				if ok, endNow = p.settled(&res, files, settle, next, start, window, wait); !ok {
					finish()
					return res, ctx.Err()
				}
				if res.SettledAt > 0 {
					break
				}
				// A look that did not settle it: sampled to the end of the window.
				settling = next.CheckAt == 0
			}
		}
		if !wait(0) {
			finish()
			return res, ctx.Err()
		}
	}
	if res.SettledAt > 0 {
		// Nothing more to read before the end of the window, where the counters are
		// (or now, when the caller ended the window here).
		if rest := window - time.Since(start); rest > 0 && !endNow && !wait(window) {
			finish()
			return res, ctx.Err()
		}
		// A thread that exited meanwhile is gone, as a sample would have found.
		if err := finish(); err != nil && IsGone(err) {
			return res, err
		}
		return res, nil
	}
	finish()
	return res, nil
}

// settled follows a SettleFunc's settled answer: when it asks for a look, schedstat alone
// at CheckAt and the question again. Settled for good (no look needed, or none after the
// look) sets res.SettledAt, and end reports the answer's End; otherwise sampling resumes
// and res.SettledAt stays 0, as it does when the look would come after the window. ok is
// false when ctx ended.
func (p FS) settled(res *LoopSamples, files *taskFiles, settle SettleFunc, next SettleStep, start time.Time, window time.Duration, wait func(time.Duration) bool) (ok, end bool) {
	at := time.Since(start)
	if next.CheckAt >= window {
		return true, false
	}
	if next.CheckAt > 0 {
		if !wait(next.CheckAt) {
			return false, false
		}
		at = time.Since(start)
		res.Now = TaskCounters{}
		files.readSchedstat(&res.Now)
		if next = settle(res, at); !next.Settled || next.CheckAt > 0 {
			// Still undecided after a look: back to sampling, which sees what it does.
			return true, false
		}
	}
	res.SettledAt = max(at, time.Nanosecond)
	return true, next.End
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
func (p FS) classify(state string, useSyscall bool, syscallFile *taskFile, wchanPath string, names map[int]string, keep *bool, res *LoopSamples) (string, *SyscallCall) {
	switch state {
	case "Z":
		return "zombie", nil
	case "X":
		return "dead", nil
	case "T", "t":
		return "stopped", nil
	}
	if useSyscall {
		data, err := syscallFile.read()
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
