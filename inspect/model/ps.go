package model

import "time"

// PSResult is the document `nodeinspect ps` prints: one row per Node.js process.
type PSResult struct {
	Schema    string    `json:"schema"`
	TakenAt   time.Time `json:"taken_at"`
	Processes []PSRow   `json:"processes"`
	Warnings  []string  `json:"warnings"`
}

// PSRow is one process in `nodeinspect ps`. A nil number could not be measured (typically
// another user's process read without privilege).
type PSRow struct {
	PID  int    `json:"pid"`
	PPID int    `json:"ppid"`
	User string `json:"user"`
	// StartedAt is when the process started; UptimeSeconds is TakenAt minus StartedAt.
	StartedAt     *time.Time `json:"started_at"`
	UptimeSeconds *float64   `json:"uptime_seconds"`
	RSSBytes      *uint64    `json:"rss_bytes"`
	FDsOpen       *int       `json:"fds_open"`
	OpenFilesSoft *uint64    `json:"open_files_soft"`
	CloseWait     *int       `json:"close_wait"`
	Zombies       int        `json:"zombies"`
	Orphan        bool       `json:"orphan"`
	// Container is the short container id, "pod:<uid>", or nil outside a container.
	Container *string `json:"container"`
	// Loop is the event-loop verdict ("turning", "saturated", "blocked", "unknown"); nil
	// when not sampled (--sample 0, or not a Node.js process).
	Loop *string `json:"loop"`
	// Flags are the codes of the findings ps could decide cheaply, worst first.
	Flags []Code `json:"flags"`
	// Severity is the worst severity among Flags ("" when none).
	Severity Severity `json:"severity"`
	Cmdline  []string `json:"cmdline"`
	// Findings are the findings behind Flags (not part of the ps document).
	Findings []Finding `json:"-"`
	// Snapshot is what the scan read of the process (fds, sockets, children, container),
	// for the exporter and top; not part of the ps document.
	Snapshot *Snapshot `json:"-"`
	// CPUTicks is utime+stime from /proc/<pid>/stat at the scan, in clock ticks (top's CPU%).
	CPUTicks uint64 `json:"-"`
	// StartTicks is the start time from /proc/<pid>/stat in clock ticks since boot: with
	// the pid, it names the process across scans (a reused pid has another start).
	StartTicks uint64 `json:"-"`
	// CPUThrottledPeriodsTotal is nr_throttled of the container's cpu.stat at the scan,
	// counted since the cgroup was made (nil outside a CPU-limited cgroup or unreadable).
	CPUThrottledPeriodsTotal *uint64 `json:"-"`
}
