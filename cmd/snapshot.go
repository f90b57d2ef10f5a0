package cmd

import (
	"context"

	"github.com/urfave/cli/v3"

	"github.com/nodeinspect/nodeinspect/inspect"
	"github.com/nodeinspect/nodeinspect/probes"
	"github.com/nodeinspect/nodeinspect/report"
)

// snapshotFlags are the flags of the per-process commands.
func snapshotFlags() []cli.Flag {
	return append(append(append(outputFlags(), findingFlags()...), sampleFlag()), attachFlags()...)
}

// commandFlags are the flags of the per-process command name: tree shows nothing an
// attach reads, so it does not offer --attach (which would open the inspector for nothing).
func commandFlags(name string) []cli.Flag {
	if name == "tree" {
		return without(snapshotFlags(), "attach", "attach-timeout")
	}
	return snapshotFlags()
}

// attachFlags are --attach and its time limit.
func attachFlags() []cli.Flag {
	return []cli.Flag{
		&cli.BoolFlag{Name: "attach", Usage: "ask the process itself through its inspector (opens it with SIGUSR1 for the duration when it is not open; see README)"},
		&cli.DurationFlag{Name: "attach-timeout", Value: inspect.DefaultAttachTimeout, Usage: "time limit of each --attach step"},
	}
}

// newSnapshotCommand builds a per-process command that collects sections of one snapshot
// and renders it with view.
func newSnapshotCommand(deps Deps, name, usage string, view report.View, sections inspect.Sections) *cli.Command {
	return &cli.Command{
		Name:      name,
		Usage:     usage,
		ArgsUsage: "<pid>",
		Flags:     commandFlags(name),
		Action: func(ctx context.Context, c *cli.Command) error {
			pid, opt, err := pidAndOptions(c, deps)
			if err != nil {
				return err
			}
			return runSnapshot(ctx, deps, opt, pid, view, sections)
		},
	}
}

// runSnapshot collects, renders and decides the exit code of one per-process command.
func runSnapshot(ctx context.Context, deps Deps, opt options, pid int, view report.View, sections inspect.Sections) error {
	snap, err := collect(ctx, deps, opt, pid, sections)
	if err != nil {
		return err
	}
	// Render writes the whole document in one call: no second copy of a large table here.
	if err := report.Render(deps.Out, snap, renderOptions(deps, opt, view)); err != nil {
		return err
	}
	printWarnings(deps, snap.Warnings)
	return findingsError(failing(snap.Findings, opt.failOn), opt.failOn)
}

// collect reads one snapshot of pid with the options of the command line.
func collect(ctx context.Context, deps Deps, opt options, pid int, sections inspect.Sections) (*inspect.Snapshot, error) {
	col := newCollector(deps, opt)
	return col.Collect(ctx, pid, inspect.Options{
		Sections:      sections,
		Any:           opt.any,
		Sample:        opt.sample,
		SampleEvery:   inspect.DefaultSampleEvery,
		Thresholds:    opt.thresholds,
		Attach:        opt.attach,
		AttachTimeout: opt.attachTimeout,
		SocketSource:  getenv(deps, "NODEINSPECT_SOCKET_SOURCE"),
	})
}

// newCollector builds a collector over the --proc root with the injected clock and users.
func newCollector(deps Deps, opt options) *inspect.Collector {
	col := inspect.NewCollector(probes.NewFS(opt.proc))
	if deps.Now != nil {
		col.Now = deps.Now
	}
	if deps.UserName != nil {
		col.UserName = deps.UserName
	}
	return col
}

// getenv reads the environment through deps ("" when deps has no Getenv).
func getenv(deps Deps, key string) string {
	if deps.Getenv == nil {
		return ""
	}
	return deps.Getenv(key)
}
