package cmd

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/urfave/cli/v3"

	"github.com/nodeinspect/nodeinspect/inspect"
	"github.com/nodeinspect/nodeinspect/inspect/diff"
	"github.com/nodeinspect/nodeinspect/inspect/model"
	"github.com/nodeinspect/nodeinspect/inspect/rules"
)

// readWith parses args with the real command tree, its flags,
// their Validators and the argument canonicalisation, and instead of running the command
// reads its options with read (whichever command the line names). A command line refused before the action (a Validator, a
// flag the command does not have) returns that error.
func readWith[T any](t *testing.T, proc string, env map[string]string, args []string, read func(*cli.Command, Deps) (T, error)) (T, error) {
	t.Helper()
	deps := Deps{Proc: proc, Out: io.Discard, Err: &bytes.Buffer{}, Now: func() time.Time { return fixedNow },
		Getenv: func(k string) string { return env[k] }, UserName: func(int) string { return "app" }}.withDefaults()
	root := newRoot(deps)
	var got T
	var readErr error
	called := false
	for _, c := range root.Commands {
		c.Action = func(_ context.Context, c *cli.Command) error {
			called = true
			got, readErr = read(c, deps)
			return nil
		}
	}
	argv, err := canonicalArgs(root, append([]string{"nodeinspect"}, args...))
	if err == nil {
		err = root.Run(context.Background(), argv)
	}
	if called {
		return got, readErr
	}
	if err == nil {
		t.Fatalf("%v: no action ran", args)
	}
	return got, err
}

// wantUsage fails unless err is a usage error (exit 2) whose message contains msg.
func wantUsage(t *testing.T, err error, msg string) {
	t.Helper()
	if err == nil || exitCode(err) != ExitUsage || !strings.Contains(err.Error(), msg) {
		t.Fatalf("error %v (exit %d), want a usage error with %q", err, exitCode(err), msg)
	}
}

// TestSnapshotOptions: the per-process commands read their pid and flags once into what
// the collector is asked for; the sections are the command's.
func TestSnapshotOptions(t *testing.T) {
	root, pid := scenarioRoot(t, "healthy")
	p := itoa(pid)
	read := func(sections inspect.Sections) func(*cli.Command, Deps) (snapshotOptions, error) {
		return func(c *cli.Command, deps Deps) (snapshotOptions, error) {
			return readSnapshotOptions(c, deps, sections)
		}
	}
	for _, c := range []struct {
		args     []string
		sections inspect.Sections
		check    func(snapshotOptions) bool
	}{
		{[]string{"report", p}, inspect.SectionAll, func(o snapshotOptions) bool {
			return !o.collect.Attach && o.collect.Sample == inspect.DefaultSampleWindow && o.collect.SampleEvery == inspect.DefaultSampleEvery &&
				o.collect.Thresholds == rules.DefaultThresholds() && o.opt.failOn == "critical"
		}},
		{[]string{"report", p, "--sample", "0", "--attach", "--attach-timeout", "2s", "--allow-sigusr1-users"}, inspect.SectionAll, func(o snapshotOptions) bool {
			return o.collect.Sample == 0 && o.collect.Attach && o.collect.AttachTimeout == 2*time.Second && o.collect.AllowSIGUSR1Users
		}},
		{[]string{"fds", p, "--emfile-warning", "50", "--close-wait-critical", "17", "--any"}, inspect.SectionLimits | inspect.SectionFDs, func(o snapshotOptions) bool {
			return o.collect.Thresholds.EMFILEWarning == 0.5 && o.collect.Thresholds.CloseWaitCritical == 17 && o.collect.Any
		}},
		{[]string{"--fail-on", "WARNING", "mem", p}, inspect.SectionMemory, func(o snapshotOptions) bool {
			return o.opt.failOn == "warning"
		}},
		{[]string{"tree", p, "--format", "Markdown"}, inspect.SectionTree, func(o snapshotOptions) bool {
			return o.opt.format == "markdown" && o.opt.formatGiven
		}},
	} {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			env := map[string]string{"NODEINSPECT_SOCKET_SOURCE": "proc", "NODEINSPECT_DEADMAN": "3s", "NODEINSPECT_CLOSER_BOUND": "bad"}
			o, err := readWith(t, root, env, c.args, read(c.sections))
			if err != nil {
				t.Fatal(err)
			}
			if o.pid != pid || o.opt.proc != root || o.collect.Sections != c.sections || o.collect.SocketSource != "proc" ||
				o.collect.Deadman != 3*time.Second || o.collect.CloserBound != 0 || !c.check(o) {
				t.Fatalf("options %+v", o)
			}
		})
	}
	_, err := readWith(t, root, nil, []string{"report"}, read(inspect.SectionAll))
	wantUsage(t, err, "report needs a pid")
	_, err = readWith(t, root, nil, []string{"report", p, "--attach-timeout", "2s"}, read(inspect.SectionAll))
	wantUsage(t, err, "--attach-timeout applies to --attach only")
}

// TestSnapshotFileOptions: snapshot reads the whole snapshot's options and -o, which it
// needs; it records rather than judges (--fail-on never).
func TestSnapshotFileOptions(t *testing.T) {
	root, pid := scenarioRoot(t, "healthy")
	p := itoa(pid)
	o, err := readWith(t, root, nil, []string{"snapshot", p, "-o", "-", "--sample", "0"}, readSnapshotFileOptions)
	if err != nil {
		t.Fatal(err)
	}
	if o.pid != pid || o.output != "-" || o.collect.Sections != inspect.SectionAll || o.collect.Sample != 0 || o.opt.failOn != "" {
		t.Fatalf("options %+v", o)
	}
	o, err = readWith(t, root, nil, []string{"snapshot", p, "--output", "s.json", "--fail-on", "info"}, readSnapshotFileOptions)
	if err != nil || o.output != "s.json" || o.opt.failOn != "info" {
		t.Fatalf("options %+v, %v", o, err)
	}
	_, err = readWith(t, root, nil, []string{"snapshot", p}, readSnapshotFileOptions)
	wantUsage(t, err, "snapshot needs -o FILE (or -o - for stdout)")
}

// TestDiffOptions: diff reads its two files and its growth thresholds once.
func TestDiffOptions(t *testing.T) {
	def := diff.DefaultThresholds()
	o, err := readWith(t, "", nil, []string{"diff", "a.json", "b.json"}, readDiffOptions)
	if err != nil || o.a != "a.json" || o.b != "b.json" || o.thresholds != def {
		t.Fatalf("options %+v, %v", o, err)
	}
	o, err = readWith(t, "", nil, []string{"diff", "--min-fd-growth", "3", "a.json", "b.json", "--min-close-wait-growth=2", "--json"}, readDiffOptions)
	want := def
	want.FDs, want.CloseWait = 3, 2
	if err != nil || o.thresholds != want || o.opt.format != "json" {
		t.Fatalf("options %+v, %v", o, err)
	}
	for _, c := range []struct {
		args []string
		msg  string
	}{
		{[]string{"diff", "a.json"}, "diff takes two snapshot files, got 1 arguments"},
		{[]string{"diff", "a", "b", "c"}, "diff takes two snapshot files, got 3 arguments"},
		{[]string{"diff", "a", "b", "--min-fd-growth", "-2"}, "--min-fd-growth must be at least 1"},
	} {
		_, err := readWith(t, "", nil, c.args, readDiffOptions)
		wantUsage(t, err, c.msg)
	}
}

// TestPSOptions: ps reads its flags once into the scan's options; it takes no arguments.
func TestPSOptions(t *testing.T) {
	root, _ := scenarioRoot(t, "healthy")
	o, err := readWith(t, root, nil, []string{"ps"}, readPSOptions)
	if err != nil || o.ps.Any || o.ps.Sample != inspect.DefaultSampleWindow || o.ps.Container != "" || o.ps.Thresholds != rules.DefaultThresholds() || o.opt.proc != root {
		t.Fatalf("options %+v, %v", o, err)
	}
	o, err = readWith(t, "/proc", nil, []string{"ps", "--any", "--sample", "0", "--container", "abc123", "--heap-warning", "70", "--proc", root}, readPSOptions)
	if err != nil || !o.ps.Any || o.ps.Sample != 0 || o.ps.Container != "abc123" || o.ps.Thresholds.HeapWarning != 0.7 || o.opt.proc != root {
		t.Fatalf("options %+v, %v", o, err)
	}
	_, err = readWith(t, root, nil, []string{"ps", "4242"}, readPSOptions)
	wantUsage(t, err, `ps takes no arguments, got "4242"`)
}

// TestAnalyzeOptions: analyze reads its files and flags once, and knows before reading
// them whether the one file is a heap snapshot.
func TestAnalyzeOptions(t *testing.T) {
	crash := reportFixture("v4-crash.json")
	o, err := readWith(t, "", nil, []string{"analyze", crash, "-", "--emfile-critical", "99"}, readAnalyzeOptions)
	if err != nil || len(o.paths) != 2 || o.paths[0] != crash || o.paths[1] != "-" || o.heapSnapshot || o.opt.thresholds.EMFILECritical != 0.99 {
		t.Fatalf("options %+v, %v", o, err)
	}
	o, err = readWith(t, "", nil, []string{"analyze", "x.heapsnapshot"}, readAnalyzeOptions)
	if err != nil || !o.heapSnapshot {
		t.Fatalf("options %+v, %v", o, err)
	}
	for _, c := range []struct {
		args []string
		msg  string
	}{
		{[]string{"analyze"}, "analyze needs a file"},
		{[]string{"analyze", "-", "-"}, "analyze reads stdin (-) once, got it 2 times"},
		{[]string{"analyze", crash, "x.heapsnapshot"}, "analyze reads a heap snapshot on its own: x.heapsnapshot is one of 2 files"},
		{[]string{"analyze", crash, "--proc", "/proc"}, "--proc"},
	} {
		_, err := readWith(t, "", nil, c.args, readAnalyzeOptions)
		wantUsage(t, err, c.msg)
	}
}

// TestDetachOptions: detach reads its pid as given, the common flags and --force.
func TestDetachOptions(t *testing.T) {
	root, pid := scenarioRoot(t, "healthy")
	o, err := readWith(t, root, nil, []string{"detach", itoa(pid)}, readDetachOptions)
	if err != nil || o.pid != pid || o.force || o.opt.proc != root {
		t.Fatalf("options %+v, %v", o, err)
	}
	o, err = readWith(t, root, nil, []string{"detach", "--force", itoa(pid), "--json"}, readDetachOptions)
	if err != nil || !o.force || o.opt.format != "json" {
		t.Fatalf("options %+v, %v", o, err)
	}
	_, err = readWith(t, root, nil, []string{"detach"}, readDetachOptions)
	wantUsage(t, err, "detach needs a pid")
	_, err = readWith(t, root, nil, []string{"detach", "1", "2"}, readDetachOptions)
	wantUsage(t, err, "detach takes one pid, got 2 arguments")
}

// TestRunVersion: version's one flag is read in its action; runVersion prints a line or
// a JSON document.
func TestRunVersion(t *testing.T) {
	var out bytes.Buffer
	if err := runVersion(Deps{Out: &out}, false); err != nil || !strings.HasPrefix(out.String(), "nodeinspect ") || strings.Count(out.String(), "\n") != 1 {
		t.Fatalf("%q, %v", out.String(), err)
	}
	out.Reset()
	var doc map[string]string
	if err := runVersion(Deps{Out: &out}, true); err != nil || json.Unmarshal(out.Bytes(), &doc) != nil || doc["schema"] != model.Schema || doc["version"] == "" {
		t.Fatalf("%q, %v", out.String(), err)
	}
}
