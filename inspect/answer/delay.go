package answer

import (
	"context"
	"time"

	"github.com/nodeinspect/nodeinspect/inspect/attach"
	"github.com/nodeinspect/nodeinspect/inspect/model"
)

// The event loop's delay as the process measures it (report and watch with --attach).

// minDelayWindow is the shortest delay window: monitorEventLoopDelay's timer fires every
// 10 ms, so a shorter window has too few samples for a p99.
const minDelayWindow = 100 * time.Millisecond

// delayStepLimit bounds the start and the read of the delay monitor.
const delayStepLimit = 500 * time.Millisecond

// delayLeftFor is how long the monitor may stay in the target beyond its window if this
// run dies before removing it (its own unref'd timer removes it then).
const DelayLeftFor = 10 * time.Second

// measureDelay installs the delay monitor on conn, waits the sample window (--sample,
// at least minDelayWindow), reads it and removes it. A failure is a warning; Delay stays
// nil.
func (col *Into) MeasureDelay(ctx context.Context, conn *attach.Conn, timeout time.Duration) {
	window := max(col.Sample, minDelayWindow)
	// A loop that answers the query turns; one that stalls after it must not hold the
	// attach (and its close) for long: each step gets at most delayStepLimit.
	timeout = min(timeout, delayStepLimit)
	if col.Sample <= 0 || col.Snap.EventLoop == nil {
		return
	}
	step, cancel := context.WithTimeout(ctx, timeout)
	err := attach.StartDelay(step, conn, (window + DelayLeftFor).Milliseconds())
	cancel()
	if err != nil {
		col.Warn("event loop delay not measured: %v", err)
		return
	}
	start := time.Now()
	select {
	case <-ctx.Done():
	case <-time.After(window):
	}
	// Read (and so remove) even when interrupted: its own time limit.
	read, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout)
	d, err := attach.ReadDelay(read, conn)
	cancel()
	if err != nil {
		col.Warn("event loop delay not measured (the monitor removes itself within %s): %v", window+DelayLeftFor, err)
		return
	}
	if ctx.Err() != nil {
		return
	}
	col.Snap.EventLoop.Delay = LoopDelay(d, time.Since(start))
	if col.Snap.EventLoop.Delay.P99MS == nil {
		col.Warn("event loop delay: the monitor recorded no delay in %s (its 10 ms timer never fired: the loop did not turn)", time.Since(start).Round(time.Millisecond))
	}
}

// loopDelay converts the monitor's answer: nanoseconds to milliseconds; no recorded
// delay is no measurement, not 0.
func LoopDelay(d *attach.Delay, window time.Duration) *model.LoopDelay {
	out := &model.LoopDelay{WindowMS: window.Milliseconds(), Count: d.Count}
	u := d.Utilization
	out.Utilization = &u
	if d.Count != nil && *d.Count == 0 {
		return out
	}
	ms := func(ns float64) *float64 { v := ns / 1e6; return &v }
	out.P50MS, out.P99MS, out.MaxMS = ms(d.P50), ms(d.P99), ms(d.Max)
	return out
}
