package inspect

import (
	"context"

	"github.com/nodeinspect/nodeinspect/inspect/model"
	"github.com/nodeinspect/nodeinspect/probes"
)

// readMemory fills Memory from status (RSS split, swap, peak) and smaps_rollup (PSS).
func (col *collection) readMemory() {
	m := &model.Memory{}
	if col.status != nil {
		s := col.status
		m.RSSBytes, m.AnonBytes, m.FileBytes, m.ShmemBytes = s.VmRSS, s.RssAnon, s.RssFile, s.RssShmem
		m.SwapBytes, m.PeakRSSBytes = s.VmSwap, s.VmHWM
		if s.VmRSS == nil {
			col.Warn("memory: no VmRSS in %s (a kernel thread or an exiting process)", col.c.FS.PidPath(col.PID, "status"))
		}
	} else {
		col.Warn("memory: RSS, anon, file, swap and peak unknown since status could not be read")
	}
	rollup, err := col.c.FS.ReadSmapsRollup(col.PID)
	switch {
	case err == nil:
		m.PSSBytes = rollup.Pss
		if m.SwapBytes == nil {
			m.SwapBytes = rollup.Swap
		}
	case probes.IsDenied(err):
		col.Warn("memory: PSS unknown, smaps_rollup needs the process's user or root (in a container: CAP_SYS_PTRACE): %v", err)
	default:
		col.Warn("memory: PSS unknown: %v", err)
	}
	if host, err := col.c.FS.ReadHostMemory(context.Background()); err == nil {
		m.HostTotalBytes = &host.Total
	} else {
		col.Warn("memory: host total unknown: %v", err)
	}
	col.Snap.Memory = m
}
