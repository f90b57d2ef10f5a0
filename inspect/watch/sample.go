package watch

import (
	"context"

	"github.com/nodeinspect/nodeinspect/inspect"
	"github.com/nodeinspect/nodeinspect/inspect/model"
	"github.com/nodeinspect/nodeinspect/inspect/session"
	"github.com/nodeinspect/nodeinspect/inspect/target"
	"github.com/nodeinspect/nodeinspect/probes"
)

// Sampler reads the samples of one watch, keeping an fd cache between them so a sample
// re-reads only new fds and a quarter of the known ones (probes.FDCache).
type Sampler struct {
	c     *inspect.Collector
	cache probes.FDCache
	warn  *session.WarningSink
}

// NewSampler returns a Sampler for one process read by c; what a sample could not read is
// said in warn (each warning once), since a sample has no warnings of its own.
func NewSampler(c *inspect.Collector, warn *session.WarningSink) *Sampler {
	if warn == nil {
		warn = &session.WarningSink{}
	}
	return &Sampler{c: c, warn: warn}
}

// Sample reads one watch sample: the fd table with its sockets, the open-files limit,
// RSS and the direct children. It reads only what a sample needs: no smaps_rollup (the
// kernel walks every mapping for it), no process scan, no loop sampling, no rules.
// startTicks, when not 0, is the start time of the process first seen: a different one
// means the pid was reused (model.PidReusedError).
func (sa *Sampler) Sample(ctx context.Context, pid int, seq int, startTicks uint64) (*model.Sample, error) {
	c, cache, warn := sa.c, &sa.cache, sa.warn
	st, err := c.FS.ReadStat(pid)
	if err := target.CheckGone(pid, st, err, startTicks, ""); err != nil {
		return nil, err
	}
	if err != nil {
		return nil, target.ClassifyReadError(pid, err)
	}
	s := &model.Sample{Schema: model.Schema, Type: "sample", TakenAt: c.Now().UTC(), PID: pid, Seq: seq}
	if status, err := c.FS.ReadStatus(pid); err == nil {
		s.RSSBytes = status.VmRSS
	}
	if lim, err := c.FS.ReadLimits(pid); err == nil {
		s.OpenFilesSoft, _, _ = lim.OpenFiles()
	}
	entries, _, err := c.FS.ReadFDsCached(pid, cache)
	if err != nil && !probes.IsGone(err) {
		warn.Add("watch: fd table not read (%v): fds and sockets are unknown in the samples that could not read it", err)
	}
	if err == nil {
		inodes := inspect.SocketInodes(entries)
		sockets := make(map[uint64]probes.Socket, len(inodes))
		// tablesFailed is set when a socket table could not be read: the sockets' states
		// are then unknown (null), never counted as zero CLOSE_WAIT.
		tablesFailed := false
		readSockets := func() {
			socks, errs := c.FS.ReadSockets(pid, func(ino uint64) bool { _, ok := inodes[ino]; return ok })
			for _, e := range errs {
				if probes.IsSockDiagFallback(e) {
					warn.Add("watch: %v", e)
					continue
				}
				if !probes.IsGone(e) {
					tablesFailed = true
					warn.Add("watch: socket table not read (%v): close_wait and the socket states are unknown (null) in the samples that could not read it", e)
				}
			}
			for _, so := range socks {
				sockets[so.Inode] = so
			}
		}
		if len(inodes) > 0 {
			readSockets()
		}
		// A cached socket whose inode is in no table was closed and its fd reused:
		// read those links again, and the tables again if they are new sockets (not when
		// the tables could not be read: then no socket is in them).
		var stale []int
		staleSet := map[int]bool{}
		for _, e := range entries {
			if _, ok := sockets[e.Inode]; e.Type == "socket" && !ok && !tablesFailed {
				stale = append(stale, e.FD)
				staleSet[e.FD] = true
			}
		}
		if len(stale) > 0 {
			fresh := map[int]probes.FDEntry{}
			for _, e := range c.FS.Revalidate(pid, cache, stale) {
				fresh[e.FD] = e
				if e.Type == "socket" {
					inodes[e.Inode] = struct{}{}
				}
			}
			kept := entries[:0]
			for _, e := range entries {
				if staleSet[e.FD] {
					f, ok := fresh[e.FD]
					if !ok {
						continue // closed since
					}
					e = f
				}
				kept = append(kept, e)
			}
			entries = kept
			readSockets()
		}
		// Only the counts are kept: fds by type (sockets by their table's protocol, as
		// inspect's fd table types them) and TCP sockets by state.
		byType, byState := map[string]int{}, map[string]int{}
		for _, e := range entries {
			typ := e.Type
			if so, ok := sockets[e.Inode]; ok && typ == "socket" {
				typ = inspect.FDType(so.Proto)
				if typ == "tcp" {
					byState[so.State]++
				}
			}
			byType[typ]++
		}
		open := len(entries)
		s.FDsOpen, s.FDsByType = &open, byType
		if !tablesFailed {
			cw := byState["CLOSE_WAIT"]
			s.CloseWait, s.SocketsBy = &cw, byState
		}
	}
	if kids, err := c.FS.ReadChildrenFile(pid); err == nil {
		n, z := len(kids), 0
		for _, k := range kids {
			if kst, err := c.FS.ReadStat(k); err == nil && kst.State == "Z" {
				z++
			}
		}
		s.Children, s.Zombies = &n, &z
	}
	// Read the identity again: a process that exited during the sample is not sampled.
	again, err := c.FS.ReadStat(pid)
	if err := target.CheckGone(pid, again, err, st.StartTicks, "during the sample"); err != nil {
		return nil, err
	}
	if err != nil {
		return nil, target.ClassifyReadError(pid, err)
	}
	return s, nil
}
