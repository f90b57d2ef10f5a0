package cmd

import (
	"context"
	"fmt"
	"time"

	"github.com/urfave/cli/v3"

	"github.com/nodeinspect/nodeinspect/inspect"
	"github.com/nodeinspect/nodeinspect/inspect/target"
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
		attachTimeoutFlag("time limit of each --attach step"),
		&cli.BoolFlag{Name: "follow", Usage: "with --attach on a launcher (npm, npx, yarn, pnpm, a shell): attach to the Node.js app it runs"},
		&cli.BoolFlag{Name: "allow-sigusr1-users", Usage: "with --attach: send SIGUSR1 even to a process known to use it itself (pm2)"},
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
			o, err := readSnapshotOptions(c, deps, sections)
			if err != nil {
				return err
			}
			return runSnapshot(ctx, deps, o, view)
		},
	}
}

// snapshotOptions are the flags of a per-process command (report, fds, sockets, mem,
// tree, and snapshot's but -o), read once: the pid, the common flags and what the
// collector is asked to read.
type snapshotOptions struct {
	pid     int
	opt     options
	collect inspect.Options
}

// readSnapshotOptions reads the pid and the flags of a per-process command that reads
// sections of a snapshot.
func readSnapshotOptions(c *cli.Command, deps Deps, sections inspect.Sections) (snapshotOptions, error) {
	pid, opt, err := pidAndOptions(c, deps)
	if err != nil {
		return snapshotOptions{}, err
	}
	return snapshotOptions{pid: pid, opt: opt, collect: collectOptions(deps, opt, sections)}, nil
}

// runSnapshot collects, renders and decides the exit code of one per-process command.
func runSnapshot(ctx context.Context, deps Deps, o snapshotOptions, view report.View) error {
	opt := o.opt
	pid, err := followPid(deps, opt, o.pid)
	if err != nil {
		return err
	}
	snap, err := newCollector(deps, opt).Collect(ctx, pid, o.collect)
	if err != nil {
		return err
	}
	// Render writes the whole document in one call: no second copy of a large table here.
	if err := report.Render(deps.Out, snap, renderOptions(deps, opt, view)); err != nil {
		return err
	}
	if snap.Attach.Unconfirmed() {
		// The exit line says what is left open: not twice.
		printWarnings(deps, withoutString(snap.Warnings, "attach: "+snap.Attach.LeftOpen))
		return unconfirmedError(pid, snap.Attach)
	}
	printWarnings(deps, snap.Warnings)
	return findingsError(failing(snap.Findings, opt.failOn), opt.failOn)
}

// followPid is pid, or with --attach --follow the Node.js app a launcher pid runs.
func followPid(deps Deps, opt options, pid int) (int, error) {
	if !opt.attach || !opt.follow {
		return pid, nil
	}
	app, err := target.FollowLauncher(probes.NewFS(opt.proc), pid)
	if err != nil {
		return 0, &ExitError{Code: ExitNotNode, Err: err}
	}
	if app != pid {
		printWarnings(deps, []string{fmt.Sprintf("--follow: process %d is a launcher; attaching to the Node.js app below it, pid %d", pid, app)})
	}
	return app, nil
}

// collectOptions are the collector's options for the sections of a snapshot, from the
// command line's flags and the environment's knobs.
func collectOptions(deps Deps, opt options, sections inspect.Sections) inspect.Options {
	return inspect.Options{
		Sections:          sections,
		Any:               opt.any,
		Sample:            opt.sample,
		SampleEvery:       inspect.DefaultSampleEvery,
		Thresholds:        opt.thresholds,
		Attach:            opt.attach,
		AttachTimeout:     opt.attachTimeout,
		SocketSource:      deps.Getenv("NODEINSPECT_SOCKET_SOURCE"),
		CloserBound:       envDuration(deps, "NODEINSPECT_CLOSER_BOUND"),
		Deadman:           envDuration(deps, "NODEINSPECT_DEADMAN"),
		AllowSIGUSR1Users: opt.allowSIGUSR1Users,
	}
}

// envDuration reads a duration from the environment (0 when unset or malformed): the
// hidden knobs tests use to shorten the closer's bound and the dead-man's switch.
func envDuration(deps Deps, key string) time.Duration {
	d, err := time.ParseDuration(deps.Getenv(key))
	if err != nil || d < 0 {
		return 0
	}
	return d
}

// newCollector builds a collector over the --proc root with the injected clock and users.
func newCollector(deps Deps, opt options) *inspect.Collector {
	col := inspect.NewCollector(probes.NewFS(opt.proc))
	col.Now = deps.Now
	if deps.UserName != nil {
		col.UserName = deps.UserName
	}
	return col
}
