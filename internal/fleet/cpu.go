package fleet

import (
	"time"

	"github.com/nodeinspect/nodeinspect/probes"
)

// CPUMeter turns the CPU time of each scan's processes into a percentage of one core since
// the previous scan (top's CPU% column).
type CPUMeter struct {
	last map[procKey]cpuMark
}

type cpuMark struct {
	ticks uint64
	at    time.Time
}

// Observe records a scan and returns each process's CPU% by pid since the previous scan;
// a process first seen (or whose pid was reused) has none yet.
func (m *CPUMeter) Observe(scan *Scan) map[int]float64 {
	out := map[int]float64{}
	next := make(map[procKey]cpuMark, len(scan.Processes))
	for _, p := range scan.Processes {
		k := procKey{p.Row.PID, p.Row.StartTicks}
		mark := cpuMark{ticks: p.Row.CPUTicks, at: scan.TakenAt}
		next[k] = mark
		if prev, ok := m.last[k]; ok && mark.at.After(prev.at) && mark.ticks >= prev.ticks {
			secs := float64(mark.ticks-prev.ticks) / probes.ClockTicks
			out[p.Row.PID] = secs / mark.at.Sub(prev.at).Seconds() * 100
		}
	}
	m.last = next
	return out
}
