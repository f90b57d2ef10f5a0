package cmd

import (
	"fmt"
	"strings"
	"time"

	"github.com/urfave/cli/v3"

	"github.com/nodeinspect/nodeinspect/inspect"
	"github.com/nodeinspect/nodeinspect/inspect/model"
	"github.com/nodeinspect/nodeinspect/inspect/rules"
	"github.com/nodeinspect/nodeinspect/report"
)

// options are the common flags of the contract, read and checked once per run.
type options struct {
	format     report.Format
	color      bool
	failOn     model.Severity // "" means never
	any        bool
	proc       string
	sample     time.Duration
	thresholds rules.Thresholds
	// attach and attachTimeout are --attach and --attach-timeout.
	attach        bool
	attachTimeout time.Duration
	// formatGiven is set when --format or --json was given, not guessed from the terminal.
	formatGiven bool
	// follow and allowSIGUSR1Users are --follow and --allow-sigusr1-users.
	follow            bool
	allowSIGUSR1Users bool
}

// outputFlags are the flags of every command that prints something.
func outputFlags() []cli.Flag {
	return []cli.Flag{
		&cli.BoolFlag{Name: "json", Usage: "print JSON (schema nodeinspect/v1) and nothing else on stdout"},
		&cli.StringFlag{Name: "format", Usage: "output format: table, plain, json or markdown (default: table on a terminal, plain when piped)",
			Validator: formatValue},
		&cli.BoolFlag{Name: "no-color", Usage: "no colour (also when NO_COLOR is set)"},
		procFlag(),
	}
}

// procFlag is --proc, the proc root to read, checked as it is parsed (procValue).
func procFlag() cli.Flag {
	return &cli.StringFlag{Name: "proc", Value: "", Usage: "read another proc tree, e.g. a host's /proc mounted into a container (default /proc)",
		Validator: procValue}
}

// findingFlags are the flags of every command that evaluates findings.
func findingFlags() []cli.Flag {
	d := rules.DefaultThresholds()
	return []cli.Flag{
		failOnFlag(),
		anyFlag(),
		&cli.FloatFlag{Name: "emfile-warning", Value: d.EMFILEWarning * 100, Usage: "EMFILE_RISK warning at this percentage of the soft open-files limit"},
		&cli.FloatFlag{Name: "emfile-critical", Value: d.EMFILECritical * 100, Usage: "EMFILE_RISK critical at this percentage"},
		&cli.IntFlag{Name: "close-wait-warning", Value: d.CloseWaitWarning, Usage: "CLOSE_WAIT_LEAK warning at this many sockets"},
		&cli.IntFlag{Name: "close-wait-critical", Value: d.CloseWaitCritical, Usage: "CLOSE_WAIT_LEAK critical at this many sockets"},
		&cli.FloatFlag{Name: "backlog-percent", Value: d.BacklogFraction * 100, Usage: "LISTEN_BACKLOG when an accept queue is this full (where the backlog size is known)"},
		&cli.FloatFlag{Name: "heap-warning", Value: d.HeapWarning * 100, Usage: "HEAP_NEAR_LIMIT warning at this percentage of the point where V8 may end the process (80% of the old generation's limit)"},
		&cli.FloatFlag{Name: "heap-critical", Value: d.HeapCritical * 100, Usage: "HEAP_NEAR_LIMIT critical at this percentage"},
		&cli.FloatFlag{Name: "external-ratio", Value: d.ExternalRatio, Usage: "EXTERNAL_MEMORY when RSS is at least this many times the V8 heap total"},
		&cli.UintFlag{Name: "external-min-mib", Value: uint(d.ExternalMinBytes >> 20), Usage: "EXTERNAL_MEMORY only when RSS is at least this many MiB above the heap total"},
		&cli.IntFlag{Name: "stalled-warning", Value: d.StalledWarning, Usage: "STALLED_SOCKETS warning at this many TCP connections whose queues do not drain through the sample window"},
		&cli.FloatFlag{Name: "container-memory-warning", Value: d.ContainerMemoryWarning * 100, Usage: "CONTAINER_MEMORY_NEAR_LIMIT warning at this percentage of the cgroup's memory limit (working set)"},
		&cli.FloatFlag{Name: "container-memory-critical", Value: d.ContainerMemoryCritical * 100, Usage: "CONTAINER_MEMORY_NEAR_LIMIT critical at this percentage"},
		&cli.FloatFlag{Name: "cpu-throttled-percent", Value: d.CPUThrottledFraction * 100, Usage: "CPU_THROTTLED when throttled in this percentage of the window's CFS periods"},
		&cli.FloatFlag{Name: "pids-percent", Value: d.PidsFraction * 100, Usage: "PIDS_NEAR_LIMIT at this percentage of the cgroup's pids.max"},
		&cli.DurationFlag{Name: "delay-warning", Value: time.Duration(d.DelayWarningMS) * time.Millisecond, Usage: "EVENT_LOOP_DELAY warning at this p99 event-loop delay (--attach)",
			Validator: durationAtLeast("delay-warning", time.Millisecond)},
		&cli.DurationFlag{Name: "delay-critical", Value: time.Duration(d.DelayCriticalMS) * time.Millisecond, Usage: "EVENT_LOOP_DELAY critical at this p99 event-loop delay (--attach)",
			Validator: durationAtLeast("delay-critical", time.Millisecond)},
	}
}

// sampleFlag is the event-loop sampling window.
func sampleFlag() cli.Flag {
	return &cli.DurationFlag{Name: "sample", Value: inspect.DefaultSampleWindow, Usage: "event-loop sampling window (0 turns it off)",
		Validator: durationIn("sample", 0, maxSampleWindow, "0 (off) up to 1m")}
}

// readOptions reads the common flags of c once, and checks what one flag's Validator
// cannot: flags that contradict each other or only apply together.
func readOptions(c *cli.Command, deps Deps) (options, error) {
	o := options{proc: deps.Proc, thresholds: rules.DefaultThresholds()}
	// The values of --proc, --format and --fail-on are checked as they are parsed: the
	// flags' Validators (flagvalues.go).
	if v := c.String("proc"); v != "" {
		o.proc = v
	}
	format := strings.ToLower(c.String("format"))
	if c.Bool("json") {
		if format != "" && format != "json" {
			return o, usageError("--json and --format %s contradict each other", format)
		}
		format = "json"
	}
	o.formatGiven = format != ""
	if format == "" {
		format = "plain"
		if deps.IsTTY {
			format = "table"
		}
	}
	o.format = report.Format(format)
	o.color = deps.IsTTY && !c.Bool("no-color") && deps.Getenv("NO_COLOR") == "" && o.format == report.FormatTable

	if hasFlag(c, "fail-on") {
		o.failOn = failOnSeverity(c.String("fail-on"))
	}
	if hasFlag(c, "any") {
		o.any = c.Bool("any")
	}
	if hasFlag(c, "sample") {
		o.sample = c.Duration("sample") // range: sampleFlag's Validator
	}
	if hasFlag(c, "attach") {
		o.attach = c.Bool("attach")
		if c.IsSet("attach-timeout") && !o.attach {
			return o, usageError("--attach-timeout applies to --attach only: give --attach too, or leave it out")
		}
		o.attachTimeout = c.Duration("attach-timeout")
		o.follow = c.Bool("follow")
		o.allowSIGUSR1Users = c.Bool("allow-sigusr1-users") // --attach-timeout's range: attachTimeoutFlag
	}
	if hasFlag(c, "emfile-warning") {
		t := &o.thresholds
		t.EMFILEWarning = c.Float("emfile-warning") / 100
		t.EMFILECritical = c.Float("emfile-critical") / 100
		t.CloseWaitWarning = int(c.Int("close-wait-warning"))
		t.CloseWaitCritical = int(c.Int("close-wait-critical"))
		t.BacklogFraction = c.Float("backlog-percent") / 100
		t.HeapWarning = c.Float("heap-warning") / 100
		t.HeapCritical = c.Float("heap-critical") / 100
		t.ExternalRatio = c.Float("external-ratio")
		t.ExternalMinBytes = uint64(c.Uint("external-min-mib")) << 20
		t.StalledWarning = int(c.Int("stalled-warning"))
		t.ContainerMemoryWarning = c.Float("container-memory-warning") / 100
		t.ContainerMemoryCritical = c.Float("container-memory-critical") / 100
		t.CPUThrottledFraction = c.Float("cpu-throttled-percent") / 100
		t.PidsFraction = c.Float("pids-percent") / 100
		t.DelayWarningMS = int(c.Duration("delay-warning").Milliseconds())
		t.DelayCriticalMS = int(c.Duration("delay-critical").Milliseconds())
		// Each value is positive (and a percentage at most 100): the flags' Validators.
	}
	if err := checkThresholdPairs(c); err != nil {
		return o, err
	}
	return o, nil
}

// hasFlag reports whether c defines a flag named name.
func hasFlag(c *cli.Command, name string) bool {
	for _, f := range c.Flags {
		for _, n := range f.Names() {
			if n == name {
				return true
			}
		}
	}
	return false
}

// failing returns the findings at or above the --fail-on severity.
func failing(findings []model.Finding, failOn model.Severity) []model.Finding {
	if failOn == "" {
		return nil
	}
	var out []model.Finding
	for _, f := range findings {
		if f.Severity.Rank() >= failOn.Rank() {
			out = append(out, f)
		}
	}
	return out
}

// findingsError is the exit-1 result: one line naming what failed the run.
func findingsError(failed []model.Finding, failOn model.Severity) error {
	if len(failed) == 0 {
		return nil
	}
	names := make([]string, 0, len(failed))
	for i, f := range failed {
		if i == 5 {
			names = append(names, fmt.Sprintf("and %d more", len(failed)-5))
			break
		}
		names = append(names, string(f.Code)+" ("+string(f.Severity)+")")
	}
	return &ExitError{Code: ExitFindings, Err: fmt.Errorf("%d findings at or above %s: %s", len(failed), failOn, strings.Join(names, ", "))}
}

// renderOptions are the report options of a command: its format and view, colour and width
// from the terminal, and compact JSON when stdout is not a terminal.
func renderOptions(deps Deps, opt options, view report.View) report.Options {
	return report.Options{Format: opt.format, View: view, Color: opt.color, Width: deps.Width, CompactJSON: !deps.IsTTY}
}

// failOnFlag is --fail-on, on every command that makes findings.
func failOnFlag() cli.Flag {
	return &cli.StringFlag{Name: "fail-on", Value: "critical", Usage: "exit 1 when a finding is at or above this severity: info, warning, critical or never",
		Validator: failOnValue}
}

// anyFlag is --any.
func anyFlag() cli.Flag {
	return &cli.BoolFlag{Name: "any", Usage: "inspect a process that is not Node.js"}
}
