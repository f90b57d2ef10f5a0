package cmd

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/urfave/cli/v3"

	"github.com/nodeinspect/nodeinspect/inspect/closer"
	"github.com/nodeinspect/nodeinspect/inspect/model"
	"github.com/nodeinspect/nodeinspect/probes"
	"github.com/nodeinspect/nodeinspect/report"
)

// newDetachCommand closes an inspector nodeinspect opened (--force: any).
func newDetachCommand(deps Deps) *cli.Command {
	return &cli.Command{
		Name:      "detach",
		Usage:     "close an inspector nodeinspect opened in a process (--force: any open inspector)",
		ArgsUsage: "<pid>",
		Flags: append(outputFlags(),
			&cli.BoolFlag{Name: "force", Usage: "close every open inspector of the process, also one nodeinspect did not open"},
		),
		Action: func(ctx context.Context, c *cli.Command) error {
			o, err := readDetachOptions(c, deps)
			if err != nil {
				return err
			}
			return runDetach(ctx, deps, o)
		},
	}
}

// detachOptions are detach's flags, read once: the pid as given (unlike pidAndOptions,
// detach does not resolve a thread id to its process), the common flags and --force.
type detachOptions struct {
	pid   int
	opt   options
	force bool
}

// readDetachOptions reads detach's pid and flags.
func readDetachOptions(c *cli.Command, deps Deps) (detachOptions, error) {
	pid, err := pidArg(c)
	if err != nil {
		return detachOptions{}, err
	}
	opt, err := readOptions(c, deps)
	if err != nil {
		return detachOptions{}, err
	}
	return detachOptions{pid: pid, opt: opt, force: c.Bool("force")}, nil
}

// runDetach closes the inspectors of o.pid and says what it did; one still open is exit 6.
func runDetach(ctx context.Context, deps Deps, o detachOptions) error {
	pid := o.pid
	res, err := closer.Detach(context.WithoutCancel(ctx), probes.NewFS(o.opt.proc), pid, o.force)
	if err != nil {
		return err
	}
	if o.opt.format == report.FormatJSON {
		out := struct {
			Schema string `json:"schema"`
			*closer.DetachResult
		}{model.Schema, res}
		data, _ := json.Marshal(out)
		if _, err := deps.Out.Write(append(data, '\n')); err != nil {
			return fmt.Errorf("write output: %w", err)
		}
	} else {
		printDetach(deps, res)
	}
	if len(res.StillOpen) > 0 {
		return &ExitError{Code: ExitUnconfirmed, Err: fmt.Errorf("the inspector of process %d on %s is still open: %s", pid, strings.Join(res.StillOpen, ", "), strings.Join(res.Notes, "; "))}
	}
	return nil
}

// printDetach writes what detach did, one line each.
func printDetach(deps Deps, res *closer.DetachResult) {
	for _, a := range res.Closed {
		fmt.Fprintf(deps.Out, "closed the inspector of process %d on %s\n", res.PID, a)
	}
	for _, a := range res.NotOurs {
		fmt.Fprintf(deps.Out, "left open: the inspector of process %d on %s, which nodeinspect did not open (--force closes it)\n", res.PID, a)
	}
	if len(res.Closed)+len(res.StillOpen)+len(res.NotOurs) == 0 {
		what := "no inspector is open"
		if res.Recorded != nil && res.Recorded.State == "waiting" {
			what = fmt.Sprintf("no inspector is open yet; nodeinspect's closer (pid %d) closes one that opens until %s", res.Recorded.CloserPID, res.Recorded.Until.Format("15:04:05 MST"))
		}
		fmt.Fprintf(deps.Out, "process %d: %s\n", res.PID, what)
	}
}
