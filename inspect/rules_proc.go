package inspect

import (
	"fmt"
	"sort"
	"strings"
)

// ruleZombies: direct children that exited and were never reaped.
func ruleZombies(s *Snapshot, _ EvalContext) []Finding {
	var pids []int
	for _, c := range s.Children {
		if c.Zombie {
			pids = append(pids, c.PID)
		}
	}
	if len(pids) == 0 {
		return nil
	}
	listed := pids
	if len(listed) > maxListed {
		listed = listed[:maxListed]
	}
	return []Finding{{
		Code:     "ZOMBIE_CHILDREN",
		Severity: SeverityWarning,
		Summary:  fmt.Sprintf("%s never reaped after exiting (zombies)", count(len(pids), "child process was", "child processes were")),
		Evidence: map[string]any{"count": len(pids), "pids": listed},
		Advice:   "Node reaps children on its event loop: if the loop is blocked, unblock it; children forked outside libuv (native addons) must be waited for by that code. Zombies vanish when the parent reaps them or exits.",
	}}
}

// ruleOrphans: the process, or members of its group or session, lost their parent.
func ruleOrphans(s *Snapshot, _ EvalContext) []Finding {
	var out []Finding
	if s.Process != nil && s.Process.Orphan {
		p := s.Process
		out = append(out, Finding{
			Code:     "ORPHAN_PROCESS",
			Severity: SeverityWarning,
			Summary: fmt.Sprintf("This process lost its parent and was re-parented to pid %d; it still runs in the dead parent's process group %d",
				p.PPID, p.PGID),
			Evidence: map[string]any{"pid": p.PID, "ppid": p.PPID, "pgid": p.PGID, "sid": p.SID},
			Advice:   fmt.Sprintf("Its parent died (often by SIGKILL, which no handler sees) and left it running with its ports and memory: if it is stale, `kill %d`; make parents forward SIGTERM to their children and kill them on exit.", p.PID),
		})
	}
	// Orphans of the session are listed in the snapshot; only those of the process group
	// (children this process's group started) make a finding: a login session collects
	// unrelated orphaned jobs that say nothing about this process.
	var pids []int
	for _, o := range s.Orphans {
		if s.Process != nil && o.PGID == s.Process.PGID {
			pids = append(pids, o.PID)
		}
	}
	if len(pids) > 0 {
		sort.Ints(pids)
		listed := pids
		if len(listed) > maxListed {
			listed = listed[:maxListed]
		}
		out = append(out, Finding{
			Code:     "ORPHAN_PROCESS",
			Severity: SeverityWarning,
			Summary:  fmt.Sprintf("%s of this process group lost %s parent and %s re-parented", count(len(pids), "process", "processes"), pick(len(pids), "its", "their"), pick(len(pids), "was", "were")),
			Evidence: map[string]any{"count": len(pids), "pids": listed},
			Advice:   "These are left over from a parent that died without stopping them: check whether they are stale (`nodeinspect tree`), kill them by pid, and make parents stop their children on exit.",
		})
	}
	return out
}

// ruleEventLoop: the main thread never seen waiting in epoll over the sample window.
func ruleEventLoop(s *Snapshot, _ EvalContext) []Finding {
	l := s.EventLoop
	if l == nil || l.Verdict != "blocked" {
		return nil
	}
	doing, n := dominant(l.Seen)
	ev := map[string]any{
		"window_ms": l.WindowMS, "samples": l.Samples, "in_epoll": l.InEpoll,
		"seen": l.Seen, "source": l.Source, "main_thread": doing,
	}
	if l.CPUPercent != nil {
		ev["cpu_percent"] = roundTo(*l.CPUPercent, 1)
	} else {
		ev["cpu_percent"] = nil
	}
	what, advice := describeBlocked(doing)
	summary := fmt.Sprintf("The event loop did not turn for %d ms: the main thread was never seen waiting for events; it was %s (%d of %d samples)",
		l.WindowMS, what, n, l.Samples)
	summary, advice = blockedStackFinding(l, ev, summary, advice)
	return []Finding{{
		Code:     "EVENT_LOOP_BLOCKED",
		Severity: SeverityWarning,
		Summary:  summary,
		Evidence: ev,
		Advice:   advice,
	}}
}

// dominant returns the most frequent category of samples.
func dominant(seen map[string]int) (string, int) {
	best, n := "", 0
	for k, v := range seen {
		if v > n || (v == n && k < best) {
			best, n = k, v
		}
	}
	return best, n
}

// describeBlocked says in words what a blocked main thread was doing, and what to do.
func describeBlocked(doing string) (what, advice string) {
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
	case strings.HasPrefix(doing, "sleeping:"):
		return "asleep in the kernel in " + strings.TrimPrefix(doing, "sleeping:"), "A synchronous call blocks the main thread: look for *Sync calls (fs, child_process.execSync, spawnSync) and native addons doing blocking I/O."
	}
	return "in the " + doing + " system call", "A synchronous system call blocks the main thread: look for *Sync calls (fs.readFileSync on a pipe or slow disk, child_process.execSync/spawnSync) and move them off the main thread."
}

func pick(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
