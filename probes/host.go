package probes

// This is the only file that imports gopsutil (one file per dependency, so a version change touches one place). It is used for what it
// does well, host-wide facts (here /proc/meminfo), and never for fd or socket scans: its
// ConnectionsPid reads status once per socket.

import (
	"context"
	"fmt"

	"github.com/shirou/gopsutil/v4/common"
	"github.com/shirou/gopsutil/v4/mem"
)

// HostMemory is the host's memory, from <root>/meminfo, in bytes.
type HostMemory struct {
	// Total is MemTotal; Available is MemAvailable (what can be allocated without swapping).
	Total, Available uint64
}

// ReadHostMemory reads the host's memory through gopsutil, pointed at this FS's root (so
// --proc reads a mounted host's meminfo, not ours).
func (p FS) ReadHostMemory(ctx context.Context) (HostMemory, error) {
	ctx = context.WithValue(ctx, common.EnvKey, common.EnvMap{common.HostProcEnvKey: p.Root})
	v, err := mem.VirtualMemoryWithContext(ctx)
	if err != nil {
		return HostMemory{}, fmt.Errorf("read %s: %w", p.Path("meminfo"), err)
	}
	if v.Total == 0 {
		return HostMemory{}, fmt.Errorf("read %s: no MemTotal: %w", p.Path("meminfo"), ErrMalformed)
	}
	return HostMemory{Total: v.Total, Available: v.Available}, nil
}
