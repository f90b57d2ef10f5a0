package container

import (
	"fmt"
	"math"

	"github.com/nodeinspect/nodeinspect/inspect/model"
	"github.com/nodeinspect/nodeinspect/inspect/model/evidence"
	"github.com/nodeinspect/nodeinspect/internal/units"
)

// Thresholds are the container rules' limits, as fractions; a zero field takes its default.
type Thresholds struct {
	// MemoryWarning and MemoryCritical are fractions of the cgroup's memory limit that the
	// working set reaches (0.85, 0.95).
	MemoryWarning, MemoryCritical float64
	// CPUThrottledFraction is the share of the window's CFS periods that were throttled
	// (0.20).
	CPUThrottledFraction float64
	// PidsFraction is pids.current as a fraction of pids.max (0.90).
	PidsFraction float64
}

// Defaults returns the contract's default container thresholds.
func Defaults() Thresholds {
	return Thresholds{MemoryWarning: 0.85, MemoryCritical: 0.95, CPUThrottledFraction: 0.20, PidsFraction: 0.90}
}

// Findings runs every container rule.
func Findings(s *model.Snapshot, th Thresholds) []model.Finding {
	var out []model.Finding
	for _, r := range []func(*model.Snapshot, Thresholds) []model.Finding{Memory, OOMKilled, CPUThrottled, HeapLimitAboveContainer, PidsNearLimit} {
		out = append(out, r(s, th)...)
	}
	return out
}

// percent formats a fraction as a whole percentage.
func percent(f float64) string { return fmt.Sprintf("%.0f%%", f*100) }

// orDefault returns v, or d when v is not set (thresholds built before these existed).
func orDefault(v, d float64) float64 {
	if v <= 0 {
		return d
	}
	return v
}

// Memory fires when the cgroup's working set is close to its memory limit.
func Memory(s *model.Snapshot, th Thresholds) []model.Finding {
	c := s.Container
	if c == nil || c.Memory.LimitBytes == nil || c.Memory.WorkingSetBytes == nil || *c.Memory.LimitBytes == 0 {
		return nil
	}
	d := Defaults()
	warnAt := orDefault(th.MemoryWarning, d.MemoryWarning)
	critAt := orDefault(th.MemoryCritical, d.MemoryCritical)
	ws, limit := *c.Memory.WorkingSetBytes, *c.Memory.LimitBytes
	frac := float64(ws) / float64(limit)
	if frac < warnAt {
		return nil
	}
	sev := model.SeverityWarning
	if frac >= critAt {
		sev = model.SeverityCritical
	}
	ev := evidence.Evidence{
		"working_set_bytes": evidence.Bytes(ws), "limit_bytes": evidence.Bytes(limit), "used_percent": evidence.Percent(units.Round(frac*100, 1)),
		"usage_bytes": evidence.Opt(c.Memory.UsageBytes, evidence.Bytes[uint64]), "cgroup": evidence.Text(c.Memory.LimitCgroup),
	}
	if c.Memory.UsageBytes != nil && *c.Memory.UsageBytes >= ws {
		ev["reclaimable_cache_bytes"] = evidence.Bytes(*c.Memory.UsageBytes - ws)
	}
	if c.Memory.HighBytes != nil {
		ev["high_bytes"] = evidence.Bytes(*c.Memory.HighBytes)
	}
	return []model.Finding{{
		Code:     model.CodeContainerMemoryNearLimit,
		Severity: sev,
		Summary: fmt.Sprintf("The container's working set is %s of its %s memory limit (%s): at the limit the kernel's OOM killer kills a process of the container",
			units.Bytes(ws), units.Bytes(limit), percent(frac)),
		Evidence: ev,
		Advice: "At the limit the kernel first reclaims page cache, then the OOM killer SIGKILLs the biggest process in the cgroup (no handler runs; Kubernetes shows OOMKilled, exit code 137). " +
			"Everything charged to the cgroup counts: the V8 heap and Buffers (RSS), page cache of files read and written, tmpfs and /dev/shm files (emptyDir with medium Memory), and kernel memory such as socket buffers. " +
			"Raise the limit, or cut what grows (nodeinspect mem; --attach for the heap), and keep --max-old-space-size well below the limit.",
	}}
}

// OOMKilled fires when the OOM killer killed processes in the cgroup.
func OOMKilled(s *model.Snapshot, _ Thresholds) []model.Finding {
	c := s.Container
	if c == nil || c.Memory.OOMKills == nil || *c.Memory.OOMKills == 0 {
		return nil
	}
	n := *c.Memory.OOMKills
	sev := model.SeverityWarning
	when := "since the cgroup was made"
	ev := evidence.Evidence{"oom_kills": evidence.Count(n), "oom_kills_in_window": evidence.Opt(c.Memory.OOMKillsInWindow, evidence.Count[uint64]),
		"limit_bytes": evidence.Opt(c.Memory.LimitBytes, evidence.Bytes[uint64]), "cgroup": evidence.Text(c.Cgroup)}
	if w := c.Memory.OOMKillsInWindow; w != nil && *w > 0 {
		sev = model.SeverityCritical
		when = fmt.Sprintf("%d of them while nodeinspect watched", *w)
	}
	limit := "its memory limit"
	if c.Memory.LimitBytes != nil {
		limit = "its " + units.Bytes(*c.Memory.LimitBytes) + " memory limit"
	}
	return []model.Finding{{
		Code:     model.CodeOOMKilled,
		Severity: sev,
		Summary:  fmt.Sprintf("The kernel's OOM killer killed %s in this container's cgroup at %s (%s)", units.Count(int(min(n, math.MaxInt32)), "process", "processes"), limit, when),
		Evidence: ev,
		Advice:   "An OOM kill is a SIGKILL: no JavaScript runs and the victim logs nothing; `dmesg | grep -i oom` (or `kubectl describe pod`: OOMKilled, exit code 137) names it. Find what grows (nodeinspect watch, mem --attach) or raise the limit; a V8 heap limit above the container's makes the kernel kill before V8 collects harder.",
	}}
}

// CPUThrottled fires when the CFS quota held the cgroup back in many periods of the window.
func CPUThrottled(s *model.Snapshot, th Thresholds) []model.Finding {
	c := s.Container
	if c == nil || c.CPU.Periods == nil || c.CPU.ThrottledPeriods == nil || *c.CPU.Periods == 0 {
		return nil
	}
	at := orDefault(th.CPUThrottledFraction, Defaults().CPUThrottledFraction)
	periods, throttled := *c.CPU.Periods, *c.CPU.ThrottledPeriods
	frac := float64(throttled) / float64(periods)
	if frac < at {
		return nil
	}
	quota := "its CPU quota"
	if c.CPU.QuotaCPUs != nil {
		quota = fmt.Sprintf("its quota of %s CPUs", trimFloat(*c.CPU.QuotaCPUs))
	}
	ev := evidence.Evidence{"periods": evidence.Count(periods), "throttled_periods": evidence.Count(throttled), "throttled_percent": evidence.Percent(units.Round(frac*100, 1)),
		"quota_cpus": evidence.Opt(c.CPU.QuotaCPUs, evidence.Number), "cgroup": evidence.Text(c.CPU.LimitCgroup)}
	held := ""
	if c.CPU.ThrottledSeconds != nil {
		ev["throttled_time_ms"] = evidence.Millis(int64(*c.CPU.ThrottledSeconds * 1000))
		held = fmt.Sprintf(", held back %.2f s in all", *c.CPU.ThrottledSeconds)
	}
	if c.CPU.WindowSeconds != nil {
		ev["window_ms"] = evidence.Millis(int64(*c.CPU.WindowSeconds * 1000))
	}
	return []model.Finding{{
		Code:     model.CodeCPUThrottled,
		Severity: model.SeverityWarning,
		Summary:  fmt.Sprintf("CPU throttled in %d of %d CFS periods (%s) over the window: the container used up %s%s", throttled, periods, percent(frac), quota, held),
		Evidence: ev,
		Advice:   "While throttled no thread of the container runs until the next period (100 ms by default), so event-loop delay and request latency rise with throttling, p99 first; GC and libuv threads spend the same quota. Raise the CPU limit (or drop it and keep the request), or cut CPU per request.",
	}}
}

// trimFloat prints a CPU count without trailing zeros: 0.2, 1.5, 2.
func trimFloat(f float64) string {
	return fmt.Sprintf("%.3g", f)
}

// youngGenerationBytes is what V8 adds to --max-old-space-size to make the heap limit on
// 64-bit Node.js 20 (heap_size_limit = old space + 3 × the 16 MiB semi-space: measured,
// --max-old-space-size=100 gives a 148 MiB heap_size_limit).
const youngGenerationBytes = 48 << 20

// HeapLimitAboveContainer fires when the V8 heap may grow past what the container leaves it, so
// the kernel kills the process before V8 collects harder or fails with a heap OOM.
func HeapLimitAboveContainer(s *model.Snapshot, _ Thresholds) []model.Finding {
	c := s.Container
	if c == nil || c.Memory.LimitBytes == nil || s.Memory == nil || s.Memory.RSSBytes == nil || s.Memory.Heap == nil ||
		s.Memory.Heap.LimitBytes == nil || s.Memory.Heap.TotalBytes == nil {
		return nil
	}
	limit, heapLimit, rss, heapTotal := *c.Memory.LimitBytes, *s.Memory.Heap.LimitBytes, *s.Memory.RSSBytes, *s.Memory.Heap.TotalBytes
	outside := rss - min(rss, heapTotal)
	if heapLimit+outside <= limit {
		return nil
	}
	// Leave a tenth of the limit for growth outside the heap and the page cache.
	fit := int64(limit) - int64(limit)/10 - int64(outside) - youngGenerationBytes
	advice := fmt.Sprintf("Start node with --max-old-space-size=%d (MiB): that heap plus the %s already outside it stays under the %s limit with a tenth to spare; or raise the container's memory limit.",
		max(fit>>20, 0), units.Bytes(outside), units.Bytes(limit))
	if fit < 64<<20 {
		advice = fmt.Sprintf("The memory outside the V8 heap (%s) leaves no room for a useful heap under the %s limit: raise the container's memory limit, or find what holds memory outside the heap (Buffers, native addons).",
			units.Bytes(outside), units.Bytes(limit))
	}
	return []model.Finding{{
		Code:     model.CodeHeapLimitAboveContainer,
		Severity: model.SeverityWarning,
		Summary: fmt.Sprintf("The V8 heap may grow to %s, but with %s already outside the heap the container's %s limit is reached first: the kernel kills the process before V8 collects harder",
			units.Bytes(heapLimit), units.Bytes(outside), units.Bytes(limit)),
		Evidence: evidence.Evidence{"heap_limit_bytes": evidence.Bytes(heapLimit), "outside_heap_bytes": evidence.Bytes(outside), "rss_bytes": evidence.Bytes(rss),
			"heap_total_bytes": evidence.Bytes(heapTotal), "limit_bytes": evidence.Bytes(limit), "suggested_max_old_space_mib": evidence.Int(max(fit>>20, 0))},
		Advice: advice,
	}}
}

// PidsNearLimit fires when the cgroup's task count is close to pids.max.
func PidsNearLimit(s *model.Snapshot, th Thresholds) []model.Finding {
	c := s.Container
	if c == nil || c.Pids.Current == nil || c.Pids.Max == nil || *c.Pids.Max == 0 {
		return nil
	}
	at := orDefault(th.PidsFraction, Defaults().PidsFraction)
	cur, limit := *c.Pids.Current, *c.Pids.Max
	frac := float64(cur) / float64(limit)
	if frac < at {
		return nil
	}
	return []model.Finding{{
		Code:     model.CodePIDsNearLimit,
		Severity: model.SeverityWarning,
		Summary:  fmt.Sprintf("The container runs %d tasks of its pids limit of %d (%s): new processes and threads will fail", cur, limit, percent(frac)),
		Evidence: evidence.Evidence{"current": evidence.Count(cur), "max": evidence.Count(limit), "used_percent": evidence.Percent(units.Round(frac*100, 1)), "cgroup": evidence.Text(c.Pids.LimitCgroup)},
		Advice:   "At pids.max fork() and thread creation fail with EAGAIN: child_process.spawn throws, and workers or the libuv threadpool cannot start (Node may abort). Threads count, not only processes: find what spawns (nodeinspect tree), reap zombies, or raise the limit (Kubernetes: the kubelet's podPidsLimit).",
	}}
}
