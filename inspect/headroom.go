package inspect

import (
	"context"
	"fmt"
	"os"
	"strconv"

	"github.com/nodeinspect/nodeinspect/internal/units"
	"github.com/nodeinspect/nodeinspect/probes"
)

// Headroom is the memory a heap snapshot may use in the target without pushing it (or its
// host) into the OOM killer: V8 builds the snapshot's graph inside the process, which can
// take about as much again as the heap (nodejs/node#50711).
type Headroom struct {
	// RSSBytes is the process's resident memory (VmRSS of /proc/<pid>/status); nil when
	// unreadable.
	RSSBytes *uint64 `json:"rss_bytes"`
	// HeapUsedBytes is V8's heap used, the extra a snapshot may need.
	HeapUsedBytes uint64 `json:"heap_used_bytes"`
	// AvailableBytes is the least of the host's MemAvailable and the memory cgroup's limit
	// minus its usage; Source says which one it is ("host" or "cgroup <path>").
	AvailableBytes uint64 `json:"available_bytes"`
	Source         string `json:"source"`
}

// Fits reports whether the snapshot's extra memory (the heap used) fits in what is
// available.
func (h Headroom) Fits() bool { return h.HeapUsedBytes <= h.AvailableBytes }

// Sentence is the numbers, for the refusal and the warnings.
func (h Headroom) Sentence() string {
	rss := "unknown"
	if h.RSSBytes != nil {
		rss = units.WholeMiB(*h.RSSBytes)
	}
	return fmt.Sprintf("process RSS %s, V8 heap used %s (a snapshot may need as much again), available %s (%s)", rss, units.WholeMiB(h.HeapUsedBytes), units.WholeMiB(h.AvailableBytes), h.Source)
}

// ReadHeadroom measures what a snapshot of pid may use. heapUsed comes from the target.
// The memory cgroup's room is Container.MemoryHeadroom (limit minus working set) of the
// container section, read by the same cgroup probes as a snapshot's (mountinfo, the
// smallest limit among the cgroup and its ancestors); outside a container, or when the
// cgroup cannot be read, the host's MemAvailable stands.
// NODEINSPECT_MEM_AVAILABLE (bytes) replaces the measurement, for tests.
func ReadHeadroom(ctx context.Context, fs probes.FS, pid int, heapUsed uint64) (Headroom, error) {
	h := Headroom{HeapUsedBytes: heapUsed}
	var st *probes.Status
	if status, err := fs.ReadStatus(pid); err == nil {
		h.RSSBytes, st = status.VmRSS, &status
	}
	if v := os.Getenv("NODEINSPECT_MEM_AVAILABLE"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			return h, fmt.Errorf("NODEINSPECT_MEM_AVAILABLE %q is not a number of bytes: %w", v, err)
		}
		h.AvailableBytes, h.Source = n, "NODEINSPECT_MEM_AVAILABLE"
		return h, nil
	}
	host, err := fs.ReadHostMemory(ctx)
	if err != nil {
		return h, err
	}
	h.AvailableBytes, h.Source = host.Available, "host MemAvailable"
	ctr, _, _ := NewCollector(fs).readContainer(pid, st) // its warnings: the host's figure stands
	if room, ok := ctr.MemoryHeadroom(); ok && room < h.AvailableBytes {
		m := ctr.Memory
		h.AvailableBytes, h.Source = room, fmt.Sprintf("memory cgroup %s: limit %s, working set %s", m.LimitCgroup, units.WholeMiB(*m.LimitBytes), units.WholeMiB(*m.WorkingSetBytes))
	}
	return h, nil
}
