package model

import "strings"

// Container is the cgroup (and pid namespace) the process runs in: who it is, its limits
// and how close it is to them. It is nil outside a container: no cgroup limit applies
// (memory, CPU quota or pids, on the cgroup or any ancestor), the cgroup path names no
// container or pod, and the process shares the reader's pid namespace. Every number is
// null when it could not be read (with a sentence in Warnings), never 0.
type Container struct {
	// Cgroup is the cgroup path from /proc/<pid>/cgroup: the memory controller's on cgroup
	// v1 (the controllers may sit in different groups there), the unified one on v2.
	Cgroup string `json:"cgroup"`
	// Version is the cgroup version of the memory controller (1 or 2).
	Version int `json:"version"`
	// ID is the container id the cgroup path names (64 hex digits), nil when it names none.
	ID *string `json:"id"`
	// PodUID is the Kubernetes pod uid the cgroup path names, nil outside a pod.
	PodUID *string `json:"pod_uid"`
	// Runtime is the container runtime the path names (docker, containerd, cri-o, podman).
	Runtime string `json:"runtime,omitempty"`
	// PIDInContainer is the process's pid in its own pid namespace (the last NSpid of
	// status), the pid `ps` shows inside the container.
	PIDInContainer *int `json:"pid_in_container"`
	// Memory is the memory controller's view.
	Memory ContainerMemory `json:"memory"`
	// CPU is the CFS bandwidth limit and the throttling seen over the sample window.
	CPU ContainerCPU `json:"cpu"`
	// Pids is the task count against pids.max.
	Pids ContainerPids `json:"pids"`
	// Pressure is PSI of the cgroup (cgroup v2), nil where the kernel has none for it.
	Pressure *ContainerPressure `json:"pressure"`
}

// ContainerMemory are the memory numbers of the cgroup that limits the process: the one
// with the smallest memory limit among the process's cgroup and its ancestors (the
// process's own when none has a limit). Sizes are bytes.
type ContainerMemory struct {
	// LimitBytes is the effective hard limit (memory.max, memory.limit_in_bytes): the
	// smallest among the cgroup and its ancestors; nil when unlimited or unknown.
	LimitBytes *uint64 `json:"limit_bytes"`
	// UsageBytes is memory.current (v2) or memory.usage_in_bytes (v1).
	UsageBytes *uint64 `json:"usage_bytes"`
	// WorkingSetBytes is usage minus inactive file pages, as the kubelet computes it (and
	// evicts by): what the kernel cannot drop without swapping or killing.
	WorkingSetBytes *uint64 `json:"working_set_bytes"`
	// HighBytes is memory.high (v2; nil when unset, unknown, or on v1, which has none).
	HighBytes *uint64 `json:"high_bytes"`
	// PeakBytes is memory.peak (v2, Linux 5.19+) or memory.max_usage_in_bytes (v1).
	PeakBytes *uint64 `json:"peak_bytes"`
	// OOMKills counts processes the kernel's OOM killer killed in the process's own cgroup
	// (memory.events oom_kill on v2, which includes its descendants; memory.oom_control
	// oom_kill on v1), whichever cgroup's limit was hit.
	OOMKills *uint64 `json:"oom_kills"`
	// OOMKillsInWindow is how many of them happened during the sample window (nil when
	// there was no window).
	OOMKillsInWindow *uint64 `json:"oom_kills_in_window"`
	// LimitCgroup is the cgroup path whose limit applies (an ancestor's when it is
	// smaller), "" when no limit applies.
	LimitCgroup string `json:"limit_cgroup,omitempty"`
}

// ContainerCPU is the CPU quota and the throttling measured over the sample window (the
// difference of cpu.stat at its start and end, not the totals since the cgroup was made).
type ContainerCPU struct {
	// QuotaCPUs is the effective quota in CPUs (quota / period, the smallest among the
	// cgroup and its ancestors); nil when unlimited or unknown.
	QuotaCPUs *float64 `json:"quota_cpus"`
	// Periods is the number of CFS periods (100 ms by default) the cgroup was runnable in
	// during the window.
	Periods *uint64 `json:"periods"`
	// ThrottledPeriods is how many of them ran out of quota.
	ThrottledPeriods *uint64 `json:"throttled_periods"`
	// ThrottledSeconds is how long the cgroup's tasks were held back during the window.
	ThrottledSeconds *float64 `json:"throttled_seconds"`
	// WindowSeconds is the time between the two reads of cpu.stat.
	WindowSeconds *float64 `json:"window_seconds"`
	// LimitCgroup is the cgroup path whose quota applies, "" when none.
	LimitCgroup string `json:"limit_cgroup,omitempty"`
}

// ContainerPids is the task count (threads, not only processes) against the limit.
type ContainerPids struct {
	// Current is pids.current of the cgroup whose limit applies.
	Current *uint64 `json:"current"`
	// Max is the effective pids.max (smallest among the cgroup and its ancestors); nil
	// when unlimited or unknown.
	Max *uint64 `json:"max"`
	// LimitCgroup is the cgroup path whose limit applies, "" when none.
	LimitCgroup string `json:"limit_cgroup,omitempty"`
}

// ContainerPressure is the "some" 10-second average of the cgroup's pressure files: the
// share of wall time (percent) in which at least one task waited for memory or CPU.
type ContainerPressure struct {
	MemorySomeAvg10 *float64 `json:"memory_some_avg10"`
	CPUSomeAvg10    *float64 `json:"cpu_some_avg10"`
}

// ShortName is how ps shows the container: the short container id, else "pod:<uid>", else
// "".
func (c *Container) ShortName() string {
	switch {
	case c == nil:
		return ""
	case c.ID != nil && len(*c.ID) >= 12:
		return (*c.ID)[:12]
	case c.PodUID != nil:
		return "pod:" + *c.PodUID
	}
	return ""
}

// MemoryHeadroom is what the container's memory limit leaves above its working set (bytes):
// how much more the processes in it may touch before the OOM killer acts. ok is false
// outside a container, without a limit, or when the working set is unknown. A gate that
// must not push the target over its limit (heap --snapshot) checks it.
func (c *Container) MemoryHeadroom() (headroom uint64, ok bool) {
	if c == nil || c.Memory.LimitBytes == nil || c.Memory.WorkingSetBytes == nil {
		return 0, false
	}
	limit, ws := *c.Memory.LimitBytes, *c.Memory.WorkingSetBytes
	return limit - min(limit, ws), true
}

// Matches reports whether the container is the one filter names: a prefix of its id (at
// least the 12 digits ps shows, or fewer), its pod uid ("pod:" optional, dashes or
// underscores), or ps's short name.
func (c *Container) Matches(filter string) bool {
	if c == nil || filter == "" {
		return false
	}
	f := strings.ToLower(strings.TrimSpace(filter))
	if c.ID != nil && strings.HasPrefix(*c.ID, f) {
		return true
	}
	if c.PodUID != nil {
		uid := strings.TrimPrefix(strings.ReplaceAll(f, "_", "-"), "pod:")
		if uid != "" && strings.HasPrefix(*c.PodUID, uid) {
			return true
		}
	}
	return f == c.ShortName()
}
