package fleet

import (
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/nodeinspect/nodeinspect/inspect/model"
)

// Kind is a metric type of the exposition format.
type Kind int

// The metric types the exporter uses.
const (
	Gauge Kind = iota
	Counter
)

// Family is one metric: its name, help, type and label names.
type Family struct {
	Name   string
	Help   string
	Kind   Kind
	Labels []string
}

// Sample is one series of a scrape: a family, its label values (in Family.Labels order)
// and its value.
type Sample struct {
	Family *Family
	Values []string
	Value  float64
}

// proc labels every per-process series: the stable service name and the container.
var proc = []string{"service", "container"}

// The exporter's metrics (the README's table under "`nodeinspect serve`"). Per-process families carry
// service and container, never the pid (that is in nodeinspect_process_info).
var (
	OpenFDs = &Family{"process_open_fds", "Number of open file descriptors (/proc/<pid>/fd).", Gauge, proc}
	MaxFDs  = &Family{"process_max_fds", "Soft limit on open file descriptors (RLIMIT_NOFILE, /proc/<pid>/limits); absent when unlimited.", Gauge, proc}
	RSS     = &Family{"process_resident_memory_bytes", "Resident memory size in bytes (VmRSS, /proc/<pid>/status).", Gauge, proc}
	FDRatio = &Family{"nodeinspect_fd_limit_ratio", "Open file descriptors over the soft RLIMIT_NOFILE (1 is EMFILE).", Gauge, proc}

	TCPSockets = &Family{"nodeinspect_tcp_sockets", "TCP sockets held by the process, by state (ESTABLISHED, CLOSE_WAIT and LISTEN always; other states when held).", Gauge, append(slices.Clone(proc), "state")}
	Stalled    = &Family{"nodeinspect_stalled_sockets", "TCP connections whose queues did not drain through the sample window (STALLED_SOCKETS).", Gauge, proc}
	Deleted    = &Family{"nodeinspect_deleted_bytes", "Bytes of deleted files the process still holds open (disk space not freed).", Gauge, proc}
	Zombies    = &Family{"nodeinspect_zombie_children", "Children in state Z that the process has not reaped.", Gauge, proc}
	Orphan     = &Family{"nodeinspect_orphan", "1 when the process (or a member of its process group) lost its parent.", Gauge, proc}
	Blocked    = &Family{"nodeinspect_event_loop_blocked", "1 when the event loop made no progress through the sample window; absent when the verdict is unknown.", Gauge, proc}
	Saturated  = &Family{"nodeinspect_event_loop_saturated", "1 when the event loop turns but is busy >= 90% of the sample window; absent when the verdict is unknown.", Gauge, proc}

	CtrWorkingSet = &Family{"nodeinspect_container_memory_working_set_bytes", "Working set of the process's cgroup (usage minus inactive file, as the kubelet evicts by).", Gauge, proc}
	CtrLimit      = &Family{"nodeinspect_container_memory_limit_bytes", "Effective memory limit of the process's cgroup (the smallest among it and its ancestors).", Gauge, proc}
	CtrOOMKills   = &Family{"nodeinspect_container_oom_kills_total", "OOM kills recorded in the process's cgroup (memory.events oom_kill).", Counter, proc}
	CtrThrottled  = &Family{"nodeinspect_container_cpu_throttled_periods_total", "CFS periods in which the process's cgroup ran out of CPU quota (cpu.stat nr_throttled).", Counter, proc}

	Finding     = &Family{"nodeinspect_finding", "1 for each finding active on the process (the codes of nodeinspect ps).", Gauge, append(slices.Clone(proc), "code", "severity")}
	Info        = &Family{"nodeinspect_process_info", "The process behind a service name: pid, command line (cut to 256 bytes) and Node.js version.", Gauge, append(slices.Clone(proc), "pid", "cmdline", "node_version")}
	Unreadable  = &Family{"nodeinspect_process_unreadable", "1 for each section of the process that could not be read (status, limits, fds, sockets): its metrics are absent, not 0.", Gauge, append(slices.Clone(proc), "section")}
	ScrapeTime  = &Family{"nodeinspect_scrape_duration_seconds", "How long the scan behind this scrape took.", Gauge, nil}
	Processes   = &Family{"nodeinspect_processes", "Node.js processes seen by the scan behind this scrape.", Gauge, nil}
	ProbeErrors = &Family{"nodeinspect_probe_errors_total", "Reads that failed, by kind (status, limits, fds, sockets per process; scan, timeout for a whole scan).", Counter, []string{"kind"}}
)

// Families lists every family, in exposition order.
var Families = []*Family{
	OpenFDs, MaxFDs, RSS, FDRatio, TCPSockets, Stalled, Deleted, Zombies, Orphan, Blocked, Saturated,
	CtrWorkingSet, CtrLimit, CtrOOMKills, CtrThrottled, Finding, Info, Unreadable,
	ScrapeTime, Processes, ProbeErrors,
}

// alwaysStates are the TCP states exported even at 0, so rate() and predict_linear() over
// them see a series from the start rather than one appearing with the first leak.
var alwaysStates = []string{"ESTABLISHED", "CLOSE_WAIT", "LISTEN"}

// errorKinds are the probe error kinds exported even at 0.
var errorKinds = []string{"status", "limits", "fds", "sockets", "scan", "timeout"}

// maxCmdlineLabel bounds the cmdline label (bytes): long command lines would make every
// series of the process heavy in Prometheus's index.
const maxCmdlineLabel = 256

// Samples maps a scan to the series of one scrape. A value that could not be measured has
// no series (never a 0): its absence is what `absent()` and the unreadable series show.
func Samples(scan *Scan) []Sample {
	var out []Sample
	add := func(f *Family, v float64, values ...string) {
		for i, s := range values {
			values[i] = labelValue(s)
		}
		out = append(out, Sample{Family: f, Values: values, Value: v})
	}
	for i, p := range scan.Processes {
		row, snap := p.Row, p.Row.Snapshot
		svc, ctr := p.Service, p.Container
		if row.FDsOpen != nil {
			add(OpenFDs, float64(*row.FDsOpen), svc, ctr)
		}
		if row.OpenFilesSoft != nil {
			add(MaxFDs, float64(*row.OpenFilesSoft), svc, ctr)
			if row.FDsOpen != nil && *row.OpenFilesSoft > 0 {
				add(FDRatio, float64(*row.FDsOpen)/float64(*row.OpenFilesSoft), svc, ctr)
			}
		}
		if row.RSSBytes != nil {
			add(RSS, float64(*row.RSSBytes), svc, ctr)
		}
		// Without a CLOSE_WAIT count (a socket table could not be read) the states are unknown:
		// no series rather than zeros.
		if snap != nil && snap.FDs != nil && snap.FDs.List != nil && snap.Sockets != nil && row.CloseWait != nil {
			states := map[string]int{}
			for _, s := range alwaysStates {
				states[s] = 0
			}
			for fd := range snap.FDs.List {
				if s := snap.FDs.List[fd].Socket; s != nil && strings.HasPrefix(snap.FDs.List[fd].Type, "tcp") && s.State != "" {
					states[s.State]++
				}
			}
			for _, st := range sortedKeys(states) {
				add(TCPSockets, float64(states[st]), svc, ctr, st)
			}
			if v, ok := deletedBytes(snap.FDs.DeletedBytes); ok {
				add(Deleted, v, svc, ctr)
			}
			if scan.Sampled {
				add(Stalled, float64(StalledCount(row.Findings)), svc, ctr)
			}
		}
		add(Zombies, float64(row.Zombies), svc, ctr)
		add(Orphan, boolValue(row.Orphan), svc, ctr)
		switch verdict := LoopVerdict(row); verdict {
		case "unknown", "":
		default:
			add(Blocked, boolValue(verdict == "blocked"), svc, ctr)
			add(Saturated, boolValue(verdict == "saturated"), svc, ctr)
		}
		if snap != nil && snap.Container != nil {
			m := snap.Container.Memory
			if m.WorkingSetBytes != nil {
				add(CtrWorkingSet, float64(*m.WorkingSetBytes), svc, ctr)
			}
			if m.LimitBytes != nil {
				add(CtrLimit, float64(*m.LimitBytes), svc, ctr)
			}
			if m.OOMKills != nil {
				add(CtrOOMKills, float64(*m.OOMKills), svc, ctr)
			}
		}
		if row.CPUThrottledPeriodsTotal != nil {
			add(CtrThrottled, float64(*row.CPUThrottledPeriodsTotal), svc, ctr)
		}
		seen := map[model.Code]bool{}
		for _, f := range row.Findings {
			if seen[f.Code] {
				continue
			}
			seen[f.Code] = true
			add(Finding, 1, svc, ctr, string(f.Code), string(f.Severity))
		}
		add(Info, 1, svc, ctr, strconv.Itoa(row.PID), cmdlineLabel(row.Cmdline), p.Identity.NodeVersion)
		if i < len(scan.Unreadable) {
			for _, section := range scan.Unreadable[i] {
				add(Unreadable, 1, svc, ctr, section)
			}
		}
	}
	add(ScrapeTime, scan.Duration.Seconds())
	add(Processes, float64(len(scan.Processes)))
	counts := map[string]uint64{}
	for _, k := range errorKinds {
		counts[k] = 0
	}
	for k, v := range scan.ErrorsTotal {
		counts[k] = v
	}
	for _, k := range sortedKeys(counts) {
		add(ProbeErrors, float64(counts[k]), k)
	}
	return out
}

// StalledCount is the count of the STALLED_SOCKETS finding (0 when there is none: the
// window was watched and nothing stalled, or fewer than the threshold).
func StalledCount(findings []model.Finding) int {
	for _, f := range findings {
		if f.Code != model.CodeStalledSockets {
			continue
		}
		if n, ok := f.Evidence["count"].Float(); ok {
			return int(n)
		}
	}
	return 0
}

// LoopVerdict is the event-loop verdict of a ps row: the snapshot's event_loop verdict, the
// row's loop verdict (PSRow.Loop), else the EVENT_LOOP_* flags; "unknown" when none says.
func LoopVerdict(row model.PSRow) string {
	if snap := row.Snapshot; snap != nil && snap.EventLoop != nil && snap.EventLoop.Verdict != "" {
		return snap.EventLoop.Verdict
	}
	if row.Loop != nil && *row.Loop != "" {
		return *row.Loop
	}
	switch {
	case slices.Contains(row.Flags, model.CodeEventLoopBlocked):
		return "blocked"
	case slices.Contains(row.Flags, model.CodeEventLoopSaturated):
		return "saturated"
	}
	return "unknown"
}

// deletedBytes reads fds.deleted_bytes, a number or (where a size could not be read) a
// nil pointer, whichever type the snapshot has.
func deletedBytes(v any) (float64, bool) {
	switch x := v.(type) {
	case int64:
		return float64(x), true
	case *int64:
		if x != nil {
			return float64(*x), true
		}
	}
	return 0, false
}

// cmdlineLabel joins a command line with spaces, cut at maxCmdlineLabel bytes on a rune
// boundary.
func cmdlineLabel(args []string) string {
	s := strings.Join(args, " ")
	if len(s) <= maxCmdlineLabel {
		return s
	}
	cut := maxCmdlineLabel
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// labelValue makes a label value valid UTF-8 (client_golang refuses others; a process's
// command line may hold any bytes).
func labelValue(s string) string {
	return strings.ToValidUTF8(s, "\uFFFD")
}

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
