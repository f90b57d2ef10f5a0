package cmd

import (
	"context"
	"errors"

	"github.com/urfave/cli/v3"

	"github.com/nodeinspect/nodeinspect/inspect"
	"github.com/nodeinspect/nodeinspect/inspect/session"
	"github.com/nodeinspect/nodeinspect/inspect/stack"
	"github.com/nodeinspect/nodeinspect/report"
)

// newStackCommand prints the JavaScript stack of a process's main thread (and workers).
func newStackCommand(deps Deps) *cli.Command {
	return &cli.Command{
		Name:      "stack",
		Usage:     "the JavaScript call stack of the main thread now (--workers: each worker too; --samples N --interval D: distinct stacks with counts); always attaches",
		ArgsUsage: "<pid>",
		Flags: append(outputFlags(), anyFlag(),
			&cli.IntFlag{Name: "samples", Value: stack.DefaultSamples, Usage: "pause this many times and print the distinct stacks with their counts, hottest first (1 to 1000)"},
			&cli.DurationFlag{Name: "interval", Value: stack.DefaultInterval, Usage: "time between two pauses of --samples (at least 1ms)"},
			&cli.BoolFlag{Name: "workers", Usage: "also dump each worker thread"},
			attachTimeoutFlag("time limit of each attach step"),
			&cli.BoolFlag{Name: "allow-sigusr1-users", Usage: "send SIGUSR1 even to a process known to use it itself (pm2)"},
		),
		Action: func(ctx context.Context, c *cli.Command) error {
			o, err := readStackOptions(c, deps)
			if err != nil {
				return err
			}
			return runStack(ctx, deps, o)
		},
	}
}

// stackOptions are stack's flags, read once: the pid, the common flags and what to dump.
type stackOptions struct {
	pid   int
	opt   options
	stack stack.Options
}

// readStackOptions reads stack's flags; --samples and --interval are checked together by
// stack.CheckOptions (--interval matters only with more than one sample).
func readStackOptions(c *cli.Command, deps Deps) (stackOptions, error) {
	pid, opt, err := pidAndOptions(c, deps)
	if err != nil {
		return stackOptions{}, err
	}
	samples, interval := int(c.Int("samples")), c.Duration("interval")
	if err := stack.CheckOptions(samples, interval); err != nil {
		return stackOptions{}, usageError("%v", err)
	}
	return stackOptions{pid: pid, opt: opt, stack: stack.Options{
		SessionOptions: inspect.SessionOptions{Options: inspect.Options{
			Any:               opt.any,
			AttachTimeout:     c.Duration("attach-timeout"), // range: attachTimeoutFlag
			CloserBound:       envDuration(deps, "NODEINSPECT_CLOSER_BOUND"),
			Deadman:           envDuration(deps, "NODEINSPECT_DEADMAN"),
			AllowSIGUSR1Users: c.Bool("allow-sigusr1-users"),
		}},
		Samples:  samples,
		Interval: interval,
		Workers:  c.Bool("workers"),
	}}, nil
}

// runStack dumps the stacks of o.pid and prints them.
func runStack(ctx context.Context, deps Deps, o stackOptions) error {
	pid := o.pid
	doc, err := stack.Collect(ctx, newCollector(deps, o.opt), pid, o.stack)
	if err != nil {
		if doc != nil && doc.Attach.Unconfirmed() {
			printWarnings(deps, doc.Warnings)
			return unconfirmedError(pid, doc.Attach)
		}
		var se *session.SessionError
		if errors.As(err, &se) {
			return &ExitError{Code: ExitUsage, Err: err}
		}
		return err
	}
	if err := report.RenderStack(deps.Out, doc, renderOptions(deps, o.opt, "")); err != nil {
		return err
	}
	if doc.Attach.Unconfirmed() {
		printWarnings(deps, withoutString(doc.Warnings, "attach: "+doc.Attach.LeftOpen))
		return unconfirmedError(pid, doc.Attach)
	}
	printWarnings(deps, doc.Warnings)
	return nil
}
