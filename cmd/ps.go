package cmd

import (
	"bytes"
	"context"
	"fmt"

	"github.com/urfave/cli/v3"

	"github.com/nodeinspect/nodeinspect/inspect/model"
	"github.com/nodeinspect/nodeinspect/inspect/ps"
	"github.com/nodeinspect/nodeinspect/report"
)

// newPSCommand lists every Node.js process on the host, worst first.
func newPSCommand(deps Deps) *cli.Command {
	return &cli.Command{
		Name:  "ps",
		Usage: "every Node.js process on the host, one row each, with its flags (finding codes)",
		Flags: append(append(outputFlags(), findingFlags()...), sampleFlag(), &cli.StringFlag{Name: "container", Usage: "only the processes of this container: a prefix of its id, or its pod uid"}),
		Action: func(ctx context.Context, c *cli.Command) error {
			o, err := readPSOptions(c, deps)
			if err != nil {
				return err
			}
			return runPS(ctx, deps, o)
		},
	}
}

// psOptions are ps's flags, read once: the common flags and what the scan is asked for.
type psOptions struct {
	opt options
	ps  ps.Options
}

// readPSOptions reads ps's flags; ps takes no arguments.
func readPSOptions(c *cli.Command, deps Deps) (psOptions, error) {
	if c.NArg() > 0 {
		return psOptions{}, usageError("ps takes no arguments, got %q", c.Args().First())
	}
	opt, err := readOptions(c, deps)
	if err != nil {
		return psOptions{}, err
	}
	return psOptions{opt: opt, ps: ps.Options{Any: opt.any, Thresholds: opt.thresholds, Sample: opt.sample, Container: c.String("container")}}, nil
}

// runPS scans every Node.js process, prints one row each and fails on their findings.
func runPS(ctx context.Context, deps Deps, o psOptions) error {
	opt := o.opt
	res, err := ps.Scan(ctx, newCollector(deps, opt), o.ps)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := report.RenderPS(&buf, res, renderOptions(deps, opt, report.ViewPS)); err != nil {
		return err
	}
	if err := writeOnce(deps, &buf); err != nil {
		return err
	}
	printWarnings(deps, res.Warnings)
	var all []model.Finding
	for _, p := range res.Processes {
		for _, f := range p.Findings {
			f.Code = model.Code(fmt.Sprintf("%s in pid %d", f.Code, p.PID))
			all = append(all, f)
		}
	}
	return findingsError(failing(all, opt.failOn), opt.failOn)
}
