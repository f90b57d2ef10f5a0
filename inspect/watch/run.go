package watch

import (
	"context"
	"errors"
	"time"

	"github.com/nodeinspect/nodeinspect/inspect"
	"github.com/nodeinspect/nodeinspect/inspect/model"
	"github.com/nodeinspect/nodeinspect/inspect/session"
	"github.com/nodeinspect/nodeinspect/internal/trend"
)

// run is the state of one watch.
type run struct {
	o    Options
	col  *inspect.Collector
	heap *session.HeapSession
	// sink gathers the warnings that come after the first frame (a sample that could not
	// read a table, the attach's cleanup): drained after each frame and at the end.
	sink *session.WarningSink
	// heapWarnings holds the first heap read that failed.
	heapWarnings []string
	samples      []*model.Sample
}

// Run watches one process: a first snapshot (with an inspector session kept open when
// o.Attach), then a sample every o.Interval shown as o.View, until o.Duration, ctx being
// done or the process exiting, then the summary. Warnings reach o.Warn after the first
// frame too; a Result's Left says an attach left an inspector open.
func Run(ctx context.Context, col *inspect.Collector, o Options) (*Result, error) {
	r := &run{o: o, col: col, sink: &session.WarningSink{}}
	first, err := r.start(ctx)
	if r.heap != nil {
		defer func() {
			r.heap.Close(ctx)
			r.o.Warn(r.sink.Drain()) // on a path that returns early
		}()
	}
	if err != nil {
		return nil, err
	}
	ended, err := r.loop(ctx, first.Process.StartTicks)
	if err != nil {
		return nil, err
	}
	return r.finish(ctx, first, ended)
}

// start collects the first snapshot; with o.Attach it opens the session the samples use.
func (r *run) start(ctx context.Context) (*model.Snapshot, error) {
	var first *model.Snapshot
	var err error
	if r.o.Attach {
		var heap *session.HeapSession
		first, heap, err = r.col.CollectAttached(ctx, r.o.PID, r.o.Collect)
		if heap != nil {
			heap.WarnTo(r.sink)
			r.heap = heap
		}
	} else {
		first, err = r.col.Collect(ctx, r.o.PID, r.o.Collect)
	}
	if err == nil {
		// Through the sink, so that a sample that meets the same problem later does not
		// say it again.
		for _, w := range first.Warnings {
			r.sink.Add("%s", w)
		}
		r.o.Warn(r.sink.Drain())
	}
	return first, err
}

// loop samples until the watch ends and says why it ended.
func (r *run) loop(ctx context.Context, startTicks uint64) (string, error) {
	o := r.o
	// The heap is read under the run's own context, not the duration's: a read that starts
	// just before the duration ends (a session per sample takes ~10 ms) still completes.
	heapCtx := ctx
	if o.Duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.Duration+o.Interval/2)
		defer cancel()
	}
	if r.heap != nil {
		r.heap.MeasureDelay(o.Interval)
	}
	sampler := NewSampler(r.col, r.sink)
	ticker := time.NewTicker(o.Interval)
	defer ticker.Stop()
	for seq := 0; ; seq++ {
		s, err := sampler.Sample(ctx, o.PID, seq, startTicks)
		var reused *model.PidReusedError
		switch {
		case errors.As(err, &reused):
			return "pid reused: the process exited and another took its pid", nil
		case errors.Is(err, model.ErrNoProcess):
			return "exited: the process ended during the watch", nil
		case err != nil && ctx.Err() != nil:
			return endReason(ctx, o.Duration), nil
		case err != nil:
			return "", err
		}
		r.fillHeap(ctx, heapCtx, s)
		r.samples = append(r.samples, s)
		if err := r.show(s); err != nil {
			return "", err
		}
		select {
		case <-ctx.Done():
			return endReason(ctx, o.Duration), nil
		case <-ticker.C:
		}
	}
}

// fillHeap adds the V8 heap and the loop's delay to a sample when attached; the first
// read that fails is kept for the summary's warnings (none once ctx is done).
func (r *run) fillHeap(ctx, heapCtx context.Context, s *model.Sample) {
	if r.heap == nil {
		return
	}
	herr := r.heap.FillSample(heapCtx, s)
	switch {
	case herr == nil:
		s.EventLoopDelay = r.heap.Delay()
	case ctx.Err() == nil && len(r.heapWarnings) == 0:
		r.heapWarnings = append(r.heapWarnings, herr.Error())
	}
}

// finish summarizes the watch, closes the session, prints the summary and the warnings.
func (r *run) finish(ctx context.Context, first *model.Snapshot, ended string) (*Result, error) {
	sum := Summarize(r.samples, ended, trend.DefaultRule(), r.o.Now())
	sum.Warnings = append(sum.Warnings, r.heapWarnings...)
	var left *model.Attach
	if r.heap == nil && first.Attach.Unconfirmed() {
		left = first.Attach
	}
	if r.heap != nil {
		if a := r.heap.Close(ctx); a.LeftOpen != "" {
			sum.Warnings = append(sum.Warnings, "attach: "+a.LeftOpen)
			left = a
		}
	}
	sum.Warnings = append(sum.Warnings, r.sink.Drain()...)
	if err := r.showSummary(sum); err != nil {
		return nil, err
	}
	if left.Unconfirmed() {
		// The error that ends the run says what was left open.
		r.o.Warn(without(sum.Warnings, "attach: "+left.LeftOpen))
	} else {
		r.o.Warn(sum.Warnings)
	}
	return &Result{Summary: sum, Left: left}, nil
}

// endReason tells a finished duration from an interruption (Ctrl-C, SIGTERM).
func endReason(ctx context.Context, duration time.Duration) string {
	if duration > 0 && errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return "duration"
	}
	return "interrupted"
}

// without is list less the warnings equal to drop, in a new slice.
func without(list []string, drop string) []string {
	out := make([]string, 0, len(list))
	for _, s := range list {
		if s != drop {
			out = append(out, s)
		}
	}
	return out
}
