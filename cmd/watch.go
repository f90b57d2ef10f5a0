package cmd

import (
	"context"
	"time"

	"github.com/urfave/cli/v3"

	"github.com/nodeinspect/nodeinspect/inspect"
	"github.com/nodeinspect/nodeinspect/inspect/closer"
	"github.com/nodeinspect/nodeinspect/inspect/watch"
	"github.com/nodeinspect/nodeinspect/report"
)

// Bounds of --interval: faster than 100 ms costs the target more than it tells; slower than
// an hour is a cron job, not a watch.
const (
	minWatchInterval = 100 * time.Millisecond
	maxWatchInterval = time.Hour
)

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

// runWatch runs the watch of o: the collector's options and the view from the flags, the
// exit code from how it ended.
func runWatch(ctx context.Context, deps Deps, o watchOptions) error {
	opt, pid := o.opt, o.pid
	col := newCollector(deps, opt)
	wo := watch.Options{Interval: o.interval, Duration: o.duration, Attach: opt.attach,
		Collect: inspect.Options{Any: opt.any, Thresholds: opt.thresholds},
		View:    watchView(deps, opt), Render: report.Options{Format: opt.format, Color: opt.color, Width: deps.Width},
		TermWidth: deps.TermWidth, Out: deps.Out, Warn: func(w []string) { printWarnings(deps, w) }, Now: deps.Now}
	if opt.attach {
		// One inspector session for the whole watch.
		c := &wo.Collect
		c.Sections, c.Sample, c.AttachTimeout = inspect.SectionLoop, inspect.DefaultSampleWindow, opt.attachTimeout
		c.CloserBound, c.AllowSIGUSR1Users = envDuration(deps, "NODEINSPECT_CLOSER_BOUND"), opt.allowSIGUSR1Users
		// The dead-man's switch is re-armed at each sample: it must outlast the interval.
		c.Deadman = max(envDuration(deps, "NODEINSPECT_DEADMAN"), 3*o.interval)
		if envDuration(deps, "NODEINSPECT_DEADMAN") == 0 {
			c.Deadman = max(closer.DefaultDeadman, 3*o.interval)
		}
		var err error
		if pid, err = followPid(deps, opt, pid); err != nil {
			return err
		}
	}
	wo.PID = pid
	res, err := watch.Run(ctx, col, wo)
	if err != nil {
		return err
	}
	if res.Left.Unconfirmed() {
		return unconfirmedError(pid, res.Left)
	}
	return findingsError(failing(res.Summary.Findings, opt.failOn), opt.failOn)
}

// watchView is how watch shows its samples: a live view on a terminal (table or plain),
// plain lines for --format plain without one, the summary only for markdown, else JSON
// lines.
func watchView(deps Deps, opt options) watch.View {
	switch {
	case deps.IsTTY && (opt.format == report.FormatTable || opt.format == report.FormatPlain):
		return watch.ViewLive
	case opt.format == report.FormatPlain && opt.formatGiven:
		return watch.ViewPlainLines
	case opt.format == report.FormatMarkdown:
		return watch.ViewSummary
	}
	return watch.ViewJSONLines
}
