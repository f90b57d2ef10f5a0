package inspect

import (
	"context"
	"fmt"
	"time"

	"github.com/nodeinspect/nodeinspect/inspect/model"
	"github.com/nodeinspect/nodeinspect/inspect/rules"
	"github.com/nodeinspect/nodeinspect/inspect/rules/growth"
	"github.com/nodeinspect/nodeinspect/inspect/target"
	"github.com/nodeinspect/nodeinspect/internal/trend"
	"github.com/nodeinspect/nodeinspect/probes"
)

// Sampler reads the samples of one watch, keeping an fd cache between them so a sample
// re-reads only new fds and a quarter of the known ones (probes.FDCache).
type Sampler struct {
	c     *Collector
	cache probes.FDCache
	warn  *WarningSink
}

// NewSampler returns a Sampler for one process; what a sample could not read is said in
// warn (each warning once), since a sample has no warnings of its own.
func (c *Collector) NewSampler(warn *WarningSink) *Sampler {
	if warn == nil {
		warn = &WarningSink{}
	}
	return &Sampler{c: c, warn: warn}
}

// Sample reads one watch sample: the fd table with its sockets, the open-files limit,
// RSS and the direct children. It reads only what a sample needs: no smaps_rollup (the
// kernel walks every mapping for it), no process scan, no loop sampling, no rules.
// startTicks, when not 0, is the start time of the process first seen: a different one
// means the pid was reused (PidReusedError).
func (s *Sampler) Sample(ctx context.Context, pid int, seq int, startTicks uint64) (*model.Sample, error) {
	return s.c.sample(ctx, pid, seq, startTicks, &s.cache, s.warn)
}

func (c *Collector) sample(ctx context.Context, pid int, seq int, startTicks uint64, cache *probes.FDCache, warn *WarningSink) (*model.Sample, error) {
	st, err := c.FS.ReadStat(pid)
	if err := target.CheckGone(pid, st, err, startTicks, ""); err != nil {
		return nil, err
	}
	if err != nil {
		return nil, classifyReadError(pid, err)
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
		inodes := socketInodes(entries)
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
		// buildFDTable types them) and TCP sockets by state.
		byType, byState := map[string]int{}, map[string]int{}
		for _, e := range entries {
			typ := e.Type
			if so, ok := sockets[e.Inode]; ok && typ == "socket" {
				typ = fdTypeOfProto[so.Proto]
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
		return nil, classifyReadError(pid, err)
	}
	return s, nil
}

// seriesOf extracts the named metric from samples, skipping samples that lack it.
func seriesOf(samples []*model.Sample, name string) Series {
	s := Series{Name: name}
	if len(samples) == 0 {
		return s
	}
	t0 := samples[0].TakenAt
	for _, x := range samples {
		if v, ok := x.Value(name); ok {
			s.Points = append(s.Points, trend.Point{T: x.TakenAt.Sub(t0).Seconds(), V: v})
		}
	}
	return s
}

// Summarize fits the trends of a watch and turns steady growth into findings, and the
// event-loop delay measured with --attach into EVENT_LOOP_DELAY.
func Summarize(samples []*model.Sample, ended string, rule trend.Rule, now time.Time) *model.WatchSummary {
	sum := &model.WatchSummary{Schema: model.Schema, Type: "summary", TakenAt: now.UTC(), Samples: len(samples), Ended: ended, Findings: []model.Finding{}, Warnings: []string{}}
	if len(samples) == 0 {
		return sum
	}
	last := samples[len(samples)-1]
	sum.PID = last.PID
	sum.Seconds = last.TakenAt.Sub(samples[0].TakenAt).Seconds()
	type metric struct {
		code       model.Code
		what, unit string
		series     Series
		limit      *float64
		limitName  string
		advice     string
		// minGrowth is the rise over the window (absolute, and as a fraction of the first
		// value) below which a steady slope is too small to report.
		minGrowth, minFraction float64
	}
	var fdLimit *float64
	if last.OpenFilesSoft != nil {
		fdLimit = new(float64(*last.OpenFilesSoft))
	}
	heapSeries, heapLimit, heapLimitName := heapGrowthSeries(samples)
	metrics := []metric{
		{model.CodeFDGrowth, "Open fds", "fds", seriesOf(samples, "fds"), fdLimit, "EMFILE",
			"Something opens fds and never closes them: `nodeinspect fds` (or two snapshots and `nodeinspect diff`) shows which type grows.", 5, 0},
		{model.CodeCloseWaitGrowth, "CLOSE_WAIT sockets", "sockets", seriesOf(samples, "close_wait"), fdLimit, "EMFILE",
			"Peers close connections this process never closes: call socket.end()/destroy() after the peer's FIN and on every error path.", 5, 0},
		{model.CodeRSSGrowth, "RSS", "bytes", seriesOf(samples, "rss_bytes"), nil, "",
			"RSS grows steadily: compare with the V8 heap (process.memoryUsage() in the process) to tell a JavaScript leak from Buffers or native memory.", 8 << 20, 0.05},
		{model.CodeHeapGrowth, "V8 heap used", "bytes", heapSeries, heapLimit, heapLimitName,
			"The V8 heap grows under its GC sawtooth: take two heap snapshots and compare what is retained.", 8 << 20, 0.05},
	}
	for _, m := range metrics {
		if len(m.series.Points) < rule.MinSamples {
			continue
		}
		tr, err := rule.Fit(m.series.Points)
		if err != nil || !tr.Growing {
			continue
		}
		current := m.series.Points[len(m.series.Points)-1].V
		first := m.series.Points[0].V
		if rise := tr.Slope * tr.Span.Seconds(); rise < m.minGrowth || (first > 0 && rise/first < m.minFraction) {
			continue
		}
		g := growth.Growth{Code: m.code, What: m.what, Unit: m.unit, From: first, To: current, Seconds: sum.Seconds,
			Rate: &tr.Slope, Fit: &growth.Fit{R2: tr.R2, Samples: len(m.series.Points)}, Advice: m.advice}
		if m.limit != nil {
			target := *m.limit
			if m.code == model.CodeCloseWaitGrowth {
				// CLOSE_WAIT sockets hit EMFILE when all fds are used: the headroom is the
				// limit minus the open fds, consumed at this rate.
				if fds, ok := model.IntValue(last.FDsOpen); ok {
					target = current + (*m.limit - fds)
				}
			}
			if d, ok := tr.TimeToReach(target, current); ok {
				g.Limit = &growth.Limit{Value: *m.limit, Name: m.limitName, Named: m.code == model.CodeHeapGrowth, Seconds: d.Seconds()}
			}
		}
		sum.Findings = append(sum.Findings, growth.Finding(g))
	}
	if f := watchDelayFinding(samples, rules.Thresholds{}); f != nil {
		sum.Findings = append(sum.Findings, *f)
	}
	rules.SortFindings(sum.Findings)
	return sum
}

// heapGrowthSeries is what HEAP_GROWTH fits and the limit its time to OOM runs to: heap
// used (old and young generations) against the point where V8 may end the process, 80% of
// the old generation's limit (heap_limit.go), when the samples know that limit; else
// against V8's heap limit, which includes the young generation's reserve and so predicts
// the OOM too late (a 48 MiB reserve is 27% of the limit at --max-old-space-size=128).
//
// Heap used, not the old generation alone: leaked objects wait in the young generation
// (its semi-space grows to 16 MiB) until a scavenge promotes them, so over a short watch the
// old generation rises in steps and lags what the process retains. Measured at
// --max-old-space-size=128, leaking 4 MiB/s: the old generation stayed at 63.0 MiB for five
// samples (1.25 s) while heap used rose from 72 to 79 MiB, then jumped to 76.7 MiB. Heap
// used, from its lower envelope (the troughs after each scavenge), grows at the leak's rate
// and is never below what will be promoted, so the time to OOM is not optimistic.
func heapGrowthSeries(samples []*model.Sample) (series Series, limit *float64, limitName string) {
	last := samples[len(samples)-1]
	series = seriesOf(samples, "heap_used_bytes")
	if last.OldSpaceLimitBytes != nil && *last.OldSpaceLimitBytes > 0 {
		oomAt := float64(*last.OldSpaceLimitBytes) * rules.IneffectiveGCShare
		return series, &oomAt, fmt.Sprintf("out of memory (%.0f%% of the old generation's limit, where V8 may end the process)", rules.IneffectiveGCShare*100)
	}
	if last.HeapLimitBytes != nil {
		limit = new(float64(*last.HeapLimitBytes))
	}
	return series, limit, "the heap limit (out of memory)"
}

// Series is a metric over the samples of a watch.
type Series struct {
	// Name is the metric: "fds", "close_wait", "rss_bytes", "heap_used_bytes".
	Name   string
	Points []trend.Point
}
