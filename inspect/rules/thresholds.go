package rules

import "github.com/nodeinspect/nodeinspect/inspect/rules/container"

// Thresholds are the limits at which rules fire. DefaultThresholds holds the contract's
// defaults; every field can be overridden by a CLI flag.
type Thresholds struct {
	// EMFILEWarning and EMFILECritical are fractions of the soft RLIMIT_NOFILE (0.80, 0.95).
	EMFILEWarning, EMFILECritical float64
	// CloseWaitWarning and CloseWaitCritical are counts of CLOSE_WAIT sockets (10, 100).
	CloseWaitWarning, CloseWaitCritical int
	// BacklogFraction is the accept-queue fill, as a fraction of the backlog size, at which
	// LISTEN_BACKLOG fires when the backlog is known (0.50).
	BacklogFraction float64
	// HeapWarning and HeapCritical are fractions of the point where V8 may end the process,
	// 80% of the old generation's limit (0.85, 0.95); of the V8 heap limit when the old
	// generation's is unknown (heapPressure).
	HeapWarning, HeapCritical float64
	// ExternalRatio and ExternalMinBytes: EXTERNAL_MEMORY fires when RSS ≥ ratio × heap
	// total and RSS − heap total ≥ the minimum (3, 256 MiB).
	ExternalRatio    float64
	ExternalMinBytes uint64
	// StalledWarning is the count of TCP connections whose queues do not drain through
	// the sample window at which STALLED_SOCKETS fires (5).
	StalledWarning int
	// ContainerMemoryWarning and ContainerMemoryCritical are fractions of the cgroup's
	// memory limit that the working set reaches (0.85, 0.95).
	ContainerMemoryWarning, ContainerMemoryCritical float64
	// CPUThrottledFraction is the share of the window's CFS periods that were throttled
	// (0.20).
	CPUThrottledFraction float64
	// PidsFraction is pids.current as a fraction of pids.max (0.90).
	PidsFraction float64
	// DelayWarningMS and DelayCriticalMS are the p99 event-loop delays at which
	// EVENT_LOOP_DELAY fires (100, 1000).
	DelayWarningMS, DelayCriticalMS int
}

// DefaultThresholds returns the contract's default thresholds (README, "Findings").
func DefaultThresholds() Thresholds {
	ctr := container.Defaults()
	return Thresholds{
		EMFILEWarning:     0.80,
		EMFILECritical:    0.95,
		CloseWaitWarning:  10,
		CloseWaitCritical: 100,
		BacklogFraction:   0.50,
		HeapWarning:       0.85,
		HeapCritical:      0.95,
		ExternalRatio:     3,
		ExternalMinBytes:  256 << 20,
		StalledWarning:    5,

		ContainerMemoryWarning:  ctr.MemoryWarning,
		ContainerMemoryCritical: ctr.MemoryCritical,
		CPUThrottledFraction:    ctr.CPUThrottledFraction,
		PidsFraction:            ctr.PidsFraction,
		DelayWarningMS:          delayWarningMS,
		DelayCriticalMS:         delayCriticalMS,
	}
}
