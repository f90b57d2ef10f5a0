package inspect

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/nodeinspect/nodeinspect/inspect/inspectorsock"
	"github.com/nodeinspect/nodeinspect/inspect/model"
	"github.com/nodeinspect/nodeinspect/inspect/rules"
	"github.com/nodeinspect/nodeinspect/probes"
)

// sampleLoop fills EventLoop by sampling the main thread over the window.
func (col *collection) sampleLoop(ctx context.Context) {
	l, warnings, gone := col.c.sampleOneLoop(ctx, col.PID, col.opt.Sample, col.opt.SampleEvery, nil)
	if gone {
		col.Lock()
		col.Gone = true
		col.Unlock()
		return
	}
	for _, w := range warnings {
		col.Warn("%s", w)
	}
	if l == nil {
		return
	}
	col.Lock()
	col.Snap.EventLoop = l
	col.Unlock()
}

// sampleOneLoop samples the main thread of pid for window and decides the verdict. gone
// reports that the process exited; l is nil when nothing could be sampled. settle (nil for
// report) may end the reads early (a shared window: sharedSettle).
func (c *Collector) sampleOneLoop(ctx context.Context, pid int, window, every time.Duration, settle probes.SettleFunc) (l *model.EventLoop, warnings []string, gone bool) {
	if every <= 0 {
		every = DefaultSampleEvery
	}
	s, err := c.FS.SampleThreadSettling(ctx, pid, pid, window, every, settle)
	if err != nil && probes.IsGone(err) {
		return nil, nil, true
	}
	if err != nil && s.Samples == 0 {
		return nil, []string{fmt.Sprintf("event loop not sampled: %v", err)}, false
	}
	if err != nil {
		warnings = append(warnings, fmt.Sprintf("event loop sampling stopped early after %d samples: %v", s.Samples, err))
	}
	wait := c.spawnSyncWait(pid, s)
	l, more := EventLoopFromSamples(pid, s, wait)
	return l, append(warnings, more...), false
}

// sampleLoops samples the main threads of all pids in one shared window, concurrently, so
// many processes take about one window (ps). Processes that exited or could not be sampled
// are missing from the result; their warnings are returned by pid.
func (c *Collector) SampleLoops(ctx context.Context, pids []int, window time.Duration) (map[int]*model.EventLoop, map[int][]string) {
	loops, warnings := map[int]*model.EventLoop{}, map[int][]string{}
	if window <= 0 || len(pids) == 0 {
		return loops, warnings
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	// Each sampler sleeps most of the window; the bound only keeps a host with thousands
	// of Node.js processes from opening thousands of files at once.
	sem := make(chan struct{}, 256)
	for _, pid := range pids {
		wg.Add(1)
		go func(pid int) {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			l, w, _ := c.sampleOneLoop(ctx, pid, window, sharedSampleEvery(window), sharedSettle(window))
			mu.Lock()
			defer mu.Unlock()
			if l != nil {
				loops[pid] = l
			}
			if len(w) > 0 {
				warnings[pid] = w
			}
		}(pid)
	}
	wg.Wait()
	return loops, warnings
}

// sharedSampleEvery is the interval between two reads of each main thread when many
// processes share one window (ps, top, serve): about 20 reads per window, never closer than
// DefaultSampleEvery. Twenty reads are twice minSamplesForVerdict; an idle loop sits in
// epoll_wait nearly all the time, so it is seen there at this rate too, and progress is
// decided from the io counters, which do not depend on the rate. At 300 ms this is one read
// every 15 ms, and only until sharedSettle says more reads cannot change the verdict (an
// idle loop: a few reads), which keeps serve at a 15 s scrape interval under 1% of a core
// with 200 Node.js processes.
func sharedSampleEvery(window time.Duration) time.Duration {
	return max(DefaultSampleEvery, window/20)
}

// SpawnSyncWait is what shows that the main thread waits on a private event loop (the
// one execSync, spawnSync and execFileSync run while the child runs), not the process's.
type SpawnSyncWait struct {
	// Private holds the epoll fds the main thread waited on that are not the event loop's.
	Private map[int]bool
	// Children are the child processes it waits for (those whose stdio the private loop
	// watches, else all children of the main thread).
	Children []model.WaitedChild
}

// spawnSyncWait decides, for the epoll fds the main thread was seen waiting on, which are
// not the process's event loop. Measured on Node.js 20 (strace of a starting node): the
// process creates its epoll fds in this order: the tracing agent's loop (never run unless
// tracing is on, then by its own thread), the platform's delayed-task loop (waited on by
// its own thread), then the main event loop (uv_default_loop); workers and the inspector
// create theirs later, in their own threads; a private spawnSync loop is created by
// JavaScript, after all of these. Every libuv loop that has run watches at least its
// signal pipe and its async eventfd (fdinfo "tfd:" lines); one that never ran watches
// nothing. So the main thread's epoll fd X is a private loop when, below X, there is an
// epoll fd no other thread waits on that has run (the main loop, idle while the private
// one runs), or two that have not (the tracing agent's and a main loop that never ran:
// execSync in the first tick of a script). A spawnSync always has a child, so without
// one X is taken for the loop.
func (c *Collector) spawnSyncWait(pid int, s probes.LoopSamples) *SpawnSyncWait {
	candidates := 0
	for fd := range s.EpollWaits {
		if !s.EpollNoChild[fd] {
			candidates++
		}
	}
	if candidates == 0 {
		// No wait, or only waits seen while the main thread had no child: none can be a
		// spawnSync's, which always waits for one.
		return nil
	}
	kids, err := c.FS.ReadChildrenFile(pid)
	if err != nil || len(kids) == 0 {
		return nil
	}
	highest := 0
	for fd := range s.EpollWaits {
		highest = max(highest, fd)
	}
	// The epoll fds below the highest one waited on, with what each watches.
	type epollFD struct {
		fd      int
		watches int
	}
	var below []epollFD
	for fd := 0; fd < highest; fd++ {
		link, err := c.FS.ReadFDLink(pid, fd)
		if err != nil {
			continue
		}
		if typ, _ := probes.ClassifyLink(link); typ != "epoll" {
			continue
		}
		t, err := c.FS.ReadEpollTargets(pid, fd)
		if err != nil {
			continue
		}
		below = append(below, epollFD{fd, len(t)})
	}
	w := &SpawnSyncWait{Private: map[int]bool{}}
	for x := range s.EpollWaits {
		if s.EpollNoChild[x] {
			continue
		}
		ran, never := 0, 0
		for _, e := range below {
			if e.fd >= x || s.OtherEpoll[e.fd] || s.EpollWaits[e.fd] > 0 {
				continue
			}
			if e.watches > 0 {
				ran++
			} else {
				never++
			}
		}
		if ran >= 1 || never >= 2 {
			w.Private[x] = true
		}
	}
	if len(w.Private) == 0 {
		return nil
	}
	w.Children = c.waitedChildren(pid, kids, w.Private)
	return w
}

// waitedChildren names the children a private loop waits for: those whose stdin, stdout
// or stderr is a pipe the loop watches, or a socket whose inode is next to one it watches
// (libuv gives a child its stdio through socketpairs, and the kernel numbers the two ends
// of a socketpair one after the other). When none matches, all live children.
func (c *Collector) waitedChildren(pid int, kids []int, private map[int]bool) []model.WaitedChild {
	watched := map[uint64]bool{}
	for fd := range private {
		t, _ := c.FS.ReadEpollTargets(pid, fd)
		for _, x := range t {
			watched[x.Inode] = true
		}
	}
	var matched, all []model.WaitedChild
	for _, k := range kids {
		st, err := c.FS.ReadStat(k)
		if err != nil {
			continue
		}
		cmd, _ := c.FS.ReadCmdline(k)
		command := strings.Join(cmd, " ")
		if command == "" {
			command = st.Comm
		}
		wc := model.WaitedChild{PID: k, Command: command}
		all = append(all, wc)
		for fd := 0; fd <= 2; fd++ {
			link, err := c.FS.ReadFDLink(k, fd)
			if err != nil {
				continue
			}
			typ, ino := probes.ClassifyLink(link)
			if (typ == "pipe" && watched[ino]) || (typ == "socket" && ino > 0 && (watched[ino-1] || watched[ino+1])) {
				matched = append(matched, wc)
				break
			}
		}
	}
	if len(matched) > 0 {
		return matched
	}
	sort.Slice(all, func(i, j int) bool { return all[i].PID < all[j].PID })
	return all
}

// saturatedPercent is the busy share of the window at or above which a turning loop is
// saturated: requests wait for the main thread nearly all the time.
const saturatedPercent = 90

// minTicksForBusy is the window, in clock ticks, that utime+stime must span before a busy
// share from them decides saturation. Both readings are whole ticks and the kernel charges
// a tick to whatever runs when it fires, so the difference is off by up to two ticks: for
// a 300 ms window at 100 Hz (30 ticks) that is ±6.7 points, too wide around 90%; 200 ticks
// (2 s at 100 Hz) bring it to ±1 point. schedstat (nanoseconds) has no such limit.
const minTicksForBusy = 200

// EventLoopFromSamples turns what sampling the main thread of pid saw into the snapshot's
// EventLoop, deciding the verdict, and returns the warnings to add (a verdict that could
// not be reached says why). It is the one place the verdict is decided, for report, ps and
// watch. wait, when not nil, names the epoll fds that are private spawnSync loops.
//
// The loop turns when it makes progress: the main thread waits in the loop's epoll (an
// idle loop), or it completes read/write system calls (task io syscr+syscw) again and
// again through the window, however busy it is. It is blocked when it makes none over the window: on a CPU without a system call
// (a JavaScript busy loop), in one system call (a futex, a read), or waiting on a
// spawnSync's private loop. Voluntary context switches and changing system calls are not
// taken as progress: measured here, a synchronous task that allocates makes both (the
// garbage collector's futex waits and mmaps) while the loop is stuck.
func EventLoopFromSamples(pid int, s probes.LoopSamples, wait *SpawnSyncWait) (*model.EventLoop, []string) {
	var warnings []string
	l := &model.EventLoop{
		WindowMS: s.Elapsed.Milliseconds(),
		Samples:  s.Samples,
		InEpoll:  s.Counts["epoll"],
		Seen:     s.Counts,
		Source:   s.Source,
		Verdict:  "unknown",
	}
	secs := s.Elapsed.Seconds()
	if secs > 0 {
		cpu := float64(s.CPUTicks) / probes.ClockTicks / secs * 100
		l.CPUPercent = &cpu
		switch {
		case s.Start.RunNS != nil && s.End.RunNS != nil && *s.End.RunNS >= *s.Start.RunNS &&
			s.Start.WaitNS != nil && s.End.WaitNS != nil && *s.End.WaitNS >= *s.Start.WaitNS:
			// Busy is on a CPU or waiting for one: either way the loop is not back in
			// epoll for new events, so requests queue. Counting only CPU time would call
			// a saturated loop on a crowded host (two cores, many processes) idle.
			busyNS := (*s.End.RunNS - *s.Start.RunNS) + (*s.End.WaitNS - *s.Start.WaitNS)
			busy := min(float64(busyNS)/1e9/secs*100, 100)
			wait := min(float64(*s.End.WaitNS-*s.Start.WaitNS)/1e9/secs*100, busy)
			l.BusyPercent, l.RunqueueWaitPercent = &busy, &wait
		default:
			busy := min(cpu, 100)
			l.BusyPercent, l.BusyFromTicks = &busy, true
		}
	}
	var calls uint64
	counted := s.Start.SysCR != nil && s.End.SysCR != nil && s.Start.SysCW != nil && s.End.SysCW != nil
	if counted && secs > 0 {
		calls = (*s.End.SysCR - min(*s.Start.SysCR, *s.End.SysCR)) + (*s.End.SysCW - min(*s.Start.SysCW, *s.End.SysCW))
		rate := float64(calls) / secs
		l.SyscallsPerSecond = &rate
	}
	loopWaits, privateWaits := 0, 0
	for fd, n := range s.EpollWaits {
		if wait != nil && wait.Private[fd] {
			privateWaits += n
		} else {
			loopWaits += n
		}
	}
	// Epoll waits seen through wchan (no syscall file) have no fd: they count as the loop.
	loopWaits += s.Counts["epoll"] - loopWaits - privateWaits
	l.InEpoll = loopWaits
	if s.Counts["epoll"] > 0 && loopWaits == 0 && privateWaits > 0 {
		l.Seen = map[string]int{}
		for k, v := range s.Counts {
			l.Seen[k] = v
		}
		l.Seen["epoll"] -= privateWaits
		if l.Seen["epoll"] == 0 {
			delete(l.Seen, "epoll")
		}
		l.Seen["spawn_sync"] = privateWaits
	}
	switch {
	case s.Samples == 0:
		l.Reason = "too_few_samples"
	case s.SyscallDenied:
		l.Reason = "no_privilege"
		warnings = append(warnings, fmt.Sprintf("event loop verdict unknown: the main thread's system call (/proc/%d/task/%d/syscall) can only be read with ptrace access to the process; run nodeinspect as the process's user or with sudo", pid, pid))
	case s.Source != "syscall":
		l.Reason = "no_syscall_file"
		warnings = append(warnings, fmt.Sprintf("event loop verdict unknown: the main thread's system call (/proc/%d/task/%d/syscall) could not be read, and wchan alone cannot tell an idle loop from a blocked one", pid, pid))
	case loopWaits > 0:
		l.Verdict, l.Reason = "turning", "idle"
	case privateWaits > 0:
		l.Verdict, l.Reason = "blocked", "spawn_sync"
		l.WaitingFor = wait.Children
	case calls > 0 && s.ProgressSteps >= minProgressSteps:
		l.Verdict, l.Reason = "turning", "progress"
	case s.Samples < MinSamplesForVerdict:
		l.Reason = "too_few_samples"
		warnings = append(warnings, fmt.Sprintf("event loop: %d samples are too few to tell whether the loop turns (give a longer --sample)", s.Samples))
	case s.Counts["stopped"] == s.Samples:
		l.Verdict, l.Reason = "blocked", "stopped"
	case !counted && s.Calls == 1 && s.First != nil && !s.First.Running:
		// Without counters, the same call with the same arguments in every sample is
		// still no progress: a loop that turned would have been seen elsewhere.
		l.Verdict, l.Reason = "blocked", "one_syscall"
	case !counted:
		l.Reason = "no_counters"
		warnings = append(warnings, fmt.Sprintf("event loop verdict unknown: the main thread's system call counters (/proc/%d/task/%d/io) are unreadable, so a busy loop cannot be told from a busy server; run nodeinspect with sudo", pid, pid))
	case s.Counts["running"]*2 >= s.Samples && starved(s):
		// Runnable nearly all the time but hardly ever on a CPU: the host is overloaded,
		// and a thread that barely ran cannot be judged by what it did not do.
		l.Reason = "starved"
		warnings = append(warnings, fmt.Sprintf("event loop verdict unknown: the main thread wanted a CPU for the whole window but ran only %d ms of it (an overloaded host); give a longer --sample", ranMS(s)))
	case s.Counts["running"]*2 >= s.Samples:
		l.Verdict, l.Reason = "blocked", "no_syscalls"
	default:
		l.Verdict, l.Reason = "blocked", "one_syscall"
	}
	// Saturated also needs the loop not to have been seen idle in its epoll in more than
	// the remaining tenth of the samples: busy counts waiting for a CPU, and on a crowded
	// host a loop that still idles between events is not the one to blame.
	idleShare := 0.0
	if s.Samples > 0 {
		idleShare = float64(loopWaits) / float64(s.Samples) * 100
	}
	if l.Verdict == "turning" && l.BusyPercent != nil && *l.BusyPercent >= saturatedPercent && idleShare <= 100-saturatedPercent {
		if !l.BusyFromTicks || float64(probes.ClockTicks)*secs >= minTicksForBusy {
			l.Verdict = "saturated"
		} else {
			warnings = append(warnings, fmt.Sprintf("event loop: the main thread looked busy %.0f%% of the window, but without schedstat a window this short cannot tell saturation (give --sample 2s or more)", *l.BusyPercent))
		}
	}
	return l, warnings
}

// minProgressSteps is in how many separate intervals of the window the main thread must
// complete read/write system calls to count as turning without being seen in epoll: every
// turn of a loop reads or writes something, so a loop that turns at least twice in the
// window moves the counters at least twice; a stuck thread that writes one log line (or a
// file just before its long task) moves them once. A loop whose turns take more than half
// the window is reported blocked, which for that window it was.
const minProgressSteps = 2

// minCPUToJudge is how much CPU the main thread must have had in the window before "on a
// CPU without a read or write" means a busy loop: a healthy server spends well under a
// millisecond of CPU per request, each with reads and writes, so 20 ms without one is not
// chance; a thread that got less (a crowded host) cannot be judged by what it did not do.
const minCPUToJudge = 20 * time.Millisecond

// starved reports whether the main thread ran less than minCPUToJudge in the window (from
// schedstat; without it, nothing says so and the thread is judged as seen).
func starved(s probes.LoopSamples) bool {
	if s.Start.RunNS == nil || s.End.RunNS == nil {
		return false
	}
	return time.Duration(ranMS(s))*time.Millisecond < minCPUToJudge
}

// ranMS is the main thread's time on a CPU over the window, in milliseconds (schedstat).
func ranMS(s probes.LoopSamples) int64 {
	if s.Start.RunNS == nil || s.End.RunNS == nil || *s.End.RunNS < *s.Start.RunNS {
		return 0
	}
	return int64((*s.End.RunNS - *s.Start.RunNS) / 1e6)
}

// minSamplesForVerdict is how many reads of the main thread it takes to call the loop
// blocked: an idle loop is in epoll nearly all the time, so ten reads without seeing it
// there, and no system call completed, are not chance.
const MinSamplesForVerdict = 10

// evalContext gathers what the rules need beyond the Snapshot.
func (col *collection) evalContext() rules.EvalContext {
	ctx := rules.EvalContext{Thresholds: col.opt.Thresholds, ListenQueueAfter: col.listenAfter, Backlogs: map[uint64]uint64{}}
	for ino, s := range col.sockets {
		if s.State == "LISTEN" && s.Backlog > 0 {
			ctx.Backlogs[ino] = s.Backlog
		}
	}
	nodeOptions, _, _ := col.c.FS.ReadEnv(col.PID, "NODE_OPTIONS")
	if p := col.Snap.Process; p != nil && p.IsNode {
		ctx.InspectorPorts = inspectorsock.Ports(p.Cmdline, nodeOptions)
	}
	return ctx
}

// sharedSettle is the SettleFunc of the window ps, top and serve share: it stops the
// reads of a main thread once they cannot change its verdict (the rules of
// EventLoopFromSamples), so a host of idle Node.js processes costs a few reads of each
// rather than one every sharedSampleEvery.
//
//   - Without the privilege to read the system call (or without the file) the verdict is
//     unknown whatever comes next.
//   - A wait in epoll seen while the main thread had no child is the event loop's (a
//     spawnSync's private loop waits for a child), so the loop turns; only saturated
//     remains possible, which needs the thread busy (on a CPU or waiting for one:
//     schedstat) for saturatedPercent of the window. Busy time grows at most as fast as
//     the clock, so once busy-so-far is below elapsed minus the other tenth of the
//     latest end, saturation is out of reach; until then one look at schedstat when that
//     could first hold decides, and a thread still busy then is sampled to the end.
//
// A thread settled by schedstat has its window end there (its end counters are read at once): the verdict
// is decided, and the busy share over the shorter window is below saturatedPercent too
// (busy < elapsed - idle, with idle a tenth of latestEndFactor windows, which is more
// than a tenth of any elapsed time within the window). So a scan of idle processes takes
// a fraction of the window, unless a socket queue is watched through it (psWindow).
func sharedSettle(window time.Duration) probes.SettleFunc {
	latest := time.Duration(float64(window) * latestEndFactor)
	idle := latest * (100 - saturatedPercent) / 100
	return func(s *probes.LoopSamples, elapsed time.Duration) probes.SettleStep {
		if s.SyscallDenied || s.Source != "syscall" {
			// Watched to the end all the same: its CPU share is over the whole window.
			return probes.SettleStep{Settled: true}
		}
		loop := false
		for fd := range s.EpollNoChild {
			loop = loop || s.EpollWaits[fd] > 0
		}
		if !loop {
			return probes.SettleStep{}
		}
		if s.Start.RunNS == nil || s.Start.WaitNS == nil {
			// Busy from clock ticks decides saturation only over minTicksForBusy.
			// Watched to the end: busy from ticks over a short span is all rounding.
			if float64(probes.ClockTicks)*latest.Seconds() < minTicksForBusy {
				return probes.SettleStep{Settled: true}
			}
			return probes.SettleStep{}
		}
		if s.Now.RunNS == nil || s.Now.WaitNS == nil {
			// No look yet: the first time saturation could be out of reach for a thread
			// idle since the start.
			return probes.SettleStep{Settled: true, CheckAt: idle + time.Millisecond}
		}
		busy := time.Duration(*s.Now.RunNS-min(*s.Start.RunNS, *s.Now.RunNS)) + time.Duration(*s.Now.WaitNS-min(*s.Start.WaitNS, *s.Now.WaitNS))
		if busy < elapsed-idle {
			return probes.SettleStep{Settled: true, End: true}
		}
		return probes.SettleStep{Settled: true, CheckAt: busy + idle + time.Millisecond}
	}
}

// latestEndFactor bounds, as a multiple of the window, when the end of a shared window is
// read (its counters decide the busy share): the end is due at the window itself, and on
// a machine too loaded to read it within half a window more, a thread that turned idle
// at the start is still not called saturated, since the settled samples show it idle in
// more than a tenth of them (EventLoopFromSamples).
const latestEndFactor = 1.5
