package cmd

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v3"

	"github.com/nodeinspect/nodeinspect/inspect"
	"github.com/nodeinspect/nodeinspect/inspect/arm"
	"github.com/nodeinspect/nodeinspect/inspect/model"
	"github.com/nodeinspect/nodeinspect/inspect/session"
	"github.com/nodeinspect/nodeinspect/probes"
	"github.com/nodeinspect/nodeinspect/report"
)

// armDoc is the JSON of `nodeinspect arm`.
type armDoc struct {
	Schema   string          `json:"schema"`
	TakenAt  time.Time       `json:"taken_at"`
	Process  *model.Process  `json:"process"`
	Attach   *model.Attach   `json:"attach"`
	Arm      armResultDoc    `json:"arm"`
	Headroom *model.Headroom `json:"headroom"`
	Warnings []string        `json:"warnings"`
}

type armResultDoc struct {
	Action  string            `json:"action"` // "arm", "show" or "disarm"
	Old     arm.CrashSettings `json:"old"`
	New     arm.CrashSettings `json:"new"`
	Changed []string          `json:"changed"`
	Cwd     string            `json:"cwd"`
}

// newArmCommand is `nodeinspect arm <pid>`.
func newArmCommand(deps Deps) *cli.Command {
	return &cli.Command{
		Name:      "arm",
		Usage:     "switch on crash evidence at run time: a report on fatal error and uncaught exception, the report directory, a heap snapshot near the heap limit; --show, --disarm",
		ArgsUsage: "<pid>",
		Flags: append(sessionFlags(),
			&cli.StringFlag{Name: "dir", Usage: "where the process writes its reports (default: its working directory)"},
			&cli.BoolFlag{Name: "show", Usage: "print what is armed now; change nothing"},
			&cli.BoolFlag{Name: "disarm", Usage: "restore the settings an earlier arm found"},
			&cli.BoolFlag{Name: "no-heap-snapshot", Usage: "do not arm the heap snapshot near the heap limit (it cannot be switched off again)"},
		),
		Action: func(ctx context.Context, c *cli.Command) error {
			o, err := readArmOptions(c, deps)
			if err != nil {
				return err
			}
			return runArm(ctx, deps, o)
		},
	}
}

// armOptions are arm's flags, read once: show and disarm are --show and --disarm (at most
// one), dir the absolute --dir ("" for the process's working directory), heapSnapshot is
// not --no-heap-snapshot.
type armOptions struct {
	attachedCommand
	show, disarm, heapSnapshot bool
	dir                        string
}

// readArmOptions reads arm's flags and checks --dir.
func readArmOptions(c *cli.Command, deps Deps) (armOptions, error) {
	a, err := readAttachedCommand(c, deps)
	if err != nil {
		return armOptions{}, err
	}
	o := armOptions{attachedCommand: a, show: c.Bool("show"), disarm: c.Bool("disarm"), heapSnapshot: !c.Bool("no-heap-snapshot"), dir: c.String("dir")}
	if o.show && o.disarm {
		return o, usageError("--show and --disarm contradict each other")
	}
	if o.dir != "" && (o.show || o.disarm) {
		return o, usageError("--dir applies to arming, not to --show or --disarm")
	}
	if o.dir != "" {
		abs, err := filepath.Abs(o.dir)
		if err != nil {
			return o, usageError("--dir %s: %v", o.dir, err)
		}
		st, err := os.Stat(abs)
		if err != nil || !st.IsDir() {
			return o, usageError("--dir %s is not a directory", o.dir)
		}
		o.dir = abs
	}
	return o, nil
}

// runArm arms, shows or disarms the crash evidence of o.pid and prints what changed.
func runArm(ctx context.Context, deps Deps, o armOptions) error {
	pid, opt := o.pid, o.opt
	s, err := openCommandSession(ctx, deps, o.attachedCommand)
	if err != nil {
		return err
	}
	doc := &armDoc{Schema: model.Schema, TakenAt: deps.Now().UTC(), Process: s.Process, Warnings: s.Warnings()}
	err = armOnce(ctx, deps, o, s, doc)
	a := s.Close(ctx)
	doc.Attach = a
	if err != nil {
		if a.Unconfirmed() {
			printWarnings(deps, []string{err.Error()})
			return unconfirmedError(pid, a)
		}
		return err
	}
	var buf bytes.Buffer
	if opt.format == report.FormatJSON {
		if doc.Warnings == nil {
			doc.Warnings = []string{}
		}
		if doc.Arm.Changed == nil {
			doc.Arm.Changed = []string{}
		}
		if err := report.WriteJSONDocument(&buf, doc, !deps.IsTTY); err != nil {
			return err
		}
	} else {
		textArm(&buf, doc)
	}
	if err := writeOnce(deps, &buf); err != nil {
		return err
	}
	if a.Unconfirmed() {
		printWarnings(deps, withoutString(doc.Warnings, "attach: "+a.LeftOpen))
		return unconfirmedError(pid, a)
	}
	printWarnings(deps, doc.Warnings)
	return nil
}

// armOnce does the one short conversation of an arm, show or disarm.
func armOnce(ctx context.Context, deps Deps, o armOptions, s *session.Session, doc *armDoc) error {
	pid, ticks, dir := s.PID(), s.StartTicks(), o.dir
	switch {
	case o.show:
		doc.Arm.Action = "show"
		r, err := arm.CrashEvidence(ctx, s, nil)
		if err != nil {
			return err
		}
		doc.Arm.Old, doc.Arm.New, doc.Arm.Cwd = r.Old, r.New, r.Cwd
		return nil
	case o.disarm:
		doc.Arm.Action = "disarm"
		st, err := arm.ReadState(pid, ticks)
		if err != nil {
			return err
		}
		if !st.Active() {
			return usageError("no arm of nodeinspect is recorded for process %d; nothing was changed (see `nodeinspect arm %d --show`)", pid, pid)
		}
		want := st.Old
		want.HeapSnapshotNearHeapLimit = false
		r, err := arm.CrashEvidence(ctx, s, &want)
		if err != nil {
			return err
		}
		doc.Arm.Old, doc.Arm.New, doc.Arm.Cwd = r.Old, r.New, r.Cwd
		doc.Arm.Changed = changedSettings(r.Old, r.New)
		if r.New.HeapSnapshotNearHeapLimit {
			doc.Warnings = append(doc.Warnings, "the heap snapshot near the heap limit stays armed: V8 cannot switch it off at run time (it is written once, to the process's working directory)")
		}
		return arm.ClearState(pid, ticks, r.New.HeapSnapshotNearHeapLimit)
	}
	doc.Arm.Action = "arm"
	want := arm.CrashSettings{ReportOnFatalError: true, ReportOnUncaughtException: true, ReportDirectory: dir, HeapSnapshotNearHeapLimit: o.heapSnapshot}
	if dir == "" {
		cwd, err := os.Readlink(probes.NewFS(o.opt.proc).PidPath(pid, "cwd"))
		if err != nil {
			return fmt.Errorf("read the working directory of process %d (give --dir): %w", pid, err)
		}
		want.ReportDirectory = cwd
	}
	r, err := arm.CrashEvidence(ctx, s, &want)
	if err != nil {
		return err
	}
	doc.Arm.Old, doc.Arm.New, doc.Arm.Cwd = r.Old, r.New, r.Cwd
	doc.Arm.Changed = changedSettings(r.Old, r.New)
	if want.HeapSnapshotNearHeapLimit && !r.NearLimitSupported {
		doc.Warnings = append(doc.Warnings, "this Node.js version has no v8.setHeapSnapshotNearHeapLimit: no heap snapshot will be written near the heap limit")
	}
	if r.New.HeapSnapshotNearHeapLimit && !r.Old.HeapSnapshotNearHeapLimit {
		hr, err := inspect.ReadHeadroom(ctx, probes.NewFS(o.opt.proc), pid, r.HeapLimitBytes)
		if err == nil {
			doc.Headroom = &hr
			note := "the heap snapshot near the heap limit pauses the process and needs about as much memory again as the heap limit (" + strconv.FormatUint(r.HeapLimitBytes>>20, 10) + " MiB); it is written to " + r.Cwd
			if !hr.Fits() {
				note += "; memory is short: " + hr.Sentence() + " (rearm with --no-heap-snapshot is not possible: V8 cannot switch it off)"
			}
			doc.Warnings = append(doc.Warnings, note)
		}
	}
	return arm.WriteState(pid, ticks, r.Old, r.New.HeapSnapshotNearHeapLimit, deps.Now())
}

func changedSettings(old, new arm.CrashSettings) []string {
	var out []string
	if old.ReportOnFatalError != new.ReportOnFatalError {
		out = append(out, "report_on_fatal_error")
	}
	if old.ReportOnUncaughtException != new.ReportOnUncaughtException {
		out = append(out, "report_on_uncaught_exception")
	}
	if old.ReportDirectory != new.ReportDirectory {
		out = append(out, "report_directory")
	}
	if old.HeapSnapshotNearHeapLimit != new.HeapSnapshotNearHeapLimit {
		out = append(out, "heap_snapshot_near_heap_limit")
	}
	return out
}

func textArm(buf *bytes.Buffer, doc *armDoc) {
	title := map[string]string{"arm": "armed", "show": "crash evidence settings of", "disarm": "disarmed"}[doc.Arm.Action]
	fmt.Fprintf(buf, "%s process %d\n", title, doc.Process.PID)
	dirText := func(d string) string {
		if d == "" {
			return "(working directory: " + doc.Arm.Cwd + ")"
		}
		return d
	}
	tw := tabwriter.NewWriter(buf, 0, 0, 2, ' ', 0)
	row := func(name string, old, new string) {
		if doc.Arm.Action == "show" {
			fmt.Fprintf(tw, "  %s\t%s\n", name, new)
			return
		}
		mark := "unchanged"
		if old != new {
			mark = "was " + old
		}
		fmt.Fprintf(tw, "  %s\t%s\t(%s)\n", name, new, mark)
	}
	o, n := doc.Arm.Old, doc.Arm.New
	row("report on fatal error", strconv.FormatBool(o.ReportOnFatalError), strconv.FormatBool(n.ReportOnFatalError))
	row("report on uncaught exception", strconv.FormatBool(o.ReportOnUncaughtException), strconv.FormatBool(n.ReportOnUncaughtException))
	row("report directory", dirText(o.ReportDirectory), dirText(n.ReportDirectory))
	row("heap snapshot near heap limit", strconv.FormatBool(o.HeapSnapshotNearHeapLimit), strconv.FormatBool(n.HeapSnapshotNearHeapLimit))
	tw.Flush()
}
