package inspect

import (
	"context"
	"fmt"
	"os"
	"strconv"

	"github.com/nodeinspect/nodeinspect/inspect/model"
	"github.com/nodeinspect/nodeinspect/internal/units"
	"github.com/nodeinspect/nodeinspect/probes"
)

// ReadHeadroom measures what a snapshot of pid may use. heapUsed comes from the target.
// The memory cgroup's room is Container.MemoryHeadroom (limit minus working set) of the
// container section, read by the same cgroup probes as a snapshot's (mountinfo, the
// smallest limit among the cgroup and its ancestors); outside a container, or when the
// cgroup cannot be read, the host's MemAvailable stands.
// NODEINSPECT_MEM_AVAILABLE (bytes) replaces the measurement, for tests.
func ReadHeadroom(ctx context.Context, fs probes.FS, pid int, heapUsed uint64) (model.Headroom, error) {
	h := model.Headroom{HeapUsedBytes: heapUsed}
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
	ctr, _, _ := NewCollector(fs).Containers().Read(pid, st) // its warnings: the host's figure stands
	if room, ok := ctr.MemoryHeadroom(); ok && room < h.AvailableBytes {
		m := ctr.Memory
		h.AvailableBytes, h.Source = room, fmt.Sprintf("memory cgroup %s: limit %s, working set %s", m.LimitCgroup, units.WholeMiB(*m.LimitBytes), units.WholeMiB(*m.WorkingSetBytes))
	}
	return h, nil
}
