package rules

import (
	"fmt"
	"strings"
	"time"

	"github.com/nodeinspect/nodeinspect/inspect/model"
	"github.com/nodeinspect/nodeinspect/inspect/model/evidence"
	"github.com/nodeinspect/nodeinspect/internal/units"
)

// ruleEventLoop: the main thread made no progress over the sample window.
func ruleEventLoop(s *model.Snapshot, _ EvalContext) []model.Finding {
	l := s.EventLoop
	if l == nil || l.Verdict != "blocked" {
		return nil
	}
	doing, n := Dominant(l.Seen)
	ev := evidence.Evidence{
		"window_ms": evidence.Millis(l.WindowMS), "samples": evidence.Count(l.Samples), "in_epoll": evidence.Count(l.InEpoll),
		"seen": evidence.CountsBy(l.Seen), "source": evidence.Text(l.Source), "main_thread": evidence.Text(doing), "reason": evidence.Text(l.Reason),
		"cpu_percent": roundedOrNil(l.CPUPercent, evidence.Percent), "busy_percent": roundedOrNil(l.BusyPercent, evidence.Percent),
		"syscalls_per_second": roundedOrNil(l.SyscallsPerSecond, perSecond),
	}
	if l.Reason == "spawn_sync" {
		children := make([]evidence.Evidence, 0, len(l.WaitingFor))
		for _, c := range l.WaitingFor {
			children = append(children, evidence.Evidence{"pid": evidence.Int(c.PID), "command": evidence.Text(c.Command)})
		}
		ev["waiting_for"] = evidence.Objects(children)
		return []model.Finding{{
			Code:     model.CodeEventLoopBlocked,
			Severity: model.SeverityWarning,
			Summary: fmt.Sprintf("The event loop did not turn for %d ms: the main thread waits for %s in a synchronous call (execSync, spawnSync or execFileSync)",
				l.WindowMS, describeChildren(l.WaitingFor)),
			Evidence: ev,
			Advice:   "A synchronous child process holds the main thread until the child exits: use the asynchronous exec/spawn/execFile (or a timeout option), and look at why the child takes so long.",
		}}
	}
	what, advice := DescribeBlocked(doing)
	progress := "no system call completed"
	if l.Reason == "stopped" {
		progress = "it made no progress"
	}
	summary := fmt.Sprintf("The event loop did not turn for %d ms: %s and the main thread was never seen waiting for events; it was %s (%d of %d samples)",
		l.WindowMS, progress, what, n, l.Samples)
	summary, advice = blockedStackFinding(l, ev, summary, advice)
	return []model.Finding{{
		Code:     model.CodeEventLoopBlocked,
		Severity: model.SeverityWarning,
		Summary:  summary,
		Evidence: ev,
		Advice:   advice,
	}}
}

// ruleEventLoopSaturated: the loop turns, but the main thread is busy nearly all the window.
func ruleEventLoopSaturated(s *model.Snapshot, _ EvalContext) []model.Finding {
	l := s.EventLoop
	if l == nil || l.Verdict != "saturated" || l.BusyPercent == nil {
		return nil
	}
	advice := "The process is at the limit of one thread: latency grows with load. Take a CPU profile to find the hot functions, move CPU-heavy work to worker threads, or run more processes (cluster, more replicas)."
	if w := l.RunqueueWaitPercent; w != nil && *w >= 30 {
		advice = fmt.Sprintf("%.0f%% of the window the main thread was ready to run but waited for a CPU: the host's CPUs (or the container's CPU limit) are contended; give it more CPU or move other work away. ", *w) + advice
	}
	rate := "unknown"
	if l.SyscallsPerSecond != nil {
		rate = fmt.Sprintf("%.0f", *l.SyscallsPerSecond)
	}
	return []model.Finding{{
		Code:     model.CodeEventLoopSaturated,
		Severity: model.SeverityWarning,
		Summary: fmt.Sprintf("The event loop turns (%s read/write system calls a second) but the main thread was busy %.0f%% of the %d ms window: work queues behind it",
			rate, *l.BusyPercent, l.WindowMS),
		Evidence: evidence.Evidence{
			"busy_percent": roundedOrNil(l.BusyPercent, evidence.Percent), "syscalls_per_second": roundedOrNil(l.SyscallsPerSecond, perSecond),
			"runqueue_wait_percent": roundedOrNil(l.RunqueueWaitPercent, evidence.Percent),
			"window_ms":             evidence.Millis(l.WindowMS), "samples": evidence.Count(l.Samples), "seen": evidence.CountsBy(l.Seen),
		},
		Advice: advice,
	}}
}

// roundedOrNil rounds a measured value to one decimal, keeping nil (unmeasured) as nil.
func roundedOrNil(v *float64, unit func(float64) evidence.Value) evidence.Value {
	if v == nil {
		return evidence.Null()
	}
	return unit(units.Round(*v, 1))
}

// perSecond is a rate per second.
func perSecond(f float64) evidence.Value {
	return evidence.Rate(f, "second")
}

// describeChildren says "child process 1234 (sleep 20)" or "2 child processes: ...".
func describeChildren(kids []model.WaitedChild) string {
	if len(kids) == 0 {
		return "a child process"
	}
	parts := make([]string, 0, len(kids))
	for _, k := range kids {
		parts = append(parts, fmt.Sprintf("%d (%s)", k.PID, k.Command))
	}
	if len(kids) == 1 {
		return "child process " + parts[0]
	}
	return fmt.Sprintf("%d child processes: %s", len(kids), strings.Join(parts, ", "))
}

// Dominant returns the most frequent category of samples.
func Dominant(seen map[string]int) (string, int) {
	best, n := "", 0
	for k, v := range seen {
		if v > n || (v == n && k < best) {
			best, n = k, v
		}
	}
	return best, n
}

// DescribeBlocked says in words what a blocked main thread was doing, and what to do.
func DescribeBlocked(doing string) (what, advice string) {
	switch {
	case doing == "running":
		return "running on the CPU", "A synchronous task holds the main thread (a hot loop, JSON.parse/stringify of a huge value, sync crypto or zlib, a catastrophic regex): take a CPU profile (`perf top -p <pid>`, or `node --cpu-prof` in a reproduction) and move the work to a worker thread."
	case doing == "futex":
		return "waiting on a futex (Atomics.wait, a lock, or waiting for a worker or native thread)", "The main thread is waiting on a lock or Atomics.wait: find which worker or native addon should wake it; never Atomics.wait on the main thread."
	case doing == "stopped":
		return "stopped (SIGSTOP or a debugger)", "The process is stopped: `kill -CONT <pid>` resumes it, or detach the debugger that holds it."
	case doing == "disk":
		return "in uninterruptible disk wait (state D)", "Synchronous file I/O on a slow or hung disk or network filesystem blocks the main thread: use the async fs API, and check the storage (dmesg, NFS mounts)."
	case doing == "zombie" || doing == "dead":
		return "exiting", "The process is exiting; inspect it again, or its parent."
	case doing == "epoll":
		return "waiting in epoll outside the event loop", "Something waits on its own epoll instance on the main thread (a synchronous child process, a native addon): look for *Sync calls and blocking native code."
	case strings.HasPrefix(doing, "sleeping:"):
		return "asleep in the kernel in " + strings.TrimPrefix(doing, "sleeping:"), "A synchronous call blocks the main thread: look for *Sync calls (fs, child_process.execSync, spawnSync) and native addons doing blocking I/O."
	}
	return "in the " + doing + " system call", "A synchronous system call blocks the main thread: look for *Sync calls (fs.readFileSync on a pipe or slow disk, child_process.execSync/spawnSync) and move them off the main thread."
}

// delayThresholds are EVENT_LOOP_DELAY's defaults, as the README's "Where in the code"
// section documents them: p99 ≥ 100 ms warning, ≥ 1 s critical.
const (
	delayWarningMS  = 100
	delayCriticalMS = 1000
)

// ruleEventLoopDelay: the p99 event-loop delay the process measured (attach).
func ruleEventLoopDelay(s *model.Snapshot, ctx EvalContext) []model.Finding {
	l := s.EventLoop
	if l == nil {
		return nil
	}
	f := DelayFinding(l.Delay, ctx.Thresholds, "")
	if f == nil {
		return nil
	}
	if l.BlockedIn != "" {
		f.Summary += "; blocked in " + l.BlockedIn
	}
	return []model.Finding{*f}
}

// blockedStackFinding adds the stack a blocked loop was found in (report --attach) to
// EVENT_LOOP_BLOCKED: the summary names it, the evidence lists its frames.
func blockedStackFinding(l *model.EventLoop, ev evidence.Evidence, summary, advice string) (string, string) {
	if l.BlockedIn == "" {
		return summary, advice
	}
	frames := make([]string, 0, len(l.Stack))
	for i, f := range l.Stack {
		if i == 10 {
			break
		}
		frames = append(frames, f.String())
	}
	ev["stack"] = evidence.Texts(frames)
	ev["stack_count"] = evidence.Count(l.StackCount)
	ev["stack_samples"] = evidence.Count(l.StackSamples)
	return summary + "; blocked in " + l.BlockedIn, "Look at " + model.AppFrame(l.Stack).Function + " first: it is where the main thread spends its time. " + advice
}

// DelayLimits are the thresholds of EVENT_LOOP_DELAY in milliseconds, the contract's
// defaults where th leaves them 0.
func DelayLimits(th Thresholds) (warn, crit float64) {
	warn, crit = float64(th.DelayWarningMS), float64(th.DelayCriticalMS)
	if warn <= 0 {
		warn = delayWarningMS
	}
	if crit <= 0 {
		crit = delayCriticalMS
	}
	return warn, crit
}

// DelayFinding is EVENT_LOOP_DELAY for one measured delay, nil when it was not measured or
// its p99 is below the warning threshold. over names the window in the summary ("" is
// the measuring window's duration: "p99 over 300ms").
func DelayFinding(d *model.LoopDelay, th Thresholds, over string) *model.Finding {
	if d == nil || d.P99MS == nil {
		return nil
	}
	warn, crit := DelayLimits(th)
	p99 := *d.P99MS
	if p99 < warn {
		return nil
	}
	sev := model.SeverityWarning
	if p99 >= crit {
		sev = model.SeverityCritical
	}
	ev := evidence.Evidence{"p50_ms": evidence.Millis(units.Round(*d.P50MS, 1)), "p99_ms": evidence.Millis(units.Round(p99, 1)), "max_ms": evidence.Millis(units.Round(*d.MaxMS, 1)), "window_ms": evidence.Millis(d.WindowMS)}
	util := ""
	if d.Utilization != nil {
		ev["utilization"] = evidence.Number(units.Round(*d.Utilization, 3))
		util = fmt.Sprintf("; the loop was busy %.0f%% of the time", *d.Utilization*100)
	}
	if d.Count != nil {
		ev["count"] = evidence.Count(*d.Count)
	}
	if over == "" {
		over = (time.Duration(d.WindowMS) * time.Millisecond).String()
	}
	summary := fmt.Sprintf("Callbacks wait up to %.0f ms for the event loop (p99 over %s, measured in the process; p50 %.0f ms, max %.0f ms)%s",
		p99, over, *d.P50MS, *d.MaxMS, util)
	return &model.Finding{
		Code:     model.CodeEventLoopDelay,
		Severity: sev,
		Summary:  summary,
		Evidence: ev,
		Advice:   delayAdvice,
	}
}

// delayAdvice is EVENT_LOOP_DELAY's advice.
const delayAdvice = "Something runs synchronously for this long between turns of the loop: find it with `nodeinspect stack <pid> --samples 50` (the hottest stacks), or `nodeinspect profile`; split the work up, or move it to a worker thread."
