package cmd

import (
	"bytes"
	"context"
	"errors"
	"time"

	"github.com/urfave/cli/v3"

	"github.com/nodeinspect/nodeinspect/inspect"
	"github.com/nodeinspect/nodeinspect/inspect/model"
	"github.com/nodeinspect/nodeinspect/inspect/watch"
	"github.com/nodeinspect/nodeinspect/internal/trend"
	"github.com/nodeinspect/nodeinspect/report"
)

// Bounds of --interval: faster than 100 ms costs the target more than it tells; slower than
// an hour is a cron job, not a watch.
const (
	minWatchInterval = 100 * time.Millisecond
	maxWatchInterval = time.Hour
)

// clearScreen moves the cursor home and clears the terminal (ECMA-48 CUP and ED).
const clearScreen = "\x1b[H\x1b[2J"

// newWatchCommand samples a process over time and reports steady growth.
func newWatchCommand(deps Deps) *cli.Command {
	return &cli.Command{
		Name:      "watch",
		Usage:     "sample a process over time: live view, growth rates and time to EMFILE",
		ArgsUsage: "<pid>",
		Flags: append(append(outputFlags(),
			failOnFlag(),
			anyFlag(),
			&cli.DurationFlag{Name: "interval", Value: time.Second, Usage: "time between samples (100ms to 1h)",
				Validator: durationIn("interval", minWatchInterval, maxWatchInterval, "100ms to 1h")},
			&cli.DurationFlag{Name: "duration", Usage: "stop after this long (default: until Ctrl-C or the process exits)"},
		), attachFlags()...),
		Action: func(ctx context.Context, c *cli.Command) error {
			o, err := readWatchOptions(c, deps)
			if err != nil {
				return err
			}
			return runWatch(ctx, deps, o)
		},
	}
}

// watchOptions are watch's flags, read once: the pid, the common flags, the time between
// samples and how long to watch (0: until Ctrl-C or the process exits).
type watchOptions struct {
	pid                int
	opt                options
	interval, duration time.Duration
}

// readWatchOptions reads watch's flags (--interval's range: its Validator) and checks that
// --duration holds two samples.
func readWatchOptions(c *cli.Command, deps Deps) (watchOptions, error) {
	pid, opt, err := pidAndOptions(c, deps)
	if err != nil {
		return watchOptions{}, err
	}
	o := watchOptions{pid: pid, opt: opt, interval: c.Duration("interval"), duration: c.Duration("duration")}
	if o.duration != 0 && o.duration < 2*o.interval {
		return o, usageError("--duration %s is shorter than two samples at --interval %s", o.duration, o.interval)
	}
	return o, nil
}

// runWatch is the sampling loop of watch.
func runWatch(ctx context.Context, deps Deps, o watchOptions) error {
	opt, pid, interval, duration := o.opt, o.pid, o.interval, o.duration
	col := newCollector(deps, opt)
	copt := inspect.Options{Any: opt.any, Thresholds: opt.thresholds}
	var first *model.Snapshot
	var heap *inspect.HeapSession
	var err error
	// Warnings that come after the first frame (a sample that could not read a table, the
	// attach's cleanup) go to the sink: drained after each frame and at the end.
	sink := &inspect.WarningSink{}
	if opt.attach {
		// One inspector session for the whole watch; closed on every path below.
		copt.Sections, copt.Sample, copt.AttachTimeout = inspect.SectionLoop, inspect.DefaultSampleWindow, opt.attachTimeout
		copt.CloserBound, copt.AllowSIGUSR1Users = envDuration(deps, "NODEINSPECT_CLOSER_BOUND"), opt.allowSIGUSR1Users
		// The dead-man's switch is re-armed at each sample: it must outlast the interval.
		copt.Deadman = max(envDuration(deps, "NODEINSPECT_DEADMAN"), 3*interval)
		if envDuration(deps, "NODEINSPECT_DEADMAN") == 0 {
			copt.Deadman = max(inspect.DefaultDeadman, 3*interval)
		}
		if pid, err = followPid(deps, opt, pid); err != nil {
			return err
		}
		first, heap, err = col.CollectAttached(ctx, pid, copt)
		if heap != nil {
			heap.WarnTo(sink)
			defer func() {
				heap.Close(ctx)
				printWarnings(deps, sink.Drain()) // on a path that returns early
			}()
		}
		if err == nil {
			printWarnings(deps, first.Warnings)
		}
	} else {
		first, err = col.Collect(ctx, pid, copt)
	}
	if err != nil {
		return err
	}
	var heapWarnings []string
	startTicks := first.Process.StartTicks
	live := deps.IsTTY && (opt.format == report.FormatTable || opt.format == report.FormatPlain)
	// --format plain without a terminal: one plain line per sample, no cursor codes.
	plainLines := !live && opt.format == report.FormatPlain && opt.formatGiven
	stream := !live && !plainLines && opt.format != report.FormatMarkdown
	ropt := report.Options{Format: opt.format, Color: opt.color, Width: deps.Width}

	// The heap is read under the run's own context, not the duration's: a read that starts
	// just before the duration ends (a session per sample takes ~10 ms) still completes.
	heapCtx := ctx
	if duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, duration+interval/2)
		defer cancel()
	}
	if heap != nil {
		heap.MeasureDelay(interval)
	}
	sampler := watch.NewSampler(col, sink)
	var samples []*model.Sample
	ended := "duration"
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for seq := 0; ; seq++ {
		s, err := sampler.Sample(ctx, pid, seq, startTicks)
		var reused *model.PidReusedError
		switch {
		case errors.As(err, &reused):
			ended = "pid reused: the process exited and another took its pid"
		case errors.Is(err, model.ErrNoProcess):
			ended = "exited: the process ended during the watch"
		case err != nil && ctx.Err() != nil:
			ended = endReason(ctx, duration)
		case err != nil:
			return err
		}
		if err != nil {
			break
		}
		if heap != nil {
			herr := heap.FillSample(heapCtx, s)
			switch {
			case herr == nil:
				s.EventLoopDelay = heap.Delay()
			case ctx.Err() == nil && len(heapWarnings) == 0:
				heapWarnings = append(heapWarnings, herr.Error())
			}
		}
		samples = append(samples, s)
		var buf bytes.Buffer
		switch {
		case live:
			if deps.TermWidth != nil {
				// A resized terminal is redrawn at its new width (TIOCGWINSZ each frame:
				// one ioctl, cheaper than tracking SIGWINCH).
				if w := deps.TermWidth(); w > 0 {
					ropt.Width = w
				}
			}
			buf.WriteString(clearScreen)
			if err := report.RenderWatchFrame(&buf, samples, ropt); err != nil {
				return err
			}
		case stream:
			if err := report.RenderSampleLine(&buf, s); err != nil {
				return err
			}
		case plainLines:
			if err := report.RenderSamplePlain(&buf, s); err != nil {
				return err
			}
		}
		if err := writeOnce(deps, &buf); err != nil {
			return err
		}
		if !live {
			// A live view's next frame would clear them: they wait for the summary.
			printWarnings(deps, sink.Drain())
		}
		select {
		case <-ctx.Done():
			ended = endReason(ctx, duration)
		case <-ticker.C:
			continue
		}
		break
	}
	sum := watch.Summarize(samples, ended, trend.DefaultRule(), deps.Now())
	sum.Warnings = append(sum.Warnings, heapWarnings...)
	var left *model.Attach
	if heap == nil && first.Attach.Unconfirmed() {
		left = first.Attach
	}
	if heap != nil {
		if a := heap.Close(ctx); a.LeftOpen != "" {
			sum.Warnings = append(sum.Warnings, "attach: "+a.LeftOpen)
			left = a
		}
	}
	sum.Warnings = append(sum.Warnings, sink.Drain()...)
	sumOpt := ropt
	if stream {
		sumOpt.Format = report.FormatJSON
	}
	var buf bytes.Buffer
	if live || plainLines {
		buf.WriteString("\n")
	}
	if err := report.RenderWatchSummary(&buf, sum, sumOpt); err != nil {
		return err
	}
	if err := writeOnce(deps, &buf); err != nil {
		return err
	}
	if left.Unconfirmed() {
		printWarnings(deps, withoutString(sum.Warnings, "attach: "+left.LeftOpen))
		return unconfirmedError(pid, left)
	}
	printWarnings(deps, sum.Warnings)
	return findingsError(failing(sum.Findings, opt.failOn), opt.failOn)
}

// endReason tells a finished duration from an interruption (Ctrl-C, SIGTERM).
func endReason(ctx context.Context, duration time.Duration) string {
	if duration > 0 && errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return "duration"
	}
	return "interrupted"
}
