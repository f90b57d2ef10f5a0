package cmd

import (
	"bytes"
	"context"
	"fmt"

	"github.com/urfave/cli/v3"

	"github.com/nodeinspect/nodeinspect/inspect"
	"github.com/nodeinspect/nodeinspect/report"
)

// newPSCommand lists every Node.js process on the host, worst first.
func newPSCommand(deps Deps) *cli.Command {
	return &cli.Command{
		Name:  "ps",
		Usage: "every Node.js process on the host, one row each, with its flags (finding codes)",
		Flags: append(append(outputFlags(), findingFlags()...), sampleFlag()),
		Action: func(ctx context.Context, c *cli.Command) error {
			if c.NArg() > 0 {
				return usageError("ps takes no arguments, got %q", c.Args().First())
			}
			opt, err := readOptions(c, deps)
			if err != nil {
				return err
			}
			res, err := newCollector(deps, opt).PS(ctx, inspect.PSOptions{Any: opt.any, Thresholds: opt.thresholds, Sample: opt.sample})
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
			var all []inspect.Finding
			for _, p := range res.Processes {
				for _, f := range p.Findings {
					f.Code = fmt.Sprintf("%s in pid %d", f.Code, p.PID)
					all = append(all, f)
				}
			}
			return findingsError(failing(all, opt.failOn), opt.failOn)
		},
	}
}
