package inspect

import (
	"context"
	"fmt"

	"github.com/nodeinspect/nodeinspect/probes"
)

// sampleLoop fills EventLoop by sampling the main thread over the window.
func (col *collection) sampleLoop(ctx context.Context) {
	every := col.opt.SampleEvery
	if every <= 0 {
		every = DefaultSampleEvery
	}
	s, err := col.c.FS.SampleMainThread(ctx, col.pid, col.opt.Sample, every)
	if err != nil && probes.IsGone(err) {
		col.mu.Lock()
		col.gone = true
		col.mu.Unlock()
		return
	}
	if err != nil && s.Samples == 0 {
		col.warn("event loop not sampled: %v", err)
		return
	}
	if err != nil {
		col.warn("event loop sampling stopped early after %d samples: %v", s.Samples, err)
	}
	l, warnings := EventLoopFromSamples(s)
	for _, w := range warnings {
		col.warn("%s", w)
	}
	col.mu.Lock()
	col.snap.EventLoop = l
	col.mu.Unlock()
}

// EventLoopFromSamples turns what sampling the main thread saw into the snapshot's
// EventLoop, deciding the verdict, and returns the warnings to add (a verdict that could not
// be reached says why). It is the one place the verdict is decided, for report, ps and watch.
func EventLoopFromSamples(s probes.LoopSamples) (*EventLoop, []string) {
	var warnings []string
	l := &EventLoop{
		WindowMS: s.Elapsed.Milliseconds(),
		Samples:  s.Samples,
		InEpoll:  s.Counts["epoll"],
		Seen:     s.Counts,
		Source:   s.Source,
		Verdict:  "unknown",
	}
	if s.Elapsed > 0 {
		cpu := float64(s.CPUTicks) / probes.ClockTicks / s.Elapsed.Seconds() * 100
		l.CPUPercent = &cpu
	}
	switch {
	case s.Samples == 0:
	case s.Turning():
		l.Verdict = "turning"
	case s.Samples >= minSamplesForVerdict:
		l.Verdict = "blocked"
	}
	if l.Verdict == "unknown" {
		warnings = append(warnings, fmt.Sprintf("event loop: %d samples are too few to tell whether the loop turns (give a longer --sample)", s.Samples))
	}
	return l, warnings
}

// minSamplesForVerdict is how many reads of the main thread it takes to call the loop
// blocked: an idle loop is in epoll nearly all the time, so ten reads without seeing it
// there are not chance.
const minSamplesForVerdict = 10

// evalContext gathers what the rules need beyond the Snapshot.
func (col *collection) evalContext() EvalContext {
	ctx := EvalContext{Thresholds: col.opt.Thresholds, ListenQueueAfter: col.listenAfter, Backlogs: map[uint64]uint64{}}
	for ino, s := range col.sockets {
		if s.State == "LISTEN" && s.Backlog > 0 {
			ctx.Backlogs[ino] = s.Backlog
		}
	}
	nodeOptions, _, _ := col.c.FS.ReadEnv(col.pid, "NODE_OPTIONS")
	if p := col.snap.Process; p != nil && p.IsNode {
		ctx.InspectorPorts = InspectorPorts(p.Cmdline, nodeOptions)
	}
	return ctx
}
