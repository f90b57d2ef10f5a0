package cmd

import (
	"bytes"
	"context"

	"github.com/urfave/cli/v3"

	"github.com/nodeinspect/nodeinspect/inspect/diff"
	"github.com/nodeinspect/nodeinspect/report"
)

// newDiffCommand compares two saved snapshots.
func newDiffCommand(deps Deps) *cli.Command {
	d := diff.DefaultThresholds()
	return &cli.Command{
		Name:      "diff",
		Usage:     "compare two snapshots: what was added, removed, and what grew",
		ArgsUsage: "A.json B.json",
		Flags: append(without(outputFlags(), "proc"),
			failOnFlag(),
			&cli.IntFlag{Name: "min-fd-growth", Value: d.FDs, Usage: "FD_GROWTH when open fds grew by at least this many"},
			&cli.IntFlag{Name: "min-close-wait-growth", Value: d.CloseWait, Usage: "CLOSE_WAIT_GROWTH when CLOSE_WAIT sockets grew by at least this many"},
		),
		Action: func(ctx context.Context, c *cli.Command) error {
			o, err := readDiffOptions(c, deps)
			if err != nil {
				return err
			}
			return runDiff(deps, o)
		},
	}
}

// diffOptions are diff's arguments and flags, read once: the two snapshot files, the
// common flags and the growth thresholds.
type diffOptions struct {
	a, b       string
	opt        options
	thresholds diff.Thresholds
}

// readDiffOptions reads diff's two file arguments and its flags (each growth threshold is
// at least 1: addValidators).
func readDiffOptions(c *cli.Command, deps Deps) (diffOptions, error) {
	if c.NArg() != 2 {
		return diffOptions{}, usageError("diff takes two snapshot files, got %d arguments", c.NArg())
	}
	opt, err := readOptions(c, deps)
	if err != nil {
		return diffOptions{}, err
	}
	th := diff.DefaultThresholds()
	th.FDs, th.CloseWait = int(c.Int("min-fd-growth")), int(c.Int("min-close-wait-growth"))
	return diffOptions{a: c.Args().Get(0), b: c.Args().Get(1), opt: opt, thresholds: th}, nil
}

// runDiff loads the two snapshots, compares them and prints what changed.
func runDiff(deps Deps, o diffOptions) error {
	a, err := loadSnapshot(o.a)
	if err != nil {
		return err
	}
	b, err := loadSnapshot(o.b)
	if err != nil {
		return err
	}
	d := diff.Compare(a, b, o.thresholds, deps.Now())
	var buf bytes.Buffer
	if err := report.RenderDiff(&buf, d, renderOptions(deps, o.opt, "")); err != nil {
		return err
	}
	if err := writeOnce(deps, &buf); err != nil {
		return err
	}
	printWarnings(deps, d.Warnings)
	return findingsError(failing(d.Findings, o.opt.failOn), o.opt.failOn)
}
